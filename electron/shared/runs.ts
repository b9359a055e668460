// Runs and their sessions: what a run is, each session's state, launching, the headless report.
import { z } from 'zod';
import { ConflictKind } from './review.ts';
import { SpendSummary } from './spend.ts';

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
  /** Its requests are held because their spend cannot be recorded (the data dir's disk is full); they go on by themselves. */
  'held',
  /** The provider refused a request (a 4xx other than a rate limit): the user has something to fix. */
  'rejected',
  /** Its engine or pty host died while it ran: Resume (Claude Code) or Restart brings it back. */
  'interrupted',
]);
export type SessionStatus = z.infer<typeof SessionStatus>;

/** Statuses after which the session's process is gone. */
export const FINAL_STATUSES: readonly SessionStatus[] = ['done', 'failed', 'stopped', 'interrupted'];
export const isFinalStatus = (s: SessionStatus): boolean => FINAL_STATUSES.includes(s);

/** The statuses the meter sets on a session (and so may lift: `working`). */
export const METER_STATUSES = ['over_budget', 'rate_limited', 'held', 'rejected'] as const satisfies readonly SessionStatus[];
/** The meter's verdict on a session: one of its statuses, or back to work. */
export type MeterVerdict = (typeof METER_STATUSES)[number] | 'working';

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
  /** The host it runs on (flotilla hosts); absent: this machine. Set by the engine that relays a host's sessions. */
  host: z.string().optional(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

export const RunState = z.enum(['launching', 'running', 'ended', 'failed']);
export type RunState = z.infer<typeof RunState>;

export const WorkspaceMode = z.enum(['worktree', 'shared']);
export type WorkspaceMode = z.infer<typeof WorkspaceMode>;

/** Budgets in USD; null = none. */
export const Budget = z.object({ perSessionUsd: z.number().nullable(), runUsd: z.number().nullable() });
export type Budget = z.infer<typeof Budget>;

export const RunInfo = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  repo: z.string(),
  base: z.string(),
  baseCommit: z.string().nullable(),
  workspace: WorkspaceMode,
  state: RunState,
  templatePath: z.string().nullable(),
  model: z.string(),
  agentPreset: z.string(),
  providerPreset: z.string(),
  budget: Budget,
  concurrency: z.number().int(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  error: z.string().nullable(),
  /** The host it runs on; absent: this machine. */
  host: z.string().optional(),
  /** How its sessions are contained, e.g. "podman · 2 CPUs · 2g · meter-only" (live runs; absent: not sandboxed). */
  sandbox: z.string().optional(),
  /** Per slot (index = slot - 1) when a template's slots are contained differently; null: that slot runs on the host. */
  sandboxes: z.array(z.string().nullable()).optional(),
});
export type RunInfo = z.infer<typeof RunInfo>;

export const LaunchProgress = z.object({
  runId: z.string(),
  phase: z.enum(['validating', 'worktrees', 'starting', 'done', 'failed']),
  done: z.number().int(),
  total: z.number().int(),
  message: z.string(),
});
export type LaunchProgress = z.infer<typeof LaunchProgress>;

export const LaunchResult = z.object({
  run: RunInfo,
  sessions: z.array(SessionInfo),
  /** What the user should know about this launch (e.g. a model with no known window and what is assumed). */
  notices: z.array(z.string()).optional(),
});
export type LaunchResult = z.infer<typeof LaunchResult>;

/** A session's screen, serialized by the engine's headless mirror: write `data` into a terminal of cols × rows. */
export const SnapshotResult = z.object({ sessionId: z.string(), cols: z.number(), rows: z.number(), data: z.string() });
export type SnapshotResult = z.infer<typeof SnapshotResult>;

export const TemplateSource = z.enum(['repo', 'data']);
export type TemplateSource = z.infer<typeof TemplateSource>;

export const TemplateEntry = z.object({ name: z.string(), path: z.string(), source: TemplateSource });
export type TemplateEntry = z.infer<typeof TemplateEntry>;

export const SavedTemplate = TemplateEntry.extend({ overwritten: z.boolean() });
export type SavedTemplate = z.infer<typeof SavedTemplate>;

export const TemplateText = z.object({ text: z.string() });
export type TemplateText = z.infer<typeof TemplateText>;

/** The `flotilla run --json` report. */
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
      /** The model the session ran (a template may give each slot its own). */
      model: z.string(),
      spend: SpendSummary,
      /** Compatibility rules that rewrote this session's requests, and how often (this engine's count). */
      compat: z.array(z.object({ rule: z.string(), count: z.number().int() })),
      changedFiles: z.array(z.string()),
      /** The base branch already has its changes (merged). */
      merged: z.boolean(),
      /** Its branch is on a remote at its current commit (as the local remote-tracking ref says). */
      pushed: z.boolean(),
      /** Its place in the merge plan (1 = merge first); null when merged, not done, or in a shared checkout. */
      planPosition: z.number().int().nullable(),
    }),
  ),
  conflicts: z.array(z.object({ path: z.string(), sessions: z.array(z.string()), kind: ConflictKind })),
  totals: z.object({ usd: z.number(), requests: z.number().int() }),
  /** Runs of several providers: who served what (see provider-table.ts); absent for a run of one provider. */
  providers: z
    .array(
      z.object({
        provider: z.string(),
        requests: z.number().int(),
        ttftP50Ms: z.number().nullable(),
        tokensPerSecP50: z.number().nullable(),
        usd: z.number(),
        errors: z.number().int(),
        failovers: z.number().int(),
      }),
    )
    .optional(),
});
export type RunReport = z.infer<typeof RunReport>;
