// The meter: taps every session's model traffic on the proxy, turns usage into dollars at the real prices, writes the
// ledger, admits each request only when its reservation fits the budgets (else holds it: budget.ts, holds.ts) and the
// provider key has room (governor.ts), and reports speed, context fill, upstream errors and edit intents per session. The bytes an agent receives are never changed (the one exception is asking an OpenAI-style
// upstream to include usage in a stream, which adds a final chunk the client's SDK ignores).
import { EventEmitter } from 'node:events';
import type { ApiStyle, BudgetAlert, HeldInfo, LedgerRow, RunSpend, SessionSpend, UpstreamErrorInfo } from '../../shared/contract.ts';
import { budgetBlock, budgetRefusalMessage, dueBudgetAlerts, heldDetail, type BudgetBlock, type HoldEnd } from './budget.ts';
import { ruleForRejection, type RuleFire } from './compat/index.ts';
import { Governor, NO_TICKET, type Ticket } from './governor.ts';
import { BudgetHolds } from './holds.ts';
import { SpendHold, type SpendHoldEnd } from './spend-hold.ts';
import { ProviderRouter, speedKey } from './routing.ts';
import { noteSettled, overflowRefusal } from './window.ts';
import { createTap } from './tap.ts';
import type { MeterProxy } from './proxy.ts';
import type { ProxyRequestEvent, ProxyTap, ProxyTapContext, RequestDecision } from './proxy-types.ts';
import { type RejectedRequests, rejectedRecord } from './rejected.ts';
import { ThrottledEvents } from './spend-events.ts';
import type { SpendLedger } from './ledger.ts';
import { brokenAnswer, isRejection, noteSpeedAndContext, requestOutcome, upstreamErrorOf } from './outcome.ts';
import {
  addToTotals,
  cost,
  countCompatFires,
  newSessionState,
  estimateUsage,
  runSnapshot,
  sessionSnapshot,
  type InFlight,
  type MeteredRun,
  type MeteredSession,
  type RunState,
  type SessionState,
} from './figures.ts';
import type { createResponseParser } from './usage/index.ts';
export type { MeteredRun, MeteredSession } from './figures.ts';
export { DEFAULT_HOLD_MS, type MeterEvents, type MeterOptions } from './options.ts';
import { DEFAULT_HOLD_MS, type MeterEvents, type MeterOptions } from './options.ts';

export class Meter extends EventEmitter<MeterEvents> {
  private readonly sessions = new Map<string, SessionState>();
  private readonly runs = new Map<string, RunState>();

  /** @internal */
  readonly log: (line: string) => void;
  private readonly rejected: RejectedRequests | null;
  readonly governor: Governor;
  /** Which provider serves a request of a run of several (speeds measured here, cool-downs, sessions' providers). */
  readonly router: ProviderRouter;
  private readonly holds: BudgetHolds;
  /** Requests held while their spend cannot be recorded (a full disk). */
  private readonly spendHold = new SpendHold({ changed: (id, detail) => this.spendHoldChanged(id, detail) });
  /** Spend, run spend and governor events, each at most every few hundred ms. */
  /** Spend, run spend and governor events, each at most every few hundred ms. @internal */
  readonly events = new ThrottledEvents(
    (e) => this.emit('event', e),
    () => this.governor.views(),
  );

  constructor(
    private readonly ledger: SpendLedger,
    proxy: MeterProxy,
    opts: MeterOptions = {},
  ) {
    super();
    this.log = opts.log ?? (() => {});
    this.rejected = opts.rejected ?? null;
    this.governor = opts.governor ?? new Governor();
    this.router = new ProviderRouter(Date.now, (key) => this.governor.pausedUntil(key));
    this.holds = new BudgetHolds({
      timeoutMs: opts.holdTimeoutMs ?? (() => DEFAULT_HOLD_MS),
      answer: (sessionId, block, end) => this.answerHold(sessionId, block, end),
      changed: (sessionId, held, first) => this.holdsChanged(sessionId, held, first),
    });
    this.governor.on('queue', (sessionId, ahead, requests) => this.queueChanged(sessionId, ahead, requests));
    this.governor.on('changed', () => this.events.governor());
    proxy.setTapFactory((ctx) => this.tap(ctx));
  }

