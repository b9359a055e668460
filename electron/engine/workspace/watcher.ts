// Watching a worktree for edits: one debounced callback per burst of file-system activity, nothing running while idle.
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { runGit } from './git.ts';

// macOS (FSEvents) and Windows (ReadDirectoryChangesW) watch a whole tree natively and cheaply. Node 20 emulates
// `recursive` on Linux by walking the tree synchronously and opening one inotify watch per FILE (and per directory),
// node_modules included: a main-thread stall at start and tens of thousands of watches per worktree (ENOSPC once
// fs.inotify.max_user_watches runs out). On Linux we therefore watch directories ourselves, one watch each (inotify on a
// directory reports writes to the files in it), walking asynchronously and skipping .git, node_modules and every
// directory git ignores (agents' dist/, target/, .venv/…: git status does not see them, so their churn is no edit) —
// asked of git itself, so nested .gitignore files, info/exclude and the user's global excludes all count.
const NATIVE_RECURSIVE = process.platform === 'darwin' || process.platform === 'win32';
const SKIP_DIRS = new Set(['.git', 'node_modules']);
/** When watching fails (inotify watches or descriptors used up), rescan this often instead. */
export const FALLBACK_RESCAN_MS = 5000;

export interface WatchFailure {
  code: 'ENOSPC' | 'EMFILE';
  message: string;
}

/** Paths inside a `.git` (a file in a worktree, a directory in nested repositories) are git's business, not an edit. */
function isGitPath(rel: string): boolean {
  return rel.split('/').some((seg) => seg === '.git');
}

export class WorktreeWatcher {
  private readonly root: string;
  private readonly debounceMs: number;
  /** A tree that never goes quiet (an agent writing continuously) still gets a callback this often. */
  private readonly maxWaitMs: number;
  private readonly watchers = new Map<string, FSWatcher>(); // '' = the root; else a '/'-separated relative dir
  private timer: NodeJS.Timeout | null = null;
  private burstStart = 0;
  private closed = false;
  /** Directories git ignores (relative, '/'-separated): not watched. */
  private readonly ignored = new Set<string>();
  private failedWith: WatchFailure | null = null;
  private poll: NodeJS.Timeout | null = null;
  private readonly onFailure: ((f: WatchFailure) => void) | undefined;

  constructor(
    dir: string,
    private readonly onChange: () => void,
    opts: { debounceMs?: number; onFailure?: (f: WatchFailure) => void } = {},
  ) {
    this.onFailure = opts.onFailure;
    this.root = resolve(dir);
    this.debounceMs = Math.max(0, opts.debounceMs ?? 300);
    this.maxWaitMs = Math.max(this.debounceMs * 5, 1000);
    if (NATIVE_RECURSIVE) {
      try {
        const w = watch(this.root, { recursive: true }, (_ev, name) => {
          const rel = name ? String(name).split(sep).join('/') : '';
          if (!rel || !isGitPath(rel)) this.schedule();
        });
        w.on('error', () => this.close());
        this.watchers.set('', w);
      } catch {
        this.close();
      }
    } else {
      // The ignored directories first (one git call), then the walk; a tree that is not a git checkout skips only the
      // built-in ones.
      this.ready = ignoredDirs(this.root).then((dirs) => {
        for (const d of dirs) this.ignored.add(d);
        return this.watchDir('');
      });
    }
  }

  /** Resolves once the first walk has set up its watches (tests and benches wait for it instead of a timer). */
  ready: Promise<void> = Promise.resolve();

  /** Whether a directory (relative, '/'-separated; '' the root) is watched now — diagnostics and tests. */
  isWatching(rel: string): boolean {
    return this.watchers.has(rel);
  }

  /** Whether a directory is known to be ignored by git (so not watched) — diagnostics and tests. */
  isIgnored(rel: string): boolean {
    return this.ignored.has(rel);
  }

  /** Why watching stopped working, if it did (the watcher then rescans every FALLBACK_RESCAN_MS). */
  get failure(): WatchFailure | null {
    return this.failedWith;
  }

  private skip(rel: string, name: string): boolean {
    return SKIP_DIRS.has(name) || this.ignored.has(rel);
  }

