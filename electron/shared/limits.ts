// Constants both sides of the wire use. Pure.

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

/** The terminals' sizes and the interface settings' ranges: the contract's schemas, the engine and the UI read them here. */
export const TerminalLimits = {
  MinCols: 2,
  MaxCols: 1_000,
  MinRows: 1,
  MaxRows: 500,
  FontSize: { min: 8, max: 32, default: 12 },
  /** Lines a grid tile keeps (the engine's mirror keeps the rest). */
  GridScrollback: { min: 100, max: 100_000, default: 1_000 },
  /** Lines the terminal shown large (focus mode) keeps at least. */
  FocusScrollback: 10_000,
  /** How often background tiles draw small outputs, in ms (see the renderer's WriteScheduler). */
  BackgroundRefreshMs: { min: 100, max: 5_000, default: 500 },
} as const;
