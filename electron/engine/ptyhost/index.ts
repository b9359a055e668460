// The pty host: every session's pty, output batcher, headless mirror and flow control on a worker thread of its own.
export { PtyHost, RemoteSession, ptyHostEntry } from './host.ts';
export type { PtyHostOptions } from './host.ts';
