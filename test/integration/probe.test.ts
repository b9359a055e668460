// `flotilla probe` (the real CLI, in its own process) against the strict Moonshot stand-in: with the moonshot profile
// every shape passes and the report names the rules this provider needs; with none it says what is missing and exits 1;
// no key and an unreachable provider are clear errors naming the input.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeReport, ProvidersReport } from '../../electron/engine/probe/index.ts';
import { tempDir } from '../fixtures/repo.ts';
import { startUpstream, type Upstream } from '../upstream/index.ts';

const BIN = resolve(import.meta.dirname, '../../bin/flotilla.js');
const KEY = 'sk-probe-strict';
let strict: Upstream;
beforeAll(async () => {
  strict = await startUpstream({ apiKey: KEY, strict: 'moonshot' });
});
afterAll(() => strict?.close());

function probe(
  args: string[],
  env: Record<string, string> = { PROBE_KEY: KEY },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [BIN, 'probe', '--data-dir', tempDir('flotilla-probe-'), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => res({ code, stdout, stderr }));
  });
}

const against = (model: string, compat: string) => [
  '--provider',
  'custom',
  '--base-url',
  strict.url,
  '--key-env',
  'PROBE_KEY',
  '--model',
  model,
  '--compat',
  compat,
  '--json',
];

describe('flotilla probe', () => {
  it('with the moonshot profile every shape passes, and the report names the rules the provider needs', async () => {
    const before = strict.requests.length;
    const r = await probe(against('kimi-k2.7-code', 'moonshot'));
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as ProbeReport;
    expect(report.ok).toBe(true);
    const verdicts = Object.fromEntries(report.shapes.map((s) => [s.shape, s.verdict]));
    expect(verdicts).toEqual({
      main: 'needs the profile',
      side: 'needs the profile',
      'tool-search': 'needs the profile',
      pdf: 'needs the profile',
      'many-tools': 'needs the profile',
      // $ref is refused on K3 only.
      'schema-refs': 'needs the profile',
    });
    expect(report.rules.needed.sort()).toEqual(['document-as-text', 'thinking-enabled', 'tool-reference-as-text', 'tools-max']);
    expect(report.rules.notNeeded).toEqual(['inline-schema-refs']);
    expect(report.rules.missing).toEqual([]);
    expect(report.shapes.find((s) => s.shape === 'main')!.asSent.message).toMatch(/only type=enabled/);
    expect(report.requests).toBe(strict.requests.length - before);
    expect(report.usd).toBeGreaterThan(0);
    expect(report.usd).toBeLessThan(0.05);
    expect(report.claudeCode).toMatch(/2\.1\.\d+/);
  });

  it('a rule turned off that a shape needs makes the profile not enough; turned back on, it is', async () => {
    const r = await probe([...against('kimi-k3', 'moonshot'), '--rules-off', 'inline-schema-refs']);
    expect(r.code).toBe(1);
    const off = JSON.parse(r.stdout) as ProbeReport;
    expect(off.provider.profile).toBe('moonshot-inline-schema-refs');
    expect(off.rules.missing).toEqual(['inline-schema-refs']);
    const on = JSON.parse(
      (await probe([...against('kimi-k3', 'none'), '--rules-on', 'tool-reference-as-text,document-as-text,tools-max,inline-schema-refs']))
        .stdout,
    ) as ProbeReport;
    expect(on.provider.profile).toBe('none+tool-reference-as-text+document-as-text+tools-max+inline-schema-refs');
    expect(on.ok).toBe(true);
  });

  it('on K3 the schema shape needs inline-schema-refs; without a profile it is not enough and says what is missing', async () => {
    const k3 = JSON.parse((await probe(against('kimi-k3', 'moonshot'))).stdout) as ProbeReport;
    expect(k3.rules.needed).toContain('inline-schema-refs');
    expect(k3.ok).toBe(true);
    const r = await probe(against('kimi-k2.7-code', 'none'));
    expect(r.code).toBe(1);
    const none = JSON.parse(r.stdout) as ProbeReport;
    expect(none.ok).toBe(false);
    expect(none.rules.missing.sort()).toEqual(['document-as-text', 'thinking-enabled', 'tool-reference-as-text', 'tools-max']);
    expect(none.shapes.find((s) => s.shape === 'main')!.verdict).toBe('needs more rules');
  });

  it('no key, an unknown profile and an unreachable provider are errors that say what to do', async () => {
    const noKey = await probe(against('kimi-k2.6', 'moonshot'), { PROBE_KEY: '' });
    expect(noKey.code).not.toBe(0);
    expect(noKey.stderr).toMatch(/PROBE_KEY is not set — export PROBE_KEY=/);
    const badProfile = await probe(against('kimi-k2.6', 'moonshoot'));
    expect(badProfile.stderr).toMatch(/--compat moonshoot is not a compat profile — use one of moonshot, moonshot-strict, gateway, none/);
    const badRule = await probe([...against('kimi-k2.6', 'moonshot'), '--rules-off', 'tools-max,tool-max']);
    expect(badRule.code).not.toBe(0);
    expect(badRule.stderr).toMatch(/--rules-off tool-max is not a compat rule — use one of thinking-enabled, .*tools-max/);
    const gone = await probe(['--provider', 'custom', '--base-url', 'http://127.0.0.1:9', '--key-env', 'PROBE_KEY', '--json']);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9\/v1\/messages.*check the provider's base URL/);
  });

  it('--providers: each provider of a template ranked, with speed, the price of a turn, its rules and a valid tool call', async () => {
    const slow = await startUpstream({ apiKey: KEY, strict: 'moonshot', chunkDelayMs: 30 });
    const dir = tempDir('flotilla-probe-providers-');
    const file = join(dir, 'providers.yaml');
    writeFileSync(
      file,
      `name: probe-providers
model: kimi-k2.7-code
route: fastest
providers:
  - { preset: custom, name: slow-anthropic, baseUrl: "${slow.url}", apiKeyEnv: PROBE_KEY, compat: moonshot }
  - { preset: custom, name: quick-chat, baseUrl: "${strict.openaiBaseUrl}", style: openai, apiKeyEnv: PROBE_KEY, compat: moonshot }
`,
    );
    try {
      const r = await probe([file, '--providers', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as ProvidersReport;
      expect(report.route).toBe('fastest');
      expect(report.providers.map((p) => p.provider)).toEqual(['quick-chat', 'slow-anthropic']);
      for (const p of report.providers) {
        expect(p.error).toBeNull();
        expect(p.toolCall).toMatchObject({ valid: true });
        expect(p.shapes?.ok).toBe(true);
        expect(p.turnUsd).toBeGreaterThan(0);
        expect(p.tokensPerSec).toBeGreaterThan(0);
      }
      expect(report.providers[0]!.tokensPerSec!).toBeGreaterThan(report.providers[1]!.tokensPerSec!);
      // The Chat host needed K2's Chat rules on the translated shapes; the Anthropic host the Anthropic-side ones.
      expect(report.providers[0]!.shapes!.needed).toContain('k2-reasoning-content');
      const table = await probe([file, '--providers']);
      expect(table.stdout).toMatch(/ranked by route: fastest\n#\s+provider\s+TTFT\s+tok\/s\s+\$\/turn\s+tool call/);
      expect(table.stdout).toMatch(/1\s+quick-chat\s+\d+ ms/);
    } finally {
      await slow.close();
    }
  });
});
