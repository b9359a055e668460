// WebGL contexts are a scarce per-page resource (Chromium keeps ~16 and silently kills the oldest beyond that), so
// terminals lease one: only visible tiles hold a WebglAddon, at most MAX_WEBGL_CONTEXTS at once. A tile gives its
// lease back when hidden, detached or disposed, or when the GPU drops the context; it then renders with xterm's DOM
// renderer. A terminal whose addon failed to load (no WebGL, e.g. headless --disable-gpu) never tries again.
import { WebglAddon } from '@xterm/addon-webgl';
import type { Terminal } from '@xterm/xterm';

export const MAX_WEBGL_CONTEXTS = 12;

export type TerminalRenderer = 'auto' | 'webgl' | 'dom';
/** What draws WebGL in this window: a GPU, a software rasterizer, or nothing. */
export type GlKind = 'hardware' | 'software' | 'none';

/** Renderer strings of software GL (Chromium's SwiftShader, Mesa's llvmpipe/softpipe, Windows' basic renderer). */
const SOFTWARE_GL = /swiftshader|llvmpipe|softpipe|software|basic render|microsoft basic|subzero/i;

/** Classifies a WebGL renderer string (UNMASKED_RENDERER_WEBGL); null means no WebGL context could be made. */
export function glKindOf(renderer: string | null): GlKind {
  if (renderer === null) return 'none';
  return SOFTWARE_GL.test(renderer) ? 'software' : 'hardware';
}

/** Whether terminals should lease WebGL: always when asked for, never for `dom`, and for `auto` only on a GPU. */
export function wantsWebgl(pref: TerminalRenderer, gl: GlKind): boolean {
  if (pref === 'dom' || gl === 'none') return false;
  return pref === 'webgl' || gl === 'hardware';
}

let probed: { renderer: string | null } | null = null;

/** The window's WebGL renderer string, probed once on a throwaway canvas whose context is released at once. */
export function probeGlRenderer(): string | null {
  if (probed) return probed.renderer;
  let renderer: string | null = null;
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (gl) {
      const info = gl.getExtension('WEBGL_debug_renderer_info');
      renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
      gl.getExtension('WEBGL_lose_context')?.loseContext();
    }
  } catch {
    renderer = null;
  }
  probed = { renderer };
  return renderer;
}

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

  /** Contexts released and seen lost (freed) right away, for tests and diagnostics. */
  freed = 0;

  /**
   * Back to the DOM renderer; frees the lease. xterm 6's addon only removes its canvas on dispose — the context lives
   * on until the canvas is garbage-collected, and Chromium counts it against its ~16 until then (and then drops the
   * oldest context, maybe a visible tile's). So the context is lost on purpose here, after dispose, to free it now.
   */
  release(h: WebglHolder): void {
    const addon = h.webgl;
    h.webgl = null;
    this.holders.delete(h);
    if (!addon) return;
    const canvases = typeof document === 'undefined' ? [] : [...(h.term.element?.querySelectorAll('canvas') ?? [])];
    try {
      addon.dispose();
    } catch {
      /* the context may already be gone */
    }
    for (const c of canvases) {
      // The same context the addon made (webgl2); null for any 2D canvas.
      const gl = c.getContext('webgl2');
      if (!gl || gl.isContextLost()) continue;
      gl.getExtension('WEBGL_lose_context')?.loseContext();
      if (gl.isContextLost()) this.freed++;
    }
  }
}
