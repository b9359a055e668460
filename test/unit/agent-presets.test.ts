// The presets for agents beyond Claude Code (Codex, opencode, Qwen Code): what each session is started with. The real
// CLIs run in test/integration/agents.test.ts; here every branch (batch, interactive, resume, no task) is pinned.
import { describe, expect, it } from 'vitest';
import { buildAgentLaunch, parseTemplate, type SessionContext } from '../../electron/engine/templates/index.ts';
import { TemplateError } from '../../electron/engine/templates/schema.ts';

const ctx: SessionContext = {
  sessionId: 'sess-1',
  slot: 1,
  task: 'Fix src/b.ts',
  branch: 'flotilla/x/1',
  runName: 'x',
  cwd: '/work/repo/.flotilla/worktrees/x-1',
  sessionDir: '/data/sessions/sess-1',
  endpoint: { baseUrl: 'http://127.0.0.1:4100/s/tok', token: 'flt-session-token' },
  hookUrl: 'http://127.0.0.1:4100/hooks/h',
  agentSessionId: '0b6c5c43-2f3c-4a39-9d2e-6f0f2c7b1a11',
  resume: false,
};
const baseEnv: NodeJS.ProcessEnv = {
  PATH: '/usr/bin',
  HOME: '/home/u',
  PWD: '/somewhere/else',
  MOONSHOT_API_KEY: 'sk-real',
  OPENAI_API_KEY: 'sk-openai',
};
const tpl = (yaml: string) => parseTemplate(`name: x\ntasks: ["Fix src/b.ts"]\n${yaml}`, '/work/repo/x.yaml');
const launch = (preset: string, over: Partial<SessionContext> = {}) =>
  buildAgentLaunch(tpl(`agent: { preset: ${preset} }\n`), { ...ctx, ...over }, baseEnv);

function expectProxyOnly(env: Record<string, string>): void {
  expect(env.OPENAI_API_KEY).toBe(ctx.endpoint.token);
  expect(env.OPENAI_BASE_URL).toBe(ctx.endpoint.baseUrl);
  expect(env).not.toHaveProperty('MOONSHOT_API_KEY');
  expect(Object.values(env)).not.toContain('sk-real');
  // opencode takes its directory from PWD: an inherited one would send its writes elsewhere.
  expect(env.PWD).toBe(ctx.cwd);
}

const CODEX_PROVIDER = [
  '-c',
  'model_provider=flotilla',
  '-c',
  'model_providers.flotilla.name=Flotilla',
  '-c',
  `model_providers.flotilla.base_url=${ctx.endpoint.baseUrl}`,
  '-c',
  'model_providers.flotilla.env_key=OPENAI_API_KEY',
  '-c',
  'model_providers.flotilla.wire_api=responses',
  '-m',
  'kimi-k2.6',
];

describe('codex', () => {
  it('interactive: the provider through -c overrides (Responses API), a private CODEX_HOME with the worktree trusted', () => {
    const l = launch('codex');
    expect(l.command).toBe('codex');
    expect(l.args).toEqual([...CODEX_PROVIDER, 'Fix src/b.ts']);
    expectProxyOnly(l.env);
    expect(l.env.CODEX_HOME).toBe('/data/sessions/sess-1/codex');
    expect(l.files[0]!.content).toContain(`[projects."${ctx.cwd}"]`);
  });

  it('batch: codex exec with the task, sandboxed to the worktree, through the proxy', () => {
    const l = launch('codex-batch');
    expect(l.command).toBe('codex');
    expect(l.args).toEqual(['exec', ...CODEX_PROVIDER, '--skip-git-repo-check', '--sandbox', 'workspace-write', 'Fix src/b.ts']);
    expectProxyOnly(l.env);
    expect(l.env.CODEX_HOME).toBe('/data/sessions/sess-1/codex');
  });

  it('batch resumed, or with no task, is the interactive UI', () => {
    expect(launch('codex-batch', { resume: true }).args).toEqual(['resume', '--last', ...CODEX_PROVIDER]);
    expect(launch('codex-batch', { task: null }).args).toEqual(CODEX_PROVIDER);
  });
});

