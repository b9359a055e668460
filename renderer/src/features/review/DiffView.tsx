// A file's diff in the Review and Conflicts panels, drawn by @git-diff-view/react (GitHub-style unified and split
// views; highlight.js through lowlight, language from the file name; word-level changes marked). With both whole files
// (the engine sends them up to 256 KB) it highlights with full context — multi-line comments and strings right — and
// folds unchanged regions behind "expand". A large diff (over LARGE lines) is cut into chunks that mount only near the
// viewport, so a 5 000-line file never renders in one long task.
import { useEffect, useMemo, useRef, useState } from 'react';
import { DiffModeEnum, DiffView as GitDiffView } from '@git-diff-view/react';
import '@git-diff-view/react/styles/diff-view-pure.css';
import type { FileDiff } from '../../../../electron/shared/contract.ts';
import { LARGE, chunkDiff } from './diff-chunks.ts';

export type DiffMode = 'unified' | 'split';

const ROW_PX = 20;

function themeNow(): 'light' | 'dark' {
  return document.documentElement.dataset.theme === 'light' ? 'light' : 'dark';
}

/** Re-renders when Settings or the OS switch the theme. */
function useTheme(): 'light' | 'dark' {
  const [theme, setTheme] = useState(themeNow);
  useEffect(() => {
    const mo = new MutationObserver(() => setTheme(themeNow()));
    mo.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => mo.disconnect();
  }, []);
  return theme;
}

function View({
  path,
  hunks,
  oldText,
  newText,
  mode,
}: {
  path: string;
  hunks: string[];
  oldText?: string | null;
  newText?: string | null;
  mode: DiffMode;
}) {
  const theme = useTheme();
  return (
    <GitDiffView
      data={{ oldFile: { fileName: path, content: oldText ?? null }, newFile: { fileName: path, content: newText ?? null }, hunks }}
      diffViewMode={mode === 'split' ? DiffModeEnum.Split : DiffModeEnum.Unified}
      diffViewTheme={theme}
      diffViewHighlight
      diffViewWrap={false}
      diffViewFontSize={12}
    />
  );
}

// Chunks that came near the viewport mount one per animation frame (several at once would be one long task).
const pending: (() => void)[] = [];
let pumping = false;
function mountSoon(mount: () => void): void {
  pending.push(mount);
  if (pumping) return;
  pumping = true;
  const pump = () => {
    pending.shift()?.();
    if (pending.length) requestAnimationFrame(pump);
    else pumping = false;
  };
  requestAnimationFrame(pump);
}

/** One chunk of a large diff: a placeholder of its height until it comes near the viewport, then the diff. */
function LazyChunk({
  path,
  diff,
  lines,
  mode,
  root,
}: {
  path: string;
  diff: string;
  lines: number;
  mode: DiffMode;
  root: React.RefObject<HTMLDivElement | null>;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [near, setNear] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    // The diff box scrolls: chunks within 800 px of its visible part are drawn.
    let queued = false;
    let live = true;
    const io = new IntersectionObserver(
      (r) => {
        if (queued || !r.some((x) => x.isIntersecting)) return;
        queued = true;
        io.disconnect();
        mountSoon(() => live && setNear(true));
      },
      { root: root.current, rootMargin: '800px 0px' },
    );
    io.observe(el);
    return () => {
      live = false;
      io.disconnect();
    };
  }, []);
  return (
    <div ref={ref} className="diff-chunk" data-mounted={near} style={near ? undefined : { height: (lines + 1) * ROW_PX }}>
      {near && <View path={path} hunks={[diff]} mode={mode} />}
    </div>
  );
}

export function DiffView({ diff, mode = 'unified', testId }: { diff: FileDiff; mode?: DiffMode; testId?: string }) {
  const lineCount = useMemo(() => diff.diff.split('\n').length, [diff.diff]);
  const chunks = useMemo(() => (lineCount > LARGE ? chunkDiff(diff.diff) : null), [diff.diff, lineCount]);
  const hasText = !diff.binary && diff.diff.includes('\n@@');
  const box = useRef<HTMLDivElement>(null);
  return (
    <div className="review-diff" ref={box} data-testid={testId} data-chunks={chunks?.length ?? 0}>
      {diff.binary && <div className="review-note">Binary file — no text diff.</div>}
      {diff.note && <div className="review-note">{diff.note}</div>}
      {diff.truncated && <div className="review-note">Diff truncated — export the patch for the whole change.</div>}
      {!diff.binary && !diff.diff && !diff.note && <div className="review-note">No changes.</div>}
      {hasText && !chunks && (
        <View key={mode} path={diff.path} hunks={[diff.diff]} oldText={diff.oldText} newText={diff.newText} mode={mode} />
      )}
      {hasText &&
        chunks?.map((c, i) => (
          <LazyChunk key={`${mode}-${i}`} path={diff.path} diff={c} lines={c.split('\n').length} mode={mode} root={box} />
        ))}
    </div>
  );
}
