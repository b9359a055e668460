import { mkdtemp, mkdir, rm, writeFile, chmod, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_PRESETS,
  TemplateError,
  agentPresetInfo,
  buildAgentLaunch,
  findOnPath,
  listTemplates,
  loadTemplateFile,
  modelContextWindow,
  parseTemplate,
  renderPlaceholders,
  slotTask,
  translatesToChat,
  type SessionContext,
  type Template,
} from '../../electron/engine/templates/index.ts';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-templates-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Parses and expects a TemplateError; returns it for assertions on message, line and field. */
function parseError(text: string, opts?: Parameters<typeof parseTemplate>[2]): TemplateError {
  try {
    parseTemplate(text, 'lint.yaml', { cwd: '/work/repo', ...opts });
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateError);
    return e as TemplateError;
  }
  throw new Error('expected a TemplateError');
}

const FULL = `name: lint-sweep
repo: ..
base: main
workspace: shared
count: 3
concurrency: 2
agent:
  preset: claude-code
  args: ["--permission-mode", "plan", "{{task}}"]
  env: { EXAMPLE: "1", NUMBER: 2 }
provider:
  preset: moonshot
  apiKeyEnv: MY_MOONSHOT_KEY
model: kimi-k3
budget: { perSessionUsd: 2.0, runUsd: 15 }
tasks:
  - "Fix the lint errors in src/a.ts"
  - Fix src/b.ts
`;