  addRun(info: MeteredRun): void {
    const existing = this.runs.get(info.runId);
    if (existing) existing.info = info;
    else this.runs.set(info.runId, { info, sessions: new Set(), warned80: false, over: false, emitTimer: null });
  }

  /** The prices a run is metered at (null: no such run). */
  runPrices(runId: string): MeteredRun['prices'] | null {
    return this.runs.get(runId)?.info.prices ?? null;
  }

  addSession(info: MeteredSession): void {
    const run = this.runs.get(info.runId);
    if (!run) throw new Error(`meter: run ${info.runId} was not added before its session`);
    const prior = this.sessions.get(info.sessionId);
    if (prior) {
      prior.info = info;
      this.configureKeys(info);
      return;
    }
    const s = newSessionState(info, run, this.ledger.totals({ sessionId: info.sessionId }));
    run.sessions.add(s);
    this.sessions.set(info.sessionId, s);
    this.configureKeys(info);
  }

  /** Every provider account the session may use, in the governor. */
  private configureKeys(info: MeteredSession): void {
    const keys = [info.rateKey, ...Object.values(info.providers ?? {}).map((p) => p.rateKey)];
    for (const k of keys) if (k) this.governor.configure(k.id, k.label, k.limits);
  }

  /**
   * A new budget (higher or lower) for a session or a run. Held requests it now covers go upstream at once, so the
   * agent carries on by itself; the others stay held.
   */
  setBudget(target: { sessionId: string } | { runId: string }, usd: number | null): void {
    if ('sessionId' in target) {
      const s = this.sessions.get(target.sessionId);
      if (!s) throw new Error(`no metered session ${target.sessionId}`);
      s.info = { ...s.info, budgetUsd: usd };
      s.warned80 = false;
      this.clearOver(s);
      this.events.spend(s);
      this.holds.release([s.info.sessionId]);
    } else {
      const run = this.runs.get(target.runId);
      if (!run) throw new Error(`no metered run ${target.runId}`);
      run.info = { ...run.info, budgetUsd: usd };
      run.warned80 = false;
      run.over = false;
      for (const s of run.sessions) this.clearOver(s);
      this.events.runSpend(run);
      this.holds.release([...run.sessions].map((s) => s.info.sessionId));
    }
  }

  /** The user declines to raise: the session's held requests get the budget error now. */
  declineBudget(sessionId: string): number {
    return this.holds.answer(sessionId, 'declined');
  }

  /**
   * A run that ended and was cleaned: its figures leave memory (the ledger keeps them). Its sessions' holds are
   * answered first, in case one is still waiting.
   */
  removeRun(runId: string): void {
    const run = this.runs.get(runId);
    if (!run) return;
    for (const s of run.sessions) {
      this.endSession(s.info.sessionId);
      this.sessions.delete(s.info.sessionId);
      this.router.forget(s.info.sessionId);
    }
    this.events.forget(run);
    this.runs.delete(runId);
  }

  /** Whether any of the meter's maps still holds this run or session id (a cleaned run leaves nothing). */
  retains(id: string): boolean {
    return this.runs.has(id) || this.sessions.has(id) || this.router.stuckTo(id) !== null || this.governor.hasSession(id);
  }

  /** The session is being stopped: its held requests are answered, not left hanging. */
  endSession(sessionId: string): void {
    this.holds.answer(sessionId, 'stopped');
    this.spendHold.end(sessionId, 'stopped');
  }

  /**
   * While spend cannot be recorded (`reason`: the disk is full, in words), every new request is held; null lets the
   * held ones go upstream.
   */
  holdSpend(reason: string | null): void {
    this.spendHold.set(reason);
  }

  /** Why new requests are held (null: they are not). @internal the tap's */
  get spendHeld(): string | null {
    return this.spendHold.held;
  }

  /** Requests held now because spend cannot be recorded. */
  get spendHeldRequests(): number {
    return this.spendHold.count;
  }

