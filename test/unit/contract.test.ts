// The contract and its handler table: every command has a handler, dispatch validates and refuses by the contract,
// errors keep their real codes and where they are, and results are checked against the contract on the client side.
import { describe, expect, it } from 'vitest';
import { createHandlers, dispatch, type EngineParts, type StreamContext } from '../../electron/engine/api/index.ts';
import { toApiError } from '../../electron/engine/errors.ts';
import { TemplateError, parseTemplate } from '../../electron/engine/templates/index.ts';
import { MergeRefused, WorkspaceError } from '../../electron/engine/workspace/index.ts';
import { EngineRequestError, HttpEngineClient } from '../../electron/shared/client.ts';
import {
  COMMAND_NAMES,
  Commands,
  EngineEvent,
  type CommandName,
  decodeFrame,
  decodeOutputFrame,
  encodeBatchFrame,
  encodeOutputFrame,
  encodeScreenFrame,
} from '../../electron/shared/contract.ts';

// Only the table's shape is looked at here: no handler runs, so the parts are never touched.
const handlers = createHandlers(new Proxy({} as EngineParts, { get: () => undefined }));

describe('the handler table', () => {
  it('has exactly one handler per command of the contract', () => {
    expect(Object.keys(handlers).sort()).toEqual([...COMMAND_NAMES].sort());
    for (const name of COMMAND_NAMES) expect(typeof handlers[name]).toBe('function');
  });

  it('refuses an unknown command, naming the known ones', async () => {
    const err = await dispatch(handlers, 'frobnicate', {}, null).catch((e) => toApiError(e));
    expect(err).toMatchObject({ code: 'unknown_command' });
    expect((err as { message: string }).message).toMatch(/frobnicate.*launch/);
  });

  it('refuses a stream command without a socket, and bad arguments by field, before any handler runs', async () => {
    expect(await dispatch(handlers, 'subscribe', { sessionId: 'x' }, null).catch((e) => toApiError(e))).toMatchObject({
      code: 'bad_request',
      message: expect.stringMatching(/WebSocket/),
    });
    const bad = toApiError(await dispatch(handlers, 'resize', { sessionId: 'x', cols: 'wide', rows: 10 }, null).catch((e) => e));
    expect(bad).toMatchObject({ code: 'bad_request', field: 'cols' });
    expect(bad.issues?.[0]).toMatchObject({ field: 'cols' });
  });

  it('gives stream commands the socket: subscribe replaces an earlier subscription of the same session', async () => {
    const closed: string[] = [];
    const snapshot = { sessionId: 's1', cols: 80, rows: 24, data: '' };
    const parts = {
      scheduler: {
        subscribe: (sessionId: string) => ({
          subscription: { ack: () => {}, close: () => closed.push(sessionId) },
          snapshot: Promise.resolve(snapshot),
        }),
      },
    } as unknown as EngineParts;
    const table = createHandlers(parts);
    const paced: string[] = [];
    const stream: StreamContext = {
      subscriptions: new Map(),
      sendOutput: () => {},
      sendScreen: () => {},
      screens: (id) => paced.push(`${id} screens`),
      setQuiet: (id, quiet) => paced.push(`${id} ${quiet ? 'quiet' : 'live'}`),
      forget: (id) => paced.push(`${id} forgotten`),
    };
    expect(await dispatch(table, 'subscribe', { sessionId: 's1' }, stream)).toEqual(snapshot);
    await dispatch(table, 'subscribe', { sessionId: 's1', quiet: true }, stream);
    expect(closed).toEqual(['s1']);
    expect(await dispatch(table, 'pace', { sessionId: 's1', quiet: false }, stream)).toBeNull();
    expect(await dispatch(table, 'unsubscribe', { sessionId: 's1' }, stream)).toBeNull();
    expect(closed).toEqual(['s1', 's1']);
    // Every (re)subscribe and unsubscribe drops what was held for the old subscription.
    expect(paced).toEqual(['s1 forgotten', 's1 screens', 's1 forgotten', 's1 quiet', 's1 screens', 's1 live', 's1 forgotten']);
    expect(stream.subscriptions.size).toBe(0);
  });
});