describe('parseTemplate: valid templates', () => {
  it('reads every field of a full template', () => {
    const t = parseTemplate(FULL, '/work/repo/.flotilla/templates/lint.yaml');
    expect(t).toEqual<Template>({
      name: 'lint-sweep',
      file: '/work/repo/.flotilla/templates/lint.yaml',
      // relative to the template file's directory, not to the process cwd
      repo: '/work/repo/.flotilla',
      base: 'main',
      workspace: 'shared',
      count: 3,
      concurrency: 2,
      agent: {
        preset: 'claude-code',
        command: 'claude',
        args: ['--permission-mode', 'plan', '{{task}}'],
        env: { EXAMPLE: '1', NUMBER: '2' },
      },
      provider: {
        name: 'moonshot',
        preset: 'moonshot',
        baseUrl: 'https://api.moonshot.ai/anthropic',
        style: 'anthropic',
        apiKeyEnv: 'MY_MOONSHOT_KEY',
      },
      model: 'kimi-k3',
      budget: { perSessionUsd: 2, runUsd: 15 },
      tasks: ['Fix the lint errors in src/a.ts', 'Fix src/b.ts'],
    });
  });

  it('fills defaults for a minimal template', () => {
    const t = parseTemplate('name: minimal\n', 'min.yaml', { cwd: '/work/repo' });
    expect(t).toEqual<Template>({
      name: 'minimal',
      file: '/work/repo/min.yaml',
      repo: '/work/repo',
      base: 'HEAD',
      workspace: 'worktree',
      count: 1,
      concurrency: 1,
      agent: { preset: 'claude-code', command: 'claude', args: null, env: {} },
      provider: {
        name: 'moonshot',
        preset: 'moonshot',
        baseUrl: 'https://api.moonshot.ai/anthropic',
        style: 'anthropic',
        apiKeyEnv: 'MOONSHOT_API_KEY',
      },
      model: 'kimi-k2.6',
      budget: { perSessionUsd: null, runUsd: null },
      tasks: [],
    });
  });

  it('defaults count to the number of tasks and concurrency to count', () => {
    const t = parseTemplate('name: x\ntasks: [a, b, c, d]\n', 'x.yaml');
    expect(t.count).toBe(4);
    expect(t.concurrency).toBe(4);
  });

  it('accepts a count smaller than the task list (extra tasks unused)', () => {
    const t = parseTemplate('name: x\ncount: 2\ntasks: [a, b, c]\n', 'x.yaml');
    expect(t.count).toBe(2);
    expect(slotTask(t, 2)).toBe('b');
  });

  it('gives slots beyond the task list a null task', () => {
    const t = parseTemplate('name: x\ncount: 3\ntasks: [only one]\n', 'x.yaml');
    expect([1, 2, 3].map((s) => slotTask(t, s))).toEqual(['only one', null, null]);
  });

  it('treats an empty `key:` as not given', () => {
    const t = parseTemplate('name: x\nbudget:\nprovider:\ntasks:\n', 'x.yaml');
    expect(t.budget).toEqual({ perSessionUsd: null, runUsd: null });
    expect(t.tasks).toEqual([]);
  });

  it('picks a provider the agent can talk to when none is named', () => {
    const aider = parseTemplate('name: x\nagent: { preset: aider }\n', 'x.yaml');
    expect(aider.provider).toMatchObject({ preset: 'moonshot-openai', style: 'openai', baseUrl: 'https://api.moonshot.ai/v1' });
    const codex = parseTemplate('name: x\nagent: { preset: codex }\n', 'x.yaml');
    expect(codex.provider).toMatchObject({ preset: 'moonshot-openai', style: 'responses' });
  });

  it('resolves openrouter and custom providers', () => {
    const or = parseTemplate('name: x\nagent: { preset: aider }\nprovider: { preset: openrouter }\n', 'x.yaml');
    expect(or.provider).toEqual({
      name: 'openrouter',
      preset: 'openrouter',
      baseUrl: 'https://openrouter.ai/api/v1',
      style: 'openai',
      apiKeyEnv: 'OPENROUTER_API_KEY',
    });
    // Claude Code goes to OpenRouter's Anthropic endpoint.
    expect(parseTemplate('name: x\nprovider: { preset: openrouter }\n', 'x.yaml').provider).toMatchObject({
      baseUrl: 'https://openrouter.ai/api',
      style: 'anthropic',
    });
    const custom = parseTemplate('name: x\nprovider: { preset: custom, baseUrl: "http://127.0.0.1:9000/anthropic/" }\n', 'x.yaml');
    expect(custom.provider).toMatchObject({ preset: 'custom', baseUrl: 'http://127.0.0.1:9000/anthropic', style: 'anthropic' });
  });

  it('resolves the shell preset command from $SHELL, and keeps a command override', () => {
    const t = parseTemplate('name: x\nagent: { preset: shell }\n', 'x.yaml');
    expect(t.agent.command).toBe(process.env.SHELL?.trim() || 'bash');
    const node = parseTemplate('name: x\nagent: { preset: shell, command: node, args: ["-e", "1"] }\n', 'x.yaml');
    expect(node.agent).toMatchObject({ command: 'node', args: ['-e', '1'] });
  });

  it('anchors template text without a file at cwd', () => {
    const t = parseTemplate('name: x\nrepo: sub\n', '', { cwd: '/work/repo' });
    expect(t.file).toBeNull();
    expect(t.repo).toBe('/work/repo/sub');
  });
});

