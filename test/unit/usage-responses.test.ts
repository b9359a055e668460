import { describe, expect, it } from 'vitest';
import { createResponseParser, tokensFromChars, type ParseResult } from '../../electron/engine/meter/usage/index.ts';
import { PATCH, responsesJson, responsesSample, type Sample } from './usage-samples.ts';

function run(s: Sample, onIntent?: (i: { tool: string; path: string }) => void, bytes = s.bytes) {
  const p = createResponseParser(s.style, { status: s.status, contentType: s.contentType, events: { onIntent } });
  p.push(bytes);
  return p.end();
}

const ALL_PATHS = ['src/new-é.ts', 'src/old.ts', 'src/renamed.ts', 'docs/obsolete.md', 'README.md'];
const streamedChars =
  ['**Planning** the é', ' change 🤔'].join('').length +
  ["I'll ", 'patch — "two" files ', '🚀'].join('').length +
  JSON.stringify({ input: PATCH }).length +
  '*** Begin Patch\n*** Update File: README.md\n@@\n-old\n+new\n*** End Patch\n'.length;

describe('OpenAI Responses API', () => {
  it('response.completed: usage (cached included in input), model, stop reason, intents from function_call and custom_tool_call', () => {
    const seen: Array<{ tool: string; path: string }> = [];
    const r = run(responsesSample('completed'), (i) => seen.push(i));
    expect(r).toEqual<ParseResult>({
      model: 'kimi-k2.6',
      usage: { inputTokens: 500, cacheReadTokens: 1500, cacheWriteTokens: 0, outputTokens: 300 },
      complete: true,
      estimatedOutputTokens: tokensFromChars(streamedChars),
      stopReason: 'completed',
      error: null,
    });
    expect(seen.map((i) => i.path)).toEqual(ALL_PATHS);
    expect(new Set(seen.map((i) => i.tool))).toEqual(new Set(['apply_patch']));
  });

  it('response.incomplete: complete, usage, stop reason = incomplete_details.reason', () => {
    const r = run(responsesSample('incomplete'));
    expect(r).toMatchObject({
      complete: true,
      stopReason: 'max_output_tokens',
      error: null,
      usage: { inputTokens: 500, outputTokens: 300 },
    });
  });

  it('response.failed: complete, usage, error from response.error', () => {
    const r = run(responsesSample('failed'));
    expect(r).toMatchObject({
      complete: true,
      stopReason: 'failed',
      usage: { inputTokens: 500, cacheReadTokens: 1500 },
      error: { status: 200, type: 'server_error', message: 'The model failed to generate a response.' },
    });
  });

  it('intents fire once, at function_call_arguments.done / custom_tool_call_input.done (before output_item.done)', () => {
    const frames = responsesSample('completed')
      .bytes.toString('utf8')
      .split(/(?<=\n\n)/);
    const log: string[] = [];
    const p = createResponseParser('responses', {
      status: 200,
      contentType: 'text/event-stream',
      events: { onIntent: (i) => log.push(`intent ${i.path}`) },
    });
    for (const f of frames) {
      log.push(f.slice(7, f.indexOf('\n')));
      p.push(Buffer.from(f));
    }
    p.end();
    expect(log.filter((l) => l.startsWith('intent'))).toEqual(ALL_PATHS.map((x) => `intent ${x}`));
    expect(log[log.indexOf('intent src/new-é.ts') - 1]).toBe('response.function_call_arguments.done');
    expect(log[log.indexOf('intent README.md') - 1]).toBe('response.custom_tool_call_input.done');
  });

  it('a terse provider (no output_item / *.done events): intents from response.completed output', () => {
    const item = {
      id: 'fc_9',
      type: 'function_call',
      name: 'apply_patch',
      arguments: JSON.stringify({ input: '*** Begin Patch\n*** Delete File: x.js\n*** End Patch' }),
    };
    const text =
      `event: response.created\ndata: ${JSON.stringify({ type: 'response.created', response: { model: 'kimi-k2.5', status: 'in_progress' } })}\n\n` +
      `event: response.completed\ndata: ${JSON.stringify({ type: 'response.completed', response: { model: 'kimi-k2.5', status: 'completed', output: [item], usage: { input_tokens: 10, output_tokens: 5 } } })}\n\n`;
    const seen: string[] = [];
    const r = run({ name: 't', style: 'responses', status: 200, contentType: 'text/event-stream', bytes: Buffer.from(text) }, (i) =>
      seen.push(i.path),
    );
    expect(seen).toEqual(['x.js']);
    expect(r.usage).toEqual({ inputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 5 });
  });

  it('non-streaming response object', () => {
    const seen: string[] = [];
    const r = run(responsesJson(), (i) => seen.push(i.path));
    expect(r).toEqual<ParseResult>({
      model: 'kimi-k2.6',
      usage: { inputTokens: 40, cacheReadTokens: 60, cacheWriteTokens: 0, outputTokens: 20 },
      complete: true,
      estimatedOutputTokens: tokensFromChars('Done ✓'.length + JSON.parse(responsesJson().bytes.toString()).output[1].arguments.length),
      stopReason: 'completed',
      error: null,
    });
    expect(seen).toEqual(['a.txt']);
  });

  it('an error event, and a cut stream (no terminal event)', () => {
    const text = responsesSample('completed').bytes.toString('utf8');
    const cut = text.slice(0, text.indexOf('event: response.output_text.done'));
    const r = run(
      responsesSample('completed'),
      undefined,
      Buffer.from(
        cut + 'event: error\ndata: {"type":"error","code":"rate_limit_exceeded","message":"Rate limit reached","param":null}\n\n',
      ),
    );
    expect(r).toMatchObject({
      complete: false,
      usage: null,
      model: 'kimi-k2.6',
      error: { status: 200, type: 'rate_limit_exceeded', message: 'Rate limit reached' },
    });
    expect(r.estimatedOutputTokens).toBe(
      tokensFromChars(('**Planning** the é' + ' change 🤔' + "I'll " + 'patch — "two" files ' + '🚀').length),
    );
  });

  it('Local shell / exec call carrying apply_patch gives the patch paths', () => {
    const item = {
      id: 'ls',
      type: 'local_shell_call',
      call_id: 'c',
      action: { type: 'exec', command: ['apply_patch', '*** Begin Patch\n*** Add File: new.txt\n+x\n*** End Patch'] },
    };
    const text = `event: response.output_item.done\ndata: ${JSON.stringify({ type: 'response.output_item.done', output_index: 0, item })}\n\n`;
    const seen: string[] = [];
    run({ name: 'l', style: 'responses', status: 200, contentType: 'text/event-stream', bytes: Buffer.from(text) }, (i) =>
      seen.push(`${i.tool}:${i.path}`),
    );
    expect(seen).toEqual(['local_shell:new.txt']);
  });
});
