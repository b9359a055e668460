// A full disk, told apart from other failures: the errors a write gives when the data dir's filesystem has no room
// (or quota) left, or fails underneath — Node's ENOSPC, EDQUOT, EIO, and what SQLite says for the same.

const CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO']);
const SQLITE = /database or disk is full|disk I\/O error|no space left on device|quota exceeded/i;

/** Whether `err` says the disk under a write is full (or failing): then the write can succeed later, once space returns. */
export function isDiskFull(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  if (code && CODES.has(code)) return true;
  return SQLITE.test(err.message);
}

export const MB = 1024 * 1024;

/** "12.5 MB" */
export function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(bytes < 10 * MB ? 1 : 0)} MB`;
}
