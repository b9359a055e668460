// Where a sandboxed run's image comes from, decided once at launch: the image the template names; or one built from
// `build:` (a Dockerfile, or a devcontainer.json); or, when the template names neither, the repo's own
// devcontainer.json — whose `image`/`build`, `containerEnv` and create commands (onCreate, updateContent, postCreate:
// they become the run's setup, run in each session's container before its agent) are honoured.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { EngineError } from '../errors.ts';
import { shQuote } from '../hosts/ssh.ts';
import type { SandboxConfig, SandboxSpec } from './command.ts';

/** Where a repo keeps its devcontainer.json, in the order the Dev Containers spec looks. */
const DEVCONTAINER_PLACES = ['.devcontainer/devcontainer.json', '.devcontainer.json'];

const fail = (message: string, field: string) => new EngineError('sandbox', `sandbox: ${message}`, { field });

/** JSON with comments and trailing commas (the devcontainer.json dialect) → a value. Throws SyntaxError. */
export function parseJsonc(text: string): unknown {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      // A string, escapes and all, copied as it is.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
      out += ' ';
    } else out += c;
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'));
}

/** A lifecycle command in any of its forms (a shell line, an argv, named ones run in order) → shell lines. */
export function lifecycleLines(value: unknown): string[] {
  if (typeof value === 'string') return value.trim() ? [value] : [];
  if (Array.isArray(value)) return value.length ? [value.map((a) => shQuote(String(a))).join(' ')] : [];
  if (value && typeof value === 'object') return Object.values(value).flatMap(lifecycleLines);
  return [];
}

/** What a devcontainer.json gives a sandbox. */
export interface Devcontainer {
  file: string;
  image?: string;
  dockerfile?: string;
  context?: string;
  buildArgs: Record<string, string>;
  env: Record<string, string>;
  setup: string[];
}

