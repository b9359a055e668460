import { DATA_DIR, defineCommand, fail } from '../command.ts';

export const budget = defineCommand({
  name: 'budget',
  usage: 'flotilla budget <session-or-run-id> <usd> [--data-dir DIR]   |   flotilla budget <session-id> --decline',
  args: '<id> <usd>',
  about:
    "Set (raise or lower) a session's or a run's budget; held requests it covers go on at once. --decline answers the\nsession's held requests with the budget error instead.",
  options: { 'data-dir': DATA_DIR, decline: { type: 'boolean', default: false, help: 'answer the held requests with the budget error' } },
  example: 'flotilla budget 2b9e… 5',
  async run(values, positionals) {
    const [id, amount] = positionals;
    if (!id)
      fail('budget needs a session or run id (see: flotilla runs): flotilla budget <id> <usd> | flotilla budget <session-id> --decline');
    const { dataDirOf, withEngine } = await import('../engine-access.ts');
    const dataDir = await dataDirOf(values);
    await withEngine(dataDir, async (engine, running) => {
      const sessions = await engine.call('listSessions', {});
      const session = sessions.find((s) => s.id === id);
      if (values.decline) {
        if (!session) fail(`--decline needs a session id; ${id} is not one (see: flotilla runs)`);
        if (!running) fail('no engine is running for this data dir, so nothing is held');
        await engine.call('declineBudget', { sessionId: id });
        return void process.stdout.write(`declined: session ${session.slot}'s held requests got the budget error\n`);
      }
      const usd = Number(amount);
      if (amount === undefined || !Number.isFinite(usd) || usd <= 0)
        fail(`budget needs an amount in US dollars above 0, e.g. flotilla budget ${id} 5 (got ${amount ?? 'none'})`);
      await engine.call('raiseBudget', session ? { sessionId: id, usd } : { runId: id, usd });
      process.stdout.write(
        `${session ? `session ${session.slot}` : `run ${id}`}: budget $${usd.toFixed(2)}${running ? ' — held requests it covers go on now' : ' (kept for its next start)'}\n`,
      );
    });
  },
});
