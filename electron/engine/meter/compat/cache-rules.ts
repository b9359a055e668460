// Rules for the provider's prompt cache. Claude Code 2.1.332's first system block is
// `x-anthropic-billing-header: cc_version=2.1.332.<3 chars>; cc_entrypoint=…`, the 3 characters differing between
// sessions (measured here: 9a2, ccb, 494, 708 for different first prompts; earlier versions sent a per-request `cch=`
// hash there). On a host with automatic prefix caching (Moonshot, vLLM, SGLang) the ~15–20K tokens of system prompt
// and tools every session of a run sends are then never a hit across sessions.
import type { CompatRule } from './types.ts';

const HEADER = /^x-anthropic-billing-header:/;

const stableCachePrefix: CompatRule = {
  id: 'stable-cache-prefix',
  member: 'system',
  summary:
    "one prompt-cache prefix for every session: Claude Code's per-session billing header and its session-specific memory path are left out of the system prompt (CLAUDE_CODE_ATTRIBUTION_HEADER=0, CLAUDE_CODE_DISABLE_AUTO_MEMORY=1), and the header's hash dropped if it is still sent",
  report:
    'tracecat#3230, sglang#36877 — the billing header differs per session/request and breaks prefix caching; measured with Claude Code 2.1.332',
  models: null,
  styles: ['anthropic'],
  // Not a fix for a refusal: a cost rule.
  fixes: /$^/,
  cost: true,
  // The billing header, and auto-memory: its path names the session's own config dir (…/sessions/<id>/claude/projects/…)
  // in the system prompt. Each session has its own config dir, so that memory never reached another session anyway.
  claudeCodeEnv: { CLAUDE_CODE_ATTRIBUTION_HEADER: '0', CLAUDE_CODE_DISABLE_AUTO_MEMORY: '1' },
  apply(body) {
    if (!Array.isArray(body.system)) return null;
    const first = body.system[0];
    if (typeof first?.text !== 'string' || !HEADER.test(first.text)) return null;
    const text = first.text.replace(/(cc_version=\d+\.\d+\.\d+)\.[0-9a-z]+/i, '$1').replace(/\s*cch=[^;]*;/g, '');
    if (text === first.text) return null;
    body.system = [{ ...first, text }, ...body.system.slice(1)];
    return 'the per-session hash left out of the billing header';
  },
};

export const CACHE_RULES: readonly CompatRule[] = [stableCachePrefix];