describe('parseTemplate: options and overrides', () => {
  it('lets opts.count, overrides.tasks and overrides.model win over the file', () => {
    const t = parseTemplate(FULL, '/work/repo/lint.yaml', {
      count: 5,
      overrides: { model: 'kimi-k2.5', tasks: ['one', 'two'], budget: { runUsd: 4 } },
    });
    expect(t.count).toBe(5);
    expect(t.concurrency).toBe(2);
    expect(t.model).toBe('kimi-k2.5');
    expect(t.tasks).toEqual(['one', 'two']);
    // objects merge deeply: the file's perSessionUsd stays
    expect(t.budget).toEqual({ perSessionUsd: 2, runUsd: 4 });
  });

  it('opts.count beats overrides.count', () => {
    const t = parseTemplate('name: x\ncount: 2\n', 'x.yaml', { count: 7, overrides: { count: 3 } });
    expect(t.count).toBe(7);
  });

  it('derives count from overridden tasks when the file has no count', () => {
    const t = parseTemplate('name: x\n', 'x.yaml', { overrides: { tasks: ['a', 'b', 'c'] } });
    expect(t.count).toBe(3);
  });

  it('resolves opts.repo against cwd, and lets it win over the file', () => {
    const t = parseTemplate('name: x\nrepo: from-file\n', '/t/x.yaml', { cwd: '/work', repo: 'other' });
    expect(t.repo).toBe('/work/other');
  });

  it('validates overrides like the file, naming them as overrides', () => {
    expect(parseError('name: x\ncount: 2\n', { overrides: { count: 0 } }).message).toBe(
      'lint.yaml: count (override): must be an integer from 1 to 64 (got 0)',
    );
    expect(parseError('name: x\n', { count: 65 }).message).toBe('lint.yaml: count (override): must be an integer from 1 to 64 (got 65)');
    expect(parseError('name: x\n', { overrides: { modle: 'k' } }).message).toMatch(
      /^lint\.yaml: modle \(override\): unknown field 'modle' — did you mean 'model'\?/,
    );
  });
});

