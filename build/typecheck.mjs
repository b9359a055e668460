// `npm run typecheck`: one TypeScript program per runtime, so a file's folder says where it may run and the compiler
// holds it to that — electron/shared (plain ECMAScript), electron/engine + the CLI (Node), electron/main + preload
// (Electron), renderer (DOM, no Node) — plus the tests, benches and build scripts. Two at a time (two cores here).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const projects = ['electron/shared', 'electron/engine', 'electron/main', 'renderer', 'tsconfig.json'];

function check(project) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [tsc, '-p', project, '--noEmit', '--pretty'], { cwd: root });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ project, code, out }));
  });
}

const queue = [...projects];
const results = [];
await Promise.all(
  Array.from({ length: 2 }, async () => {
    while (queue.length) results.push(await check(queue.shift()));
  }),
);
let failed = 0;
for (const r of results.sort((a, b) => projects.indexOf(a.project) - projects.indexOf(b.project))) {
  if (r.code === 0) continue;
  failed++;
  process.stderr.write(`\ntypecheck: ${r.project} has errors\n${r.out}\n`);
}
if (failed) process.exit(1);
console.log(`typecheck: ${projects.length} projects clean (${projects.join(', ')})`);
