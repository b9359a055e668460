import { DATA_DIR, defineCommand } from '../command.ts';

export const doctor = defineCommand({
  name: 'doctor',
  about: 'Check git, agent binaries, provider keys (in the environment or saved in the data dir) and the data dir.',
  options: {
    'data-dir': DATA_DIR,
    json: { type: 'boolean', default: false, help: '{ok, checks: [{name, ok, required, detail}]} on stdout' },
  },
  example: 'flotilla doctor --json',
  async run(values) {
    const { runDoctor } = await import('../../engine/doctor.ts');
    const { defaultDataDir } = await import('../../engine/store/index.ts');
    const { outputStyle, paint } = await import('../progress.ts');
    const checks = await runDoctor({ dataDir: values['data-dir'] ?? defaultDataDir(), env: process.env });
    const ok = !checks.some((c) => !c.ok && c.required);
    if (values.json) process.stdout.write(`${JSON.stringify({ ok, checks }, null, 2)}\n`);
    else {
      const out = outputStyle(process.stdout, process.env);
      const mark = (c: (typeof checks)[number]) =>
        c.ok ? paint(out, 'green', '✓') : c.required ? paint(out, 'red', '✗') : paint(out, 'yellow', '!');
      for (const c of checks) process.stdout.write(`${mark(c)} ${c.name}: ${c.detail}\n`);
    }
    process.exit(ok ? 0 : 1);
  },
});