describe('parseTemplate: errors name file, line, field and what is expected', () => {
  it('missing name', () => {
    const e = parseError('count: 2\n');
    expect(e.message).toBe('lint.yaml: name: required — expected a non-empty string (the run name)');
    expect([e.file, e.line, e.field]).toEqual(['lint.yaml', null, 'name']);
  });

  it('YAML syntax error, with its line', () => {
    const e = parseError('name: x\ntasks:\n  - a\n count: [1, 2\n');
    expect(e.message).toMatch(/^lint\.yaml:4: YAML syntax error: /);
    expect(e.line).toBe(4);
  });

  it('duplicate key is a syntax error on the second occurrence', () => {
    expect(parseError('name: x\nname: y\n').message).toBe('lint.yaml:2: YAML syntax error: Map keys must be unique');
  });

  it('unknown agent preset lists the known ones', () => {
    const e = parseError('name: x\nagent:\n  preset: claude\n');
    expect(e.message).toBe(`lint.yaml:3: agent.preset: unknown agent preset 'claude' — expected one of ${AGENT_PRESETS.join(', ')}`);
    expect([e.line, e.field]).toEqual([3, 'agent.preset']);
  });

  it('unknown provider preset suggests the near miss', () => {
    expect(parseError('name: x\nprovider: { preset: moonshoot }\n').message).toBe(
      "lint.yaml:2: provider.preset: unknown provider preset 'moonshoot' — did you mean 'moonshot'? — expected one of moonshot, moonshot-openai, openrouter, novita, vercel, groq, cerebras, fireworks, together, deepinfra, baseten, vllm, sglang, custom",
    );
  });

  it('count 0 and 65', () => {
    const text = (n: number) => `name: lint\nrepo: .\nbase: HEAD\nworkspace: worktree\n\n# how many\ncount: ${n}\n`;
    const zero = parseError(text(0));
    expect(zero.message).toBe('lint.yaml:7: count: must be an integer from 1 to 64 (got 0)');
    expect([zero.line, zero.field]).toEqual([7, 'count']);
    expect(parseError(text(65)).message).toBe('lint.yaml:7: count: must be an integer from 1 to 64 (got 65)');
    expect(parseError('name: x\ncount: 2.5\n').message).toBe('lint.yaml:2: count: must be an integer from 1 to 64 (got 2.5)');
  });

  it('unknown top-level field, with a suggestion for a typo', () => {
    expect(parseError('name: x\nfoo: 1\n').message).toBe(
      "lint.yaml:2: foo: unknown field 'foo' — expected one of name, repo, base, workspace, count, concurrency, agent, provider, model, budget, tasks",
    );
    expect(parseError('name: x\ncuont: 3\n').message).toMatch(/^lint\.yaml:2: cuont: unknown field 'cuont' — did you mean 'count'\?/);
  });

  it('unknown nested field', () => {
    expect(parseError('name: x\nagent:\n  preset: codex\n  argz: []\n').message).toBe(
      "lint.yaml:4: agent.argz: unknown field 'argz' — did you mean 'args'? — expected one of preset, command, args, env",
    );
  });

  it('bad budget type', () => {
    const e = parseError('name: x\nbudget:\n  perSessionUsd: two\n');
    expect(e.message).toBe("lint.yaml:3: budget.perSessionUsd: must be a positive number of US dollars (got 'two')");
    expect(e.field).toBe('budget.perSessionUsd');
    expect(parseError('name: x\nbudget: 5\n').message).toBe(
      'lint.yaml:2: budget: must be a mapping with perSessionUsd and/or runUsd (got 5)',
    );
    expect(parseError('name: x\nbudget: { runUsd: -1 }\n').message).toBe(
      'lint.yaml:2: budget.runUsd: must be a positive number of US dollars (got -1)',
    );
  });

  it('custom provider without baseUrl points at the provider block', () => {
    const e = parseError('name: x\ncount: 1\nprovider:\n  preset: custom\n');
    expect(e.message).toBe(
      'lint.yaml:3: provider.baseUrl: required when provider.preset is custom — the API base URL, e.g. https://my-gateway.example/v1',
    );
    expect(e.field).toBe('provider.baseUrl');
  });

  it('a bad base URL', () => {
    expect(parseError('name: x\nprovider: { baseUrl: "api.example.com" }\n').message).toBe(
      "lint.yaml:2: provider.baseUrl: must be an http(s) URL, e.g. https://api.moonshot.ai/anthropic (got 'api.example.com')",
    );
  });

  it('an agent paired with a provider it cannot speak to', () => {
    expect(parseError('name: x\nagent: { preset: codex }\nprovider:\n  preset: cerebras\n').message).toBe(
      'lint.yaml:4: provider.preset: agent codex speaks the responses API but provider cerebras is openai-style — use provider.preset: moonshot-openai, or set provider.style to responses if the endpoint serves it',
    );
  });

  it('Claude Code on an OpenAI-style host is translated by the meter, not refused', () => {
    const t = parseTemplate('name: x\nagent: { preset: claude-code }\nprovider:\n  preset: moonshot-openai\n', 'lint.yaml');
    expect([t.agent.preset, t.provider.style, translatesToChat(t)]).toEqual(['claude-code', 'openai', true]);
    expect(translatesToChat(parseTemplate('name: x\nagent: { preset: claude-code }\n', 'lint.yaml'))).toBe(false);
  });

  it('batch preset without a task for every slot', () => {
    expect(parseError('name: x\nagent:\n  preset: claude-code-batch\ncount: 3\ntasks: [a]\n').message).toBe(
      "lint.yaml:3: agent.preset: claude-code-batch runs each slot's task once (claude -p), but slots 2-3 have no task (count 3, 1 task(s)) — add tasks, lower count, or give agent.args with a fixed prompt",
    );
  });

  it('bad list items and env entries', () => {
    expect(parseError('name: x\ntasks:\n  - a\n  - ""\n').message).toBe("lint.yaml:4: tasks[1]: must be a non-empty string (got '')");
    expect(parseError('name: x\nagent:\n  env:\n    OK: [1]\n').message).toBe('lint.yaml:4: agent.env.OK: must be a string (got a list)');
    expect(parseError('name: x\nagent:\n  env:\n    "a-b": "1"\n').message).toBe(
      "lint.yaml:4: agent.env.a-b: 'a-b' is not an environment variable name — use letters, digits and _, not starting with a digit",
    );
  });

  it('reports every problem, one per line in file order, and the first in line/field', () => {
    const e = parseError('name: x\nfoo: 1\ncount: 0\n');
    expect(e.message.split('\n')).toEqual([
      expect.stringMatching(/^lint\.yaml:2: foo: unknown field 'foo'/),
      'lint.yaml:3: count: must be an integer from 1 to 64 (got 0)',
    ]);
    expect([e.line, e.field]).toEqual([2, 'foo']);
  });

  it('a document that is not a mapping', () => {
    expect(parseError('- a\n- b\n').message).toMatch(/^lint\.yaml:1: a template is a YAML mapping of fields \(name, .*\), not a list$/);
  });

  it('template not found', async () => {
    const missing = path.join(tmp, 'nope.yaml');
    const err = await loadTemplateFile(missing, { cwd: tmp, repo: '/work/repo' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).message).toBe(
      `Template not found: ${missing} — check the path, or list templates in /work/repo/.flotilla/templates/`,
    );
  });
});