describe('opencode', () => {
  it('batch: opencode run with the task; a private config naming the proxy, the key only by reference', () => {
    const l = launch('opencode-batch');
    expect(l.command).toBe('opencode');
    expect(l.args).toEqual(['run', '-m', 'flotilla/kimi-k2.6', 'Fix src/b.ts']);
    expectProxyOnly(l.env);
    const home = '/data/sessions/sess-1/opencode';
    expect(l.env).toMatchObject({
      OPENCODE_CONFIG: `${home}/opencode.json`,
      XDG_CONFIG_HOME: `${home}/config`,
      XDG_DATA_HOME: `${home}/data`,
      XDG_STATE_HOME: `${home}/state`,
      OPENCODE_DISABLE_AUTOUPDATE: 'true',
      OPENCODE_DISABLE_MODELS_FETCH: 'true',
    });
    expect(l.files.map((f) => [f.path, f.mode])).toEqual([[`${home}/opencode.json`, 0o600]]);
    const config = JSON.parse(l.files[0]!.content);
    expect(config.model).toBe('flotilla/kimi-k2.6');
    expect(config.provider.flotilla).toEqual({
      npm: '@ai-sdk/openai-compatible',
      name: 'Flotilla',
      options: { baseURL: ctx.endpoint.baseUrl, apiKey: '{env:OPENAI_API_KEY}' },
      models: { 'kimi-k2.6': { name: 'kimi-k2.6', limit: { context: 262_144, output: 32_768 } } },
    });
    expect(l.files[0]!.content).not.toContain(ctx.endpoint.token);
    // A batch run cannot answer a question: shell commands are allowed there.
    expect(config.permission).toMatchObject({ edit: 'allow', bash: 'allow' });
  });

  it('interactive: the TUI with the task as its prompt, shell commands asked; resume continues', () => {
    const l = launch('opencode');
    expect(l.args).toEqual(['-m', 'flotilla/kimi-k2.6', '--prompt', 'Fix src/b.ts']);
    expect(JSON.parse(l.files[0]!.content).permission.bash).toBe('ask');
    expect(launch('opencode', { task: null }).args).toEqual(['-m', 'flotilla/kimi-k2.6']);
    expect(launch('opencode-batch', { resume: true }).args).toEqual(['-m', 'flotilla/kimi-k2.6', '--continue']);
  });
});

describe('qwen-code', () => {
  it('batch: the one-shot prompt in yolo mode, a private QWEN_HOME with the model window', () => {
    const l = launch('qwen-code-batch');
    expect(l.command).toBe('qwen');
    expect(l.args).toEqual(['--auth-type', 'openai', '-m', 'kimi-k2.6', '--approval-mode', 'yolo', 'Fix src/b.ts']);
    expectProxyOnly(l.env);
    expect(l.env).toMatchObject({
      QWEN_HOME: '/data/sessions/sess-1/qwen',
      OPENAI_MODEL: 'kimi-k2.6',
      QWEN_CODE_SUPPRESS_YOLO_WARNING: '1',
    });
    expect(JSON.parse(l.files[0]!.content)).toEqual({
      privacy: { usageStatisticsEnabled: false },
      model: { generationConfig: { contextWindowSize: 262_144 } },
    });
  });

  it('interactive: edits accepted, the task typed in; resume continues', () => {
    expect(launch('qwen-code').args).toEqual([
      '--auth-type',
      'openai',
      '-m',
      'kimi-k2.6',
      '--approval-mode',
      'auto-edit',
      '-i',
      'Fix src/b.ts',
    ]);
    expect(launch('qwen-code', { task: null }).args).toEqual(['--auth-type', 'openai', '-m', 'kimi-k2.6', '--approval-mode', 'auto-edit']);
    expect(launch('qwen-code-batch', { resume: true }).args).toEqual(['--auth-type', 'openai', '-m', 'kimi-k2.6', '--continue']);
  });
});

describe('presets and providers', () => {
  it('default to the OpenAI-style Moonshot endpoint; the moonshot preset sends them to its OpenAI surface; a host without their API is refused', () => {
    for (const p of ['opencode', 'opencode-batch', 'qwen-code', 'qwen-code-batch']) {
      expect(parseTemplate(`name: x\ntasks: [t]\nagent: { preset: ${p} }\n`, 'x.yaml').provider, p).toMatchObject({
        preset: 'moonshot-openai',
        style: 'openai',
      });
    }
    expect(parseTemplate('name: x\nagent: { preset: qwen-code }\nprovider: { preset: moonshot }\n', 'x.yaml').provider).toMatchObject({
      style: 'openai',
      baseUrl: 'https://api.moonshot.ai/v1',
    });
    expect(() => parseTemplate('name: x\nagent: { preset: codex }\nprovider: { preset: cerebras }\n', 'x.yaml')).toThrow(TemplateError);
  });

  it('a batch preset needs a task in every slot', () => {
    let err: unknown;
    try {
      parseTemplate('name: x\nagent: { preset: opencode-batch }\ncount: 2\ntasks: [one]\n', 'x.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as Error).message).toContain(
      "agent.preset: opencode-batch runs each slot's task once (opencode run), but slot 2 has no task",
    );
  });
});
