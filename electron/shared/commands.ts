// Commands (client → engine): each declares its arguments and its result. Over WebSocket as {id, cmd, args} answered
// by a reply; over HTTP as POST /api/<cmd> with the args as the body, answered {ok, data} or {ok: false, error}.
// `stream` commands only make sense on a socket (they start or stop its output frames).
import { z } from 'zod';
import { ApiError } from './errors.ts';
import {
  CleanResult,
  CommitResult,
  ChangedFile,
  ConflictWarning,
  WatchFailure,
  FileDiff,
  MergeAllResult,
  MergePlan,
  MergeResult,
  PatchResult,
  PathDiff,
  PushResult,
  RebaseResult,
  WorktreeLocation,
} from './review.ts';
import { LaunchResult, RunInfo, RunReport, SavedTemplate, SessionInfo, SnapshotResult, TemplateEntry, TemplateText } from './runs.ts';
import { GovernorKey } from './governor.ts';
import { HostView } from './hosts.ts';
import { EngineHealth } from './health.ts';
import { TerminalLimits } from './limits.ts';
import { Settings, SettingsView } from './settings.ts';
import { Balance, LedgerRow, ModelList, PriceEntry, RejectedRequest, SpendOverview } from './spend.ts';

interface CommandSpec<A extends z.ZodType, R extends z.ZodType, S extends boolean> {
  args: A;
  result: R;
  stream: S;
}

function command<A extends z.ZodType, R extends z.ZodType>(args: A, result: R): CommandSpec<A, R, false> {
  return { args, result, stream: false };
}
function streamCommand<A extends z.ZodType, R extends z.ZodType>(args: A, result: R): CommandSpec<A, R, true> {
  return { args, result, stream: true };
}

const none = z.null();
const noArgs = z.object({});
const session = z.object({ sessionId: z.string() });
/** How often a background tile that gets screens instead of the stream is sent one (its Settings → Interface refresh). */
const refreshMs = z.number().int().min(TerminalLimits.BackgroundRefreshMs.min).max(TerminalLimits.BackgroundRefreshMs.max).optional();
const run = z.object({ runId: z.string() });

export const LaunchArgs = z.object({
  /** Path of a template file, or the template's YAML text in `templateText`. */
  templatePath: z.string().optional(),
  templateText: z.string().optional(),
  repo: z.string().optional(),
  count: z.number().int().optional(),
  /** Overrides of template fields (validated like the template itself). */
  overrides: z.record(z.string(), z.unknown()).optional(),
  /** A host (flotilla hosts) to run on instead of this machine; default: the template's `host:`. */
  host: z.string().optional(),
});

