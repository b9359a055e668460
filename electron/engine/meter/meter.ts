// The meter: taps every session's model traffic on the proxy, turns usage into dollars at the real prices, writes the
// ledger, enforces budgets before a request is forwarded, and reports speed, context fill, upstream errors and edit
// intents per session. The bytes an agent receives are never changed (the one exception is asking an OpenAI-style
// upstream to include usage in a stream, which adds a final chunk the client's SDK ignores).
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import {
  BILLED_USAGE_STATES,
  type BudgetAlert,
  type EngineEvent,
  type LedgerRow,
  type RunSpend,
  type SessionSpend,
  type UpstreamErrorInfo,
  type UpstreamErrorKind,
  zeroTokens,
} from '../../shared/contract.ts';
import type { MeterProxy, ProxyRequestEvent, ProxyTap, ProxyTapContext, RequestDecision } from './proxy.ts';
import { PriceTable, referenceCost } from './prices.ts';
import { SpendLedger } from './ledger.ts';
import {
  type ApiStyle,
  type TokenCounts,
  classifyUpstreamError,
  createResponseParser,
  inspectRequest,
  isBillable,
  tokensFromChars,
  wireStyleForPath,
} from './usage/index.ts';

/** Spend events per session at most this often (the UI redraws a few times a second at most). */
const SPEND_EVENT_INTERVAL_MS = 250;
/** An open ledger row gets the usage seen so far at most this often, so a crash loses little. */
const LEDGER_PROGRESS_INTERVAL_MS = 1_000;
/** How long an agent is told to wait before retrying a request refused for budget (Claude Code honours retry-after). */
const BUDGET_RETRY_AFTER_S = 5;

export interface MeteredSession {
  sessionId: string;
  runId: string;
  style: ApiStyle;
  /** The template's model, used when a request names none. */
  model: string;
  budgetUsd: number | null;
}

export interface MeteredRun {
  runId: string;
  budgetUsd: number | null;
  prices: PriceTable;
  referenceModel: string;
}

interface InFlight {
  /** Null for the one tick between forwarding and writing the row (the write is kept off the request's path). */
  rowId: number | null;
  settled: boolean;
  model: string | null;
  startedAt: number;
  firstTokenAt: number | null;
  promptTokensEstimate: number;
  usage: TokenCounts | null;
  estimatedOutputTokens: number;
  lastProgressAt: number;
}

interface SessionState {
  info: MeteredSession;
  run: RunState;
  inFlight: Set<InFlight>;
  /** Exact totals from the ledger, refreshed when a request closes. */
  settled: LedgerTotals;
  ttftMs: number | null;
  tokensPerSec: number | null;
  contextTokens: number | null;
  contextWindow: number | null;
  lastError: UpstreamErrorInfo | null;
  warned80: boolean;
  over: boolean;
  emitTimer: NodeJS.Timeout | null;
}

interface RunState {
  info: MeteredRun;
  sessions: Set<SessionState>;
  warned80: boolean;
  over: boolean;
  emitTimer: NodeJS.Timeout | null;
}

type LedgerTotals = ReturnType<SpendLedger['totals']>;

export type MeterEvents = {
  /** What clients hear: spend, runSpend, budget, intent and upstreamError events, as the contract shapes them. */
  event: [EngineEvent];
  /** The meter's view of a session's status: over budget, rate limited, or back to work. */
  status: [string, 'over_budget' | 'rate_limited' | 'working', string | null];
};

const zeroUsage = zeroTokens;

export class Meter extends EventEmitter<MeterEvents> {
  private readonly sessions = new Map<string, SessionState>();
  private readonly runs = new Map<string, RunState>();

  constructor(
    private readonly ledger: SpendLedger,
    proxy: MeterProxy,
  ) {
    super();
    proxy.setTapFactory((ctx) => this.tap(ctx));
  }

  addRun(info: MeteredRun): void {
    const existing = this.runs.get(info.runId);
    if (existing) existing.info = info;
    else this.runs.set(info.runId, { info, sessions: new Set(), warned80: false, over: false, emitTimer: null });
  }

  addSession(info: MeteredSession): void {
    const run = this.runs.get(info.runId);
    if (!run) throw new Error(`meter: run ${info.runId} was not added before its session`);
    const prior = this.sessions.get(info.sessionId);
    if (prior) {
      prior.info = info;
      return;
    }
    const s: SessionState = {
      info,
      run,
      inFlight: new Set(),
      settled: this.ledger.totals({ sessionId: info.sessionId }),
      ttftMs: null,
      tokensPerSec: null,
      contextTokens: null,
      contextWindow: run.info.prices.contextWindow(info.model),
      lastError: null,
      warned80: false,
      over: false,
      emitTimer: null,
    };
    run.sessions.add(s);
    this.sessions.set(info.sessionId, s);
  }

