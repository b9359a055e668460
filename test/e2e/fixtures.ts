// End-to-end fixtures: the real engine in-process (temp data dir, serving the built UI) and a headless Chromium
// driving that UI through its data-testids.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { Engine } from '../../electron/engine/engine.ts';
import { tempDir } from '../fixtures/repo.ts';
import { ensureUiBuilt } from '../fixtures/ui-build.ts';
import { CHROMIUM_ARGS, resolveChromium } from '../fixtures/chromium.ts';

export { ensureUiBuilt };
import { startUpstream, type Upstream } from '../upstream/index.ts';
// window.__flotilla, the dashboard's read-only debug hooks (a global declared there).
import type {} from '../../renderer/src/features/terminal/index.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN_DIR = join(ROOT, 'node_modules/.bin');
export const UI_DIR = join(ROOT, 'dist/renderer');
export const SHOTS_DIR = join(ROOT, 'test-results/e2e');
/** The environment variable holding the (fake) provider key, and its value. */
export const KEY_VAR = 'E2E_PROVIDER_KEY';
export const KEY = 'sk-e2e-fake-provider-key';

/** An engine serving the built UI, with node_modules/.bin on PATH, a temp HOME and the fake provider key. */
export async function startEngine(dataDir = tempDir('flotilla-e2e-data-')): Promise<Engine> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${BIN_DIR}:${process.env.PATH}`,
    HOME: tempDir('flotilla-e2e-home-'),
    [KEY_VAR]: KEY,
  };
  // As if the tests ran inside Claude Code: the engine must keep this away from sessions.
  delete env.CLAUDECODE;
  return Engine.create({ dataDir, env, staticDir: UI_DIR });
}

/** Chromium as test/fixtures/chromium.ts finds it ($FLOTILLA_CHROMIUM, Debian's, or the one inside an npm package). */
export async function launchBrowser(): Promise<Browser> {
  const { path } = await resolveChromium();
  return chromium.launch({ executablePath: path, headless: true, args: CHROMIUM_ARGS });
}

export interface Dashboard {
  page: Page;
  /** Uncaught page errors and console errors, for failure reports. */
  errors: string[];
  close(): Promise<void>;
}

/** A fresh page (own context) on the engine's UI, waiting for the launch button as the sign the app is up. */
export async function openDashboard(browser: Browser, engine: Engine): Promise<Dashboard> {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(engine.uiUrl);
  await page.getByTestId('launch-button').waitFor({ state: 'visible', timeout: 20_000 });
  return { page, errors, close: () => context.close() };
}

/** Saves a screenshot as test-results/e2e/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SHOTS_DIR, { recursive: true });
  const file = join(SHOTS_DIR, `${name.replace(/[^\w.-]+/g, '-').replace(/^-|-$/g, '')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Opens the launch dialog, types the template into its YAML editor and submits. */
export async function launchFromUi(page: Page, yaml: string): Promise<void> {
  await page.getByTestId('launch-button').click();
  const dialog = page.getByTestId('launch-dialog');
  await dialog.waitFor({ state: 'visible', timeout: 10_000 });
  const editor = dialog.getByTestId('launch-yaml').or(dialog.locator('textarea')).first();
  await editor.fill(yaml);
  await dialog.getByTestId('launch-submit').click();
  await dialog.waitFor({ state: 'hidden', timeout: 30_000 });
}

/**
 * Text of a tile's terminal, read from its xterm buffer through the app's read-only hook `window.__flotilla` (the WebGL
 * renderer draws on a canvas, so `.xterm-rows` holds no text); non-breaking spaces as spaces.
 */
export async function terminalText(page: Page, slot: number): Promise<string> {
  const text = await page.evaluate((s) => window.__flotilla?.terminalText(s) ?? null, slot);
  if (text === null) throw new Error('window.__flotilla is missing — is the dashboard built from this tree (node build/build.mjs)?');
  return text.replace(/\u00a0/g, ' ');
}

export async function waitForTerminal(page: Page, slot: number, pattern: RegExp | string, timeout = 20_000): Promise<void> {
  await expect
    .poll(() => terminalText(page, slot), { timeout, interval: 100, message: `terminal-${slot} shows ${pattern}` })
    .toMatch(typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern);
}

/** The dollar amount shown in an element ("$0.042" → 0.042; NaN when there is none). */
export async function dollars(page: Page, testId: string): Promise<number> {
  const el = page.getByTestId(testId);
  if ((await el.count()) === 0) return NaN;
  const text = (await el.first().textContent()) ?? '';
  const m = /\$\s*([\d,]*\.?\d+)/.exec(text);
  return m ? Number(m[1]!.replace(/,/g, '')) : NaN;
}

/** data-testid of the terminal holding the keyboard focus (xterm's textarea lives inside it), or null. */
export function focusedTerminal(page: Page): Promise<string | null> {
  return page.evaluate(() => document.activeElement?.closest('[data-testid^="terminal-"]')?.getAttribute('data-testid') ?? null);
}

/**
 * The hooks every e2e file needs: the UI built, one Chromium, optionally the stand-in upstream; every engine and dashboard
 * opened through the returned functions is closed after the file, and a failing test leaves a screenshot of each page
 * (`FAILED-<name>-<test>-<i>.png`) and prints what the pages logged as errors.
 */
export function useE2E(name: string, opts: { upstream?: boolean } = {}) {
  let browser: Browser | null = null;
  let upstream: Upstream | null = null;
  const engines: Engine[] = [];
  const dashboards: Dashboard[] = [];
  beforeAll(async () => {
    ensureUiBuilt();
    browser = await launchBrowser();
    if (opts.upstream) upstream = await startUpstream({ apiKey: KEY });
  }, 240_000);
  afterAll(async () => {
    for (const d of dashboards.splice(0)) await d.close().catch(() => {});
    await browser?.close();
    for (const e of engines.splice(0)) await e.close();
    await upstream?.close();
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const [i, d] of dashboards.entries()) {
      await screenshot(d.page, `FAILED-${name}-${ctx.task.name}-${i}`).catch(() => {});
      if (d.errors.length) console.log(`page ${i} errors:\n${d.errors.join('\n')}`);
    }
  });
  return {
    upstream(): Upstream {
      if (!upstream) throw new Error('useE2E: started without { upstream: true }');
      return upstream;
    },
    async engine(dataDir?: string): Promise<Engine> {
      const e = await startEngine(dataDir);
      engines.push(e);
      return e;
    },
    async dashboard(engine: Engine): Promise<Dashboard> {
      if (!browser) throw new Error('useE2E: the browser is not running');
      const d = await openDashboard(browser, engine);
      dashboards.push(d);
      return d;
    },
  };
}
