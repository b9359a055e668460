// Output to one WebSocket, paced per session. A session the client marks *quiet* (a tile in the background) has its
// small outputs held for up to QUIET_MS and sent together with every other quiet session's in one batch frame: sixteen
// idle tiles whose agents redraw a spinner ten times a second cost the page 4 messages a second instead of 160 (each
// message costs Chromium's network, browser and renderer processes ~0.5 ms of CPU here). A bulk of output (≥ BULK
// bytes held) goes at once, so a flood runs at the client's pace; flow control is unaffected (held bytes are counted as
// un-acked already). Live (focused) sessions are sent as they come.
import { encodeBatchFrame, encodeOutputFrame } from '../../shared/contract.ts';

export const QUIET_MS = 250;
export const BULK = 32 * 1024;

interface Held {
  chunks: Uint8Array[];
  bytes: number;
}

export class OutputPacer {
  private readonly quiet = new Set<string>();
  private readonly held = new Map<string, Held>();
  private timer: unknown = null;

  constructor(
    private readonly send: (frame: Uint8Array) => void,
    private readonly timers: { set(cb: () => void, ms: number): unknown; clear(t: unknown): void } = {
      set: (cb, ms) => setTimeout(cb, ms),
      clear: (t) => clearTimeout(t as NodeJS.Timeout),
    },
  ) {}

  output(sessionId: string, data: Uint8Array): void {
    if (!this.quiet.has(sessionId)) {
      this.flushSession(sessionId);
      return this.send(encodeOutputFrame(sessionId, data));
    }
    let h = this.held.get(sessionId);
    if (!h) this.held.set(sessionId, (h = { chunks: [], bytes: 0 }));
    h.chunks.push(data);
    h.bytes += data.byteLength;
    if (h.bytes >= BULK) this.flushSession(sessionId);
    else if (this.timer === null) this.timer = this.timers.set(() => this.flushAll(), QUIET_MS);
  }

  /** Quiet: small outputs wait for the next batch. Not quiet: what waits goes now, and the rest as it comes. */
  setQuiet(sessionId: string, quiet: boolean): void {
    if (quiet) this.quiet.add(sessionId);
    else {
      this.quiet.delete(sessionId);
      this.flushSession(sessionId);
    }
  }

  /** The session's subscription ended or began anew: what was held for it belongs to the old one (not sent). */
  forget(sessionId: string): void {
    this.held.delete(sessionId);
    this.quiet.delete(sessionId);
  }

  close(): void {
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
    this.held.clear();
  }

  private flushSession(sessionId: string): void {
    const h = this.held.get(sessionId);
    if (!h) return;
    this.held.delete(sessionId);
    this.send(encodeOutputFrame(sessionId, join(h)));
  }

  private flushAll(): void {
    this.timer = null;
    if (this.held.size === 0) return;
    const parts = [...this.held].map(([sessionId, h]) => ({ sessionId, data: join(h) }));
    this.held.clear();
    this.send(parts.length === 1 ? encodeOutputFrame(parts[0]!.sessionId, parts[0]!.data) : encodeBatchFrame(parts));
  }
}

/** One array for what was held (as OutputBatcher joins its chunks: a lone chunk as is). */
function join(h: Held): Uint8Array {
  return h.chunks.length === 1 ? h.chunks[0]! : Buffer.concat(h.chunks, h.bytes);
}
