import { join } from 'node:path';
import { DATA_DIR, defineCommand, fail } from '../command.ts';

export const logs = defineCommand({
  name: 'logs',
  about: "The engine's log (logs/engine.log in the data dir, rotated at 5 MB, secrets scrubbed): the last lines, or follow it.",
  options: {
    'data-dir': DATA_DIR,
    lines: { type: 'string', short: 'n', value: 'N', default: '50', help: 'how many lines (default 50)' },
    follow: { type: 'boolean', short: 'f', default: false, help: 'keep printing what is appended' },
  },
  example: 'flotilla logs -n 200',
  async run(values) {
    const n = Number(values.lines);
    if (!Number.isInteger(n) || n < 1) fail(`--lines ${values.lines} is not a whole number above 0`);
    const { dataDirOf } = await import('../engine-access.ts');
    const { LOG_DIR, tailLog } = await import('../../engine/logs.ts');
    const dataDir = await dataDirOf(values);
    const shown = tailLog(dataDir, 'engine', n);
    if (shown.length === 0 && !values.follow) return void process.stdout.write(`no engine log yet in ${join(dataDir, LOG_DIR)}\n`);
    for (const l of shown) process.stdout.write(`${l}\n`);
    if (!values.follow) return;
    // Follow: print what is appended, across rotations, until Ctrl-C.
    let last = shown.at(-1) ?? '';
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      const now = tailLog(dataDir, 'engine', 200);
      const from = last ? now.lastIndexOf(last) + 1 : 0;
      for (const l of now.slice(from)) process.stdout.write(`${l}\n`);
      if (now.length) last = now.at(-1)!;
    }
  },
});
