// Where a sandboxed run's image comes from (a named image, a build, the repo's devcontainer.json) and how a slot's own
// sandbox combines with the template's. The builds themselves run in test/integration/sandbox-build.test.ts.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sandboxLabels, slotSandbox } from '../../electron/engine/sandbox/command.ts';
import {
  buildTag,
  expandContainerEnv,
  lifecycleLines,
  parseJsonc,
  readDevcontainer,
  resolveImage,
} from '../../electron/engine/sandbox/image.ts';
import { tempDir } from '../fixtures/repo.ts';
import { bodyError, parseBody } from '../fixtures/templates.ts';

const dirs: string[] = [];
const repoWith = (files: Record<string, string>) => {
  const dir = tempDir('flotilla-devc-');
  dirs.push(dir);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const parse = parseBody;
const parseError = (yaml: string) => bodyError(yaml).message;

/** A devcontainer variable as written in devcontainer.json: ${name}. */
const v = (name: string) => `\${${name}}`;

describe('devcontainer.json', () => {
  it('reads JSON with comments and trailing commas, strings kept as they are', () => {
    const text = '{\n  // a comment\n  "image": "node:20", /* block */\n  "url": "http://x//y",\n  "list": [1, 2,],\n}\n';
    expect(parseJsonc(text)).toEqual({ image: 'node:20', url: 'http://x//y', list: [1, 2] });
    expect(() => parseJsonc('{ "a": }')).toThrow(SyntaxError);
  });

  it('takes create commands in every form: a line, an argv, named ones in order', () => {
    expect(lifecycleLines('npm ci')).toEqual(['npm ci']);
    expect(lifecycleLines(['npm', 'run', 'a b'])).toEqual(["'npm' 'run' 'a b'"]);
    expect(lifecycleLines({ deps: 'npm ci', db: ['make', 'db'] })).toEqual(['npm ci', "'make' 'db'"]);
    expect(lifecycleLines(undefined)).toEqual([]);
  });

  it('gives the image or the Dockerfile (relative to itself), containerEnv, and the create commands in lifecycle order', () => {
    const repo = repoWith({
      '.devcontainer/devcontainer.json': JSON.stringify({
        build: { dockerfile: 'Dockerfile', context: '..', args: { V: '1' } },
        containerEnv: { MODE: 'sandbox', N: 3 },
        postCreateCommand: 'echo post',
        onCreateCommand: 'echo on',
      }),
    });
    const dev = readDevcontainer(join(repo, '.devcontainer/devcontainer.json'));
    expect(dev).toMatchObject({
      dockerfile: join(repo, '.devcontainer/Dockerfile'),
      context: repo,
      buildArgs: { V: '1' },
      env: { MODE: 'sandbox' },
      setup: ['echo on', 'echo post'],
    });
  });

  it('refuses what it cannot run, naming the file and what to do', () => {
    const compose = repoWith({ 'devcontainer.json': '{"dockerComposeFile": "x.yml"}' });
    expect(() => readDevcontainer(join(compose, 'devcontainer.json'))).toThrow(/uses dockerComposeFile.*give it image or build/);
    const empty = repoWith({ 'devcontainer.json': '{"name": "x"}' });
    expect(() => readDevcontainer(join(empty, 'devcontainer.json'))).toThrow(/names neither image nor build.dockerfile/);
    const broken = repoWith({ 'devcontainer.json': '{"image": ' });
    expect(() => readDevcontainer(join(broken, 'devcontainer.json'))).toThrow(/is not readable JSON/);
  });

  it('workspace folders become the worktree; the host environment is never read into the container', () => {
    process.env.FLOTILLA_TEST_SECRET = 'sk-secret';
    const env = expandContainerEnv(
      { A: `${v('containerWorkspaceFolder')}/bin`, B: v('localWorkspaceFolderBasename'), C: `x${v('localEnv:FLOTILLA_TEST_SECRET')}y` },
      '/wt/slot-1',
    );
    expect(env).toEqual({ A: '/wt/slot-1/bin', B: 'slot-1', C: 'xy' });
    delete process.env.FLOTILLA_TEST_SECRET;
  });
});

describe('the image a run uses', () => {
  const base = { engine: 'podman' as const, network: 'meter-only' as const };

  it('a named image is used as it is (no build, nothing read)', async () => {
    const steps: string[] = [];
    const r = await resolveImage({ ...base, image: 'node:20', cpus: 2 }, '/nowhere', (m) => steps.push(m));
    expect(r).toEqual({ sandbox: { ...base, image: 'node:20', cpus: 2 }, setup: [], from: 'node:20' });
    expect(steps).toEqual([]);
  });

  it("neither image nor build: the repo's devcontainer.json (its image, env and create commands)", async () => {
    const repo = repoWith({ '.devcontainer.json': '{"image": "localhost/x:1", "containerEnv": {"K": "v"}, "postCreateCommand": "make"}' });
    const r = await resolveImage(base, repo, () => {});
    expect(r.sandbox).toEqual({ ...base, image: 'localhost/x:1', env: { K: 'v' } });
    expect(r.setup).toEqual(['make']);
    expect(r.from).toBe('localhost/x:1 (.devcontainer.json)');
  });

  it('says what to give when there is no image at all, or the build file is missing', async () => {
    const repo = repoWith({ 'README.md': 'x' });
    await expect(resolveImage(base, repo, () => {})).rejects.toThrow(
      /sandbox: no image — give sandbox.image .* or sandbox.build .*, or add .devcontainer\/devcontainer.json/,
    );
    await expect(resolveImage({ ...base, build: 'docker/Dockerfile' }, repo, () => {})).rejects.toThrow(
      /build: docker\/Dockerfile is not in the repo/,
    );
  });

  it('a build is tagged by what it builds from', () => {
    const a = buildTag('/src/My Repo', '/src/My Repo/Dockerfile', '/src/My Repo', {});
    expect(a).toMatch(/^localhost\/flotilla-my-repo:[0-9a-f]{12}$/);
    expect(buildTag('/src/My Repo', '/src/My Repo/Dockerfile', '/src/My Repo', {})).toBe(a);
    expect(buildTag('/src/My Repo', '/src/My Repo/Dockerfile', '/src/My Repo', { V: '2' })).not.toBe(a);
  });
});

describe('per-slot sandboxes', () => {
  it("a slot's fields go over the template's; false runs that slot on the host", () => {
    const t = parse(
      'sandbox: { image: img:1, memory: 1g, cpus: 2 }\nslots:\n  - { task: a }\n  - { task: b, sandbox: { memory: 256m } }\n  - { task: c, sandbox: false }\n',
    );
    expect(slotSandbox(t, 1)).toMatchObject({ image: 'img:1', memory: '1g', cpus: 2, network: 'meter-only' });
    expect(slotSandbox(t, 2)).toMatchObject({ image: 'img:1', memory: '256m', cpus: 2 });
    expect(slotSandbox(t, 3)).toBeNull();
    expect(sandboxLabels(t)).toEqual({
      sandbox: 'podman · 2 CPUs · 1g · meter-only',
      sandboxes: ['podman · 2 CPUs · 1g · meter-only', 'podman · 2 CPUs · 256m · meter-only', null],
    });
  });

  it('only some slots contained: those name their image', () => {
    const t = parse('slots:\n  - { task: a }\n  - { task: b, sandbox: { image: img:2, network: none } }\n');
    expect(slotSandbox(t, 1)).toBeNull();
    expect(slotSandbox(t, 2)).toEqual({ engine: 'podman', network: 'none', image: 'img:2' });
    expect(sandboxLabels(t)).toEqual({ sandboxes: [null, 'podman · none'] });
    expect(sandboxLabels(parse('tasks: [a]'))).toEqual({});
  });

  it('refuses what does not fit, by field and line', () => {
    expect(parseError('slots:\n  - { task: a, sandbox: { memory: 1g } }\n')).toMatch(
      /run.yaml:3: slots\[0\].sandbox: this slot runs in a container but names no image, and the template has no sandbox:/,
    );
    expect(parseError('sandbox:\n  image: a\n  build: Dockerfile\n')).toMatch(/run.yaml:4: sandbox.build: give either image .* or build/);
    expect(parseError('slots:\n  - { task: a, sandbox: { runtime: runc } }\n')).toMatch(
      /slots\[0\].sandbox.runtime: unknown field 'runtime' — expected one of image, cpus, memory, network/,
    );
    expect(parseError('slots:\n  - { task: a, sandbox: true }\n')).toMatch(
      /slots\[0\].sandbox: must be false \(this slot runs on the host\) or a mapping with image, cpus, memory, network \(got true\)/,
    );
  });
});
