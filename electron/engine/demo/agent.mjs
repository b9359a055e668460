#!/usr/bin/env node
// Flotilla's demo agent: a tiny coding agent (plain JavaScript, no dependencies, runs with `node`) that talks to the
// model endpoint Flotilla gives it — $ANTHROPIC_BASE_URL with $ANTHROPIC_AUTH_TOKEN, i.e. the metering proxy in front
// of the built-in *simulated* K2 provider — and really reads, edits and writes files in its working directory.
//
//   node agent.mjs <slot> [task…]
//
// It loops: POST /v1/messages (stream) → print the text live → run the tool call (Read / Write / Edit) → send the
// tool_result back, for a few turns. When the model asks a question ending in "[y/n]" it waits for a key on stdin.
// FLOTILLA_DEMO_FAST=1 shortens its own pauses (tests).
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, relative, resolve, isAbsolute } from 'node:path';

const slot = Number(process.argv[2] ?? '1') || 1;
const task = process.argv.slice(3).join(' ').trim() || 'Tidy up the project';
const baseUrl = (process.env.ANTHROPIC_BASE_URL ?? '').replace(/\/+$/, '');
const token = process.env.ANTHROPIC_AUTH_TOKEN ?? '';
const model = process.env.ANTHROPIC_MODEL ?? 'kimi-k2.6';
const fast = process.env.FLOTILLA_DEMO_FAST === '1';
const cwd = process.cwd();
const MAX_TURNS = 8;

const tty = process.stdout.isTTY || process.env.TERM === 'xterm-256color';
const c = (code) => (s) => (tty ? `\x1b[${code}m${s}\x1b[0m` : String(s));
const bold = c('1');
const dim = c('2');
const red = c('31');
const green = c('32');
const yellow = c('33');
const blue = c('34');
const magenta = c('35');
const cyan = c('36');
const out = (s) => process.stdout.write(s);
const sleep = (ms) => new Promise((r) => setTimeout(r, fast ? Math.min(ms, 60) : ms));

const TOOLS = [
  {
    name: 'Read',
    description: 'Read a file from the working directory.',
    input_schema: { type: 'object', properties: { file_path: { type: 'string' } }, required: ['file_path'] },
  },
  {
    name: 'Write',
    description: 'Create or overwrite a file.',
    input_schema: {
      type: 'object',
      properties: { file_path: { type: 'string' }, content: { type: 'string' } },
      required: ['file_path', 'content'],
    },
  },
  {
    name: 'Edit',
    description: 'Replace an exact string in a file.',
    input_schema: {
      type: 'object',
      properties: { file_path: { type: 'string' }, old_string: { type: 'string' }, new_string: { type: 'string' } },
      required: ['file_path', 'old_string', 'new_string'],
    },
  },
];

const SYSTEM = [
  `You are Flotilla demo agent #${slot}, a small coding agent.`,
  `Working directory: ${cwd}`,
  'Use the Read, Write and Edit tools with absolute paths inside the working directory. Ask before larger refactors.',
].join('\n');

