// The diff viewer loads on first use (it brings the highlighter and its languages: ~1.5 MB the grid does not need).
import { Suspense, lazy } from 'react';
import type { FileDiff } from '../../../../electron/shared/contract.ts';
import type { DiffMode } from './DiffView.tsx';

export type { DiffMode };

const Viewer = lazy(() => import('./DiffView.tsx').then((m) => ({ default: m.DiffView })));

export function DiffView(props: { diff: FileDiff; mode?: DiffMode; testId?: string }) {
  return (
    <Suspense fallback={<p className="dim">Loading the diff viewer…</p>}>
      <Viewer {...props} />
    </Suspense>
  );
}
