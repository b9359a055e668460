// Templates and the compatibility layer: `provider.compat` (validated, defaulted per preset), per-slot models, and what
// Claude Code's launch gets for a profile — every model tier the installed Claude Code knows, tool search off.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLAUDE_CODE_MODEL_VARS } from '../../electron/engine/templates/launch.ts';
import { compatProfile } from '../../electron/engine/meter/index.ts';
import { buildAgentLaunch, compatOf, slotTask, templateCompat, type SessionContext } from '../../electron/engine/templates/index.ts';
import { bodyError, parseBody } from '../fixtures/templates.ts';

const parse = parseBody;
const parseError = bodyError;

const ctx: SessionContext = {
  sessionId: 'sess-1',
  slot: 1,
  task: 'Fix it',
  branch: 'flotilla/x/1',
  runName: 'x',
  cwd: '/work/repo',
  sessionDir: '/data/sessions/sess-1',
  endpoint: { baseUrl: 'http://127.0.0.1:4100/s/tok', token: 'tok' },
  hookUrl: 'http://127.0.0.1:4100/hooks/h',
  agentSessionId: '0b6c5c43-2f3c-4a39-9d2e-6f0f2c7b1a11',
  resume: false,
};

describe('provider.compat', () => {
  it('defaults to the preset’s profile: moonshot for the hosts of K2, gateway for OpenRouter, none for a custom one', () => {
    expect(compatOf(parse(''))).toBe('moonshot');
    expect(compatOf(parse('agent: { preset: codex }\nprovider: { preset: moonshot-openai }'))).toBe('moonshot');
    expect(compatOf(parse('provider: { preset: openrouter }\nagent: { preset: aider }'))).toBe('gateway');
    expect(compatOf(parse('provider: { preset: groq, model: x }'))).toBe('moonshot');
    expect(compatOf(parse('provider: { preset: custom, baseUrl: "http://x" }'))).toBe('none');
    expect(compatOf(parse('provider: { preset: custom, baseUrl: "http://x", compat: moonshot-strict }'))).toBe('moonshot-strict');
    // A template that names none keeps the field out of its parsed form.
    expect(parse('').provider).not.toHaveProperty('compat');
  });

  it('an unknown profile names the line, the known ones and the closest', () => {
    expect(parseError('provider:\n  compat: moonshoot\n').message).toBe(
      "run.yaml:3: provider.compat: unknown compat profile 'moonshoot' — did you mean 'moonshot'? — expected one of moonshot, moonshot-strict, gateway, none",
    );
  });
});

describe('provider.compatRules', () => {
  it('turns rules on and off on top of the profile, in the rule table’s order', () => {
    const t = parse('provider:\n  compatRules: { on: [fold-system-messages], off: [inline-schema-refs, tools-max] }\n');
    expect(t.provider.compatRules).toEqual({ on: ['fold-system-messages'], off: ['inline-schema-refs', 'tools-max'] });
    const p = templateCompat(t);
    expect(p.name).toBe('moonshot+fold-system-messages-inline-schema-refs-tools-max');
    expect(p.rules.map((r) => r.id)).toEqual([
      'thinking-enabled',
      'tool-reference-as-text',
      'document-as-text',
      'fold-system-messages',
      'k2-tool-call-ids',
      'k2-reasoning-content',
      'k2-fixed-sampling',
      'k2-tool-choice-auto',
      'stable-cache-prefix',
    ]);
    // Claude Code's environment: the profile's and its rules'; a rule turned off takes its variables along.
    expect(p.claudeCodeEnv).toEqual({
      ENABLE_TOOL_SEARCH: 'false',
      CLAUDE_CODE_ATTRIBUTION_HEADER: '0',
      CLAUDE_CODE_DISABLE_AUTO_MEMORY: '1',
    });
    expect(templateCompat(parse('provider:\n  compatRules: { off: [stable-cache-prefix] }\n')).claudeCodeEnv).toEqual({
      ENABLE_TOOL_SEARCH: 'false',
    });
    expect(templateCompat(parse('')).name).toBe('moonshot');
    expect(
      templateCompat(parse('provider: { preset: custom, baseUrl: "http://x", compatRules: { on: [tools-max] } }')).rules.map((r) => r.id),
    ).toEqual(['tools-max']);
  });

  it('an unknown rule id names the line, the closest and the known ones; one rule both on and off is refused', () => {
    expect(parseError('provider:\n  compatRules:\n    off: [thinking-enable]\n').message).toBe(
      "run.yaml:4: provider.compatRules.off[0]: unknown compat rule 'thinking-enable' — did you mean 'thinking-enabled'? — expected one of " +
        'thinking-enabled, tool-reference-as-text, document-as-text, tools-max, inline-schema-refs, fold-system-messages, ' +
        'k2-tool-call-ids, k2-reasoning-content, k2-fixed-sampling, k2-tool-choice-auto, stable-cache-prefix',
    );
    expect(parseError('provider:\n  compatRules: { on: [tools-max], off: [tools-max] }\n').message).toMatch(
      /provider\.compatRules\.off: rule 'tools-max' is both on and off — keep it in one list/,
    );
    expect(parseError('provider:\n  compatRules: { offf: [tools-max] }\n').message).toMatch(/unknown field 'offf' — did you mean 'off'\?/);
    expect(() => compatProfile('moonshot', { on: ['nope'] })).toThrow("unknown compat rule 'nope' — use one of thinking-enabled,");
  });
});

