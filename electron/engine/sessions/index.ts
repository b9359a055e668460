// Sessions: one agent per pty, its output batched to a headless mirror and to subscribed clients under flow control,
// its status decided by one state machine from the process's facts (start, output after quiet, quiet with the screen's
// prompt verdict, exit), Claude Code hooks, input and the meter — and the terminal that outlives the process (clients,
// re-attach on restart or resume). The public face of the sessions folder.
//
// Reconnecting a client without gaps or duplicates: SessionTerminal.subscribe takes the snapshot and the subscription
// in the same tick. The snapshot covers exactly the bytes received before the call; every later byte goes to the sink.
export { AgentSession } from './agent-session.ts';
export { PtyProcess } from './pty-process.ts';
export { SessionStatusMachine, type MeterVerdict, type ProcessFact } from './status-machine.ts';
export type { PtySpec, AgentSessionOptions, ExitInfo, SessionProcess, SnapshotData } from './process.ts';
export { FlowGate } from './flow-control.ts';
export { SessionTerminal } from './terminal.ts';
export type { OutputSink, Subscription } from './flow-control.ts';
export type { HookEvent } from './status.ts';
export { looksLikePermissionPrompt, statusFromHook } from './status.ts';
export { OutputBatcher } from './output-batcher.ts';
