// Moonshot's account limits in the stand-in (`startUpstream({ rateLimits })`): requests in flight, requests and tokens
// per window. A model request beyond one is answered 429 `rate_limit_reached_error` in Moonshot's words, with a
// `retry-after` (seconds until the window frees a slot; 1 for concurrency), as the real account does. Tokens are the
// request's size at the start (JSON length / 4, the estimate its usage figures start from); what Moonshot really counts
// is not documented.
import type http from 'node:http';

export interface RateLimits {
  concurrency?: number;
  rpm?: number;
  tpm?: number;
  /** The window rpm and tpm count over (default 60 000 ms; benches scale it down). */
  windowMs?: number;
}

export interface RateRefusal {
  message: string;
  retryAfterS: number;
}

export class RateLimiter {
  private inFlight = 0;
  private readonly starts: number[] = [];
  private readonly tokens: { at: number; n: number }[] = [];
  /** 429s answered, by limit. */
  readonly refused = { concurrency: 0, rpm: 0, tpm: 0 };

  constructor(private readonly l: RateLimits) {}

  /** Null when the request may run (it is then counted until `res` closes); else the refusal. */
  admit(body: unknown, res: http.ServerResponse): RateRefusal | null {
    const now = Date.now();
    const win = this.l.windowMs ?? 60_000;
    while (this.starts.length && this.starts[0]! <= now - win) this.starts.shift();
    while (this.tokens.length && this.tokens[0]!.at <= now - win) this.tokens.shift();
    const n = Math.ceil(JSON.stringify(body ?? '').length / 4);
    const secs = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
    if (this.l.concurrency !== undefined && this.inFlight >= this.l.concurrency) {
      this.refused.concurrency++;
      return {
        message: `Your account request reached organization max concurrency: ${this.l.concurrency}, please try again after 1 seconds`,
        retryAfterS: 1,
      };
    }
    if (this.l.rpm !== undefined && this.starts.length >= this.l.rpm) {
      this.refused.rpm++;
      const wait = secs(this.starts[this.starts.length - this.l.rpm]! + win - now);
      return {
        message: `Your account request reached organization max RPM: ${this.l.rpm}, please try again after ${wait} seconds`,
        retryAfterS: wait,
      };
    }
    const used = this.tokens.reduce((a, t) => a + t.n, 0);
    if (this.l.tpm !== undefined && used > 0 && used + n > this.l.tpm) {
      this.refused.tpm++;
      const wait = secs(this.tokens[0]!.at + win - now);
      return {
        message: `Your account request reached organization TPM rate limit: ${this.l.tpm}, please try again after ${wait} seconds`,
        retryAfterS: wait,
      };
    }
    this.inFlight++;
    this.starts.push(now);
    this.tokens.push({ at: now, n });
    res.once('close', () => this.inFlight--);
    return null;
  }
}
