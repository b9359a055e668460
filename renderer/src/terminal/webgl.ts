// WebGL contexts are a scarce per-page resource (Chromium keeps ~16 and silently kills the oldest beyond that), so
// terminals lease one: only visible tiles hold a WebglAddon, at most MAX_WEBGL_CONTEXTS at once. A tile gives its
// lease back when hidden, detached or disposed, or when the GPU drops the context; it then renders with xterm's DOM
// renderer. A terminal whose addon failed to load (no WebGL, e.g. headless --disable-gpu) never tries again.
import { WebglAddon } from '@xterm/addon-webgl';
import type { Terminal } from '@xterm/xterm';

export const MAX_WEBGL_CONTEXTS = 12;

export interface WebglHolder {
  term: Terminal;
  /** The leased addon, or null while on the DOM renderer. */
  webgl: WebglAddon | null;
  /** Loading the addon threw once: stay on the DOM renderer for good. */
  webglFailed: boolean;
}

export class WebglLease {
  private readonly holders = new Set<WebglHolder>();

  constructor(
    private readonly max = MAX_WEBGL_CONTEXTS,
    private readonly create: () => WebglAddon = () => new WebglAddon(),
  ) {}

  get active(): number {
    return this.holders.size;
  }

  get full(): boolean {
    return this.holders.size >= this.max;
  }

  /** Gives `h` a WebGL renderer if a lease is free and it never failed; true when it now holds one. */
  acquire(h: WebglHolder, onLost: () => void): boolean {
    if (h.webgl) return true;
    if (h.webglFailed || this.holders.size >= this.max) return false;
    let addon: WebglAddon | null = null;
    try {
      addon = this.create();
      const a = addon;
      addon.onContextLoss(() => {
        if (h.webgl !== a) return;
        this.release(h);
        onLost();
      });
      h.term.loadAddon(addon);
    } catch {
      h.webglFailed = true;
      try {
        addon?.dispose();
      } catch {
        /* half-activated: nothing more to free */
      }
      return false;
    }
    h.webgl = addon;
    this.holders.add(h);
    return true;
  }

  /** Back to the DOM renderer; frees the lease. */
  release(h: WebglHolder): void {
    const addon = h.webgl;
    h.webgl = null;
    this.holders.delete(h);
    if (!addon) return;
    try {
      addon.dispose();
    } catch {
      /* the context may already be gone */
    }
  }
}