  /** A new budget for a session or a run; an over-budget session carries on with its next request. */
  setBudget(target: { sessionId: string } | { runId: string }, usd: number | null): void {
    if ('sessionId' in target) {
      const s = this.sessions.get(target.sessionId);
      if (!s) throw new Error(`no metered session ${target.sessionId}`);
      s.info = { ...s.info, budgetUsd: usd };
      s.warned80 = false;
      this.clearOver(s);
      this.scheduleSpend(s);
    } else {
      const run = this.runs.get(target.runId);
      if (!run) throw new Error(`no metered run ${target.runId}`);
      run.info = { ...run.info, budgetUsd: usd };
      run.warned80 = false;
      run.over = false;
      for (const s of run.sessions) this.clearOver(s);
      this.scheduleRunSpend(run);
    }
  }

  sessionSpend(sessionId: string): SessionSpend | null {
    const s = this.sessions.get(sessionId);
    return s ? this.snapshot(s) : null;
  }

  runSpend(runId: string): RunSpend | null {
    const run = this.runs.get(runId);
    return run ? this.runSnapshot(run) : null;
  }

  ledgerRows(runId: string): LedgerRow[] {
    return this.ledger.rows(runId);
  }

  close(): void {
    for (const s of this.sessions.values()) if (s.emitTimer) clearTimeout(s.emitTimer);
    for (const r of this.runs.values()) if (r.emitTimer) clearTimeout(r.emitTimer);
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Figures

  private cost(run: RunState, model: string | null, u: TokenCounts) {
    return run.info.prices.cost(model, u);
  }

  /** Dollars of a session: settled ledger rows plus live estimates of requests still streaming. */
  private liveUsd(s: SessionState): { usd: number; estimateUsd: number } {
    let estimateUsd = 0;
    for (const f of s.inFlight) estimateUsd += this.cost(s.run, f.model, this.estimateUsage(f)).usd;
    return { usd: s.settled.usd + estimateUsd, estimateUsd };
  }

  private estimateUsage(f: InFlight): TokenCounts {
    const u = f.usage ?? { ...zeroUsage(), inputTokens: f.promptTokensEstimate };
    return { ...u, outputTokens: Math.max(u.outputTokens, f.estimatedOutputTokens) };
  }

  private snapshot(s: SessionState): SessionSpend {
    const { usd, estimateUsd } = this.liveUsd(s);
    const t = s.settled;
    const live = [...s.inFlight].map((f) => this.estimateUsage(f));
    const sum = (k: keyof TokenCounts) => t[k] + live.reduce((a, u) => a + u[k], 0);
    const usage: TokenCounts = {
      inputTokens: sum('inputTokens'),
      cacheReadTokens: sum('cacheReadTokens'),
      cacheWriteTokens: sum('cacheWriteTokens'),
      outputTokens: sum('outputTokens'),
    };
    // Savings compare priced tokens only: tokens of an unpriced model have no K2 figure to compare against.
    const priced = [...s.inFlight].filter((f) => this.cost(s.run, f.model, zeroUsage()).priced).map((f) => this.estimateUsage(f));
    const pricedUsage: TokenCounts = {
      inputTokens: t.pricedUsage.inputTokens + priced.reduce((a, u) => a + u.inputTokens, 0),
      cacheReadTokens: t.pricedUsage.cacheReadTokens + priced.reduce((a, u) => a + u.cacheReadTokens, 0),
      cacheWriteTokens: t.pricedUsage.cacheWriteTokens + priced.reduce((a, u) => a + u.cacheWriteTokens, 0),
      outputTokens: t.pricedUsage.outputTokens + priced.reduce((a, u) => a + u.outputTokens, 0),
    };
    const referenceUsd = referenceCost(s.run.info.prices, s.run.info.referenceModel, pricedUsage);
    return {
      sessionId: s.info.sessionId,
      runId: s.info.runId,
      usd,
      estimateUsd,
      ...usage,
      // The ledger counts open rows as requests already; the live ones are counted once, from memory.
      requests: t.requests - t.openRequests + s.inFlight.size,
      unpricedTokens: t.unpricedTokens,
      referenceModel: s.run.info.referenceModel,
      referenceUsd,
      savingsUsd: referenceUsd - usd,
      budgetUsd: s.info.budgetUsd,
      inFlight: s.inFlight.size,
      ttftMs: s.ttftMs,
      tokensPerSec: s.tokensPerSec,
      contextFill: s.contextTokens !== null && s.contextWindow ? s.contextTokens / s.contextWindow : null,
      contextTokens: s.contextTokens,
      contextWindow: s.contextWindow,
      lastError: s.lastError,
    };
  }

  private runSnapshot(run: RunState): RunSpend {
    const parts = [...run.sessions].map((s) => this.snapshot(s));
    const total = (k: 'usd' | 'estimateUsd' | 'inputTokens' | 'cacheReadTokens' | 'cacheWriteTokens' | 'outputTokens' | 'requests' | 'unpricedTokens' | 'referenceUsd') =>
      parts.reduce((a, p) => a + p[k], 0);
    return {
      runId: run.info.runId,
      usd: total('usd'),
      estimateUsd: total('estimateUsd'),
      inputTokens: total('inputTokens'),
      cacheReadTokens: total('cacheReadTokens'),
      cacheWriteTokens: total('cacheWriteTokens'),
      outputTokens: total('outputTokens'),
      requests: total('requests'),
      unpricedTokens: total('unpricedTokens'),
      referenceModel: run.info.referenceModel,
      referenceUsd: total('referenceUsd'),
      savingsUsd: total('referenceUsd') - total('usd'),
      budgetUsd: run.info.budgetUsd,
    };
  }

  private scheduleSpend(s: SessionState): void {
    this.scheduleRunSpend(s.run);
    if (s.emitTimer) return;
    s.emitTimer = setTimeout(() => {
      s.emitTimer = null;
      this.emit('event', { type: 'event', event: 'spend', spend: this.snapshot(s) });
    }, SPEND_EVENT_INTERVAL_MS);
  }

  private scheduleRunSpend(run: RunState): void {
    if (run.emitTimer) return;
    run.emitTimer = setTimeout(() => {
      run.emitTimer = null;
      this.emit('event', { type: 'event', event: 'runSpend', spend: this.runSnapshot(run) });
    }, SPEND_EVENT_INTERVAL_MS);
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Budgets

  private checkBudgets(s: SessionState): void {
    const sUsd = this.liveUsd(s).usd;
    const budget = s.info.budgetUsd;
    if (budget !== null) {
      if (!s.warned80 && sUsd >= 0.8 * budget) {
        s.warned80 = true;
        this.budgetAlert({ scope: 'session', id: s.info.sessionId, level: 80, usd: sUsd, budgetUsd: budget });
      }
    }
    const run = s.run;
    const rBudget = run.info.budgetUsd;
    if (rBudget !== null && !run.warned80) {
      const rUsd = this.runSnapshot(run).usd;
      if (rUsd >= 0.8 * rBudget) {
        run.warned80 = true;
        this.budgetAlert({ scope: 'run', id: run.info.runId, level: 80, usd: rUsd, budgetUsd: rBudget });
      }
    }
  }

  /** Null if the session may spend; else why not, in words that say how to carry on. */
  private budgetRefusal(s: SessionState): string | null {
    const budget = s.info.budgetUsd;
    const usd = this.liveUsd(s).usd;
    if (budget !== null && usd >= budget) {
      if (!s.over) this.budgetAlert({ scope: 'session', id: s.info.sessionId, level: 100, usd, budgetUsd: budget });
      return (
        `Flotilla: this session's budget of $${budget.toFixed(2)} is used up ($${usd.toFixed(4)} spent). ` +
        'Raise the session budget in Flotilla (Spend → Raise budget, or the raiseBudget command) and this session carries on.'
      );
    }
    const run = s.run;
    const rBudget = run.info.budgetUsd;
    if (rBudget !== null) {
      const rUsd = this.runSnapshot(run).usd;
      if (rUsd >= rBudget) {
        if (!run.over) {
          run.over = true;
          this.budgetAlert({ scope: 'run', id: run.info.runId, level: 100, usd: rUsd, budgetUsd: rBudget });
        }
        return (
          `Flotilla: the run's budget of $${rBudget.toFixed(2)} is used up ($${rUsd.toFixed(4)} spent by all its sessions). ` +
          'Raise the run budget in Flotilla (Spend → Raise budget, or the raiseBudget command) and the sessions carry on.'
        );
      }
    }
    return null;
  }

  private budgetAlert(b: BudgetAlert): void {
    this.emit('event', { type: 'event', event: 'budget', ...b });
  }

  private upstreamError(sessionId: string, error: UpstreamErrorInfo): void {
    this.emit('event', { type: 'event', event: 'upstreamError', sessionId, error });
  }

  private clearOver(s: SessionState): void {
    if (!s.over) return;
    s.over = false;
    this.emit('status', s.info.sessionId, 'working', null);
  }

  // -------------------------------------------------------------------------------------------------------------------
  // The tap

  private tap(ctx: ProxyTapContext): ProxyTap | null {
    const s = this.sessions.get(ctx.sessionId);
    if (!s || !isBillable(s.info.style, ctx.method, ctx.path)) return null;
    // The path decides the wire format (an OpenAI-style agent may use /responses as well as /chat/completions).
    const style = wireStyleForPath(ctx.path) ?? s.info.style;
    let flight: InFlight | null = null;
    let parser: ReturnType<typeof createResponseParser> | null = null;
    let status = 0;
    const meter = this;

    return {
      onRequestBody(body: Buffer): RequestDecision | void {
        const refusal = meter.budgetRefusal(s);
        const req = inspectRequest(style, ctx.path, body);
        const model = req.model ?? s.info.model;
        if (refusal) {
          const wasOver = s.over;
          s.over = true;
          meter.ledger.refuse({ sessionId: s.info.sessionId, runId: s.info.runId, model, startedAt: new Date(ctx.startedAt).toISOString() });
          s.settled.refused += 1;
          if (!wasOver) meter.emit('status', s.info.sessionId, 'over_budget', refusal.split(' (')[0]!.replace('Flotilla: ', ''));
          const info: UpstreamErrorInfo = { kind: 'budget', status: 429, type: 'budget_exceeded', message: refusal, at: new Date().toISOString() };
          s.lastError = info;
          meter.upstreamError(s.info.sessionId, info);
          meter.scheduleSpend(s);
          return {
            refuse: {
              status: 429,
              type: style === 'anthropic' ? 'rate_limit_error' : 'budget_exceeded',
              message: refusal,
              // Agents retry a 429 after retry-after: once the budget is raised, the retry goes through.
              headers: { 'retry-after': String(BUDGET_RETRY_AFTER_S), 'x-should-retry': 'true' },
            },
          };
        }
        const f: InFlight = {
          rowId: null,
          settled: false,
          model,
          startedAt: ctx.startedAt,
          firstTokenAt: null,
          promptTokensEstimate: tokensFromChars(req.promptChars),
          usage: null,
          estimatedOutputTokens: 0,
          lastProgressAt: ctx.startedAt,
        };
        flight = f;
        // The ledger row is written right after the request goes upstream (next check phase), not before: a synchronous
        // SQLite write would sit on the time to first byte. A crash in between loses at most that one tick.
        setImmediate(() => meter.openRow(s, f));
        s.inFlight.add(flight);
        meter.scheduleSpend(s);
        return req.rewritten ? { body: req.rewritten } : undefined;
      },
      onResponse(st: number, headers: http.IncomingHttpHeaders) {
        status = st;
        const f = flight;
        if (!f) return;
        parser = createResponseParser(style, {
          status: st,
          contentType: headers['content-type'],
          events: {
            onFirstToken: () => {
              f.firstTokenAt = Date.now();
            },
            onProgress: (p) => {
              // The first usage (Anthropic's message_start: the input tokens) is written at once, so a crash in the
              // first second of a response still leaves them in the ledger; later figures at most once a second.
              const first = f.usage === null && p.usage !== null;
              f.usage = p.usage;
              f.estimatedOutputTokens = p.estimatedOutputTokens;
              const now = Date.now();
              if (f.rowId !== null && (first || now - f.lastProgressAt >= LEDGER_PROGRESS_INTERVAL_MS)) meter.writeProgress(s, f, now);
              meter.scheduleSpend(s);
            },
            onIntent: (i) =>
              meter.emit('event', {
                type: 'event',
                event: 'intent',
                intent: { sessionId: s.info.sessionId, path: i.path, tool: i.tool, at: new Date().toISOString() },
              }),
          },
        });
      },
      onResponseChunk(chunk: Buffer) {
        parser?.push(chunk);
      },
      onEnd(e: ProxyRequestEvent) {
        const f = flight;
        if (!f) return;
        s.inFlight.delete(f);
        meter.settle(s, f, e, status, parser?.end() ?? null);
      },
    };
  }

  private openRow(s: SessionState, f: InFlight): void {
    if (f.rowId !== null || f.settled) return;
    f.rowId = this.ledger.open({
      sessionId: s.info.sessionId,
      runId: s.info.runId,
      model: f.model,
      startedAt: new Date(f.startedAt).toISOString(),
    });
    // Usage that arrived before the row existed (a fast first event) must not wait for the next progress write.
    if (f.usage) this.writeProgress(s, f, Date.now());
  }

  /** The usage seen so far on an open request, to its ledger row (a durable write). */
  private writeProgress(s: SessionState, f: InFlight, now: number): void {
    if (f.rowId === null) return;
    f.lastProgressAt = now;
    const u = this.estimateUsage(f);
    const c = this.cost(s.run, f.model, u);
    this.ledger.progress(f.rowId, { ...u, usd: c.usd, priced: c.priced });
  }

  private settle(
    s: SessionState,
    f: InFlight,
    e: ProxyRequestEvent,
    status: number,
    result: ReturnType<ReturnType<typeof createResponseParser>['end']> | null,
  ): void {
    const model = result?.model ?? f.model;
    const failed = status >= 400 || status === 0 || Boolean(result?.error);
    let state: LedgerRow['state'];
    let usage: TokenCounts;
    if (result?.usage && result.complete) {
      state = 'exact';
      usage = result.usage;
    } else if (status >= 400 || (status === 0 && !result)) {
      state = 'error';
      usage = result?.usage ?? zeroUsage();
    } else {
      // Cut mid-way (or the client went away): the input was consumed all the same — record what was seen.
      state = 'partial';
      const seen = result?.usage ?? { ...zeroUsage(), inputTokens: f.promptTokensEstimate };
      usage = { ...seen, outputTokens: Math.max(seen.outputTokens, result?.estimatedOutputTokens ?? 0) };
    }
    const c = this.cost(s.run, model, usage);
    const endedAt = e.endedAt;
    const ttftMs = f.firstTokenAt !== null ? f.firstTokenAt - f.startedAt : null;
    const errType = result?.error?.type ?? (failed ? (e.error ? 'connection' : null) : null);
    this.openRow(s, f);
    f.settled = true;
    this.ledger.close(f.rowId!, {
      state,
      model,
      usage,
      usd: c.usd,
      priced: c.priced,
      ttftMs,
      durationMs: endedAt - f.startedAt,
      httpStatus: status || e.status,
      errorType: errType,
    });
    // Totals kept in memory, added to as each row closes: re-summing the ledger per request grows with the session's
    // history (45 ms at 10 000 rows) and would stall every stream. The ledger stays the record; addSession reads it.
    addToTotals(s.settled, state, usage, c.usd, c.priced);

    if (!failed) {
      if (ttftMs !== null) s.ttftMs = ttftMs;
      if (f.firstTokenAt !== null && usage.outputTokens > 0) {
        const secs = (endedAt - f.firstTokenAt) / 1000;
        if (secs > 0) s.tokensPerSec = usage.outputTokens / secs;
      }
      const prompt = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
      if (prompt > 0) {
        s.contextTokens = prompt;
        s.contextWindow = s.run.info.prices.contextWindow(model ?? s.info.model) ?? s.contextWindow;
      }
      if (s.lastError && (s.lastError.kind === 'rate_limited' || s.lastError.kind === 'overloaded')) {
        this.emit('status', s.info.sessionId, 'working', null);
      }
      s.lastError = null;
    } else if (result?.error || status >= 400) {
      const err = result?.error ?? { status, type: null, message: `HTTP ${status}` };
      const kind: UpstreamErrorKind = classifyUpstreamError(err.status || status, err.type, err.message);
      const info: UpstreamErrorInfo = { kind, status: err.status || status, type: err.type, message: err.message, at: new Date().toISOString() };
      s.lastError = info;
      this.upstreamError(s.info.sessionId, info);
      if (kind === 'rate_limited' || kind === 'overloaded') this.emit('status', s.info.sessionId, 'rate_limited', err.message);
    }
    this.checkBudgets(s);
    this.scheduleSpend(s);
  }
}

const BILLED: ReadonlySet<LedgerRow['state']> = new Set(BILLED_USAGE_STATES);

/** What closing one row adds to the ledger's totals (the same sums SpendLedger.totals computes in SQL). */
function addToTotals(t: LedgerTotals, state: LedgerRow['state'], u: TokenCounts, usd: number, priced: boolean): void {
  t.requests += 1;
  if (!BILLED.has(state)) return;
  t.usd += usd;
  t.inputTokens += u.inputTokens;
  t.cacheReadTokens += u.cacheReadTokens;
  t.cacheWriteTokens += u.cacheWriteTokens;
  t.outputTokens += u.outputTokens;
  if (priced) {
    t.pricedUsage.inputTokens += u.inputTokens;
    t.pricedUsage.cacheReadTokens += u.cacheReadTokens;
    t.pricedUsage.cacheWriteTokens += u.cacheWriteTokens;
    t.pricedUsage.outputTokens += u.outputTokens;
  } else {
    t.unpricedTokens += u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens + u.outputTokens;
  }
}
