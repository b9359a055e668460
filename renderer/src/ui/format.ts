import type { SessionStatus } from '../../../electron/shared/contract.ts';

/** Dollars: 4 decimals below $1 (a session's first requests cost fractions of a cent), 2 above. */
export function usd(n: number): string {
  const abs = Math.abs(n);
  return `${n < 0 ? '−' : ''}$${abs < 1 ? abs.toFixed(4) : abs.toFixed(2)}`;
}

export function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

export const STATUS_LABEL: Record<SessionStatus, string> = {
  queued: 'queued',
  starting: 'starting',
  working: 'working',
  needs_you: 'needs you',
  idle: 'idle',
  done: 'done',
  failed: 'failed',
  stopped: 'stopped',
  over_budget: 'over budget',
  rate_limited: 'rate limited',
  held: 'held — disk full',
  rejected: 'provider rejected',
  interrupted: 'interrupted',
};

export const STATUS_ORDER: SessionStatus[] = [
  'needs_you',
  'rejected',
  'working',
  'starting',
  'queued',
  'idle',
  'rate_limited',
  'held',
  'over_budget',
  'done',
  'failed',
  'interrupted',
  'stopped',
];

/** Statuses where the session waits for the user: a question, a request the provider refused, a request held over budget. */
export const needsYou = (s: SessionStatus): boolean => s === 'needs_you' || s === 'rejected' || s === 'over_budget';
