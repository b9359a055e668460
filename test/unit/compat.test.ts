// The compatibility rules one by one, on request bodies in the shapes agents send, against the strict stand-in's own
// judgement (test/upstream/strict.ts): each rejected body is accepted after its rule, and a body no rule touches is
// forwarded byte for byte.
import { describe, expect, it } from 'vitest';
import { COMPAT_PROFILES, RULES, compatProfile, ruleForRejection } from '../../electron/engine/meter/index.ts';
import { inspectRequest } from '../../electron/engine/meter/usage/index.ts';
import { STRICT_MODELS, strictMoonshotRejection } from '../upstream/index.ts';

const moonshot = compatProfile('moonshot');
const strictRun = (body: object) => strictMoonshotRejection(body, STRICT_MODELS, 'anthropic');

/** What the proxy would forward: the body through the profile (as inspectRequest runs it). */
function forward(body: object, profile = moonshot, style: 'anthropic' | 'openai' = 'anthropic') {
  const raw = Buffer.from(JSON.stringify(body));
  let fires: { rule: string; note: string }[] = [];
  const info = inspectRequest(
    style,
    style === 'anthropic' ? '/v1/messages' : '/v1/chat/completions',
    raw,
    profile.rewriter(style, 'kimi-k2.6', (f) => (fires = f)),
  );
  const sent = info.rewritten ?? raw;
  return { raw, sent, body: JSON.parse(sent.toString()), fires, unchanged: sent === raw };
}

const CLAUDE_CODE_BODY = {
  model: 'kimi-k2.7-code',
  max_tokens: 32000,
  stream: true,
  thinking: { type: 'adaptive', display: 'omitted' },
  output_config: { effort: 'high' },
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'Fix the bug' }] },
    { role: 'system', content: 'Primary working directory: /work/repo' },
  ],
  tools: [{ name: 'Write', description: 'write', input_schema: { type: 'object', properties: { file_path: { type: 'string' } } } }],
};

