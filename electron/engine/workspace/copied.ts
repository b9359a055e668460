// Files Flotilla copied into a worktree (.worktreeinclude) are Flotilla's, not the agent's: git ignores them there (only
// ignored files are copied), so they are in no change list, commit, merge, patch or push. What the agent then does to
// them is its work, and the review must say so — git cannot. So each copy's content hash is kept in the worktree's own
// git dir (`<gitdir>/flotilla-copied.json`, private to that worktree, never in the tree) and compared when changes are
// listed. Names that look like secrets are flagged wherever they show up among a session's changes.
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import type { ChangedFile } from '../../shared/contract.ts';

const MANIFEST = 'flotilla-copied.json';
/** Files of copied directories recorded at most (a copied node_modules would be thousands; its edits are not secrets). */
const MAX_FILES = 500;

/** `.env*`, `*.pem`, `id_*` (SSH keys), `*.key`: names a reviewer should look at twice before a commit or a push. */
export function looksSecret(path: string): boolean {
  const name = basename(path);
  return /^\.env($|\.)/.test(name) || /\.(pem|key)$/i.test(name) || /^id_[a-z0-9]+(\.pub)?$/i.test(name);
}

/** The worktree's own git dir: `.git` is a file naming it in a linked worktree, the directory itself otherwise. */
function gitDirOf(worktree: string): string | null {
  const dotGit = join(worktree, '.git');
  try {
    if (lstatSync(dotGit).isDirectory()) return dotGit;
    const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'));
    if (!m) return null;
    const dir = m[1]!.trim();
    return isAbsolute(dir) ? dir : resolve(worktree, dir);
  } catch {
    return null;
  }
}

function hashOf(file: string): string | null {
  try {
    const st = lstatSync(file);
    if (st.isSymbolicLink()) return `link:${readFileSync(file).length}`;
    if (!st.isFile()) return null;
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return null;
  }
}

function filesUnder(root: string, rel: string, out: string[]): void {
  if (out.length >= MAX_FILES) return;
  const abs = join(root, rel);
  let st;
  try {
    st = lstatSync(abs);
  } catch {
    return;
  }
  if (!st.isDirectory()) return void out.push(rel);
  for (const name of readdirSync(abs).sort()) filesUnder(root, join(rel, name), out);
}

/** Records what was copied into `worktree` (paths as `.worktreeinclude` matched them; directories end in `/`). */
export function recordCopied(worktree: string, paths: readonly string[]): void {
  const dir = gitDirOf(worktree);
  if (!dir || paths.length === 0) return;
  const files: string[] = [];
  for (const p of paths) filesUnder(worktree, p.replace(/\/$/, ''), files);
  const manifest: Record<string, string | null> = {};
  for (const f of files) manifest[f.split('\\').join('/')] = hashOf(join(worktree, f));
  writeFileSync(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`, { mode: 0o600 });
}

/** Copied files the agent changed or removed since the copy (git ignores them: only this record knows). */
export function changedCopies(worktree: string): ChangedFile[] {
  const dir = gitDirOf(worktree);
  if (!dir) return [];
  let manifest: Record<string, string | null>;
  try {
    manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Record<string, string | null>;
  } catch {
    return [];
  }
  const out: ChangedFile[] = [];
  for (const [path, was] of Object.entries(manifest)) {
    const now = hashOf(join(worktree, path));
    if (now === was) continue;
    out.push({
      path,
      oldPath: null,
      status: now === null ? 'deleted' : 'modified',
      added: null,
      removed: null,
      binary: false,
      copied: true,
    });
  }
  return out;
}

/** Flags secret-looking names among a session's changes (mutates and returns the list). */
export function flagSecrets(files: ChangedFile[]): ChangedFile[] {
  for (const f of files) if (looksSecret(f.path)) f.secret = true;
  return files;
}
