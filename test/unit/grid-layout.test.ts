// The grid's tile order per run: pinned first, then the dragged order, new sessions after; a drop lands where the user
// let go.
import { describe, expect, it } from 'vitest';
import { arrange, moveBefore } from '../../renderer/src/features/grid/layout.ts';

describe('grid layout', () => {
  it('pinned first, then the saved order, then new sessions in slot order; gone ones dropped', () => {
    expect(arrange(['a', 'b', 'c'], undefined)).toEqual(['a', 'b', 'c']);
    expect(arrange(['a', 'b', 'c', 'd'], { order: ['c', 'a', 'x'], pinned: ['b'] })).toEqual(['b', 'c', 'a', 'd']);
  });
  it('a drop lands before the tile dropped on when moving back, after it when moving forward', () => {
    expect(moveBefore(['a', 'b', 'c', 'd'], 'd', 'b')).toEqual(['a', 'd', 'b', 'c']);
    expect(moveBefore(['a', 'b', 'c', 'd'], 'a', 'c')).toEqual(['b', 'c', 'a', 'd']);
    expect(moveBefore(['a', 'b'], 'a', 'a')).toEqual(['a', 'b']);
  });
});
