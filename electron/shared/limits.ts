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