  /** inotify watches or descriptors ran out: say so once, and fall back to periodic rescans. */
  private failed(err: NodeJS.ErrnoException): boolean {
    if (err.code !== 'ENOSPC' && err.code !== 'EMFILE') return false;
    if (this.failedWith) return true;
    this.failedWith = {
      code: err.code,
      message:
        `watching ${this.root} for edits failed (${err.code}: ${err.code === 'ENOSPC' ? 'no inotify watches left' : 'too many open files'}) — ` +
        `raise the limit (sudo sysctl fs.inotify.max_user_watches=524288, or ulimit -n); rescanning every ${FALLBACK_RESCAN_MS / 1000} s meanwhile`,
    };
    this.poll = setInterval(() => this.flush(), FALLBACK_RESCAN_MS);
    this.poll.unref?.();
    try {
      this.onFailure?.(this.failedWith);
    } catch {
      // a throwing listener must not kill the watcher
    }
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    for (const w of this.watchers.values()) {
      try {
        w.close();
      } catch {
        // already gone
      }
    }
    this.watchers.clear();
  }

  /** Number of directories watched (0 once closed); for tests and diagnostics. */
  get watchedDirs(): number {
    return this.watchers.size;
  }

  private watchDir(rel: string): Promise<void> {
    if (this.closed || this.watchers.has(rel)) return Promise.resolve();
    const abs = rel ? join(this.root, rel) : this.root;
    let w: FSWatcher;
    try {
      w = watch(abs, { persistent: true }, (ev, name) => this.onDirEvent(rel, ev, name == null ? null : String(name)));
    } catch (err) {
      if (this.failed(err as NodeJS.ErrnoException)) return Promise.resolve();
      if (rel === '') this.close();
      return Promise.resolve();
    }
    w.on('error', (err) => {
      if (this.failed(err as NodeJS.ErrnoException)) return;
      if (rel === '') this.close();
      else this.unwatch(rel);
    });
    this.watchers.set(rel, w);
    return this.walk(rel, abs);
  }

  private async walk(rel: string, abs: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch {
      if (rel === '') this.close();
      else this.unwatch(rel);
      return;
    }
    const children: Promise<void>[] = [];
    for (const e of entries) {
      if (this.closed) return;
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && !this.skip(child, e.name)) children.push(this.watchDir(child));
    }
    await Promise.all(children);
  }

  private onDirEvent(rel: string, ev: string, name: string | null): void {
    if (this.closed) return;
    if (name === null) return this.schedule();
    const child = rel ? `${rel}/${name}` : name;
    if (isGitPath(child)) return;
    // 'rename' = an entry appeared or disappeared: start watching a new directory, stop watching a removed one.
    if (ev === 'rename') void this.recheck(child);
    this.schedule();
  }

  private async recheck(rel: string): Promise<void> {
    const base = rel.slice(rel.lastIndexOf('/') + 1);
    try {
      const st = await lstat(join(this.root, rel));
      if (!st.isDirectory() || this.skip(rel, base) || this.watchers.has(rel)) return;
      // A directory that appeared after the start (a build's dist/): watched only if git does not ignore it.
      if (await isIgnored(this.root, rel)) this.ignored.add(rel);
      else await this.watchDir(rel);
    } catch {
      this.unwatch(rel);
    }
  }

  private unwatch(rel: string): void {
    for (const [k, w] of this.watchers) {
      if (k !== '' && (k === rel || k.startsWith(`${rel}/`))) {
        try {
          w.close();
        } catch {
          // already gone
        }
        this.watchers.delete(k);
      }
    }
  }

  private schedule(): void {
    if (this.closed) return;
    const now = Date.now();
    if (this.timer) {
      if (now - this.burstStart >= this.maxWaitMs) return; // let the pending callback fire
      clearTimeout(this.timer);
    } else {
      this.burstStart = now;
    }
    this.timer = setTimeout(() => this.flush(), this.debounceMs);
  }

  private flush(): void {
    this.timer = null;
    if (this.closed) return;
    if (!existsSync(this.root)) return this.close(); // the worktree was removed: nothing left to report
    try {
      this.onChange();
    } catch {
      // a throwing listener must not kill the watcher
    }
  }
}

/** The directories git ignores under a checkout, relative and without the trailing '/' ([] outside a git checkout). */
async function ignoredDirs(root: string): Promise<string[]> {
  try {
    const r = await runGit(root, ['ls-files', '--others', '--ignored', '--exclude-standard', '--directory', '-z']);
    if (r.code !== 0) return [];
    return r.stdout
      .split('\0')
      .filter((p) => p.endsWith('/'))
      .map((p) => p.slice(0, -1));
  } catch {
    return [];
  }
}

async function isIgnored(root: string, rel: string): Promise<boolean> {
  try {
    return (await runGit(root, ['check-ignore', '-q', '--', `${rel}/`], { okExits: [0, 1] })).code === 0;
  } catch {
    return false;
  }
}
