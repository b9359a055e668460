// Binary frames (engine → client): terminal output of subscribed sessions.
//   Output: byte 0 FrameKind.Output, byte 1 n = byte length of the session id (ASCII), then the id, then the raw output
//           bytes (UTF-8 as the pty produced them).
//   Batch:  byte 0 FrameKind.Batch, then per session: byte n, the id, the output's byte length (uint32, little endian),
//           the output — several quiet sessions' output in one WebSocket message (see engine/api/output-pacer.ts).
//   Screen: byte 0 FrameKind.Screen, byte n, the id, cols and rows (uint16 LE each), the output bytes this screen stands
//           for (uint32 LE), then the serialized screen (UTF-8): a background tile that gets more than it can draw is
//           shown the engine's mirror at the refresh rate instead of every byte — the client replaces its terminal's
//           content with it, as with a snapshot.

export const FrameKind = { Output: 1, Batch: 2, Screen: 3 } as const;

// Every runtime the contract runs in (Node, Chromium, Electron) has the WHATWG text codecs; plain ECMAScript's lib does
// not declare them.
const codecs = globalThis as unknown as {
  TextEncoder: new () => { encode(s: string): Uint8Array };
  TextDecoder: new () => { decode(b: Uint8Array): string };
};
let encoder: { encode(s: string): Uint8Array } | null = null;
let decoder: { decode(b: Uint8Array): string } | null = null;

/** A screen frame's content: the terminal's size and serialized screen, and how many output bytes it replaces. */
export interface ScreenPart {
  cols: number;
  rows: number;
  data: string;
  bytes: number;
}

/** One session's part of a frame: output bytes, or (Screen frames) a screen (`data` then holds its UTF-8 text). */
export interface FramePart {
  sessionId: string;
  data: Uint8Array;
  screen?: ScreenPart;
}

function checkId(sessionId: string): void {
  if (sessionId.length > 255 || !/^[\x20-\x7e]*$/.test(sessionId))
    throw new Error(`session id must be at most 255 ASCII characters for a frame: ${sessionId}`);
}

/** Session ids are ASCII (UUIDs), so they are copied byte for byte: no text codec, which plain ECMAScript lacks. */
function putId(frame: Uint8Array, at: number, sessionId: string): number {
  frame[at] = sessionId.length;
  for (let i = 0; i < sessionId.length; i++) frame[at + 1 + i] = sessionId.charCodeAt(i);
  return at + 1 + sessionId.length;
}

export function encodeOutputFrame(sessionId: string, data: Uint8Array): Uint8Array {
  checkId(sessionId);
  const frame = new Uint8Array(2 + sessionId.length + data.length);
  frame[0] = FrameKind.Output;
  frame.set(data, putId(frame, 1, sessionId));
  return frame;
}

export function encodeBatchFrame(parts: readonly { sessionId: string; data: Uint8Array }[]): Uint8Array {
  let size = 1;
  for (const p of parts) {
    checkId(p.sessionId);
    size += 1 + p.sessionId.length + 4 + p.data.length;
  }
  const frame = new Uint8Array(size);
  const view = new DataView(frame.buffer);
  frame[0] = FrameKind.Batch;
  let at = 1;
  for (const p of parts) {
    at = putId(frame, at, p.sessionId);
    view.setUint32(at, p.data.length, true);
    frame.set(p.data, at + 4);
    at += 4 + p.data.length;
  }
  return frame;
}

export function encodeScreenFrame(sessionId: string, screen: ScreenPart): Uint8Array {
  checkId(sessionId);
  const text = (encoder ??= new codecs.TextEncoder()).encode(screen.data);
  const frame = new Uint8Array(2 + sessionId.length + 8 + text.length);
  const view = new DataView(frame.buffer);
  frame[0] = FrameKind.Screen;
  const at = putId(frame, 1, sessionId);
  view.setUint16(at, screen.cols, true);
  view.setUint16(at + 2, screen.rows, true);
  view.setUint32(at + 4, Math.min(screen.bytes, 0xffffffff), true);
  frame.set(text, at + 8);
  return frame;
}

/** The sessions' outputs a frame carries, in order (one for an Output or a Screen frame). */
export function decodeFrame(frame: Uint8Array): FramePart[] {
  if (frame.length >= 2 && frame[0] === FrameKind.Output) return [decodeOutputFrame(frame)];
  if (frame.length >= 2 && frame[0] === FrameKind.Screen) {
    const n = frame[1]!;
    if (frame.length < 2 + n + 8) throw new Error('a screen frame cut short');
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const at = 2 + n;
    const data = frame.subarray(at + 8);
    const screen: ScreenPart = {
      cols: view.getUint16(at, true),
      rows: view.getUint16(at + 2, true),
      bytes: view.getUint32(at + 4, true),
      data: (decoder ??= new codecs.TextDecoder()).decode(data),
    };
    return [{ sessionId: String.fromCharCode(...frame.subarray(2, at)), data, screen }];
  }
  if (frame.length < 1 || frame[0] !== FrameKind.Batch) throw new Error('not an output frame');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const out: FramePart[] = [];
  let at = 1;
  while (at < frame.length) {
    const n = frame[at]!;
    if (at + 1 + n + 4 > frame.length) throw new Error('a batch frame cut short');
    const sessionId = String.fromCharCode(...frame.subarray(at + 1, at + 1 + n));
    const len = view.getUint32(at + 1 + n, true);
    const start = at + 1 + n + 4;
    if (start + len > frame.length) throw new Error('a batch frame cut short');
    out.push({ sessionId, data: frame.subarray(start, start + len) });
    at = start + len;
  }
  return out;
}

export function decodeOutputFrame(frame: Uint8Array): { sessionId: string; data: Uint8Array } {
  if (frame.length < 2 || frame[0] !== FrameKind.Output) throw new Error('not an output frame');
  const n = frame[1]!;
  const sessionId = String.fromCharCode(...frame.subarray(2, 2 + n));
  return { sessionId, data: frame.subarray(2 + n) };
}
