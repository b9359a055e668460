// The template library through the engine (in-process, real files): save → list → read → launch, and the refusals.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../electron/engine/engine.ts';
import { toApiError } from '../../electron/engine/errors.ts';
import { makeRepo, tempDir } from '../fixtures/repo.ts';

const engines: Engine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

async function startEngine(): Promise<Engine> {
  const e = await Engine.create({ dataDir: tempDir('flotilla-data-') });
  engines.push(e);
  return e;
}

/** POST /api/<cmd> with the engine's token: the same dispatch the dashboard uses. */
async function api(
  engine: Engine,
  cmd: string,
  args: unknown,
): Promise<{ ok: boolean; data?: any; error?: { code: string; message: string } }> {
  const r = await fetch(`${engine.origin}/api/${cmd}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${engine.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(args),
  });
  return (await r.json()) as never;
}

async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return toApiError(err);
  }
  throw new Error('expected a refusal');
}

const template = (repo: string, name = 'Nightly Echo') => `name: ${name}
repo: ${repo}
count: 2
agent:
  preset: shell
  command: node
  args: ["-e", "console.log('slot {{index}} from template')"]
provider: { preset: custom, baseUrl: "http://127.0.0.1:9/anthropic" }
`;

const SCHEMA_LINE = '# yaml-language-server: $schema=../template.schema.json\n';

describe('template library API', () => {
  it('saves to the repo and data folders, lists both, reads one back and launches from it', async () => {
    const engine = await startEngine();
    const repo = makeRepo();

    const saved = await api(engine, 'saveTemplate', { name: 'Nightly Echo', text: template(repo), where: 'repo', repo });
    expect(saved.ok, JSON.stringify(saved.error)).toBe(true);
    expect(saved.data.path).toBe(join(repo, '.flotilla', 'templates', 'nightly-echo.yaml'));
    expect(saved.data.source).toBe('repo');
    // Saved with the schema line first, the schema beside the folder (editors complete and check the file).
    expect(readFileSync(saved.data.path, 'utf8')).toBe(SCHEMA_LINE + template(repo));
    expect(JSON.parse(readFileSync(join(repo, '.flotilla', 'template.schema.json'), 'utf8')).title).toBe('Flotilla run template');

    const savedData = await engine.call('saveTemplate', { name: 'Data One', text: template(repo, 'Data One'), where: 'data' });
    expect(savedData.path).toBe(join(engine.dataDir, 'templates', 'data-one.yaml'));

    const listed = await api(engine, 'listTemplates', { repo });
    expect(listed.ok).toBe(true);
    expect(listed.data).toEqual([
      { name: 'Nightly Echo', path: saved.data.path, source: 'repo' },
      { name: 'Data One', path: savedData.path, source: 'data' },
    ]);

    const read = await api(engine, 'readTemplate', { path: saved.data.path });
    expect(read.ok).toBe(true);
    expect(read.data.text).toBe(SCHEMA_LINE + template(repo));
    expect((await engine.call('readTemplate', { path: savedData.path })).text).toBe(SCHEMA_LINE + template(repo, 'Data One'));

    const launched = await engine.call('launch', { templatePath: saved.data.path });
    expect(launched.run.name).toBe('Nightly Echo');
    expect(launched.run.templatePath).toBe(saved.data.path);
    expect(launched.sessions).toHaveLength(2);
    await engine.waitForRun(launched.run.id);
    expect(engine.registry.listSessions(launched.run.id).map((s) => s.status)).toEqual(['done', 'done']);
  });

  it('lists the engine cwd repo by default and an empty list when there are no folders', async () => {
    const engine = await startEngine();
    const repo = makeRepo();
    expect(await engine.call('listTemplates', { repo })).toEqual([]);
    // No repo: the engine's cwd (this project has no templates folder, so only the data folder counts).
    const saved = await engine.call('saveTemplate', { name: 'only data', text: template(repo), where: 'data' });
    const all = await engine.call('listTemplates', {});
    expect(all.filter((t) => t.source === 'data')).toEqual([{ name: 'Nightly Echo', path: saved.path, source: 'data' }]);
  });

  it('refuses invalid text with the file and line, and writes nothing', async () => {
    const engine = await startEngine();
    const repo = makeRepo();
    const bad = template(repo).replace('count: 2', 'count: lots');
    const res = await api(engine, 'saveTemplate', { name: 'broken', text: bad, where: 'repo', repo });
    expect(res.ok).toBe(false);
    expect(res.error!.code).toBe('template_invalid');
    const file = join(repo, '.flotilla', 'templates', 'broken.yaml');
    expect(res.error!.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3: count: `, 'm'));
    expect(existsSync(file)).toBe(false);

    const syntax = await errorOf(engine.call('saveTemplate', { name: 'syntax', text: 'name: x\ntasks: [a, b\n', where: 'data' }));
    expect(syntax.code).toBe('template_invalid');
    expect(syntax.message).toMatch(/syntax\.yaml:\d+: YAML syntax error/);

    const noName = await errorOf(engine.call('saveTemplate', { name: '!!!', text: template(repo), where: 'data' }));
    expect(noName.code).toBe('bad_request');
  });

  it('refuses to read files outside the template folders', async () => {
    const engine = await startEngine();
    const repo = makeRepo();
    const outside = join(tempDir('flotilla-outside-'), 'evil.yaml');
    writeFileSync(outside, template(repo));
    const res = await api(engine, 'readTemplate', { path: outside });
    expect(res.ok).toBe(false);
    expect(res.error!.code).toBe('forbidden');
    expect(res.error!.message).toMatch(/not a template in/);

    // ../ out of a template folder, and a non-YAML file inside one, are refused too.
    const dataTemplates = join(engine.dataDir, 'templates');
    mkdirSync(dataTemplates, { recursive: true });
    writeFileSync(join(engine.dataDir, 'settings.yaml'), 'x: 1\n');
    expect((await errorOf(engine.call('readTemplate', { path: join(dataTemplates, '..', 'settings.yaml') }))).code).toBe('forbidden');
    writeFileSync(join(dataTemplates, 'notes.txt'), 'hi');
    expect((await errorOf(engine.call('readTemplate', { path: join(dataTemplates, 'notes.txt') }))).code).toBe('forbidden');
    expect((await errorOf(engine.call('readTemplate', { path: join(dataTemplates, 'missing.yaml') }))).code).toBe('not_found');
  });

  it('refuses to overwrite unless overwrite: true', async () => {
    const engine = await startEngine();
    const repo = makeRepo();
    const first = await engine.call('saveTemplate', { name: 'Same', text: template(repo, 'first'), where: 'data' });
    const res = await api(engine, 'saveTemplate', { name: 'same', text: template(repo, 'second'), where: 'data' });
    expect(res.ok).toBe(false);
    expect(res.error!.code).toBe('exists');
    expect(res.error!.message).toContain(first.path);
    expect(readFileSync(first.path, 'utf8')).toBe(SCHEMA_LINE + template(repo, 'first'));

    const again = await engine.call('saveTemplate', { name: 'same', text: template(repo, 'second'), where: 'data', overwrite: true });
    expect(again.overwritten).toBe(true);
    expect(readFileSync(first.path, 'utf8')).toBe(SCHEMA_LINE + template(repo, 'second'));
  });
});
