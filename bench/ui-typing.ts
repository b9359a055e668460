// bench/ui-typing: what the user feels in the dashboard under load (headless Chromium, the real engine and UI).
//   1. Typing latency: a key pressed in the focused tile (a `cat` in a pty) → its echo in that terminal's buffer, seen
//      at the next animation frame (keydown and rAF timestamps in the page); p50/p99 with the 9 other tiles idle
//      (the baseline, same run) and with them flooding. Goal: p99 < 50 ms while 9 tiles flood.
//   2. Memory of the page's processes after the flood: proportional set size (/proc/<pid>/smaps_rollup) of Chromium's
//      processes, and the JS heap. Goal: ≤ 500 MB.
//   3. Idle CPU of the page with 16 idle Claude-Code-like tiles (a spinner redrawn every 100 ms): CPU time of Chromium's
//      processes (/proc/<pid>/stat) over 10 s, as % of one core. Goal: < 3 %.
// Headless Chromium here renders WebGL in software (SwiftShader) on 2 shared cores: the ratios travel, the ms less so.
//
//   npx tsx bench/ui-typing.ts [--keys 40] [--renderer auto] [--background-ms 500,1000]
// --renderer is Settings → Interface's terminal renderer for the whole run; --background-ms lists the background tiles'
// refresh settings part 3 is measured with (each in the same run).
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { Engine } from '../electron/engine/engine.ts';
import { floodCommand } from '../test/fixtures/flood.ts';
import { ensureUiBuilt } from '../test/fixtures/ui-build.ts';
import { CHROMIUM_ARGS, resolveChromium } from '../test/fixtures/chromium.ts';
import { makeRepo, tempDir } from '../test/fixtures/repo.ts';
import { TICKS_PER_SEC, chromiumPids, cpuTicks, pssMb } from './proc.ts';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '40' },
    renderer: { type: 'string', default: 'auto' },
    'background-ms': { type: 'string', default: '500,1000' },
  },
});
if (!['auto', 'webgl', 'dom'].includes(values.renderer)) throw new Error(`--renderer: '${values.renderer}' is not auto, webgl or dom`);
const RENDERER = values.renderer as 'auto' | 'webgl' | 'dom';
const BACKGROUND_MS = values['background-ms'].split(',').map(Number);
const KEYS = Number(values.keys);
const ROOT = resolve(import.meta.dirname, '..');
const cleanups: (() => unknown)[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function engine(backgroundRefreshMs?: number): Promise<Engine> {
  const dataDir = tempDir('flotilla-bench-typing-');
  const home = tempDir('flotilla-bench-typing-home-');
  cleanups.push(
    () => rmSync(dataDir, { recursive: true, force: true }),
    () => rmSync(home, { recursive: true, force: true }),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete env.CLAUDECODE;
  const e = await Engine.create({ dataDir, env, staticDir: join(ROOT, 'dist/renderer') });
  cleanups.push(() => e.close());
  await e.call('saveSettings', {
    settings: { ui: { terminalRenderer: RENDERER, ...(backgroundRefreshMs ? { backgroundRefreshMs } : {}) } },
  });
  return e;
}

/** Presses KEYS keys in terminal 1, one at a time, each timed from keydown to the frame its echo is in the buffer. */
async function typingLatency(page: Page): Promise<number[]> {
  await page.getByTestId('tile-1').click();
  const out: number[] = [];
  for (let i = 0; i < KEYS; i++) {
    const ch = 'abcdefghijklmnopqrstuvwxyz'[i % 26]!;
    // A string, not a closure: tsx would wrap named arrows in a helper the page does not have.
    await page.evaluate(`(() => {
      const c = ${JSON.stringify(ch)};
      const before = (window.__flotilla?.terminalText(1) ?? '').length;
      window.__t0 = undefined;
      window.__lat = new Promise((res) => {
        window.addEventListener('keydown', () => (window.__t0 = performance.now()), { capture: true, once: true });
        const check = (ts) => {
          const text = window.__flotilla?.terminalText(1) ?? '';
          if (window.__t0 !== undefined && text.length > before && text.endsWith(c)) res(ts - window.__t0);
          else requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      });
    })()`);
    await page.keyboard.type(ch);
    out.push((await page.evaluate('window.__lat')) as number);
  }
  return out;
}

/** Polls an expression in the page (the page's CSP forbids waitForFunction's string evaluation). */
async function waitIn(page: Page, expr: string, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await page.evaluate(expr))) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`bench/ui-typing: timed out waiting for ${expr}`);
    await sleep(50);
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function main(): Promise<void> {
  ensureUiBuilt();
  const chrome = await resolveChromium();
  const browser = await chromium.launch({ executablePath: chrome.path, headless: true, args: CHROMIUM_ARGS });
  cleanups.push(() => browser.close());
  console.log(
    `bench/ui-typing: ${KEYS} keys, renderer setting '${RENDERER}' (Node ${process.version}, ${chrome.path} from ${chrome.source}; WebGL in software)`,
  );

  // 1 + 2: one echo tile and nine that idle, then flood (each waits for a file before it floods).
  const e = await engine();
  const repo = makeRepo();
  cleanups.push(() => rmSync(repo, { recursive: true, force: true }));
  const flood = floodCommand(2000 * 1024 * 1024);
  const script = `if (process.argv[3] === '1') { require('child_process').spawn('cat', [], { stdio: 'inherit' }); console.log('ready'); } else { const fs = require('fs'); console.log('idle'); const t = setInterval(() => { if (fs.existsSync(${JSON.stringify(join(repo, 'go'))})) { clearInterval(t); ${flood.args[1]} } }, 50); }`;
  const { run } = await e.call('launch', {
    templateText: JSON.stringify({
      name: 'typing',
      repo,
      workspace: 'shared',
      count: 10,
      agent: { preset: 'shell', command: process.execPath, args: ['-e', script, flood.args[2], '0', '{{index}}'] },
      provider: { preset: 'custom', baseUrl: 'http://127.0.0.1:9' },
    }),
  });
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  await page.goto(e.uiUrl);
  for (let s = 1; s <= 10; s++) await page.getByTestId(`tile-${s}`).waitFor({ state: 'visible', timeout: 30_000 });
  await waitIn(page, `(window.__flotilla?.terminalText(1) ?? '').includes('ready')`);
  const idle = await typingLatency(page);
  (await import('node:fs')).writeFileSync(join(repo, 'go'), '');
  await waitIn(page, `(window.__flotilla?.terminalText(2) ?? '').includes('flotilla flood')`);
  await sleep(2000);
  const flooding = await typingLatency(page);
  const pids = chromiumPids(chrome.path);
  const heap = (await page.evaluate('performance.memory ? performance.memory.usedJSHeapSize : 0')) as number;
  const memory = pssMb(pids);
  await e.call('stopRun', { runId: run.id });
  await context.close();
  console.log(`typing latency, 9 tiles idle (baseline):  p50 ${pct(idle, 50).toFixed(1)} ms  p99 ${pct(idle, 99).toFixed(1)} ms`);
  console.log(
    `typing latency, 9 tiles flooding:         p50 ${pct(flooding, 50).toFixed(1)} ms  p99 ${pct(flooding, 99).toFixed(1)} ms  (goal p99 < 50 ms)`,
  );
  console.log(`ratio p99 flooding / idle:                ${(pct(flooding, 99) / pct(idle, 99)).toFixed(2)}`);
  console.log(
    `page memory after the flood (10 tiles):   ${memory.toFixed(0)} MB PSS over ${pids.length} Chromium processes, JS heap ${(heap / 1024 / 1024).toFixed(1)} MB (goal ≤ 500 MB)`,
  );

  // 3: 16 idle Claude-Code-like tiles, a spinner redrawn every 100 ms; once per background refresh setting.
  for (const ms of BACKGROUND_MS) {
    const e2 = await engine(ms);
    const repo2 = makeRepo();
    cleanups.push(() => rmSync(repo2, { recursive: true, force: true }));
    const spinner =
      "const f = ['⠋','⠙','⠹','⠸','⠼','⠴','⠦','⠧','⠇','⠏']; let i = 0; setInterval(() => process.stdout.write('\\r' + f[i++ % f.length] + ' Thinking… (esc to interrupt)'), 100);";
    const r2 = await e2.call('launch', {
      templateText: JSON.stringify({
        name: 'idle',
        repo: repo2,
        workspace: 'shared',
        count: 16,
        agent: { preset: 'shell', command: process.execPath, args: ['-e', spinner] },
        provider: { preset: 'custom', baseUrl: 'http://127.0.0.1:9' },
      }),
    });
    const ctx2 = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const page2 = await ctx2.newPage();
    await page2.goto(e2.uiUrl);
    for (let s = 1; s <= 16; s++) await page2.getByTestId(`tile-${s}`).waitFor({ state: 'visible', timeout: 30_000 });
    await sleep(3000);
    const tree = chromiumPids(chrome.path);
    const c0 = cpuTicks(tree);
    const r0 = (await page2.evaluate('window.__flotilla.renders()')) as number;
    const t0 = Date.now();
    await sleep(10_000);
    const secs = (Date.now() - t0) / 1000;
    const cpu = (cpuTicks(tree) - c0) / TICKS_PER_SEC / secs;
    const renders = ((await page2.evaluate('window.__flotilla.renders()')) as number) - r0;
    await e2.call('stopRun', { runId: r2.run.id });
    await ctx2.close();
    console.log(
      `idle CPU, 16 spinner tiles, refresh ${ms} ms:  ${(cpu * 100).toFixed(1)} % of one core, ${(renders / secs).toFixed(0)} tile frames/s (goal < 3 %)`,
    );
  }
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const c of cleanups.reverse())
      await Promise.resolve()
        .then(c)
        .catch(() => {});
    process.exit();
  });
