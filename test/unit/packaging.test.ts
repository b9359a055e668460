// What electron-builder is given: a config its own schema accepts, icons made from build/icon.svg in every size the
// three platforms take, and the package fields a deb needs. (The packaged layout itself: test/integration/layout.test.ts.)
import { describe, expect, it } from 'vitest';
import Ajv from 'ajv';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '../..');
const read = (f: string) => readFileSync(join(root, f));

/** A PNG's width and height, from its IHDR chunk. */
function pngSize(buf: Buffer): [number, number] {
  expect(buf.subarray(1, 4).toString('latin1')).toBe('PNG');
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

describe('packaging', () => {
  it("the builder config is valid by electron-builder's own schema (and a wrong field would not be)", () => {
    const schema = JSON.parse(read('node_modules/app-builder-lib/scheme.json').toString());
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    const config = parse(read('build/electron-builder.yml').toString());
    expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...config, linux: { ...config.linux, icons: 'build/icons' } })).toBe(false);
    for (const f of [config.linux.icon, config.mac.icon, config.win.icon]) expect(existsSync(join(root, f)), f).toBe(true);
  });

  it('icons come from build/icon.svg in every size: Linux PNGs, .ico, .icns, the tray', () => {
    const sha = createHash('sha256').update(read('build/icon.svg')).digest('hex');
    expect(read('build/icons/source.sha256').toString().split(/\s/)[0], 'icon.svg changed: run npm run icons and commit the result').toBe(
      sha,
    );
    for (const n of [16, 24, 32, 48, 64, 128, 256, 512, 1024]) expect(pngSize(read(`build/icons/${n}x${n}.png`))).toEqual([n, n]);
    const ico = read('build/icon.ico');
    expect(ico.readUInt16LE(2)).toBe(1);
    const sizes = Array.from({ length: ico.readUInt16LE(4) }, (_, i) => ico.readUInt8(6 + 16 * i) || 256);
    expect(sizes).toEqual([16, 24, 32, 48, 64, 128, 256]);
    const icns = read('build/icon.icns');
    expect(icns.subarray(0, 4).toString('latin1')).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    const types: string[] = [];
    for (let at = 8; at < icns.length; at += icns.readUInt32BE(at + 4)) types.push(icns.subarray(at, at + 4).toString('latin1'));
    expect(types).toEqual(expect.arrayContaining(['icp4', 'ic07', 'ic08', 'ic09', 'ic10']));
  });

  it('package.json has what a deb and an About box need', () => {
    const pkg = JSON.parse(read('package.json').toString());
    expect(pkg.author.email).toMatch(/^[^@\s]+@[^@\s]+$/);
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(pkg.productName).toBe('Flotilla');
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['node-pty', 'node-sqlite3-wasm']);
  });
});