describe('the compat rules', () => {
  it('every rule has an id, a summary, the report it answers, and a known rejection it fixes (a cost rule fixes none)', () => {
    for (const r of RULES) {
      expect(r.id).toMatch(/^[a-z0-9-]+$/);
      expect(r.summary.length).toBeGreaterThan(20);
      expect(r.report).toMatch(/#\d+/);
      expect(r.cost === true).toBe(r.id === 'stable-cache-prefix');
    }
    // The strict stand-in's words (Moonshot's, as reported) → the rule that fixes each.
    const said = (body: object) => strictRun(body)!.message;
    const msg = (content: unknown[]) => ({ model: 'kimi-k2.6', messages: [{ role: 'user', content }] });
    expect(ruleForRejection(said(CLAUDE_CODE_BODY))?.id).toBe('thinking-enabled');
    expect(ruleForRejection(said(msg([{ type: 'tool_reference', tool_name: 'x' }])))?.id).toBe('tool-reference-as-text');
    expect(ruleForRejection(said(msg([{ type: 'document', source: { type: 'text', data: 'x' } }])))?.id).toBe('document-as-text');
    expect(ruleForRejection(said({ ...msg([]), tools: Array.from({ length: 129 }, (_, i) => ({ name: `t${i}` })) }))?.id).toBe('tools-max');
    expect(ruleForRejection(said({ ...msg([]), model: 'kimi-k3', tools: [{ name: 't', input_schema: { $ref: '#/$defs/X' } }] }))?.id).toBe(
      'inline-schema-refs',
    );
    expect(ruleForRejection('messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter')?.id).toBe(
      'fold-system-messages',
    );
    expect(ruleForRejection('Invalid Authentication')).toBeNull();
    expect(COMPAT_PROFILES).toEqual(['moonshot', 'moonshot-strict', 'gateway', 'none']);
    expect(() => compatProfile('moonshoot')).toThrow(
      /unknown compat profile 'moonshoot' — use one of moonshot, moonshot-strict, gateway, none/,
    );
  });

  it('thinking-enabled: adaptive or missing thinking on kimi-k2.7-code becomes enabled; other models are left alone', () => {
    expect(strictRun(CLAUDE_CODE_BODY)?.message).toMatch(/only type=enabled/);
    const f = forward(CLAUDE_CODE_BODY);
    expect(f.body.thinking).toEqual({ type: 'enabled' });
    expect(f.fires).toEqual([
      { rule: 'thinking-enabled', note: 'thinking "adaptive" → "enabled"', member: { key: 'thinking', before: CLAUDE_CODE_BODY.thinking } },
    ]);
    // Only that member changed: spliced into the agent's bytes, everything else byte for byte.
    expect(f.sent.toString()).toBe(
      f.raw.toString().replace('"thinking":{"type":"adaptive","display":"omitted"}', '"thinking":{"type":"enabled"}'),
    );
    expect(strictRun(f.body)).toBeNull();
    const side = forward({ ...CLAUDE_CODE_BODY, thinking: undefined });
    expect(side.body.thinking).toEqual({ type: 'enabled' });
    expect(side.fires[0]!.note).toBe('thinking none → "enabled"');
    // Everything else is as the agent sent it.
    expect({ ...f.body, thinking: CLAUDE_CODE_BODY.thinking }).toEqual(CLAUDE_CODE_BODY);
    expect(forward({ ...CLAUDE_CODE_BODY, model: 'kimi-k2.6' }).unchanged).toBe(true);
  });

  it('a body no rule touches goes byte for byte; a body that is not JSON goes as it is', () => {
    const raw = Buffer.from('{ "model" : "kimi-k2.6",\n  "messages": [], "max_tokens": 5 }');
    expect(
      inspectRequest(
        'anthropic',
        '/v1/messages',
        raw,
        moonshot.rewriter('anthropic', 'kimi-k2.6', () => {}),
      ).rewritten,
    ).toBeNull();
    const bad = Buffer.from('{"model": "kimi-k2.7-code", "messages": [');
    expect(inspectRequest('anthropic', '/v1/messages', bad, () => true).rewritten).toBeNull();
  });

  it('tool-reference-as-text: tool search results become a line naming the tool', () => {
    const body = {
      model: 'kimi-k2.6',
      max_tokens: 100,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'ToolSearch', input: { query: 'github' } }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'tool_reference', tool_name: 'mcp__github__create_issue' }] },
          ],
        },
      ],
    };
    expect(strictRun(body)?.message).toMatch(/tool_reference/);
    const f = forward(body);
    expect(f.body.messages[2].content[0].content).toEqual([{ type: 'text', text: 'Tool available: mcp__github__create_issue' }]);
    expect(strictRun(f.body)).toBeNull();
  });

  it('document-as-text: text documents keep their text; a PDF is replaced by a note saying what was dropped', () => {
    const body = {
      model: 'kimi-k2.6',
      max_tokens: 100,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'document', title: 'notes.txt', source: { type: 'text', media_type: 'text/plain', data: 'line one' } },
            {
              type: 'document',
              title: 'spec.pdf',
              source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0xLjQK'.repeat(400) },
            },
          ],
        },
      ],
    };
    expect(strictRun(body)?.message).toMatch(/'document'/);
    const f = forward(body);
    expect(f.body.messages[0].content[0]).toEqual({ type: 'text', text: '[document: notes.txt]\nline one' });
    expect(f.body.messages[0].content[1].text).toMatch(/Flotilla removed a document here \(spec\.pdf, application\/pdf, 4 KB\)/);
    expect(f.fires[0]!.note).toBe('2 document block(s) → text (1 binary dropped: spec.pdf)');
    expect(strictRun(f.body)).toBeNull();
  });

  it('tools-max: deferred placeholders go first, then the last MCP tools, naming their servers', () => {
    const builtin = ['Agent', 'Bash', 'Edit', 'Read', 'Write', 'DeferredToolPlaceholder'].map((name) => ({
      name,
      input_schema: { type: 'object' },
    }));
    const mcp = (server: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ name: `mcp__${server}__t${i}`, input_schema: { type: 'object' } }));
    const body = {
      model: 'kimi-k2.6',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
      tools: [...builtin, ...mcp('github', 100), ...mcp('jira', 30)],
    };
    expect(strictRun(body)?.message).toMatch(/max of 128 tools/);
    const f = forward(body);
    expect(f.body.tools).toHaveLength(128);
    expect(f.body.tools.map((t: { name: string }) => t.name)).not.toContain('DeferredToolPlaceholder');
    expect(f.body.tools.slice(0, 5).map((t: { name: string }) => t.name)).toEqual(['Agent', 'Bash', 'Edit', 'Read', 'Write']);
    expect(f.fires[0]!.note).toBe(
      '136 tools → 128; 1 deferred placeholder(s) dropped; tools of MCP server(s) jira dropped — fewer servers keep every tool',
    );
    expect(strictRun(f.body)).toBeNull();
    // The OpenAI surface has the same limit.
    const openai = {
      model: 'kimi-k2.6',
      messages: [],
      tools: mcp('x', 130).map((t) => ({ type: 'function', function: { name: t.name, parameters: t.input_schema } })),
    };
    expect(forward(openai, moonshot, 'openai').body.tools).toHaveLength(128);
  });

  it('inline-schema-refs: K3 tool schemas with $ref/$defs are inlined, recursion cut with a note', () => {
    const schema = {
      type: 'object',
      properties: { issue: { $ref: '#/$defs/Issue' }, tree: { $ref: '#/$defs/Node' } },
      $defs: {
        Issue: { type: 'object', properties: { title: { type: 'string' } } },
        Node: { type: 'object', properties: { child: { $ref: '#/$defs/Node' } } },
      },
    };
    const body = {
      model: 'kimi-k3',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ name: 'mcp__gh__new', input_schema: schema }],
    };
    expect(strictRun(body)?.message).toMatch(/moonshot flavored json schema/);
    const f = forward(body);
    const out = f.body.tools[0].input_schema;
    expect(out.properties.issue).toEqual({ type: 'object', properties: { title: { type: 'string' } } });
    expect(JSON.stringify(out)).not.toMatch(/"\$ref"|"\$defs"/);
    expect(JSON.stringify(out)).toMatch(/schema #\/\$defs\/Node not expanded/);
    expect(strictRun(f.body)).toBeNull();
    expect(forward({ ...body, model: 'kimi-k2.6' }).unchanged).toBe(true);
  });

  it('fold-system-messages (moonshot-strict only): role system messages join the top-level system prompt', () => {
    const body = {
      model: 'kimi-k2.6',
      max_tokens: 10,
      system: [{ type: 'text', text: 'You are Claude Code.' }],
      messages: CLAUDE_CODE_BODY.messages,
    };
    expect(forward(body).unchanged).toBe(true);
    const f = forward(body, compatProfile('moonshot-strict'));
    expect(f.body.messages).toEqual([CLAUDE_CODE_BODY.messages[0]]);
    expect(f.body.system).toEqual([
      { type: 'text', text: 'You are Claude Code.' },
      { type: 'text', text: 'Primary working directory: /work/repo' },
    ]);
  });

  it('a rule that throws is skipped and reported; the others still run', () => {
    const throwing = {
      ...CLAUDE_CODE_BODY,
      messages: [
        {
          role: 'user',
          get content(): never {
            throw new Error('boom');
          },
        },
      ],
    };
    const fires = moonshot.apply(throwing as Record<string, unknown>, 'anthropic', 'kimi-k2.7-code');
    expect(fires.map((f) => f.rule)).toContain('thinking-enabled');
    expect(fires.find((f) => f.rule === 'tool-reference-as-text')?.note).toBe('failed: boom');
  });
});
