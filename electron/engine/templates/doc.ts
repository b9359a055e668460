// Working with a parsed template document: field paths and their names, the line a path is on, merging overrides,
// and suggesting the closest known word for a typo.
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export type PathSeg = string | number;

export interface Problem {
  path: PathSeg[];
  text: string;
}

export function fieldName(p: PathSeg[]): string {
  let out = '';
  for (const seg of p) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out;
}

export function show(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return v.length > 60 ? `'${v.slice(0, 57)}...'` : `'${v}'`;
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

export function getAt(obj: unknown, p: PathSeg[]): unknown {
  let cur = obj;
  for (const seg of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

export function closest(word: string, choices: readonly string[]): string | null {
  let best: string | null = null;
  let bestDist = Infinity;
  for (const c of choices) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist) [best, bestDist] = [c, d];
  }
  return bestDist <= Math.max(1, Math.floor(word.length / 3)) ? best : null;
}

/** Edit distance counting a swap of neighbours as one edit: the commonest typo ("cuont"). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** Finds the line of the field a path names: the key's line for mapping entries, the item's line for list items.
 * A path that stops existing part-way (a missing field) reports the nearest enclosing field that exists. */
export function lineOf(doc: Document, lc: LineCounter, p: PathSeg[]): number | null {
  let node: unknown = doc.contents;
  let line: number | null = null;
  const lineAt = (n: unknown): number | null => {
    const range = (n as Node | null)?.range;
    return range ? lc.linePos(range[0]).line : null;
  };
  for (const seg of p) {
    if (isMap(node)) {
      const pair = node.items.find((it) => (isScalar(it.key) ? it.key.value : it.key) === seg);
      if (!pair) break;
      line = lineAt(pair.key) ?? lineAt(pair.value) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) break;
      line = lineAt(item) ?? line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}

// ---------------------------------------------------------------------------------------------------------------------
// Merging overrides

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(base[k]) ? deepMerge(base[k], v) : v;
  }
  return out;
}

/** True when the value at `p` was supplied by the overrides, not by the file. */
export function fromOverrides(over: Record<string, unknown>, p: PathSeg[]): boolean {
  let cur: unknown = over;
  for (const seg of p) {
    if (!isPlainObject(cur) || !(String(seg) in cur)) return false;
    cur = cur[String(seg)];
    if (!isPlainObject(cur)) return true;
  }
  return true;
}

/** `key:` with nothing after it means "not given" in YAML; treat it so, at any depth of mappings. */
export function dropNulls(v: unknown): unknown {
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = dropNulls(x);
  return out;
}
