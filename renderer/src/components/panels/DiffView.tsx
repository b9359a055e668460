// A unified diff rendered as unified or split (old | new) rows, with a tiny regex highlighter (keywords, strings,
// comments, numbers). Shared by the Review and Conflicts panels.
import type { ReactNode } from 'react';
import type { FileDiff } from '../../../../electron/shared/contract.ts';

export type DiffMode = 'unified' | 'split';

interface Line {
  kind: 'add' | 'del' | 'ctx' | 'hunk' | 'meta';
  text: string;
  oldNo: number | null;
  newNo: number | null;
}

export function parseDiff(diff: string): Line[] {
  const out: Line[] = [];
  let o = 0;
  let n = 0;
  let inHunk = false;
  for (const raw of diff.split('\n')) {
    const h = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(raw);
    if (h) {
      o = Number(h[1]);
      n = Number(h[2]);
      inHunk = true;
      out.push({ kind: 'hunk', text: raw, oldNo: null, newNo: null });
    } else if (!inHunk || raw.startsWith('diff --git')) {
      inHunk = false;
      if (raw) out.push({ kind: 'meta', text: raw, oldNo: null, newNo: null });
    } else if (raw.startsWith('+')) out.push({ kind: 'add', text: raw.slice(1), oldNo: null, newNo: n++ });
    else if (raw.startsWith('-')) out.push({ kind: 'del', text: raw.slice(1), oldNo: o++, newNo: null });
    else if (raw.startsWith('\\')) out.push({ kind: 'meta', text: raw, oldNo: null, newNo: null });
    else if (raw.startsWith(' ')) out.push({ kind: 'ctx', text: raw.slice(1), oldNo: o++, newNo: n++ });
  }
  return out;
}

const KEYWORDS =
  'abstract|as|async|await|break|case|catch|class|const|continue|def|default|delete|do|elif|else|enum|export|extends|false|finally|fn|for|from|func|function|if|impl|import|in|instanceof|interface|let|match|new|nil|none|null|package|private|protected|public|return|self|static|struct|super|switch|this|throw|true|try|type|typeof|undefined|use|var|void|while|with|yield';
const TOKEN = new RegExp(
  `(\\/\\/.*$|#.*$|\\/\\*.*?\\*\\/)|("(?:[^"\\\\]|\\\\.)*"|'(?:[^'\\\\]|\\\\.)*'|\`(?:[^\`\\\\]|\\\\.)*\`)|\\b(${KEYWORDS})\\b|\\b(\\d+(?:\\.\\d+)?)\\b`,
  'g',
);

/** Keywords, strings, comments and numbers of one line as spans (line-local: a multi-line comment is not tracked). */
export function highlight(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  let i = 0;
  for (const m of text.matchAll(TOKEN)) {
    const at = m.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    const cls = m[1] ? 'review-hl-com' : m[2] ? 'review-hl-str' : m[3] ? 'review-hl-kw' : 'review-hl-num';
    out.push(
      <span key={i++} className={cls}>
        {m[0]}
      </span>,
    );
    last = at + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function Code({ text }: { text: string }) {
  return <span className="review-code">{highlight(text)}</span>;
}

function UnifiedRows({ lines }: { lines: Line[] }) {
  return (
    <>
      {lines.map((l, i) =>
        l.kind === 'hunk' || l.kind === 'meta' ? (
          <div key={i} className={`review-line review-${l.kind}`}>
            <span className="review-no" />
            <span className="review-no" />
            <span className="review-code">{l.text}</span>
          </div>
        ) : (
          <div key={i} className={`review-line review-${l.kind}`}>
            <span className="review-no">{l.oldNo ?? ''}</span>
            <span className="review-no">{l.newNo ?? ''}</span>
            <span className="review-sign">{l.kind === 'add' ? '+' : l.kind === 'del' ? '-' : ' '}</span>
            <Code text={l.text} />
          </div>
        ),
      )}
    </>
  );
}

/** Split rows: runs of removed lines paired with the following run of added lines. */
function SplitRows({ lines }: { lines: Line[] }) {
  const rows: { left: Line | null; right: Line | null; full?: Line }[] = [];
  for (let i = 0; i < lines.length; ) {
    const l = lines[i]!;
    if (l.kind === 'hunk' || l.kind === 'meta') {
      rows.push({ left: null, right: null, full: l });
      i++;
    } else if (l.kind === 'ctx') {
      rows.push({ left: l, right: l });
      i++;
    } else {
      const dels: Line[] = [];
      const adds: Line[] = [];
      while (i < lines.length && lines[i]!.kind === 'del') dels.push(lines[i++]!);
      while (i < lines.length && lines[i]!.kind === 'add') adds.push(lines[i++]!);
      for (let k = 0; k < Math.max(dels.length, adds.length); k++) rows.push({ left: dels[k] ?? null, right: adds[k] ?? null });
    }
  }
  const side = (l: Line | null, no: number | null | undefined) => (
    <>
      <span className={`review-no review-${l ? l.kind : 'empty'}`}>{no ?? ''}</span>
      <span className={`review-half review-${l ? l.kind : 'empty'}`}>{l ? <Code text={l.text} /> : null}</span>
    </>
  );
  return (
    <>
      {rows.map((r, i) =>
        r.full ? (
          <div key={i} className={`review-line review-${r.full.kind}`}>
            <span className="review-code">{r.full.text}</span>
          </div>
        ) : (
          <div key={i} className="review-line review-split-row">
            {side(r.left, r.left?.oldNo)}
            {side(r.right, r.right?.newNo)}
          </div>
        ),
      )}
    </>
  );
}

export function DiffView({ diff, mode = 'unified', testId }: { diff: FileDiff; mode?: DiffMode; testId?: string }) {
  const lines = parseDiff(diff.diff);
  return (
    <div className="review-diff" data-testid={testId}>
      {diff.binary && <div className="review-note">Binary file — no text diff.</div>}
      {diff.note && <div className="review-note">{diff.note}</div>}
      {diff.truncated && <div className="review-note">Diff truncated — export the patch for the whole change.</div>}
      {!diff.binary && !diff.diff && !diff.note && <div className="review-note">No changes.</div>}
      {lines.length > 0 && (mode === 'split' ? <SplitRows lines={lines} /> : <UnifiedRows lines={lines} />)}
    </div>
  );
}
