// The renderer's WebGL lease: at most N contexts, a failed load never retried, a lost context handed back.
import { describe, expect, it } from 'vitest';
import type { WebglAddon } from '@xterm/addon-webgl';
import type { Terminal } from '@xterm/xterm';
import { WebglLease, glKindOf, wantsWebgl, type WebglHolder } from '../../renderer/src/features/terminal/webgl.ts';

class FakeAddon {
  disposed = false;
  lose: (() => void) | null = null;
  onContextLoss(cb: () => void) {
    this.lose = cb;
    return { dispose() {} };
  }
  dispose() {
    this.disposed = true;
  }
}

function holder(opts: { failLoad?: boolean } = {}): WebglHolder & { loads: number } {
  const h = {
    loads: 0,
    webgl: null,
    webglFailed: false,
    term: {
      loadAddon() {
        h.loads++;
        if (opts.failLoad) throw new Error('WebGL2 not supported null');
      },
    } as unknown as Terminal,
  };
  return h;
}

describe('WebglLease', () => {
  const made: FakeAddon[] = [];
  const lease = (max: number) =>
    new WebglLease(max, () => {
      const a = new FakeAddon();
      made.push(a);
      return a as unknown as WebglAddon;
    });

  it('hands out at most max contexts and frees one on release', () => {
    const l = lease(12);
    const hs = Array.from({ length: 14 }, () => holder());
    expect(hs.map((h) => l.acquire(h, () => {}))).toEqual([...Array(12).fill(true), false, false]);
    expect(l.active).toBe(12);
    expect(l.full).toBe(true);
    l.release(hs[0]!);
    expect(hs[0]!.webgl).toBeNull();
    expect((made[0] as FakeAddon).disposed).toBe(true);
    expect(l.acquire(hs[12]!, () => {})).toBe(true);
    expect(l.active).toBe(12);
    // Acquiring twice keeps the same addon.
    const before = hs[1]!.webgl;
    expect(l.acquire(hs[1]!, () => {})).toBe(true);
    expect(hs[1]!.webgl).toBe(before);
  });

  it('stays on the DOM renderer for good when loading throws, and takes no lease', () => {
    const l = lease(12);
    const h = holder({ failLoad: true });
    expect(l.acquire(h, () => {})).toBe(false);
    expect(h.webglFailed).toBe(true);
    expect(h.webgl).toBeNull();
    expect(l.active).toBe(0);
    expect(l.acquire(h, () => {})).toBe(false);
    expect(h.loads).toBe(1);
  });

  it('on context loss disposes the addon, frees the lease and tells the owner', () => {
    const l = lease(1);
    const h = holder();
    let lost = 0;
    expect(l.acquire(h, () => lost++)).toBe(true);
    const addon = h.webgl as unknown as FakeAddon;
    addon.lose!();
    expect(lost).toBe(1);
    expect(addon.disposed).toBe(true);
    expect(h.webgl).toBeNull();
    expect(l.active).toBe(0);
    expect(l.acquire(holder(), () => {})).toBe(true);
  });
});

describe('which renderer terminals use', () => {
  it('classifies WebGL renderer strings: software rasterizers, GPUs, none', () => {
    expect(glKindOf('ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)')).toBe('software');
    expect(glKindOf('llvmpipe (LLVM 15.0.6, 256 bits)')).toBe('software');
    expect(glKindOf('ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11 vs_5_0 ps_5_0)')).toBe('software');
    expect(glKindOf('ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)')).toBe('hardware');
    expect(glKindOf('Apple M2')).toBe('hardware');
    expect(glKindOf('Mesa Intel(R) UHD Graphics 620 (KBL GT2)')).toBe('hardware');
    expect(glKindOf(null)).toBe('none');
  });

  it('auto uses WebGL on a GPU only; webgl and dom force it, except that no WebGL means DOM', () => {
    expect(wantsWebgl('auto', 'hardware')).toBe(true);
    expect(wantsWebgl('auto', 'software')).toBe(false);
    expect(wantsWebgl('webgl', 'software')).toBe(true);
    expect(wantsWebgl('dom', 'hardware')).toBe(false);
    expect(wantsWebgl('webgl', 'none')).toBe(false);
    expect(wantsWebgl('auto', 'none')).toBe(false);
  });
});
