// Once per e2e run, before any browser test file: find the Chromium to drive (unpacking the npm package's if needed,
// so parallel files never race for it) and say which one it is.
import { resolveChromium } from '../fixtures/chromium.ts';

export default async function setup(): Promise<void> {
  const { path, source } = await resolveChromium();
  console.log(`e2e: Chromium ${path} (${source})`);
}
