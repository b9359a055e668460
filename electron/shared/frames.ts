// Binary frames (engine → client): terminal output of subscribed sessions.
//   Output: byte 0 FrameKind.Output, byte 1 n = byte length of the session id (ASCII), then the id, then the raw output
//           bytes (UTF-8 as the pty produced them).
//   Batch:  byte 0 FrameKind.Batch, then per session: byte n, the id, the output's byte length (uint32, little endian),
//           the output — several quiet sessions' output in one WebSocket message (see engine/api/output-pacer.ts).

export const FrameKind = { Output: 1, Batch: 2 } as const;

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

/** The sessions' outputs a frame carries, in order (one for an Output frame). */
export function decodeFrame(frame: Uint8Array): { sessionId: string; data: Uint8Array }[] {
  if (frame.length >= 2 && frame[0] === FrameKind.Output) return [decodeOutputFrame(frame)];
  if (frame.length < 1 || frame[0] !== FrameKind.Batch) throw new Error('not an output frame');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const out: { sessionId: string; data: Uint8Array }[] = [];
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
