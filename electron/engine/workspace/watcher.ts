// Watching a worktree for edits: one debounced callback per burst of file-system activity, nothing running while idle.
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';

// macOS (FSEvents) and Windows (ReadDirectoryChangesW) watch a whole tree natively and cheaply. Node 20 emulates
// `recursive` on Linux by walking the tree synchronously and opening one inotify watch per FILE (and per directory),
// node_modules included: a main-thread stall at start and tens of thousands of watches per worktree (ENOSPC once
// fs.inotify.max_user_watches runs out). On Linux we therefore watch directories ourselves, one watch each (inotify on a
// directory reports writes to the files in it), walking asynchronously and skipping .git and node_modules.
const NATIVE_RECURSIVE = process.platform === 'darwin' || process.platform === 'win32';
const SKIP_DIRS = new Set(['.git', 'node_modules']);

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

  constructor(
    dir: string,
    private readonly onChange: () => void,
    opts: { debounceMs?: number } = {},
  ) {
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
      this.watchDir('');
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
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

  private watchDir(rel: string): void {
    if (this.closed || this.watchers.has(rel)) return;
    const abs = rel ? join(this.root, rel) : this.root;
    let w: FSWatcher;
    try {
      w = watch(abs, { persistent: true }, (ev, name) => this.onDirEvent(rel, ev, name == null ? null : String(name)));
    } catch {
      if (rel === '') this.close();
      return;
    }
    w.on('error', () => (rel === '' ? this.close() : this.unwatch(rel)));
    this.watchers.set(rel, w);
    void this.walk(rel, abs);
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
    for (const e of entries) {
      if (this.closed) return;
      if (e.isDirectory() && !SKIP_DIRS.has(e.name)) this.watchDir(rel ? `${rel}/${e.name}` : e.name);
    }
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
      if (st.isDirectory() && !SKIP_DIRS.has(base)) this.watchDir(rel);
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