describe('per-slot models', () => {
  it('slots: [{model, task}] or models: [...] give each slot its model; count follows the longest list', () => {
    const t = parse(
      'model: kimi-k2.6\nslots:\n  - { model: kimi-k3, task: "compare A" }\n  - { task: "compare B" }\n  - { model: kimi-k2.7-code }\n',
    );
    expect(t.count).toBe(3);
    expect(t.models).toEqual(['kimi-k3', null, 'kimi-k2.7-code']);
    expect([1, 2, 3].map((slot) => slotTask(t, slot))).toEqual(['compare A', 'compare B', null]);
    const m = parse('tasks: [a, b]\nmodels: [kimi-k3, kimi-k2.6]\n');
    expect(m.models).toEqual(['kimi-k3', 'kimi-k2.6']);
    expect(parse('tasks: [a, b]').models).toBeUndefined();
  });

  it('both forms at once, or a bad entry, are refused by field and line', () => {
    expect(parseError('slots: [{ model: kimi-k3 }]\nmodels: [kimi-k3]\n').message).toMatch(/models: give per-slot models either as slots/);
    expect(parseError('slots:\n  - { modle: kimi-k3 }\n').message).toBe(
      "run.yaml:3: slots[0].modle: unknown field 'modle' — did you mean 'model'? — expected one of model, task, sandbox",
    );
  });
});

describe("Claude Code's launch for a profile", () => {
  it('sets every model tier to the run’s model and turns tool search off under moonshot', () => {
    const l = buildAgentLaunch(parse('model: kimi-k2.7-code'), ctx, { PATH: '/usr/bin' });
    for (const k of CLAUDE_CODE_MODEL_VARS) expect(l.env[k], k).toBe('kimi-k2.7-code');
    expect(l.env.ENABLE_TOOL_SEARCH).toBe('false');
    expect(l.env.CLAUDE_CODE_MAX_CONTEXT_TOKENS).toBe('262144');
    const none = buildAgentLaunch(parse('provider: { preset: custom, baseUrl: "http://x" }'), ctx, { PATH: '/usr/bin' });
    expect(none.env).not.toHaveProperty('ENABLE_TOOL_SEARCH');
  });

  it('maps every ANTHROPIC_DEFAULT_*_MODEL the installed Claude Code knows', () => {
    const bin = resolve(import.meta.dirname, '../../node_modules/.bin/claude');
    const found = new Set(
      execFileSync(
        'grep',
        ['-aoE', 'ANTHROPIC_DEFAULT_[A-Z]+_MODEL\\b|ANTHROPIC_SMALL_FAST_MODEL\\b|CLAUDE_CODE_[A-Z_]*SUBAGENT_MODEL\\b', bin],
        {
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        },
      )
        .split('\n')
        .filter(Boolean),
    );
    // _FORCE is a switch, not a tier.
    found.delete('CLAUDE_CODE_SUBAGENT_MODEL_FORCE');
    expect(found.size).toBeGreaterThanOrEqual(6);
    for (const v of found) expect(CLAUDE_CODE_MODEL_VARS, `${v} is a model tier of the installed Claude Code`).toContain(v);
  });
});
