// Disk full is a state, not a crash. The watch looks at the free space under the data dir now and then (and at once
// when a store write is refused): below MIN_FREE it declares the disk full, the meter holds new model requests (nothing
// goes upstream unmetered), and writes the disk refused wait in the store's memory (store/pending.ts). Once RESUME_FREE
// is free again and every kept write went to disk, in order, the held requests go on by themselves.
import { EventEmitter } from 'node:events';
import { statfsSync } from 'node:fs';
import type { DiskState } from '../../shared/contract.ts';
import { MB, mb } from '../store/disk.ts';
import type { Store, StoreFaults } from '../store/index.ts';

/** Below this much free space under the data dir, spend is held (a ledger write needs a few KB; SQLite's WAL more). */
export const MIN_FREE_BYTES = 8 * MB;
/** Spend resumes once this much is free (more than MIN_FREE_BYTES, so it does not flap at the edge). */
export const RESUME_FREE_BYTES = 16 * MB;
/** How often the free space is looked at while all is well, and while the disk is full. */
const POLL_MS = 10_000;
const FULL_POLL_MS = 1_000;

export interface DiskWatchOptions {
  dataDir: string;
  store: Store;
  log: (line: string) => void;
  minFreeBytes?: number;
  resumeFreeBytes?: number;
  pollMs?: number;
  fullPollMs?: number;
  /** Free bytes for unprivileged users under `path` (null: unknown). Default: statfs. */
  freeBytes?: (path: string) => number | null;
}

function statfsFree(path: string): number | null {
  try {
    const s = statfsSync(path);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

export class DiskWatch extends EventEmitter<{ changed: [DiskState] }> implements StoreFaults {
  private full = false;
  private since: string | null = null;
  private free: number | null = null;
  private lastError: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private lastSent = '';
  private readonly minFree: number;
  private readonly resumeFree: number;
  private readonly freeBytes: (path: string) => number | null;
  /** Requests held meanwhile (the meter's count, asked when the state is read). */
  heldRequests: () => number = () => 0;

  constructor(private readonly o: DiskWatchOptions) {
    super();
    this.minFree = o.minFreeBytes ?? MIN_FREE_BYTES;
    this.resumeFree = Math.max(o.resumeFreeBytes ?? RESUME_FREE_BYTES, this.minFree);
    this.freeBytes = o.freeBytes ?? statfsFree;
    o.store.setFaults(this);
  }

  /** Looks now, then every few seconds. */
  start(): void {
    this.check();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.o.store.setFaults(null);
  }

  get isFull(): boolean {
    return this.full;
  }

  state(): DiskState {
    const p = this.o.store.pendingWrites();
    const needed = this.full && this.free !== null ? Math.max(0, this.resumeFree - this.free) : 0;
    const message = this.full
      ? `disk full at ${this.o.dataDir} — ${needed > 0 ? `${mb(needed)} needed` : `a write failed (${this.lastError ?? 'no space'})`}; spend is held until space returns`
      : null;
    return {
      full: this.full,
      path: this.o.dataDir,
      freeBytes: this.free,
      neededBytes: needed,
      since: this.since,
      pendingWrites: p.writes,
      ledgerWrites: p.ledgerWrites,
      droppedWrites: p.dropped,
      heldRequests: this.heldRequests(),
      message,
    };
  }

  // StoreFaults: called from inside a store write, so only state changes here (no store calls).
  diskFull(err: Error): void {
    this.lastError = err.message;
    if (!this.full) {
      this.enter();
      this.arm(this.o.fullPollMs ?? FULL_POLL_MS);
    }
  }

  dropped(what: string, err: Error): void {
    this.o.log(`a kept ${what} write could not be written when space returned and was dropped: ${err.message}`);
  }

  /** One look: free space, and while full, whether the kept writes can go now. */
  check(): void {
    if (this.closed) return;
    this.free = this.freeBytes(this.o.dataDir);
    if (!this.full) {
      if (this.free !== null && this.free < this.minFree) {
        this.lastError = null;
        this.enter();
      }
    } else if (this.free === null || this.free >= this.resumeFree) {
      const err = this.o.store.flushPending();
      if (err) this.lastError = err.message;
      else this.leave();
    }
    this.arm(this.full ? (this.o.fullPollMs ?? FULL_POLL_MS) : (this.o.pollMs ?? POLL_MS));
    if (this.full) this.changed();
  }

  /** Tells the listeners when what they would show changed (while full the figures move: free space, kept writes). */
  private changed(): void {
    const st = this.state();
    const text = JSON.stringify({ ...st, since: null });
    if (text === this.lastSent) return;
    this.lastSent = text;
    this.emit('changed', st);
  }

  private enter(): void {
    this.full = true;
    this.since = new Date().toISOString();
    this.o.log(this.state().message!);
    this.changed();
  }

  private leave(): void {
    const was = this.since;
    this.full = false;
    this.since = null;
    this.lastError = null;
    this.o.log(
      `the disk at ${this.o.dataDir} has room again (${this.free === null ? 'free space unknown' : `${mb(this.free)} free`}; full since ${was}): kept writes written, spend resumes`,
    );
    this.changed();
  }

  private arm(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.check();
    }, ms);
    this.timer.unref();
  }
}
