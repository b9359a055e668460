// The template library the launch dialog offers: `<repo>/.flotilla/templates/` and `<dataDir>/templates/`. Reading is
// confined to those two folders; saving validates the text first and never overwrites unless asked to.
import { access, mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SavedTemplate, TemplateEntry, TemplateSource } from '../../shared/contract.ts';
import { EngineError } from '../errors.ts';
import { TEMPLATE_DIR, listTemplates } from './files.ts';
import { parseTemplate, type TemplateOptions } from './schema.ts';
import { ensureSchemaBeside, withSchemaLine } from './json-schema.ts';

export interface LibraryDirs {
  repo: string;
  data: string;
}

/** The two template folders for `repo` (default: cwd), absolute. */
export function libraryDirs(dataDir: string, repo: string | undefined, cwd = process.cwd()): LibraryDirs {
  return {
    repo: path.join(path.resolve(cwd, repo ?? '.'), TEMPLATE_DIR),
    data: path.join(path.resolve(dataDir), 'templates'),
  };
}

export async function listLibrary(dirs: LibraryDirs): Promise<TemplateEntry[]> {
  const out: TemplateEntry[] = [];
  for (const source of ['repo', 'data'] as const) {
    for (const t of await listTemplates([dirs[source]])) out.push({ ...t, source });
  }
  return out;
}

async function real(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    return path.resolve(p);
  }
}

/** Reads a template file, refusing anything that is not a .yaml/.yml file directly inside one of `allowed`. */
export async function readLibraryTemplate(file: string, allowed: string[]): Promise<{ text: string }> {
  const abs = path.resolve(file);
  const refuse = () =>
    new EngineError(
      'forbidden',
      `${abs} is not a template in ${allowed.join(' or ')} — readTemplate only reads .yaml files from the template folders`,
    );
  if (!/\.ya?ml$/i.test(abs)) throw refuse();
  const target = await real(abs);
  const dirs = await Promise.all(allowed.map(real));
  if (
    !dirs.includes(path.dirname(target)) ||
    !allowed
      .map((d) => path.resolve(d))
      .concat(dirs)
      .includes(path.dirname(abs))
  )
    throw refuse();
  try {
    return { text: await readFile(target, 'utf8') };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new EngineError('not_found', `template ${abs} does not exist — list the templates again`);
    throw new EngineError('read_failed', `cannot read template ${abs}: ${(e as Error).message}`);
  }
}

/** "My Nightly Run!" → "my-nightly-run". */
export function kebab(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
}

export async function saveLibraryTemplate(
  args: { name: string; text: string; dir: string; source: TemplateSource; overwrite?: boolean },
  opts: TemplateOptions,
): Promise<SavedTemplate> {
  const slug = kebab(args.name);
  if (!slug) throw new EngineError('bad_request', `template name '${args.name}' has no letters or digits — name it e.g. nightly-fixes`);
  const file = path.join(args.dir, `${slug}.yaml`);
  // Errors read `<file>:<line>: <field>: …`, as at launch.
  parseTemplate(args.text, file, opts);
  await mkdir(args.dir, { recursive: true });
  let overwritten = false;
  if (args.overwrite)
    overwritten = await access(file).then(
      () => true,
      () => false,
    );
  // Editors complete and check the template from its first line (the schema is written beside the folder).
  const text = withSchemaLine(args.text, await ensureSchemaBeside(args.dir));
  try {
    await writeFile(file, text, { flag: args.overwrite ? 'w' : 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new EngineError('exists', `${file} already exists — choose another name, or save with overwrite`);
    throw new EngineError('write_failed', `cannot write ${file}: ${(e as Error).message}`);
  }
  return { name: args.name, path: file, source: args.source, overwritten };
}

/**
 * The library an engine offers clients: listing a repo's folder lets readTemplate read from it afterwards (the dialog
 * lists, then reads what the user picked). `knownPrices` checks a template's prices when it is saved.
 */
export class TemplateLibrary {
  /** Repos whose template folder was listed or saved to: readTemplate may read from them. */
  private readonly repos = new Set<string>();

  constructor(
    private readonly dataDir: string,
    private readonly opts: () => TemplateOptions,
  ) {}

  list(repo?: string): Promise<TemplateEntry[]> {
    const dirs = libraryDirs(this.dataDir, repo);
    this.repos.add(dirs.repo);
    return listLibrary(dirs);
  }

  read(file: string, repo?: string): Promise<{ text: string }> {
    const dirs = libraryDirs(this.dataDir, repo);
    const allowed = new Set([dirs.data, dirs.repo, libraryDirs(this.dataDir, undefined).repo, ...this.repos]);
    return readLibraryTemplate(file, [...allowed]);
  }

  async save(args: { name: string; text: string; where: TemplateSource; repo?: string; overwrite?: boolean }): Promise<SavedTemplate> {
    const dirs = libraryDirs(this.dataDir, args.repo);
    const saved = await saveLibraryTemplate(
      { name: args.name, text: args.text, dir: dirs[args.where], source: args.where, overwrite: args.overwrite },
      { cwd: process.cwd(), ...this.opts() },
    );
    if (args.where === 'repo') this.repos.add(dirs.repo);
    return saved;
  }
}