export const Commands = {
  launch: command(LaunchArgs, LaunchResult),
  /** Launches the built-in demo: a simulated K2 provider and demo agents in a scratch repository (no API key). */
  demo: command(z.object({ count: z.number().int().min(1).max(16).optional() }), LaunchResult),
  listRuns: command(noArgs, z.array(RunInfo)),
  /** Every run's spend from the ledger (the run picker's figures). */
  runTotals: command(noArgs, z.array(z.object({ runId: z.string(), usd: z.number(), requests: z.number().int() }))),
  listSessions: command(z.object({ runId: z.string().optional() }), z.array(SessionInfo)),

  /** The screen so far, then every later byte as output frames on this socket. A queued session can be watched too. */
  /**
   * `quiet`: a background tile — small outputs may come up to a quarter second late, batched with other sessions', and
   * while it gets more than it can draw it is sent screens (Screen frames) every `refreshMs` instead of the stream.
   */
  subscribe: streamCommand(session.extend({ quiet: z.boolean().optional(), refreshMs }), SnapshotResult),
  unsubscribe: streamCommand(session, none),
  /** A subscribed session becomes quiet (its tile went to the background) or live (it was focused). */
  pace: streamCommand(session.extend({ quiet: z.boolean(), refreshMs }), none),
  snapshot: command(session, SnapshotResult),
  input: command(z.object({ sessionId: z.string(), data: z.string() }), none),
  resize: command(
    z.object({
      sessionId: z.string(),
      cols: z.number().int().min(TerminalLimits.MinCols).max(TerminalLimits.MaxCols),
      rows: z.number().int().min(TerminalLimits.MinRows).max(TerminalLimits.MaxRows),
    }),
    none,
  ),

  stop: command(session, none),
  restart: command(session, none),
  /** Brings back a session (of this or an earlier engine) in its worktree; Claude Code continues its conversation. */
  resume: command(session, none),
  stopRun: command(run, none),
  /** Removes a run's worktrees and branches (the run must have ended). */
  cleanRun: command(run, CleanResult),
  report: command(run, RunReport),

  spend: command(run, SpendOverview),
  ledger: command(run, z.array(LedgerRow)),
  /** Sets a new budget (USD) for one session or for a run, kept in the store; an over-budget session carries on. */
  raiseBudget: command(z.object({ sessionId: z.string().optional(), runId: z.string().optional(), usd: z.number().positive() }), none),
  /**
   * Declines to raise: the session's held requests are answered with the budget error now (402, which agents show and
   * do not retry) instead of when the hold times out.
   */
  declineBudget: command(session, none),
  /** The rate governor per provider key: limits, what runs now, what waits. */
  governor: command(noArgs, z.array(GovernorKey)),
  prices: command(noArgs, z.array(PriceEntry)),
  /** The provider account's balance, where the provider has an endpoint for it (Moonshot). */
  balance: command(run, Balance),
  /** The session's last request the provider refused, as saved (secrets removed), with a curl line to resend it. */
  rejectedRequest: command(session, RejectedRequest.nullable()),
  /**
   * Models to offer for a provider preset (default moonshot): the provider's `GET /v1/models` when its key is set, else
   * the shipped price table.
   */
  listModels: command(z.object({ provider: z.string().optional() }), ModelList),

  /** Changed files of a session; in a shared workspace every change of the checkout, attributed (`sessions`). */
  changes: command(session, z.array(ChangedFile)),
  conflicts: command(run, z.array(ConflictWarning)),
  /** The run's sessions whose worktrees cannot be watched for edits (each is rescanned every few seconds instead). */
  watchFailures: command(run, z.array(WatchFailure)),
  diff: command(z.object({ sessionId: z.string(), path: z.string() }), FileDiff),
  /** One path as changed by several sessions, for side-by-side comparison. */
  pathAcross: command(z.object({ runId: z.string(), path: z.string(), sessionIds: z.array(z.string()).optional() }), z.array(PathDiff)),
  commit: command(z.object({ sessionId: z.string(), message: z.string().min(1) }), CommitResult),
  /** Squash-merge a session into the run's base branch (or `target`). */
  merge: command(z.object({ sessionId: z.string(), message: z.string().optional(), target: z.string().optional() }), MergeResult),
  /**
   * The done sessions (or `sessionIds`) in the order to merge them: those that conflict with nobody first, each with
   * whether it merges into the base now and whom it conflicts with (blockedBy: conflicting sessions planned before it).
   */
  mergePlan: command(z.object({ runId: z.string(), sessionIds: z.array(z.string()).optional() }), MergePlan),
  /** Merges, in plan order, every step that is clean and blocked by none; the rest stay, checked against the new base. */
  mergeAllClean: command(run, MergeAllResult),
  /** Types `text` into the session's agent as its next prompt (and Enter): it goes back to work. */
  sendFeedback: command(z.object({ sessionId: z.string(), text: z.string().trim().min(1) }), none),
  /**
   * Brings a session whose work conflicts with the base up to date: a running agent is asked to rebase (a prompt naming
   * the conflicting paths); a shell session's worktree runs `git rebase` and stops on the conflicts for you to resolve.
   */
  rebase: command(session, RebaseResult),
  /** Pushes the session's branch and opens a pull request with the GitHub CLI (gh): its task as title, its files as body. */
  openPullRequest: command(z.object({ sessionId: z.string(), remote: z.string().optional() }), z.object({ url: z.string() })),
  /** Commits the session's work (message from its task) and pushes its branch to a remote of the repo (default origin). */
  push: command(z.object({ sessionId: z.string(), remote: z.string().optional() }), PushResult),
  /** Removes the session's worktree and branch; `confirm` must be true. */
  discard: command(z.object({ sessionId: z.string(), confirm: z.boolean() }), none),
  exportPatch: command(session, PatchResult),
  worktreePath: command(session, WorktreeLocation),
  /** Opens the session's worktree in the user's editor or a terminal there (on the engine's machine); answers the program. */
  openIn: command(
    z.object({ sessionId: z.string(), app: z.enum(['editor', 'terminal']) }),
    z.object({ command: z.string(), path: z.string() }),
  ),
  /** The engine's own health: whether it can write to its data dir's disk, and what is held meanwhile. */
  health: command(noArgs, EngineHealth),
  /** The hosts whose engines this one relays (Settings → Hosts), with their connection states. */
  listHosts: command(noArgs, z.array(HostView)),
  /** Adds a host (name, SSH destination) and connects to it when an engine runs there. */
  addHost: command(z.object({ name: z.string(), destination: z.string() }), HostView),
  /** Removes a host: its connection closes; its engine and sessions there carry on. */
  removeHost: command(z.object({ name: z.string() }), none),
  /** Where the engine keeps its data and its logs (Open logs, the About box). */
  paths: command(noArgs, z.object({ dataDir: z.string(), logs: z.string() })),

  /** Settings (prices, reference model, default budgets) and which provider keys are set — never their values. */
  settings: command(noArgs, SettingsView),
  saveSettings: command(z.object({ settings: z.unknown() }), Settings),
  /**
   * Sets a provider key for this engine; null removes it. `persist` (default true): also keep it in the data dir (0600) —
   * the headless engine's store. The desktop app sends false: it keeps keys encrypted itself and hands them over at start.
   */
  setProviderKey: command(z.object({ name: z.string(), value: z.string().nullable(), persist: z.boolean().optional() }), none),

  /** Templates in `<repo>/.flotilla/templates/` (repo default: the engine's cwd) and `<dataDir>/templates/`. */
  listTemplates: command(z.object({ repo: z.string().optional() }), z.array(TemplateEntry)),
  /** The text of a template file; only files inside the two template folders are read. */
  readTemplate: command(z.object({ path: z.string(), repo: z.string().optional() }), TemplateText),
  /** Validates `text` as a template, then writes `<dir>/<kebab name>.yaml`; refuses to overwrite unless `overwrite`. */
  saveTemplate: command(
    z.object({
      name: z.string().min(1),
      text: z.string(),
      where: z.enum(['repo', 'data']),
      repo: z.string().optional(),
      overwrite: z.boolean().optional(),
    }),
    SavedTemplate,
  ),
} as const;