  governorView(): ReturnType<Governor['views']> {
    return this.governor.views();
  }

  sessionSpend(sessionId: string): SessionSpend | null {
    const s = this.sessions.get(sessionId);
    return s ? sessionSnapshot(s) : null;
  }

  runSpend(runId: string): RunSpend | null {
    const run = this.runs.get(runId);
    return run ? runSnapshot(run) : null;
  }

  ledgerRows(runId: string): LedgerRow[] {
    return this.ledger.rows(runId);
  }

  /** Shutdown, first step: every held request is answered (the agents see why) and every wait for the governor ends. */
  answerAll(): void {
    this.holds.answer(null, 'shutdown');
    this.spendHold.end(null, 'shutdown');
    this.governor.close();
  }

  close(): void {
    this.answerAll();
    this.events.close(this.sessions.values(), this.runs.values());
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Budgets

  /** A hold began, moved or ended: the session's spend (with `held`) and, for the first, its status and the 100 % alert. */
  private holdsChanged(sessionId: string, held: HeldInfo | null, first: BudgetBlock | null): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    s.held = held;
    if (first) {
      const run = s.run;
      if (first.scope === 'session' && !s.over)
        this.budgetAlert({ scope: 'session', id: sessionId, level: 100, usd: first.committedUsd, budgetUsd: first.budgetUsd });
      if (first.scope === 'run' && !run.over) {
        run.over = true;
        this.budgetAlert({ scope: 'run', id: run.info.runId, level: 100, usd: first.committedUsd, budgetUsd: first.budgetUsd });
      }
      s.over = true;
      this.emit('status', sessionId, 'over_budget', heldDetail(first));
    }
    this.events.spend(s);
  }

