import { DATA_DIR, JSON_OUT, defineCommand, fail } from '../command.ts';

export const hosts = defineCommand({
  name: 'hosts',
  usage: 'flotilla hosts [--json]   |   flotilla hosts add <name> <ssh-destination>   |   flotilla hosts remove <name>',
  args: '[add|remove] …',
  about:
    'Machines to run engines on, over your own OpenSSH (~/.ssh/config, ProxyJump and agents work; never a password\nprompt). Without arguments: each host and whether it answers, its platform and its Node.js (checked through its\nlogin shell). add: anything ssh accepts — user@box, ssh://user@box:2222, a Host alias.',
  options: {
    'data-dir': DATA_DIR,
    'store-keys': {
      type: 'boolean',
      default: false,
      help: "add: keep provider keys on that host's disk too (0600), so its engine resumes sessions without a desktop;\ndefault: in its engine's memory only",
    },
    json: JSON_OUT,
  },
  example: 'flotilla hosts add buildbox me@build.example.com',
  async run(o, positionals) {
    const { dataDirOf } = await import('../engine-access.ts');
    const { addHost, checkHost, noteDesktop, readHosts, removeHost } = await import('../../engine/hosts/index.ts');
    const dataDir = await dataDirOf(o);
    const [verb, name, destination] = positionals;
    if (verb === 'add') {
      if (!name || !destination) fail('hosts add needs a name and a destination: flotilla hosts add <name> <user@host>');
      const entry = await addHost(dataDir, name, destination, o['store-keys']);
      const check = await checkHost(dataDir, entry, process.env);
      // Another desktop using the same host shares its engine: say so, once, when it is added.
      const others = check.state === 'ok' ? await noteDesktop(dataDir, entry, process.env) : [];
      if (o.json) return void process.stdout.write(`${JSON.stringify({ ...check, otherDesktops: others }, null, 2)}\n`);
      if (others.length)
        process.stderr.write(
          `note: ${name} is also used by another desktop: ${others.join('; ')} — you share its engine there: each sees the other's runs and can stop them\n`,
        );
      process.stdout.write(
        check.state === 'ok'
          ? `added ${name} (${destination}): ${check.platform ?? 'unknown platform'}, Node ${check.node}\n`
          : `added ${name} (${destination}), but it is not ready: ${check.message}\n`,
      );
      return;
    }
    if (verb === 'remove') {
      if (!name) fail('hosts remove needs the name of a host: flotilla hosts remove <name> (see: flotilla hosts)');
      const entry = await removeHost(dataDir, name, process.env);
      return void process.stdout.write(`removed ${entry.name} (${entry.destination})\n`);
    }
    if (verb !== undefined) fail(`hosts: '${verb}' is not add or remove (see: flotilla hosts --help)`);
    const checks = await Promise.all(readHosts(dataDir).map((h) => checkHost(dataDir, h, process.env)));
    if (o.json) return void process.stdout.write(`${JSON.stringify(checks, null, 2)}\n`);
    if (checks.length === 0) return void process.stdout.write('no hosts yet — add one: flotilla hosts add <name> <user@host>\n');
    for (const c of checks)
      process.stdout.write(
        `${c.name.padEnd(16)} ${c.destination.padEnd(32)} ${c.state === 'ok' ? `ok · ${c.platform ?? '?'} · Node ${c.node}` : `${c.state}: ${c.message}`}\n`,
      );
  },
});