export type CommandName = keyof typeof Commands;
type Spec<C extends CommandName> = (typeof Commands)[C];
/** What a caller passes. */
export type CommandArgs<C extends CommandName> = z.input<Spec<C>['args']>;
/** What a handler receives (after validation). */
export type ParsedArgs<C extends CommandName> = z.output<Spec<C>['args']>;
/** What a command answers. */
export type CommandResult<C extends CommandName> = z.output<Spec<C>['result']>;
export type StreamCommandName = { [C in CommandName]: Spec<C>['stream'] extends true ? C : never }[CommandName];

export const COMMAND_NAMES = Object.keys(Commands) as CommandName[];
export const isCommandName = (s: string): s is CommandName => Object.hasOwn(Commands, s);

/** Anything that can run a command: the WebSocket client, the HTTP client, the engine in-process. */
export interface CommandCaller {
  call<C extends CommandName>(cmd: C, args: CommandArgs<C>): Promise<CommandResult<C>>;
}

// ---------------------------------------------------------------------------------------------------------------------
// Messages

export const CommandMessage = z.object({ id: z.number().int(), cmd: z.string(), args: z.unknown().optional() });
export type CommandMessage = z.infer<typeof CommandMessage>;

/**
 * Flow control (socket only, no reply): the client has parsed `bytes` more of a subscribed session's output. Sent as
 * {id: 0, cmd: 'ack', args}; it is not a command (nothing answers it).
 */
export const ACK = 'ack';
export const AckArgs = z.object({ sessionId: z.string(), bytes: z.number().int().min(0) });
export type AckArgs = z.infer<typeof AckArgs>;

export const ReplyMessage = z.union([
  z.object({ type: z.literal('reply'), id: z.number(), ok: z.literal(true), data: z.unknown() }),
  z.object({ type: z.literal('reply'), id: z.number(), ok: z.literal(false), error: ApiError }),
]);
export type ReplyMessage = z.infer<typeof ReplyMessage>;

/** POST /api/<cmd> answers. */
export const HttpReply = z.union([
  z.object({ ok: z.literal(true), data: z.unknown() }),
  z.object({ ok: z.literal(false), error: ApiError }),
]);