// ---------------------------------------------------------------------------------------------------------------------
// Spinner (only while waiting for the model: a question waits in silence, so the tile can show "needs you")

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
function spinner(label) {
  let i = 0;
  let shown = false;
  const draw = () => {
    out(`\r${cyan(FRAMES[i++ % FRAMES.length])} ${dim(label)}`);
    shown = true;
  };
  const timer = setInterval(draw, 80);
  draw();
  return () => {
    clearInterval(timer);
    if (shown) out('\r\x1b[2K');
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// The model call: streamed SSE, text printed as it arrives

async function callModel(messages) {
  const stop = spinner('K2 is thinking… (simulated)');
  let stopped = false;
  const stopSpinner = () => {
    if (!stopped) stop();
    stopped = true;
  };
  let res;
  try {
    res = await fetch(`${baseUrl}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        'anthropic-version': '2023-06-01',
      },
      body: JSON.stringify({ model, max_tokens: 4096, stream: true, system: SYSTEM, tools: TOOLS, messages }),
    });
  } catch (err) {
    stopSpinner();
    throw new Error(`could not reach the model endpoint: ${err.message}`);
  }
  if (!res.ok || !res.body) {
    stopSpinner();
    const text = await res.text().catch(() => '');
    throw new Error(`model endpoint answered HTTP ${res.status}: ${text.slice(0, 300)}`);
  }

  const blocks = [];
  let usage = {};
  let stopReason = null;
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = frame
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trim())
        .join('');
      if (!data) continue;
      let ev;
      try {
        ev = JSON.parse(data);
      } catch {
        continue;
      }
      switch (ev.type) {
        case 'message_start':
          usage = { ...usage, ...(ev.message?.usage ?? {}) };
          break;
        case 'content_block_start':
          blocks[ev.index] = { ...ev.content_block, json: '' };
          if (ev.content_block.type === 'text') {
            stopSpinner();
            out(`${magenta('●')} `);
          }
          break;
        case 'content_block_delta': {
          const b = blocks[ev.index];
          if (ev.delta.type === 'text_delta') {
            b.text = (b.text ?? '') + ev.delta.text;
            out(ev.delta.text.replace(/\n/g, '\n  '));
          } else if (ev.delta.type === 'input_json_delta') b.json += ev.delta.partial_json;
          break;
        }
        case 'content_block_stop': {
          const b = blocks[ev.index];
          if (b?.type === 'text') out('\n');
          if (b?.type === 'tool_use') b.input = b.json ? JSON.parse(b.json) : {};
          break;
        }
        case 'message_delta':
          stopReason = ev.delta?.stop_reason ?? stopReason;
          usage = { ...usage, ...(ev.usage ?? {}) };
          break;
        case 'error':
          stopSpinner();
          throw new Error(`model stream failed: ${ev.error?.message ?? 'unknown error'}`);
      }
    }
  }
  stopSpinner();
  const content = blocks
    .filter(Boolean)
    .map((b) =>
      b.type === 'text' ? { type: 'text', text: b.text ?? '' } : { type: 'tool_use', id: b.id, name: b.name, input: b.input ?? {} },
    );
  return { content, usage, stopReason };
}

// ---------------------------------------------------------------------------------------------------------------------
// Tools: real file operations, confined to the working directory

function inside(p) {
  const abs = resolve(cwd, p ?? '');
  const rel = relative(cwd, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`${p} is outside the working directory`);
  return { abs, rel };
}

function showLines(lines, colour, sign, max = 6) {
  for (const l of lines.slice(0, max)) out(`    ${colour(`${sign} ${l}`)}\n`);
  if (lines.length > max) out(`    ${dim(`… ${lines.length - max} more line(s)`)}\n`);
}

async function runTool(call) {
  const { abs, rel } = inside(call.input.file_path);
  switch (call.name) {
    case 'Read': {
      out(`  ${blue('⏺ Read')} ${bold(rel)}\n`);
      const text = await readFile(abs, 'utf8');
      out(`    ${dim(`${text.split('\n').length} lines`)}\n`);
      return text;
    }
    case 'Write': {
      out(`  ${green('⏺ Write')} ${bold(rel)}\n`);
      await mkdir(dirname(abs), { recursive: true });
      await writeFile(abs, call.input.content ?? '');
      showLines(
        String(call.input.content ?? '')
          .trimEnd()
          .split('\n'),
        green,
        '+',
      );
      return `Wrote ${rel}`;
    }
    case 'Edit': {
      out(`  ${yellow('⏺ Edit')} ${bold(rel)}\n`);
      const text = await readFile(abs, 'utf8');
      const { old_string: from, new_string: to } = call.input;
      if (!text.includes(from)) throw new Error(`old_string not found in ${rel}`);
      await writeFile(abs, text.replace(from, to));
      showLines(String(from).split('\n'), red, '-');
      showLines(String(to).split('\n'), green, '+');
      return `Edited ${rel}`;
    }
    default:
      throw new Error(`unknown tool ${call.name}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Asking the user: the question is the last line on screen, then silence until a key arrives

function askUser(question) {
  out(`\n${yellow('?')} ${bold(question)} `);
  return new Promise((resolve) => {
    const stdin = process.stdin;
    const raw = Boolean(stdin.isTTY);
    if (raw) stdin.setRawMode(true);
    stdin.resume();
    stdin.once('data', (buf) => {
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      const key = buf.toString('utf8');
      if (key.includes('\x03')) {
        out('\n');
        process.exit(130);
      }
      const answer = key.replace(/[\r\n]+/g, '').trim() || 'y';
      out(`${cyan(answer)}\n\n`);
      resolve(answer);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------------

async function main() {
  out(`${bold(cyan('╭─ Flotilla demo agent'))} ${bold(`#${slot}`)}\n`);
  out(`${cyan('│')} ${dim('model:')} ${model} ${yellow('(simulated K2 — built into Flotilla, no API key, no real model)')}\n`);
  out(`${cyan('│')} ${dim('task:')}  ${task}\n`);
  out(`${cyan('╰─')} ${dim(`in ${cwd}`)}\n\n`);
  if (!baseUrl) throw new Error('ANTHROPIC_BASE_URL is not set — run me from Flotilla (`flotilla demo`)');
  await sleep(300 + slot * 120);

  const messages = [{ role: 'user', content: task }];
  let spentIn = 0;
  let spentOut = 0;
  for (let turn = 0; turn < MAX_TURNS; turn++) {
    const reply = await callModel(messages);
    messages.push({ role: 'assistant', content: reply.content });
    spentIn += (reply.usage.input_tokens ?? 0) + (reply.usage.cache_read_input_tokens ?? 0);
    spentOut += reply.usage.output_tokens ?? 0;
    out(
      `  ${dim(
        `↳ ${reply.usage.input_tokens ?? 0} in · ${reply.usage.cache_read_input_tokens ?? 0} cached · ${reply.usage.output_tokens ?? 0} out`,
      )}\n`,
    );
    const calls = reply.content.filter((b) => b.type === 'tool_use');
    if (calls.length > 0) {
      const results = [];
      for (const call of calls) {
        await sleep(250);
        try {
          results.push({ type: 'tool_result', tool_use_id: call.id, content: await runTool(call) });
        } catch (err) {
          out(`    ${red(`✗ ${err.message}`)}\n`);
          results.push({ type: 'tool_result', tool_use_id: call.id, content: err.message, is_error: true });
        }
      }
      messages.push({ role: 'user', content: results });
      out('\n');
      await sleep(400);
      continue;
    }
    const text = reply.content
      .filter((b) => b.type === 'text')
      .map((b) => b.text)
      .join('\n');
    const question = /([^\n]*\[y\/n\])\s*$/i.exec(text);
    if (question) {
      const answer = await askUser(question[1].replace(/^\[simulated K2\]\s*/, ''));
      messages.push({ role: 'user', content: answer });
      continue;
    }
    break;
  }
  out(
    `\n${green('✔')} ${bold('done')} ${dim(`— ${spentIn} prompt tokens, ${spentOut} output tokens (simulated K2, metered by Flotilla)`)}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    out(`\n${red('✗')} ${err.message}\n`);
    process.exit(1);
  },
);
