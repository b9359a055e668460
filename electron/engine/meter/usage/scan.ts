// Cheap, allocation-free looks into JSON text, used to skip JSON.parse on the hot path (text deltas). Every helper
// fails safe: when the text is not in the expected shape it returns -1 / null and the caller parses the JSON instead.
//
// Why substring checks on JSON are sound here: inside a JSON string every `"` is escaped (`\"`), so a pattern that
// starts with an unescaped `"key":` can only match a real key (or, rarely, a string ending in `\"key` used as a key —
// a false positive that only costs a full parse).

const QUOTE = 34;
const U = 117;

/** Length (UTF-16 units, as String.length counts) of the JSON string scanned by the last successful scanString. */
export let scannedLength = 0;

/**
 * `s[start]` is the first character after an opening quote. Returns the index of the closing quote (and sets
 * scannedLength to the decoded string's length), or -1 if the string is not terminated in `s`.
 */
export function scanString(s: string, start: number): number {
  let i = start;
  let len = 0;
  let q = -2;
  let b = -2;
  for (;;) {
    if (q !== -1 && q < i) q = s.indexOf('"', i);
    if (q === -1) return -1;
    if (b !== -1 && b < i) b = s.indexOf('\\', i);
    if (b === -1 || b > q) {
      scannedLength = len + (q - i);
      return q;
    }
    // An escape before the next quote: \uXXXX is one unit, any other escape (\" \\ \n …) is one unit.
    len += b - i + 1;
    const e = s.charCodeAt(b + 1);
    if (Number.isNaN(e)) return -1; // the text ends after the backslash
    i = b + (e === U ? 6 : 2);
    if (i > s.length) return -1;
  }
}

/** Index just after `"key":` and optional whitespace, searching from `from`; -1 if absent. */
export function valueAfter(s: string, keyWithQuotesAndColon: string, from = 0): number {
  const k = s.indexOf(keyWithQuotesAndColon, from);
  if (k < 0) return -1;
  let i = k + keyWithQuotesAndColon.length;
  let c = s.charCodeAt(i);
  while (c === 32 || c === 9 || c === 10 || c === 13) c = s.charCodeAt(++i);
  return i;
}

/**
 * Where the string value of `"key":` starts (index after its opening quote), or -1 if the key is absent or its value
 * is not a string.
 */
export function stringValueStart(s: string, keyWithQuotesAndColon: string, from = 0): number {
  const i = valueAfter(s, keyWithQuotesAndColon, from);
  if (i < 0 || s.charCodeAt(i) !== QUOTE) return -1;
  return i + 1;
}

/** A non-negative integer value after `"key":`, or -1. */
export function intValue(s: string, keyWithQuotesAndColon: string, from = 0): number {
  let i = valueAfter(s, keyWithQuotesAndColon, from);
  if (i < 0) return -1;
  let n = 0;
  let digits = 0;
  for (let c = s.charCodeAt(i); c >= 48 && c <= 57; c = s.charCodeAt(++i)) {
    n = n * 10 + (c - 48);
    digits++;
  }
  return digits > 0 ? n : -1;
}

/** True if some occurrence of `"key":` has a value other than `null`. */
export function hasNonNull(s: string, keyWithQuotesAndColon: string): boolean {
  let from = 0;
  for (;;) {
    const i = valueAfter(s, keyWithQuotesAndColon, from);
    if (i < 0) return false;
    if (!s.startsWith('null', i)) return true;
    from = i;
  }
}

/** The `type` of `{"type":"…", …}` when the JSON text starts exactly so; else null. */
export function leadingType(s: string): string | null {
  if (!s.startsWith('{"type":"')) return null;
  const end = s.indexOf('"', 9);
  return end < 0 ? null : s.slice(9, end);
}

/** JSON.parse that returns undefined instead of throwing. */
export function tryParse(s: string): any {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** Decode the JSON string literal whose content spans s[start, end) (end = closing quote). */
export function decodeString(s: string, start: number, end: number): string {
  const raw = s.slice(start, end);
  if (raw.indexOf('\\') < 0) return raw;
  const v = tryParse(s.slice(start - 1, end + 1));
  return typeof v === 'string' ? v : raw;
}

export function isObj(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