export function readDevcontainer(file: string): Devcontainer {
  let doc: Record<string, unknown>;
  try {
    const value = parseJsonc(readFileSync(file, 'utf8'));
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new SyntaxError('not an object');
    doc = value as Record<string, unknown>;
  } catch (err) {
    throw fail(`${file} is not readable JSON (${(err as Error).message}) — fix it, or give sandbox.image in the template`, 'sandbox.build');
  }
  if (doc.dockerComposeFile !== undefined)
    throw fail(
      `${file} uses dockerComposeFile, which Flotilla does not run — give it image or build, or give sandbox.image`,
      'sandbox.build',
    );
  const dir = dirname(file);
  const build = (doc.build && typeof doc.build === 'object' ? doc.build : {}) as Record<string, unknown>;
  const dockerfile = (build.dockerfile ?? build.dockerFile ?? doc.dockerFile) as string | undefined;
  const strings = (o: unknown) =>
    Object.fromEntries(Object.entries(o && typeof o === 'object' ? o : {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const out: Devcontainer = {
    file,
    buildArgs: strings(build.args),
    env: strings(doc.containerEnv),
    setup: ['onCreateCommand', 'updateContentCommand', 'postCreateCommand'].flatMap((k) => lifecycleLines(doc[k])),
  };
  if (typeof doc.image === 'string') out.image = doc.image;
  else if (typeof dockerfile === 'string') {
    out.dockerfile = resolve(dir, dockerfile);
    out.context = resolve(dir, typeof build.context === 'string' ? build.context : '.');
  } else throw fail(`${file} names neither image nor build.dockerfile — give it one, or give sandbox.image`, 'sandbox.build');
  return out;
}

/** The tag a build gets: the same Dockerfile and context build the same tag (the engine's layer cache does the rest). */
export function buildTag(repo: string, dockerfile: string, context: string, args: Record<string, string>): string {
  const slug =
    basename(repo)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'repo';
  const hash = createHash('sha256')
    .update(JSON.stringify([dockerfile, context, args]))
    .digest('hex')
    .slice(0, 12);
  return `localhost/flotilla-${slug}:${hash}`;
}

export interface ResolvedImage {
  sandbox: SandboxConfig;
  /** Setup lines the image's devcontainer.json asks for (its create commands), run before the template's own. */
  setup: string[];
  /** Where the image came from, for the launch's progress and the run's record. */
  from: string;
}

/** The sandbox with its image: named, built (reporting each build step), or from the repo's devcontainer.json. */
export async function resolveImage(spec: SandboxSpec, repo: string, onStep: (message: string) => void): Promise<ResolvedImage> {
  const { build, ...rest } = spec;
  if (spec.image) return { sandbox: { ...rest, image: spec.image }, setup: [], from: spec.image };
  let file: string;
  if (build) {
    file = resolve(repo, build);
    if (!existsSync(file))
      throw fail(
        `build: ${build} is not in the repo (${file}) — give a Dockerfile or devcontainer.json path relative to the repo`,
        'sandbox.build',
      );
  } else {
    const found = DEVCONTAINER_PLACES.map((p) => join(repo, p)).find((p) => existsSync(p));
    if (!found)
      throw fail(
        'no image — give sandbox.image (e.g. node:20-bookworm) or sandbox.build (a Dockerfile), or add .devcontainer/devcontainer.json to the repo',
        'sandbox.image',
      );
    file = found;
  }
  const dev = /devcontainer\.json$/.test(file) ? readDevcontainer(file) : null;
  const env = { ...(dev?.env ?? {}), ...(spec.env ?? {}) };
  const withEnv = (image: string) => ({ ...rest, image, ...(Object.keys(env).length ? { env } : {}) });
  const from = relative(repo, file) || file;
  if (dev?.image) return { sandbox: withEnv(dev.image), setup: dev.setup, from: `${dev.image} (${from})` };
  const dockerfile = dev?.dockerfile ?? file;
  const context = dev?.context ?? repo;
  const args = dev?.buildArgs ?? {};
  const tag = buildTag(repo, dockerfile, context, args);
  await buildImage(spec, { dockerfile, context, args, tag }, onStep);
  return { sandbox: withEnv(tag), setup: dev?.setup ?? [], from: `${tag} (built from ${relative(repo, dockerfile) || dockerfile})` };
}

/** `<engine> build`, each step reported; a failure says its last lines and the command to try it by hand. */
function buildImage(
  spec: SandboxSpec,
  b: { dockerfile: string; context: string; args: Record<string, string>; tag: string },
  onStep: (message: string) => void,
): Promise<void> {
  const argv = [
    'build',
    '--tag',
    b.tag,
    '--file',
    b.dockerfile,
    ...Object.entries(b.args).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
    // RUN steps need what the run's containers need here: podman's runtime, the limits (docker has no --runtime).
    ...(spec.runtime && spec.engine === 'podman' ? ['--runtime', spec.runtime] : []),
    ...Object.entries(spec.ulimits ?? {}).flatMap(([k, v]) => ['--ulimit', `${k}=${v}`]),
    b.context,
  ];
  return new Promise((done, reject) => {
    const child = spawn(spec.engine, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        const text = line.trim();
        if (!text) continue;
        tail.push(text);
        if (tail.length > 6) tail.shift();
        if (/^STEP \d+\/\d+|^Step \d+\/\d+|^#\d+ \[/.test(text)) onStep(`building the sandbox image — ${text.slice(0, 160)}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const howTo = `try it: ${spec.engine} build -f ${b.dockerfile} ${b.context}`;
    child.on('error', (err) =>
      reject(fail(`could not run ${spec.engine} build (${err.message}) — install ${spec.engine}, or give sandbox.image`, 'sandbox.engine')),
    );
    child.on('close', (code) => {
      if (code === 0) done();
      else
        reject(
          fail(
            `the image did not build from ${b.dockerfile} (exit ${code}): ${tail.slice(-3).join(' · ')} — fix it and launch again; ${howTo}`,
            'sandbox.build',
          ),
        );
    });
  });
}

/** A devcontainer's `${containerWorkspaceFolder}` / `${localWorkspaceFolder}` are the worktree (mounted at its path);
 *  `${localEnv:…}` is never read: the host's environment (keys!) stays out of the container. */
export function expandContainerEnv(env: Record<string, string>, worktree: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [
      k,
      v
        .replace(/\$\{(containerWorkspaceFolder|localWorkspaceFolder)\}/g, worktree)
        .replace(/\$\{(containerWorkspaceFolderBasename|localWorkspaceFolderBasename)\}/g, basename(worktree))
        .replace(/\$\{(localEnv|containerEnv):[^}]*\}/g, ''),
    ]),
  );
}
