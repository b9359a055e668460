// Template files on disk, and finding agent binaries.
import fs from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { TemplateError, parseTemplate, type Template, type TemplateOptions } from './schema.ts';

export const TEMPLATE_DIR = path.join('.flotilla', 'templates');

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

export async function loadTemplateFile(file: string, opts: TemplateOptions = {}): Promise<Template> {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const abs = path.resolve(cwd, file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    const code = errCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const repo = path.resolve(cwd, opts.repo ?? '.');
      throw new TemplateError(`Template not found: ${abs} — check the path, or list templates in ${path.join(repo, TEMPLATE_DIR)}/`, {
        file: abs,
      });
    }
    if (code === 'EISDIR') {
      throw new TemplateError(`${abs} is a directory — give the path of a .yaml template file inside it`, { file: abs });
    }
    throw new TemplateError(`Cannot read template ${abs}: ${(e as Error).message}`, { file: abs });
  }
  return parseTemplate(text, abs, { ...opts, cwd });
}

/** *.yaml and *.yml files in each directory, named by their `name:` (else the file name); missing directories skipped. */
export async function listTemplates(dirs: string[]): Promise<{ name: string; path: string }[]> {
  const out: { name: string; path: string }[] = [];
  for (const dir of dirs) {
    let entries: fs.Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      const code = errCode(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw e;
    }
    const found: { name: string; path: string }[] = [];
    for (const entry of entries) {
      if (!/\.ya?ml$/i.test(entry.name) || !(entry.isFile() || entry.isSymbolicLink())) continue;
      const file = path.resolve(dir, entry.name);
      found.push({ name: await templateName(file), path: file });
    }
    found.sort((a, b) => a.name.localeCompare(b.name) || a.path.localeCompare(b.path));
    out.push(...found);
  }
  return out;
}

/** A broken template is still listed (under its file name) so the user can open and fix it. */
async function templateName(file: string): Promise<string> {
  const fallback = path.basename(file).replace(/\.ya?ml$/i, '');
  try {
    const doc: unknown = parseYaml(await readFile(file, 'utf8'));
    const name = (doc as { name?: unknown } | null)?.name;
    return typeof name === 'string' && name.trim() ? name.trim() : fallback;
  } catch {
    return fallback;
  }
}

function isExecutableFile(p: string): boolean {
  try {
    if (!fs.statSync(p).isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of `command` if it is an executable path itself or an executable on PATH; else null. */
export function findOnPath(command: string, envPath: string | undefined = process.env.PATH): string | null {
  if (!command) return null;
  const exts = process.platform === 'win32' ? ['', ...(process.env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';')] : [''];
  if (command.includes('/') || (process.platform === 'win32' && command.includes('\\'))) {
    const abs = path.resolve(command);
    for (const ext of exts) if (isExecutableFile(abs + ext)) return abs + ext;
    return null;
  }
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    // An empty PATH entry means the current directory: never look there for an agent binary.
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.resolve(dir, command + ext);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return null;
}