describe('template files', () => {
  it('loads a file relative to cwd, resolving repo against the file', async () => {
    const dir = path.join(tmp, 'proj', '.flotilla', 'templates');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'lint.yaml'), 'name: lint\nrepo: ../..\ntasks: [a, b]\n');
    const t = await loadTemplateFile('proj/.flotilla/templates/lint.yaml', { cwd: tmp });
    expect(t.file).toBe(path.join(dir, 'lint.yaml'));
    expect(t.repo).toBe(path.join(tmp, 'proj'));
    expect(t.count).toBe(2);
  });

  it('names the absolute file in validation errors', async () => {
    const file = path.join(tmp, 'bad.yaml');
    await writeFile(file, 'name: bad\ncount: 0\n');
    await expect(loadTemplateFile(file)).rejects.toThrow(`${file}:2: count: must be an integer from 1 to 64 (got 0)`);
  });

  it('lists *.yaml and *.yml by their name, skipping missing dirs', async () => {
    const a = path.join(tmp, 'list-a');
    const b = path.join(tmp, 'list-b');
    await mkdir(a, { recursive: true });
    await mkdir(b, { recursive: true });
    await writeFile(path.join(a, 'z.yaml'), 'name: alpha\n');
    await writeFile(path.join(a, 'broken.yml'), 'name: [\n');
    await writeFile(path.join(a, 'notes.txt'), 'name: nope\n');
    await writeFile(path.join(b, 'one.YML'), 'name: beta\n');
    const list = await listTemplates([a, path.join(tmp, 'missing'), b]);
    expect(list).toEqual([
      { name: 'alpha', path: path.join(a, 'z.yaml') },
      { name: 'broken', path: path.join(a, 'broken.yml') },
      { name: 'beta', path: path.join(b, 'one.YML') },
    ]);
  });
});

describe('placeholders and models', () => {
  const vars = { task: 'Fix a.ts', index: 3, branch: 'flotilla/lint/3', name: 'lint' };
  it('renders known placeholders and leaves unknown ones', () => {
    expect(renderPlaceholders('{{name}}#{{index}} on {{branch}}: {{ task }} {{other}}', vars)).toBe(
      'lint#3 on flotilla/lint/3: Fix a.ts {{other}}',
    );
  });
  it('renders null as empty', () => {
    expect(renderPlaceholders('[{{task}}][{{branch}}]', { ...vars, task: null, branch: null })).toBe('[][]');
  });
  it('knows context windows', () => {
    expect(modelContextWindow('kimi-k2.6')).toBe(262_144);
    expect(modelContextWindow('kimi-k3')).toBe(1_048_576);
    expect(modelContextWindow('kimi-k2-0711-preview')).toBe(131_072);
    expect(modelContextWindow('moonshotai/kimi-k2-0905')).toBe(262_144);
    expect(modelContextWindow('claude-sonnet-4-5')).toBe(200_000);
    expect(modelContextWindow('mystery-model')).toBeNull();
    expect(modelContextWindow('constructor')).toBeNull();
  });
});