  /** A session's first request held for the disk (its status says why), or its last one went on. */
  private spendHoldChanged(sessionId: string, detail: string | null): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    if (detail !== null) this.emit('status', sessionId, 'held', detail);
    else if (!s.held && !s.over && !s.waiting) this.emit('status', sessionId, 'working', null);
  }

  /** A request held for the disk that is answered instead (session stopped, shutdown): it was never sent. */
  private answerSpendHold(s: SessionState, end: Exclude<SpendHoldEnd, 'retry'>): RequestDecision {
    const why = end === 'stopped' ? 'the session was stopped' : 'Flotilla is shutting down';
    const message = `${why} while this request was held (its spend could not be recorded: ${this.spendHold.held ?? 'the disk was full'}); it was not sent`;
    return { refuse: { status: 503, type: s.info.style === 'anthropic' ? 'api_error' : 'server_error', message } };
  }

  /** A hold that ends without a raise: one refusal in the ledger, the error the agent shows (a 402 it does not retry). */
  private answerHold(sessionId: string, block: BudgetBlock, end: HoldEnd): RequestDecision {
    const message = budgetRefusalMessage(block, end);
    const s = this.sessions.get(sessionId);
    if (s) {
      this.ledger.refuse({ sessionId, runId: s.info.runId, model: s.info.model, startedAt: new Date().toISOString() });
      s.settled.refused += 1;
      const info: UpstreamErrorInfo = { kind: 'budget', status: 402, type: 'budget_exceeded', message, at: new Date().toISOString() };
      s.lastError = info;
      this.upstreamError(sessionId, info);
      this.events.spend(s);
    }
    return { refuse: { status: 402, type: s?.info.style === 'anthropic' ? 'billing_error' : 'budget_exceeded', message } };
  }

  /**
   * A request the window cannot take (or one that should wait for a compaction): one row in the ledger, counted, and
   * the answer the agent compacts on.
   */
  /** @internal the tap's */
  answerWindow(s: SessionState, _kind: 'overflow' | 'compact', tokens: number, agentStyle: ApiStyle): RequestDecision {
    const window = s.contextWindow!;
    const refusal = overflowRefusal(agentStyle, tokens, window);
    this.ledger.refuse({
      sessionId: s.info.sessionId,
      runId: s.info.runId,
      model: s.info.model,
      startedAt: new Date().toISOString(),
      httpStatus: 400,
      errorType: 'context_window',
    });
    s.settled.refused += 1;
    s.window.localOverflows += 1;
    s.window.compacting = true;
    // The agent compacts on either answer: its retry is not asked again (only a sure overflow is answered).
    s.window.asked = true;
    this.log(
      `session ${s.info.sessionId}: ~${tokens} prompt tokens against a ${window}-token window — answered here, so the agent compacts`,
    );
    this.events.spend(s);
    return { refuse: refusal };
  }

  /** A session's place in the governor's queue: shown as *rate limited — waiting (n ahead)*, back to work once through. */
  private queueChanged(sessionId: string, ahead: number | null, requests: number): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    const was = s.waiting;
    s.waiting = ahead === null ? null : { requests, ahead };
    if (ahead !== null && (was === null || was.ahead !== ahead)) {
      const label = s.info.rateKey?.label ?? 'the provider key';
      this.emit('status', sessionId, 'rate_limited', `waiting for rate limit on ${label} (${ahead} ahead)`);
    } else if (ahead === null && was !== null && !s.held) this.emit('status', sessionId, 'working', null);
    this.events.spend(s);
  }

  /**
   * Admits a request that could not go at once: waits for a raise while a budget cannot cover it, then for the
   * governor's slot, and checks the budget again (others may have reserved meanwhile). Rejects when `signal` aborts.
   */
  /** @internal the tap's */
  async admitLater(
    s: SessionState,
    key: string | null,
    tokens: number,
    reserve: number,
    signal: AbortSignal,
  ): Promise<{ ticket: Ticket } | { decision: RequestDecision }> {
    for (;;) {
      if (this.spendHold.held !== null) {
        const end = await this.spendHold.wait(s.info.sessionId, signal);
        if (end !== 'retry') return { decision: this.answerSpendHold(s, end) };
        continue;
      }
      const block = budgetBlock(s, reserve);
      if (block) {
        const r = await this.holds.wait(s.info.sessionId, block, signal);
        if (r !== 'retry') return { decision: r };
        continue;
      }
      const ticket = key ? await this.governor.acquire(key, s.info.sessionId, tokens, signal) : NO_TICKET;
      if (!budgetBlock(s, reserve) && this.spendHold.held === null) return { ticket };
      ticket.release(null);
    }
  }

  /** Counts the rules that rewrote a request; a rule that failed is logged (the request went as sent). */
  /** @internal the tap's */
  noteCompat(s: SessionState, fires: RuleFire[]): void {
    for (const f of countCompatFires(s, fires))
      this.log(`compat rule ${f.rule} ${f.note} (session ${s.info.sessionId}); the request went as the agent sent it`);
  }

  /** Saves a refused request for a bug report (secrets removed); null when there is nowhere to save it. */
  private saveRejected(s: SessionState, info: UpstreamErrorInfo, request: { ctx: ProxyTapContext; body: Buffer | null }): string | null {
    if (!this.rejected) return null;
    try {
      return this.rejected.save(rejectedRecord(s.info, info, request.ctx, request.body));
    } catch (err) {
      this.log(`could not save the rejected request of session ${s.info.sessionId}: ${(err as Error).message}`);
      return null;
    }
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
    return s ? createTap(this, s, ctx) : null;
  }

  /** @internal the tap's */
  openRow(s: SessionState, f: InFlight): void {
    if (f.rowId !== null || f.settled) return;
    f.rowId = this.ledger.open({
      sessionId: s.info.sessionId,
      runId: s.info.runId,
      model: f.model,
      startedAt: new Date(f.startedAt).toISOString(),
      provider: f.provider?.[0] ?? null,
    });
    // Usage that arrived before the row existed (a fast first event) must not wait for the next progress write.
    if (f.usage) this.writeProgress(s, f, Date.now());
  }

  /** The usage seen so far on an open request, to its ledger row (a durable write). */
  /** @internal the tap's */
  writeProgress(s: SessionState, f: InFlight, now: number): void {
    if (f.rowId === null) return;
    f.lastProgressAt = now;
    const u = estimateUsage(f);
    const c = cost(s.run, f.model, u, f.provider ?? undefined);
    this.ledger.progress(f.rowId, { ...u, usd: c.usd, priced: c.priced });
  }

  /** @internal the tap's */
  settle(
    s: SessionState,
    f: InFlight,
    e: ProxyRequestEvent,
    status: number,
    result: ReturnType<ReturnType<typeof createResponseParser>['end']> | null,
    request: { ctx: ProxyTapContext; body: Buffer | null },
    pausedMs: number | null,
    rateLabel: string | null,
  ): void {
    const model = result?.model ?? f.model;
    // A host that failed mid-answer (reset, silent, too large) or whose stream could not be read failed too.
    const malformed = (result?.malformed ?? 0) > 0 && !result?.complete;
    const broken = !e.aborted && !e.failedOver && (e.error !== undefined || malformed);
    const failed = status >= 400 || status === 0 || Boolean(result?.error) || broken;
    const { state, usage } = requestOutcome(status, result, f.promptTokensEstimate);
    const c = cost(s.run, model, usage, f.provider ?? undefined);
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
      ...(e.failedOver ? { failedOver: true } : {}),
    });
    // Totals kept in memory, added to as each row closes: re-summing the ledger per request grows with the session's
    // history (45 ms at 10 000 rows) and would stall every stream. The ledger stays the record; addSession reads it.
    addToTotals(s.settled, state, usage, c.usd, c.priced, !e.failedOver);
    // The governor counts what the request really used against the key's tokens per minute.
    f.ticket.release(usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens + usage.outputTokens || null);

    // Another provider took the request over before a byte reached the agent: counted, never shown as its error.
    if (e.failedOver) {
      this.events.spend(s);
      return;
    }
    if (!failed) {
      noteSpeedAndContext(s, model, usage, ttftMs, f.firstTokenAt, endedAt);
      const prompt = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
      if (state === 'exact')
        noteSettled(s.window, s.contextWindow, f.promptTokensEstimate, prompt, f.compaction, new Date(endedAt).toISOString());
      if (e.provider !== undefined) {
        s.provider = e.provider;
        const streamed = f.firstTokenAt !== null && endedAt > f.firstTokenAt && usage.outputTokens > 0;
        const tps = streamed ? usage.outputTokens / ((endedAt - f.firstTokenAt!) / 1000) : null;
        this.router.observe(speedKey(e.provider, s.info.model), ttftMs, tps);
      }
      if (
        s.lastError &&
        (s.lastError.kind === 'rate_limited' || s.lastError.kind === 'overloaded' || isRejection(s.lastError.kind, s.lastError.status))
      ) {
        this.emit('status', s.info.sessionId, 'working', null);
      }
      s.lastError = null;
    } else if (result?.error || status >= 400) {
      const { err, code, kind, info } = upstreamErrorOf(status, result);
      if (isRejection(kind, code)) {
        const fix = ruleForRejection(err.message);
        info.fixRule = fix?.id ?? null;
        info.savedAs = this.saveRejected(s, info, request);
        const hint = fix ? ` — the compat rule ${fix.id} is the known fix (provider.compat: moonshot)` : '';
        this.emit('status', s.info.sessionId, 'rejected', `provider rejected (${code}): ${err.message.slice(0, 200)}${hint}`);
      }
      if (pausedMs !== null && rateLabel !== null) {
        info.note = `Flotilla holds new requests on ${rateLabel} for ${(pausedMs / 1000).toFixed(pausedMs < 10_000 ? 1 : 0)} s (the provider's rate limit)`;
      }
      s.lastError = info;
      this.upstreamError(s.info.sessionId, info);
      if (kind === 'rate_limited' || kind === 'overloaded') this.emit('status', s.info.sessionId, 'rate_limited', err.message);
    } else if (broken) {
      const info = brokenAnswer(e, result);
      s.lastError = info;
      this.upstreamError(s.info.sessionId, info);
    }
    for (const alert of dueBudgetAlerts(s)) this.budgetAlert(alert);
    this.events.spend(s);
  }
}
