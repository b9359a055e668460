// K2's rules on OpenAI-style (Chat Completions) hosts, as hosts and translators have reported them (late 2026). They
// run on what goes upstream — after the Anthropic ⇄ Chat translation for Claude Code, or on an OpenAI agent's own
// requests. Model ids differ per host (`kimi-k2.6`, `moonshotai/kimi-k2.6`, `accounts/fireworks/models/kimi-k2p7-code`):
// the patterns match the family's name wherever it stands.
import type { Body, CompatRule } from './types.ts';

const K2_FAMILY = /kimi-k[23]/i;
/** Models that reason always and want their reasoning back on later turns. */
const REASONING_REQUIRED = /kimi-k3|kimi-k2[.p]7-code/i;
/** Models whose sampling is fixed (temperature, top_p, n, penalties are errors). */
const FIXED_SAMPLING = /kimi-k3|kimi-k2[.p]7-code|kimi-k2[.p]6/i;
/** Models that refuse tool_choice "required". */
const NO_REQUIRED_TOOL_CHOICE = /kimi-k2[.p]7-code|kimi-k2[.p]6/i;

const K2_ID = /^functions\.[A-Za-z0-9_.-]+:\d+$/;

const k2ToolCallIds: CompatRule = {
  id: 'k2-tool-call-ids',
  summary: "tool-call ids in K2's own form functions.<name>:<n>, one counter across the conversation",
  report: 'vybestack/llxprt-code#712 — ids rewritten to another form make K2 emit malformed tool calls from about the 3rd call on',
  models: K2_FAMILY,
  styles: ['openai'],
  fixes: /tool.?call.?id|malformed tool call/i,
  apply(body: Body) {
    if (!Array.isArray(body.messages)) return null;
    const renamed = new Map<string, string>();
    let n = 0;
    for (const m of body.messages) {
      if (m?.role !== 'assistant' || !Array.isArray(m.tool_calls)) continue;
      for (const c of m.tool_calls) {
        const id = String(c?.id ?? '');
        if (!K2_ID.test(id)) renamed.set(id, `functions.${c?.function?.name ?? 'tool'}:${n}`);
        n++;
      }
    }
    if (!renamed.size) return null;
    for (const m of body.messages) {
      if (m?.role === 'assistant' && Array.isArray(m.tool_calls))
        for (const c of m.tool_calls) if (renamed.has(c.id)) c.id = renamed.get(c.id);
      if (m?.role === 'tool' && renamed.has(m.tool_call_id)) m.tool_call_id = renamed.get(m.tool_call_id);
    }
    return `${renamed.size} tool-call id(s) in K2's form`;
  },
};

const k2ReasoningContent: CompatRule = {
  id: 'k2-reasoning-content',
  summary: 'reasoning_content on every earlier assistant tool-call turn (kimi-k3, kimi-k2.7-code require it)',
  report: 'cc-switch#3219, CLIProxyAPI#3601 — "thinking is enabled but reasoning_content is missing in assistant tool call message"',
  models: REASONING_REQUIRED,
  styles: ['openai'],
  fixes: /reasoning_content is missing/i,
  apply(body: Body) {
    if (!Array.isArray(body.messages)) return null;
    let added = 0;
    for (const m of body.messages) {
      if (m?.role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length && typeof m.reasoning_content !== 'string') {
        // The agent did not keep it (another host served that turn, or it was dropped): a blank one is accepted.
        m.reasoning_content = ' ';
        added++;
      }
    }
    return added ? `reasoning_content added to ${added} assistant turn(s)` : null;
  },
};

const SAMPLING = ['temperature', 'top_p', 'n', 'presence_penalty', 'frequency_penalty'] as const;

const k2FixedSampling: CompatRule = {
  id: 'k2-fixed-sampling',
  summary: 'temperature, top_p, n and the penalties left out (fixed on kimi-k3, kimi-k2.7-code and kimi-k2.6)',
  report: "flotilla#21 (K2's rules on OpenAI-style hosts, as hosts report them) — changing sampling is an error on K2.6, K2.7-code, K3",
  models: FIXED_SAMPLING,
  styles: ['openai'],
  fixes: /temperature|top_p|invalid.*sampling|only.*1 is allowed/i,
  apply(body: Body) {
    const dropped = SAMPLING.filter((k) => k in body);
    for (const k of dropped) delete body[k];
    return dropped.length ? `dropped ${dropped.join(', ')}` : null;
  },
};

const k2ToolChoice: CompatRule = {
  id: 'k2-tool-choice-auto',
  member: 'tool_choice',
  summary: 'tool_choice "required" sent as "auto" (kimi-k2.6 and kimi-k2.7-code refuse "required")',
  report: 'flotilla#21 (K2\'s rules on OpenAI-style hosts, as hosts report them) — tool_choice "required" errors on K2.6 and K2.7-code',
  models: NO_REQUIRED_TOOL_CHOICE,
  styles: ['openai'],
  fixes: /tool_choice/i,
  apply(body: Body) {
    if (body.tool_choice !== 'required') return null;
    body.tool_choice = 'auto';
    return 'tool_choice required → auto';
  },
};

/** K2's Chat-host rules, in the order they run. */
export const K2_CHAT_RULES: readonly CompatRule[] = [k2ToolCallIds, k2ReasoningContent, k2FixedSampling, k2ToolChoice];
