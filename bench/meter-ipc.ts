// bench/meter-ipc: the small line protocol between bench/meter.ts and its child processes (the stand-in upstream and
// the engine side). A child prints `@@<json>` lines on stdout: first {type:'ready', …}, then one reply per command line
// it reads on stdin ({cmd:'mark'} → CPU time and event-loop delay since the last mark, plus whatever the child adds).
// Anything else a child prints on stdout is passed to the bench's stderr. stdin closing ends the child.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const TAG = '@@';
type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------------------------
// Child side

/** What every child answers to {cmd:'mark'}: its CPU time (ms) and event-loop delay p99 (ms) since the previous mark. */
export interface Mark {
  cpuMs: number;
  loopP99Ms: number;
}

/** Print the ready line, then answer commands until stdin closes (then `onExit`, then exit 0). */
export function serveChild(ready: Json, handlers: Record<string, (msg: Json) => Json | Promise<Json>>, onExit: () => Promise<void>): void {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let cpu = process.cpuUsage();
  const send = (o: Json) => process.stdout.write(TAG + JSON.stringify(o) + '\n');
  const all: Record<string, (msg: Json) => Json | Promise<Json>> = {
    mark: () => {
      const d = process.cpuUsage(cpu);
      cpu = process.cpuUsage();
      const m: Mark = { cpuMs: (d.user + d.system) / 1000, loopP99Ms: loop.percentile(99) / 1e6 };
      loop.reset();
      return m as unknown as Json;
    },
    ...handlers,
  };
  const rl = createInterface({ input: process.stdin });
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    chain = chain.then(async () => {
      let msg: Json;
      try {
        msg = JSON.parse(line) as Json;
        const h = all[String(msg.cmd)];
        send(h ? { ok: true, ...(await h(msg)) } : { ok: false, error: `unknown command ${String(msg.cmd)}` });
      } catch (err) {
        send({ ok: false, error: String((err as Error)?.stack ?? err) });
      }
    });
  });
  rl.on('close', () => {
    void chain.then(onExit).finally(() => process.exit(0));
  });
  send({ type: 'ready', pid: process.pid, ...ready });
}

// ---------------------------------------------------------------------------------------------------------------------
// Parent side

export interface Child {
  proc: ChildProcess;
  ready: Json;
  /** Send one command; resolves with the child's reply (rejects on {ok:false} or if the child dies). */
  call<T = Json>(cmd: string, extra?: Json): Promise<T>;
  mark(): Promise<Mark>;
  /** Close stdin (the child cleans up and exits); SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Start `node --import tsx <file relative to bench/> <args>` with the repo root as cwd; resolves at its ready line. */
export function startChild(file: string, args: string[], name: string): Promise<Child> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const proc = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_CHILD_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CHILD_PROF] : []),
      '--import',
      'tsx',
      fileURLToPath(new URL(file, import.meta.url)),
      ...args,
    ],
    {
      cwd: root,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const waiting: { resolve: (v: Json) => void; reject: (e: Error) => void }[] = [];
  let dead: Error | null = null;
  let exited = false;
  const exitedP = new Promise<void>((r) => proc.once('exit', () => ((exited = true), r())));
  return new Promise<Child>((resolveReady, rejectReady) => {
    let isReady = false;
    const fail = (e: Error) => {
      dead = e;
      if (!isReady) rejectReady(e);
      for (const w of waiting.splice(0)) w.reject(e);
    };
    proc.once('error', fail);
    proc.once('exit', (code, sig) => fail(new Error(`${name} child exited (${sig ?? code})`)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      if (!line.startsWith(TAG)) return void process.stderr.write(`[${name}] ${line}\n`);
      const msg = JSON.parse(line.slice(TAG.length)) as Json;
      if (!isReady) {
        isReady = true;
        return resolveReady(child(msg));
      }
      const w = waiting.shift();
      if (!w) return;
      if (msg.ok) w.resolve(msg);
      else w.reject(new Error(`${name}: ${String(msg.error)}`));
    });
    const child = (ready: Json): Child => ({
      proc,
      ready,
      call<T>(cmd: string, extra: Json = {}) {
        if (dead) return Promise.reject(dead);
        return new Promise<T>((resolve, reject) => {
          waiting.push({ resolve: resolve as (v: Json) => void, reject });
          proc.stdin!.write(JSON.stringify({ cmd, ...extra }) + '\n');
        });
      },
      mark() {
        return this.call<Mark>('mark');
      },
      async stop(graceMs = 3000) {
        if (exited) return;
        proc.stdin!.end();
        const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        await exitedP;
        clearTimeout(t);
      },
    });
  });
}