describe('buildAgentLaunch', () => {
  const ctx: SessionContext = {
    sessionId: 'sess-1',
    slot: 2,
    task: 'Fix src/b.ts',
    branch: 'flotilla/lint/2',
    runName: 'lint',
    cwd: '/work/repo/.flotilla/worktrees/lint-2',
    sessionDir: '/data/sessions/sess-1',
    endpoint: { baseUrl: 'http://127.0.0.1:4100/s/sess-1', token: 'flt-session-token' },
    hookUrl: 'http://127.0.0.1:4100/hooks/sess-1',
    agentSessionId: '0b6c5c43-2f3c-4a39-9d2e-6f0f2c7b1a11',
    resume: false,
  };
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: '/usr/bin',
    HOME: '/home/u',
    SHELL: '/bin/zsh',
    MOONSHOT_API_KEY: 'sk-real',
    OPENROUTER_API_KEY: 'sk-or',
    KIMI_API_KEY: 'sk-kimi',
    MY_MOONSHOT_KEY: 'sk-custom-var',
    ANTHROPIC_API_KEY: 'sk-ant',
    ANTHROPIC_BASE_URL: 'https://api.anthropic.com',
    OPENAI_API_KEY: 'sk-openai',
    CLAUDECODE: '1',
    CLAUDE_CODE_ENTRYPOINT: 'cli',
    CLAUDE_CODE_SSE_PORT: '1234',
    FLOTILLA_DATA_DIR: '/data',
    TERM: 'dumb',
    UNSET: undefined,
  };
  const tpl = (yaml: string) => parseTemplate(`name: lint\n${yaml}`, '/work/repo/lint.yaml');

  function expectNoRealKeys(env: Record<string, string>): void {
    for (const k of [
      'MOONSHOT_API_KEY',
      'OPENROUTER_API_KEY',
      'KIMI_API_KEY',
      'ANTHROPIC_API_KEY',
      'CLAUDECODE',
      'CLAUDE_CODE_ENTRYPOINT',
      'CLAUDE_CODE_SSE_PORT',
      'FLOTILLA_DATA_DIR',
      'UNSET',
    ]) {
      expect(env, k).not.toHaveProperty(k);
    }
  }

  it('claude-code: proxy endpoint, no real keys, session id, settings with hooks, seeded trust', () => {
    const t = tpl('provider: { apiKeyEnv: MY_MOONSHOT_KEY }\nagent:\n  env: { EXTRA: "slot-{{index}}", TERM: screen }\n');
    const l = buildAgentLaunch(t, ctx, baseEnv);
    expect(l.command).toBe('claude');
    const settingsPath = '/data/sessions/sess-1/claude-settings.json';
    expect(l.args).toEqual([
      '--settings',
      settingsPath,
      '--session-id',
      ctx.agentSessionId,
      '--model',
      'kimi-k2.6',
      '--permission-mode',
      'acceptEdits',
      'Fix src/b.ts',
    ]);

    expectNoRealKeys(l.env);
    // the template's own key variable is stripped too: no secret value is left at all
    expect(l.env).not.toHaveProperty('MY_MOONSHOT_KEY');
    for (const v of Object.values(l.env)) expect(v).not.toMatch(/^sk-/);
    expect(l.env).not.toHaveProperty('OPENAI_API_KEY');
    expect(l.env).toMatchObject({
      PATH: '/usr/bin',
      HOME: '/home/u',
      ANTHROPIC_BASE_URL: ctx.endpoint.baseUrl,
      ANTHROPIC_AUTH_TOKEN: ctx.endpoint.token,
      ANTHROPIC_MODEL: 'kimi-k2.6',
      ANTHROPIC_DEFAULT_OPUS_MODEL: 'kimi-k2.6',
      ANTHROPIC_DEFAULT_SONNET_MODEL: 'kimi-k2.6',
      ANTHROPIC_DEFAULT_HAIKU_MODEL: 'kimi-k2.6',
      CLAUDE_CODE_SUBAGENT_MODEL: 'kimi-k2.6',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      API_TIMEOUT_MS: '600000',
      CLAUDE_CODE_MAX_CONTEXT_TOKENS: '262144',
      CLAUDE_CONFIG_DIR: '/data/sessions/sess-1/claude',
      DISABLE_AUTOUPDATER: '1',
      FLOTILLA_SESSION_ID: 'sess-1',
      COLORTERM: 'truecolor',
      // the template's env is applied last and wins
      TERM: 'screen',
      EXTRA: 'slot-2',
    });

    const state = l.files.find((f) => f.path === '/data/sessions/sess-1/claude/.claude.json');
    expect(state).toBeDefined();
    const json = JSON.parse(state!.content);
    expect(json.hasCompletedOnboarding).toBe(true);
    expect(json.projects[ctx.cwd].hasTrustDialogAccepted).toBe(true);

    const settings = l.files.find((f) => f.path === settingsPath);
    expect(settings).toBeDefined();
    const hooks = JSON.parse(settings!.content).hooks;
    const http = [{ type: 'http', url: ctx.hookUrl }];
    for (const ev of ['Stop', 'PermissionRequest', 'Notification', 'StopFailure', 'UserPromptSubmit', 'PreToolUse']) {
      expect(hooks[ev], ev).toEqual([{ hooks: http }]);
    }
    expect(hooks.PostToolUse).toEqual([{ matcher: 'Write|Edit|MultiEdit|NotebookEdit', hooks: http }]);
  });

  it('claude-code without a task starts interactive with no prompt', () => {
    const l = buildAgentLaunch(tpl(''), { ...ctx, task: null }, baseEnv);
    expect(l.args.slice(-2)).toEqual(['--permission-mode', 'acceptEdits']);
    expect(l.args).not.toContain('');
  });

  it('claude-code resume: --resume instead of --session-id, no task prompt', () => {
    const l = buildAgentLaunch(tpl(''), { ...ctx, resume: true }, baseEnv);
    expect(l.args).toEqual([
      '--settings',
      '/data/sessions/sess-1/claude-settings.json',
      '--resume',
      ctx.agentSessionId,
      '--model',
      'kimi-k2.6',
      '--permission-mode',
      'acceptEdits',
    ]);
    expect(l.args).not.toContain('--session-id');
  });

  it('claude-code renders placeholders in template args', () => {
    const t = tpl('agent:\n  args: ["--append-system-prompt", "You are {{name}} #{{index}} on {{branch}}", "{{task}}"]\n');
    const l = buildAgentLaunch(t, ctx, baseEnv);
    expect(l.args.slice(6)).toEqual(['--append-system-prompt', 'You are lint #2 on flotilla/lint/2', 'Fix src/b.ts']);
  });

  it('claude-code-batch: -p with the task, and an interactive resume', () => {
    const t = tpl('agent: { preset: claude-code-batch }\ntasks: [a, "Fix src/b.ts"]\nmodel: kimi-k3\n');
    const l = buildAgentLaunch(t, ctx, baseEnv);
    expect(l.command).toBe('claude');
    expect(l.args).toEqual([
      '--settings',
      '/data/sessions/sess-1/claude-settings.json',
      '--session-id',
      ctx.agentSessionId,
      '--model',
      'kimi-k3',
      '-p',
      'Fix src/b.ts',
      '--permission-mode',
      'acceptEdits',
    ]);
    expect(l.env.CLAUDE_CODE_MAX_CONTEXT_TOKENS).toBe('1048576');
    const r = buildAgentLaunch(t, { ...ctx, resume: true }, baseEnv);
    expect(r.args).not.toContain('-p');
    expect(r.args).toContain('--resume');
  });

  it('aider: openai style through the proxy', () => {
    const t = tpl('agent: { preset: aider }\n');
    const l = buildAgentLaunch(t, ctx, baseEnv);
    expect(l.command).toBe('aider');
    expect(l.args).toEqual(['--model', 'openai/kimi-k2.6', '--yes-always', '--message', 'Fix src/b.ts']);
    expectNoRealKeys(l.env);
    expect(l.env).toMatchObject({
      OPENAI_BASE_URL: ctx.endpoint.baseUrl,
      OPENAI_API_BASE: ctx.endpoint.baseUrl,
      OPENAI_API_KEY: ctx.endpoint.token,
      FLOTILLA_SESSION_ID: 'sess-1',
    });
    expect(l.env).not.toHaveProperty('ANTHROPIC_BASE_URL');
    expect(l.env).not.toHaveProperty('ANTHROPIC_AUTH_TOKEN');
    expect(l.files).toEqual([]);
  });

  it('kimi-cli: KIMI_* variables point at the proxy', () => {
    const l = buildAgentLaunch(tpl('agent: { preset: kimi-cli }\n'), ctx, baseEnv);
    expect(l.command).toBe('kimi');
    expect(l.args).toEqual(['--prompt', 'Fix src/b.ts']);
    expect(l.env).toMatchObject({
      KIMI_BASE_URL: ctx.endpoint.baseUrl,
      KIMI_API_KEY: ctx.endpoint.token,
      KIMI_MODEL_NAME: 'kimi-k2.6',
      KIMI_MODEL_MAX_CONTEXT_SIZE: '262144',
    });
  });

  it('shell: runs any command with rendered args, endpoint in the env, no real keys', () => {
    const t = tpl('agent:\n  preset: shell\n  command: node\n  args: ["-e", "console.log(process.argv[1])", "{{index}}:{{task}}"]\n');
    const l = buildAgentLaunch(t, ctx, baseEnv);
    expect(l.command).toBe('node');
    expect(l.args).toEqual(['-e', 'console.log(process.argv[1])', '2:Fix src/b.ts']);
    expectNoRealKeys(l.env);
    expect(l.env.ANTHROPIC_BASE_URL).toBe(ctx.endpoint.baseUrl);
    expect(l.files).toEqual([]);
    const plain = buildAgentLaunch(tpl('agent: { preset: shell }\n'), ctx, baseEnv);
    expect(plain.args).toEqual([]);
  });
});