describe('errors on the wire', () => {
  it('keep the real code of each part: workspace, merge refusals, templates with every issue and its line', () => {
    expect(toApiError(new WorkspaceError('not_a_repo', '/x is not a git repository'))).toEqual({
      code: 'not_a_repo',
      message: '/x is not a git repository',
    });
    expect(toApiError(new MergeRefused('dirty', 'checkout has uncommitted changes'))).toMatchObject({ code: 'merge_refused_dirty' });
    let err: unknown;
    try {
      parseTemplate('name: x\ncount: 0\nbudget:\n  perSessionUsd: -1\n', 'run.yaml', { cwd: '/work' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    const api = toApiError(err);
    expect(api).toMatchObject({ code: 'template_invalid', file: 'run.yaml', line: 2, field: 'count' });
    expect(api.issues).toEqual([
      { field: 'count', line: 2, message: expect.stringMatching(/^run\.yaml:2: count: /) },
      { field: 'budget.perSessionUsd', line: 4, message: expect.stringMatching(/^run\.yaml:4: budget\.perSessionUsd: /) },
    ]);
  });

  it('reach a client as an EngineRequestError with the same fields', async () => {
    const client = new HttpEngineClient({ origin: 'http://127.0.0.1:1', token: 't' }, async () => ({
      status: 400,
      json: async () => ({
        ok: false,
        error: { code: 'template_invalid', message: 'bad', field: 'count', line: 2, issues: [{ field: 'count', line: 2, message: 'bad' }] },
      }),
    }));
    const e = await client.call('listRuns', {}).catch((x) => x);
    expect(e).toBeInstanceOf(EngineRequestError);
    expect(e).toMatchObject({ code: 'template_invalid', field: 'count', line: 2, issues: [{ field: 'count' }] });
  });
});

describe('results are checked against the contract', () => {
  const answer = (data: unknown) =>
    new HttpEngineClient({ origin: 'http://127.0.0.1:1', token: 't' }, async () => ({
      status: 200,
      json: async () => ({ ok: true, data }),
    }));

  it('a result of the right shape passes; a wrong one is a bad_reply naming the field', async () => {
    expect(await answer({ path: '/w', exists: true }).call('worktreePath', { sessionId: 's' })).toEqual({ path: '/w', exists: true });
    const e = await answer({ path: '/w', exists: 'yes' })
      .call('worktreePath', { sessionId: 's' })
      .catch((x) => x);
    expect(e).toMatchObject({ code: 'bad_reply', message: expect.stringMatching(/worktreePath.*exists/) });
  });

  it('every command declares an argument and a result schema; null results are answered as null', () => {
    for (const name of COMMAND_NAMES) {
      const spec = Commands[name as CommandName];
      expect(typeof spec.args.safeParse).toBe('function');
      expect(typeof spec.result.safeParse).toBe('function');
    }
    for (const name of [
      'input',
      'resize',
      'stop',
      'restart',
      'resume',
      'stopRun',
      'raiseBudget',
      'declineBudget',
      'discard',
      'setProviderKey',
      'unsubscribe',
      'pace',
    ] as const)
      expect(Commands[name].result.safeParse(null).success).toBe(true);
  });

  it('events are one discriminated union; frames carry ASCII session ids byte for byte', () => {
    expect(EngineEvent.safeParse({ type: 'event', event: 'exit', sessionId: 's', exitCode: 0, signal: null }).success).toBe(true);
    expect(EngineEvent.safeParse({ type: 'event', event: 'exit', sessionId: 's' }).success).toBe(false);
    const id = '3f1c2a9e-0000-4000-8000-1234567890ab';
    const data = new Uint8Array([0xe2, 0x94, 0x80, 10]);
    const back = decodeOutputFrame(encodeOutputFrame(id, data));
    expect(back.sessionId).toBe(id);
    expect([...back.data]).toEqual([...data]);
    expect(() => encodeOutputFrame('naïve', data)).toThrow(/ASCII/);
    expect(decodeFrame(encodeOutputFrame(id, data)).map((p) => [p.sessionId, [...p.data]])).toEqual([[id, [...data]]]);
  });

  it("a batch frame carries several sessions' output in order; a frame cut short is refused", () => {
    const parts = [
      { sessionId: 'a', data: new Uint8Array([1, 2, 3]) },
      { sessionId: 'bb', data: new Uint8Array([]) },
      { sessionId: 'a', data: new Uint8Array([4]) },
    ];
    const frame = encodeBatchFrame(parts);
    expect(decodeFrame(frame).map((p) => [p.sessionId, [...p.data]])).toEqual([
      ['a', [1, 2, 3]],
      ['bb', []],
      ['a', [4]],
    ]);
    expect(() => decodeFrame(frame.subarray(0, frame.length - 1))).toThrow(/cut short/);
    expect(() => decodeFrame(new Uint8Array([9, 1]))).toThrow(/not an output frame/);
  });

  it('a screen frame carries a size, the output it stands for and the screen as UTF-8; cut short is refused', () => {
    const screen = { cols: 300, rows: 70_000 % 65_536, bytes: 5_000_000, data: '\x1b[1m── naïve ✓ 日本 ──\x1b[0m\r\n' };
    const frame = encodeScreenFrame('s-1', screen);
    const [part, ...rest] = decodeFrame(frame);
    expect(rest).toEqual([]);
    expect(part!.sessionId).toBe('s-1');
    expect(part!.screen).toEqual(screen);
    expect(() => decodeFrame(frame.subarray(0, 6))).toThrow(/cut short/);
  });
});
