// Generates the app's icons from one source, build/icon.svg: PNGs for Linux (build/icons/<N>x<N>.png, what
// electron-builder's linux.icon folder takes), build/icon.ico (Windows: PNG entries 16…256), build/icon.icns (macOS: PNG
// entries 16…1024) and the tray image. Rendered by the same headless Chromium the browser tests use.
//   npm run icons        (then commit build/icons, build/icon.ico, build/icon.icns)
// build/icons/source.sha256 records which icon.svg they come from: a unit test fails when the SVG changed without them.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, resolveChromium } from '../test/fixtures/chromium.ts';

const root = join(import.meta.dirname, '..');
const svg = readFileSync(join(root, 'build/icon.svg'), 'utf8');
export const PNG_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256];
// ICNS types holding PNG data, by pixel size (the @2x types reuse the next size up).
const ICNS_TYPES: [string, number][] = [
  ['icp4', 16],
  ['icp5', 32],
  ['icp6', 64],
  ['ic07', 128],
  ['ic08', 256],
  ['ic09', 512],
  ['ic10', 1024],
  ['ic11', 32],
  ['ic12', 64],
  ['ic13', 256],
  ['ic14', 512],
];

function ico(pngs: Map<number, Buffer>): Buffer {
  const head = Buffer.alloc(6 + 16 * ICO_SIZES.length);
  head.writeUInt16LE(0, 0);
  head.writeUInt16LE(1, 2);
  head.writeUInt16LE(ICO_SIZES.length, 4);
  let offset = head.length;
  ICO_SIZES.forEach((n, i) => {
    const png = pngs.get(n)!;
    const e = 6 + 16 * i;
    head.writeUInt8(n >= 256 ? 0 : n, e);
    head.writeUInt8(n >= 256 ? 0 : n, e + 1);
    head.writeUInt16LE(1, e + 4);
    head.writeUInt16LE(32, e + 6);
    head.writeUInt32LE(png.length, e + 8);
    head.writeUInt32LE(offset, e + 12);
    offset += png.length;
  });
  return Buffer.concat([head, ...ICO_SIZES.map((n) => pngs.get(n)!)]);
}

function icns(pngs: Map<number, Buffer>): Buffer {
  const chunks = ICNS_TYPES.map(([type, n]) => {
    const png = pngs.get(n)!;
    const h = Buffer.alloc(8);
    h.write(type, 0, 'latin1');
    h.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([h, png]);
  });
  const body = Buffer.concat(chunks);
  const h = Buffer.alloc(8);
  h.write('icns', 0, 'latin1');
  h.writeUInt32BE(body.length + 8, 4);
  return Buffer.concat([h, body]);
}

async function main(): Promise<void> {
  const browser = await chromium.launch({ executablePath: (await resolveChromium()).path, headless: true, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ deviceScaleFactor: 1 });
  const pngs = new Map<number, Buffer>();
  for (const n of PNG_SIZES) {
    await page.setViewportSize({ width: n, height: n });
    await page.setContent(
      `<html><body style="margin:0;background:transparent">${svg.replace('<svg ', `<svg width="${n}" height="${n}" `)}</body></html>`,
    );
    pngs.set(n, await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: n, height: n } }));
  }
  await browser.close();
  mkdirSync(join(root, 'build/icons'), { recursive: true });
  for (const [n, png] of pngs) writeFileSync(join(root, 'build/icons', `${n}x${n}.png`), png);
  writeFileSync(join(root, 'build/icon.ico'), ico(pngs));
  writeFileSync(join(root, 'build/icon.icns'), icns(pngs));
  writeFileSync(join(root, 'build/icons/source.sha256'), `${createHash('sha256').update(svg).digest('hex')}  icon.svg\n`);
  console.log(`icons: ${PNG_SIZES.join(', ')} px PNGs, icon.ico (${ICO_SIZES.length} sizes), icon.icns (${ICNS_TYPES.length} entries)`);
}

await main();
