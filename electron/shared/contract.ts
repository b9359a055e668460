// The one contract between the engine and every client (renderer, CLI, tests).
// Pure: no Node or DOM imports, so both sides can import it. Nothing crosses the wire that this file does not name.
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------------------------------
// Constants both sides use

/** Flow control, in bytes of terminal output (after VS Code's FlowControlConstants: 100K / 5K / 5K, acked after parse). */
export const FlowControl = {
  /** Pause the pty when a consumer has this many un-acked bytes. */
  HighWatermark: 100_000,
  /** Resume the pty when every consumer is back under this many un-acked bytes. */
  LowWatermark: 5_000,
  /** A client acks at least every this many bytes it has written to its terminal. */
  AckSize: 5_000,
} as const;

/** Output batching: one frame per session every few ms, or sooner at the size cap (Hyper: 16 ms / 200 KB; VS Code 5 ms). */
export const OutputBatching = {
  IntervalMs: 8,
  MaxBytes: 200_000,
} as const;

export const Limits = {
  MaxSessionsPerRun: 64,
  /** Lines of scrollback kept by each session's headless mirror (12 bytes per cell: 80 × 2000 ≈ 2 MB). */
  MirrorScrollback: 2_000,
  DefaultCols: 120,
  DefaultRows: 32,
  /** SIGTERM first, SIGKILL after this grace period. */
  StopGraceMs: 3_000,
} as const;

// ---------------------------------------------------------------------------------------------------------------------
// Sessions and runs

export const SessionStatus = z.enum([
  'queued',
  'starting',
  'working',
  'needs_you',
  'idle',
  'done',
  'failed',
  'stopped',
  'over_budget',
  'rate_limited',
]);
export type SessionStatus = z.infer<typeof SessionStatus>;

/** Statuses after which the session's process is gone. */
export const FINAL_STATUSES: readonly SessionStatus[] = ['done', 'failed', 'stopped'];
export const isFinalStatus = (s: SessionStatus): boolean => FINAL_STATUSES.includes(s);

