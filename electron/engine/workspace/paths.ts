// Comparing paths the way git records them: real paths (/tmp vs /private/tmp on macOS), forward-slash relative paths.
import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** realpath when it exists, else the resolved path. */
export function canonical(p: string): string {
  const abs = resolve(p);
  try {
    return realpathSync.native(abs);
  } catch {
    return abs;
  }
}

/** realpath of the nearest existing ancestor + the rest: a file a tool is about to create has no realpath yet. */
export function canonicalMaybeMissing(p: string): string {
  const rest: string[] = [];
  let cur = resolve(p);
  for (;;) {
    try {
      return join(realpathSync.native(cur), ...rest.reverse());
    } catch {
      const up = dirname(cur);
      if (up === cur) return resolve(p);
      rest.push(basename(cur));
      cur = up;
    }
  }
}

export function samePath(a: string, b: string): boolean {
  return canonical(a) === canonical(b);
}

export function isInside(child: string, parent: string): boolean {
  const rel = relative(canonical(parent), canonical(child));
  return rel === '' || (!!rel && !rel.startsWith('..') && !isAbsolute(rel));
}

/** `abs` relative to `base` with forward slashes, or null when it is not strictly inside. */
export function insideRel(base: string, abs: string): string | null {
  const rel = relative(base, abs);
  if (!rel || isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) return null;
  return rel.split(sep).join('/');
}

/**
 * A path an agent named (absolute, or relative to its worktree) as a path inside the worktree — through its canonical
 * path too (symlinked temp dirs), even for a file not written yet; null outside it or inside .git.
 */
export function worktreeRelPath(worktree: string, canon: string, absPath: string): string | null {
  const abs = isAbsolute(absPath) ? resolve(absPath) : resolve(worktree, absPath);
  const rel = insideRel(resolve(worktree), abs) ?? insideRel(canon, abs) ?? insideRel(canon, canonicalMaybeMissing(abs));
  if (rel === null || rel.split('/').includes('.git')) return null;
  return rel;
}
