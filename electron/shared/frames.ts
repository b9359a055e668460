// Binary frames (engine → client): terminal output of one subscribed session.
//   byte 0      FrameKind.Output
//   byte 1      n = byte length of the session id (ASCII)
//   bytes 2..   session id, then the raw output bytes (UTF-8 as the pty produced them)

export const FrameKind = { Output: 1 } as const;

/** Session ids are ASCII (UUIDs), so they are copied byte for byte: no text codec, which plain ECMAScript lacks. */
export function encodeOutputFrame(sessionId: string, data: Uint8Array): Uint8Array {
  const n = sessionId.length;
  if (n > 255 || !/^[\x20-\x7e]*$/.test(sessionId)) throw new Error(`session id must be at most 255 ASCII characters for a frame: ${sessionId}`);
  const frame = new Uint8Array(2 + n + data.length);
  frame[0] = FrameKind.Output;
  frame[1] = n;
  for (let i = 0; i < n; i++) frame[2 + i] = sessionId.charCodeAt(i);
  frame.set(data, 2 + n);
  return frame;
}

export function decodeOutputFrame(frame: Uint8Array): { sessionId: string; data: Uint8Array } {
  if (frame.length < 2 || frame[0] !== FrameKind.Output) throw new Error('not an output frame');
  const n = frame[1]!;
  const sessionId = String.fromCharCode(...frame.subarray(2, 2 + n));
  return { sessionId, data: frame.subarray(2 + n) };
}