describe('agent presets and binaries', () => {
  it('describes each preset', () => {
    expect(agentPresetInfo('claude-code')).toEqual({
      command: 'claude',
      installHint: 'npm install -g @anthropic-ai/claude-code',
      supportsHooks: true,
    });
    expect(agentPresetInfo('codex')).toMatchObject({ command: 'codex', supportsHooks: false });
    for (const p of AGENT_PRESETS) expect(agentPresetInfo(p).installHint.length).toBeGreaterThan(0);
  });

  it('findOnPath finds executables on PATH and executable paths, nothing else', async () => {
    const bin = path.join(tmp, 'bin');
    const other = path.join(tmp, 'other-bin');
    await mkdir(bin, { recursive: true });
    await mkdir(other, { recursive: true });
    const tool = path.join(bin, 'flotilla-fake-agent');
    await writeFile(tool, '#!/bin/sh\nexit 0\n');
    await chmod(tool, 0o755);
    await writeFile(path.join(other, 'not-exec'), 'x');
    await chmod(path.join(other, 'not-exec'), 0o644);
    await mkdir(path.join(other, 'a-dir'), { recursive: true });
    await symlink(tool, path.join(other, 'linked-agent'));
    const PATH = [other, bin].join(path.delimiter);

    expect(findOnPath('flotilla-fake-agent', PATH)).toBe(tool);
    expect(findOnPath('linked-agent', PATH)).toBe(path.join(other, 'linked-agent'));
    expect(findOnPath('not-exec', PATH)).toBeNull();
    expect(findOnPath('a-dir', PATH)).toBeNull();
    expect(findOnPath('definitely-not-installed-xyz', PATH)).toBeNull();
    expect(findOnPath(tool, '')).toBe(tool);
    expect(findOnPath(path.join(other, 'not-exec'), PATH)).toBeNull();
    // default PATH is the process's own
    expect(findOnPath('node')).not.toBeNull();
  });
});
