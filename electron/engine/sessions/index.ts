// Sessions: one agent per pty, its output batched to a headless mirror and to subscribed clients under flow control,
// and its status derived from process state, output activity and Claude Code hooks.
//
// Reconnecting a client without gaps or duplicates: call `snapshot()` and then `subscribe(sink)` in the same tick.
// The snapshot covers exactly the bytes received before the call; every later byte goes to the sink. Send the snapshot
// to the client before the frames the sink collected meanwhile (the sink may be called before the promise resolves).
export { AgentSession } from './agent-session.ts';
export type { PtySpec, AgentSessionOptions, ExitInfo } from './agent-session.ts';
export type { OutputSink, Subscription } from './flow-control.ts';
export type { HookEvent } from './status.ts';
export { looksLikePermissionPrompt, statusFromHook } from './status.ts';
export { OutputBatcher } from './output-batcher.ts';