export const SessionInfo = z.object({
  id: z.string(),
  runId: z.string(),
  slot: z.number().int().min(1),
  task: z.string().nullable(),
  status: SessionStatus,
  /** Why the status is what it is, in words a user understands (e.g. "permission prompt", "exit code 2"). */
  statusDetail: z.string().nullable(),
  branch: z.string().nullable(),
  worktree: z.string(),
  command: z.string(),
  args: z.array(z.string()),
  /** Claude Code's own session id (pre-assigned with --session-id; used for --resume). */
  agentSessionId: z.string().nullable(),
  pid: z.number().int().nullable(),
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  cols: z.number().int(),
  rows: z.number().int(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

export const RunState = z.enum(['launching', 'running', 'ended', 'failed']);
export type RunState = z.infer<typeof RunState>;

export const RunInfo = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  repo: z.string(),
  base: z.string(),
  baseCommit: z.string().nullable(),
  workspace: z.enum(['worktree', 'shared']),
  state: RunState,
  templatePath: z.string().nullable(),
  model: z.string(),
  agentPreset: z.string(),
  providerPreset: z.string(),
  budget: z.object({ perSessionUsd: z.number().nullable(), runUsd: z.number().nullable() }),
  concurrency: z.number().int(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  error: z.string().nullable(),
});
export type RunInfo = z.infer<typeof RunInfo>;

// ---------------------------------------------------------------------------------------------------------------------
// Spend (the meter). Dollars are USD; token counts follow Anthropic's meaning: `inputTokens` is the uncached part of the
// prompt, cache reads and writes are separate (an OpenAI-style `prompt_tokens` is split into input + cacheRead).

export const UpstreamErrorKind = z.enum([
  'rate_limited',
  'overloaded',
  'out_of_balance',
  'bad_key',
  'unknown_model',
  'context_overflow',
  'budget',
  'other',
]);
export type UpstreamErrorKind = z.infer<typeof UpstreamErrorKind>;

export const UpstreamErrorInfo = z.object({
  kind: UpstreamErrorKind,
  status: z.number().int(),
  /** The provider's error type, e.g. "rate_limit_reached_error". */
  type: z.string().nullable(),
  message: z.string(),
  at: z.string(),
});
export type UpstreamErrorInfo = z.infer<typeof UpstreamErrorInfo>;

/** How a ledger row's figure was obtained. */
export const UsageState = z.enum([
  'open', // request under way; figures so far are an estimate
  'exact', // usage reported by the provider
  'partial', // the stream ended before the usage arrived: what was seen
  'interrupted', // the engine died while the request was open
  'error', // the provider answered with an error (usually no tokens)
  'refused', // refused by the meter (budget) — never reached the provider
]);
export type UsageState = z.infer<typeof UsageState>;

export const LedgerRow = z.object({
  id: z.number().int(),
  sessionId: z.string(),
  runId: z.string(),
  model: z.string().nullable(),
  inputTokens: z.number().int(),
  cacheReadTokens: z.number().int(),
  cacheWriteTokens: z.number().int(),
  outputTokens: z.number().int(),
  usd: z.number(),
  /** False when the model has no price: tokens counted, dollars unknown (never a silent $0). */
  priced: z.boolean(),
  state: UsageState,
  ttftMs: z.number().nullable(),
  durationMs: z.number().nullable(),
  httpStatus: z.number().int().nullable(),
  errorType: z.string().nullable(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
});
export type LedgerRow = z.infer<typeof LedgerRow>;

export const SpendTotals = z.object({
  usd: z.number(),
  /** Part of `usd` that is still an estimate (responses streaming now). */
  estimateUsd: z.number(),
  inputTokens: z.number().int(),
  cacheReadTokens: z.number().int(),
  cacheWriteTokens: z.number().int(),
  outputTokens: z.number().int(),
  /** Billed model requests (not count_tokens, models, probes, refusals). */
  requests: z.number().int(),
  /** Tokens of models that have no price. */
  unpricedTokens: z.number().int(),
  /** What the same tokens would have cost on the reference model, and the difference. */
  referenceModel: z.string(),
  referenceUsd: z.number(),
  savingsUsd: z.number(),
  budgetUsd: z.number().nullable(),
});
export type SpendTotals = z.infer<typeof SpendTotals>;

export const SessionSpend = SpendTotals.extend({
  sessionId: z.string(),
  runId: z.string(),
  inFlight: z.number().int(),
  /** Of the last completed request: time to first token, output tokens per second while streaming. */
  ttftMs: z.number().nullable(),
  tokensPerSec: z.number().nullable(),
  /** Last request's prompt tokens over the model's window (0..1), and the two numbers. */
  contextFill: z.number().nullable(),
  contextTokens: z.number().int().nullable(),
  contextWindow: z.number().int().nullable(),
  lastError: UpstreamErrorInfo.nullable(),
});
export type SessionSpend = z.infer<typeof SessionSpend>;

export const RunSpend = SpendTotals.extend({ runId: z.string() });
export type RunSpend = z.infer<typeof RunSpend>;

export const EditIntent = z.object({
  sessionId: z.string(),
  /** As the tool call named it (absolute for Claude Code). */
  path: z.string(),
  tool: z.string(),
  at: z.string(),
});
export type EditIntent = z.infer<typeof EditIntent>;

export const PriceEntry = z.object({
  model: z.string(),
  /** USD per million tokens. */
  inputUsd: z.number().min(0),
  cacheReadUsd: z.number().min(0),
  /** Cache writes; K2 has no surcharge (priced as input). */
  cacheWriteUsd: z.number().min(0),
  outputUsd: z.number().min(0),
  contextWindow: z.number().int().nullable(),
  asOf: z.string(),
  source: z.string(),
});
export type PriceEntry = z.infer<typeof PriceEntry>;

// ---------------------------------------------------------------------------------------------------------------------
// Changes, conflicts and review

export const ChangedFile = z.object({
  /** Repository-relative, forward slashes; the new path of a rename. */
  path: z.string(),
  oldPath: z.string().nullable(),
  status: z.enum(['added', 'modified', 'deleted', 'renamed', 'untracked', 'typechange']),
  added: z.number().int().nullable(),
  removed: z.number().int().nullable(),
  binary: z.boolean(),
  /** Shared workspace mode: the sessions whose tool calls touched the path (empty = unattributed). */
  sessions: z.array(z.string()).optional(),
});
export type ChangedFile = z.infer<typeof ChangedFile>;

export const ConflictWarning = z.object({
  key: z.string(),
  path: z.string(),
  sessions: z.array(z.string()),
  kind: z.enum(['overlap', 'conflict', 'drift', 'intent']),
  since: z.string(),
  detail: z.string().nullable(),
});
export type ConflictWarning = z.infer<typeof ConflictWarning>;

export const FileDiff = z.object({
  path: z.string(),
  binary: z.boolean(),
  truncated: z.boolean(),
  note: z.string().nullable(),
  diff: z.string(),
});
export type FileDiff = z.infer<typeof FileDiff>;

// ---------------------------------------------------------------------------------------------------------------------
// Commands (client → engine). Over WebSocket as {id, cmd, args}; over HTTP as POST /api/<cmd> with args as the body.

export const LaunchArgs = z.object({
  /** Path of a template file, or the template's YAML text in `templateText`. */
  templatePath: z.string().optional(),
  templateText: z.string().optional(),
  repo: z.string().optional(),
  count: z.number().int().optional(),
  /** Overrides of template fields (validated like the template itself). */
  overrides: z.record(z.string(), z.unknown()).optional(),
});

export const Commands = {
  launch: LaunchArgs,
  listRuns: z.object({}),
  listSessions: z.object({ runId: z.string().optional() }),
  subscribe: z.object({ sessionId: z.string() }),
  unsubscribe: z.object({ sessionId: z.string() }),
  ack: z.object({ sessionId: z.string(), bytes: z.number().int().min(0) }),
  snapshot: z.object({ sessionId: z.string() }),
  input: z.object({ sessionId: z.string(), data: z.string() }),
  resize: z.object({ sessionId: z.string(), cols: z.number().int().min(2).max(1000), rows: z.number().int().min(1).max(500) }),
  stop: z.object({ sessionId: z.string() }),
  restart: z.object({ sessionId: z.string() }),
  resume: z.object({ sessionId: z.string() }),
  stopRun: z.object({ runId: z.string() }),
  cleanRun: z.object({ runId: z.string() }),
  report: z.object({ runId: z.string() }),
  spend: z.object({ runId: z.string() }),
  ledger: z.object({ runId: z.string() }),
  /** Sets a new budget (USD) for one session or for a run; an over-budget session carries on. */
  raiseBudget: z.object({ sessionId: z.string().optional(), runId: z.string().optional(), usd: z.number().positive() }),
  prices: z.object({}),
  balance: z.object({ runId: z.string() }),
  changes: z.object({ sessionId: z.string() }),
  conflicts: z.object({ runId: z.string() }),
  diff: z.object({ sessionId: z.string(), path: z.string() }),
  /** One path as changed by several sessions, for side-by-side comparison. */
  pathAcross: z.object({ runId: z.string(), path: z.string(), sessionIds: z.array(z.string()).optional() }),
  commit: z.object({ sessionId: z.string(), message: z.string().min(1) }),
  /** Squash-merge a session into the run's base branch (or `target`). */
  merge: z.object({ sessionId: z.string(), message: z.string().optional(), target: z.string().optional() }),
  /** Removes the session's worktree and branch; `confirm` must be true. */
  discard: z.object({ sessionId: z.string(), confirm: z.boolean() }),
  exportPatch: z.object({ sessionId: z.string() }),
  worktreePath: z.object({ sessionId: z.string() }),
  /** Settings (prices, reference model, default budgets) and which provider keys are set — never their values. */
  settings: z.object({}),
  saveSettings: z.object({ settings: z.unknown() }),
  /**
   * Sets a provider key for this engine; null removes it. `persist` (default true): also keep it in the data dir (0600) —
   * the headless engine's store. The desktop app sends false: it keeps keys encrypted itself and hands them over at start.
   */
  setProviderKey: z.object({ name: z.string(), value: z.string().nullable(), persist: z.boolean().optional() }),
  /** Templates in `<repo>/.flotilla/templates/` (repo default: the engine's cwd) and `<dataDir>/templates/`. */
  listTemplates: z.object({ repo: z.string().optional() }),
  /** The text of a template file; only files inside the two template folders are read. */
  readTemplate: z.object({ path: z.string(), repo: z.string().optional() }),
  /** Validates `text` as a template, then writes `<dir>/<kebab name>.yaml`; refuses to overwrite unless `overwrite`. */
  saveTemplate: z.object({
    name: z.string().min(1),
    text: z.string(),
    where: z.enum(['repo', 'data']),
    repo: z.string().optional(),
    overwrite: z.boolean().optional(),
  }),
  /** Launches the built-in demo: a simulated K2 provider and demo agents in a scratch repository (no API key). */
  demo: z.object({ count: z.number().int().min(1).max(16).optional() }),
} as const;
export type CommandName = keyof typeof Commands;
export type CommandArgs<C extends CommandName> = z.infer<(typeof Commands)[C]>;

export const CommandMessage = z.object({
  id: z.number().int(),
  cmd: z.string(),
  args: z.unknown().optional(),
});
export type CommandMessage = z.infer<typeof CommandMessage>;

export const SnapshotResult = z.object({ sessionId: z.string(), cols: z.number(), rows: z.number(), data: z.string() });
export type SnapshotResult = z.infer<typeof SnapshotResult>;

export const TemplateEntry = z.object({ name: z.string(), path: z.string(), source: z.enum(['repo', 'data']) });
export type TemplateEntry = z.infer<typeof TemplateEntry>;

export const LaunchResult = z.object({ run: RunInfo, sessions: z.array(SessionInfo) });
export type LaunchResult = z.infer<typeof LaunchResult>;

// ---------------------------------------------------------------------------------------------------------------------
// Replies and events (engine → client), JSON text frames.

export const ApiError = z.object({
  /** Stable machine code, e.g. "template_invalid", "not_found", "bad_request". */
  code: z.string(),
  /** What went wrong, with which input, and what to do. */
  message: z.string(),
});
export type ApiError = z.infer<typeof ApiError>;

export const ReplyMessage = z.union([
  z.object({ type: z.literal('reply'), id: z.number(), ok: z.literal(true), data: z.unknown() }),
  z.object({ type: z.literal('reply'), id: z.number(), ok: z.literal(false), error: ApiError }),
]);
export type ReplyMessage = z.infer<typeof ReplyMessage>;

export const LaunchProgress = z.object({
  runId: z.string(),
  phase: z.enum(['validating', 'worktrees', 'starting', 'done', 'failed']),
  done: z.number().int(),
  total: z.number().int(),
  message: z.string(),
});
export type LaunchProgress = z.infer<typeof LaunchProgress>;

export const EngineEvent = z.discriminatedUnion('event', [
  z.object({ type: z.literal('event'), event: z.literal('run'), run: RunInfo }),
  z.object({ type: z.literal('event'), event: z.literal('session'), session: SessionInfo }),
  z.object({ type: z.literal('event'), event: z.literal('launchProgress'), progress: LaunchProgress }),
  z.object({ type: z.literal('event'), event: z.literal('spend'), spend: SessionSpend }),
  z.object({ type: z.literal('event'), event: z.literal('runSpend'), spend: RunSpend }),
  z.object({
    type: z.literal('event'),
    event: z.literal('budget'),
    scope: z.enum(['session', 'run']),
    id: z.string(),
    /** 80: warning; 100: used up (further model requests are refused). */
    level: z.union([z.literal(80), z.literal(100)]),
    usd: z.number(),
    budgetUsd: z.number(),
  }),
  z.object({ type: z.literal('event'), event: z.literal('intent'), intent: EditIntent }),
  z.object({ type: z.literal('event'), event: z.literal('changes'), sessionId: z.string(), files: z.array(ChangedFile) }),
  z.object({ type: z.literal('event'), event: z.literal('conflicts'), runId: z.string(), warnings: z.array(ConflictWarning) }),
  z.object({ type: z.literal('event'), event: z.literal('upstreamError'), sessionId: z.string(), error: UpstreamErrorInfo }),
  z.object({
    type: z.literal('event'),
    event: z.literal('exit'),
    sessionId: z.string(),
    exitCode: z.number().nullable(),
    signal: z.string().nullable(),
  }),
]);
export type EngineEvent = z.infer<typeof EngineEvent>;

// ---------------------------------------------------------------------------------------------------------------------
// Binary frames (engine → client): terminal output of one subscribed session.
//   byte 0      FrameKind.Output
//   byte 1      n = byte length of the session id (ASCII)
//   bytes 2..   session id, then the raw output bytes (UTF-8 as the pty produced them)

export const FrameKind = { Output: 1 } as const;

export function encodeOutputFrame(sessionId: string, data: Uint8Array): Uint8Array {
  const id = new TextEncoder().encode(sessionId);
  if (id.length > 255) throw new Error(`session id too long for a frame: ${sessionId}`);
  const frame = new Uint8Array(2 + id.length + data.length);
  frame[0] = FrameKind.Output;
  frame[1] = id.length;
  frame.set(id, 2);
  frame.set(data, 2 + id.length);
  return frame;
}

export function decodeOutputFrame(frame: Uint8Array): { sessionId: string; data: Uint8Array } {
  if (frame.length < 2 || frame[0] !== FrameKind.Output) throw new Error('not an output frame');
  const n = frame[1]!;
  const sessionId = new TextDecoder().decode(frame.subarray(2, 2 + n));
  return { sessionId, data: frame.subarray(2 + n) };
}

// ---------------------------------------------------------------------------------------------------------------------
// The `flotilla run --json` report. Later issues fill spend and conflicts; the keys exist from the start.

export const SpendSummary = z.object({
  usd: z.number(),
  inputTokens: z.number().int(),
  cacheReadTokens: z.number().int(),
  outputTokens: z.number().int(),
  requests: z.number().int(),
});
export type SpendSummary = z.infer<typeof SpendSummary>;

export const ConflictKind = z.enum(['overlap', 'conflict', 'drift', 'intent']);

export const RunReport = z.object({
  run: z.object({ id: z.string(), name: z.string(), startedAt: z.string(), endedAt: z.string().nullable() }),
  sessions: z.array(
    z.object({
      id: z.string(),
      slot: z.number().int(),
      task: z.string().nullable(),
      status: SessionStatus,
      exitCode: z.number().int().nullable(),
      branch: z.string().nullable(),
      worktree: z.string(),
      spend: SpendSummary,
      changedFiles: z.array(z.string()),
    }),
  ),
  conflicts: z.array(z.object({ path: z.string(), sessions: z.array(z.string()), kind: ConflictKind })),
  totals: z.object({ usd: z.number(), requests: z.number().int() }),
});
export type RunReport = z.infer<typeof RunReport>;
