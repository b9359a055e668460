// An incremental Server-Sent Events reader (WHATWG HTML §9.2 event stream interpretation, minus id/retry bookkeeping).
//
// Bytes go through one streaming TextDecoder (a chunk may end inside a multi-byte character); lines end in \n, \r\n or
// \r (a chunk may end between \r and \n); a blank line dispatches the event; `data:` lines are joined with \n; lines
// starting with `:` are comments. Only an incomplete trailing line is carried over between chunks: the body is never
// re-concatenated.

export type SseSink = (event: string | null, data: string) => void;

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;
const STREAM = { stream: true } as const;

export class SseReader {
  private readonly decoder = new TextDecoder('utf-8');
  /** The incomplete last line of the text decoded so far. */
  private carry = '';
  /** The previous text ended with \r: a \n starting the next one belongs to that line break. */
  private skipLF = false;
  private event: string | null = null;
  private data: string | null = null;
  private ended = false;

  constructor(private readonly sink: SseSink) {}

  push(chunk: Uint8Array): void {
    if (this.ended) return;
    const text = this.decoder.decode(chunk, STREAM);
    if (text.length > 0) this.feed(text);
  }

  /**
   * End of the body: flush the decoder, take a last unterminated line as a line, and dispatch a pending event (a body
   * that omits the final blank line still counts; a line cut mid-way is usually invalid JSON and ignored by the sink).
   */
  end(): void {
    if (this.ended) return;
    const text = this.decoder.decode();
    if (text.length > 0) this.feed(text);
    this.ended = true;
    if (this.carry.length > 0) {
      const line = this.carry;
      this.carry = '';
      this.line(line);
    }
    this.dispatch();
  }

  private feed(text: string): void {
    const n = text.length;
    let pos = 0;
    if (this.skipLF) {
      this.skipLF = false;
      if (text.charCodeAt(0) === LF) pos = 1;
    }
    // Next \n and \r at or after pos (-1: none left in this text); recomputed only once passed, so scanning stays O(n).
    let nextLF = -2;
    let nextCR = -2;
    while (pos < n) {
      if (nextLF !== -1 && nextLF < pos) nextLF = text.indexOf('\n', pos);
      if (nextCR !== -1 && nextCR < pos) nextCR = text.indexOf('\r', pos);
      let eol: number;
      if (nextLF === -1) {
        if (nextCR === -1) break;
        eol = nextCR;
      } else eol = nextCR === -1 || nextLF < nextCR ? nextLF : nextCR;
      let line = text.slice(pos, eol);
      if (this.carry.length > 0) {
        line = this.carry + line;
        this.carry = '';
      }
      if (text.charCodeAt(eol) === CR) {
        if (eol + 1 < n) pos = text.charCodeAt(eol + 1) === LF ? eol + 2 : eol + 1;
        else {
          this.skipLF = true;
          pos = n;
        }
      } else pos = eol + 1;
      this.line(line);
    }
    if (pos < n) this.carry = this.carry.length > 0 ? this.carry + text.slice(pos) : text.slice(pos);
  }

  private line(line: string): void {
    const len = line.length;
    if (len === 0) {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === COLON) return; // comment
    const colon = line.indexOf(':');
    const fieldEnd = colon < 0 ? len : colon;
    let valueStart = colon < 0 ? len : colon + 1;
    if (valueStart < len && line.charCodeAt(valueStart) === SPACE) valueStart++;
    if (fieldEnd === 4 && line.startsWith('data')) {
      const value = valueStart === 0 ? line : line.slice(valueStart);
      this.data = this.data === null ? value : this.data + '\n' + value;
    } else if (fieldEnd === 5 && line.startsWith('event')) {
      this.event = line.slice(valueStart);
    }
    // id, retry and unknown fields: ignored.
  }

  private dispatch(): void {
    const data = this.data;
    const event = this.event;
    this.data = null;
    this.event = null;
    if (data !== null) this.sink(event === '' ? null : event, data);
  }
}

/** Does this text start like an SSE body (after optional whitespace)? Used when the content-type is missing. */
export function looksLikeSse(firstByte: number): boolean {
  // d(ata:) e(vent:) :(comment) i(d:) r(etry:)
  return firstByte === 0x64 || firstByte === 0x65 || firstByte === 0x3a || firstByte === 0x69 || firstByte === 0x72;
}
