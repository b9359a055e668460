// `sandbox:` in a template (and a slot's own `sandbox:`), kept apart from schema.ts: its fields, what each must be, and
// how a parsed one becomes the template's SandboxSpec.
import { z } from 'zod';
import type { SandboxSpec, SlotSandbox } from '../sandbox/command.ts';
import type { Problem } from './doc.ts';

const nonEmpty = z.string().trim().min(1);
const memory = z
  .string()
  .regex(/^\d+[bkmg]?$/i)
  .optional();
const cpus = z.number().positive().max(256).optional();
const network = z.enum(['meter-only', 'none', 'host']).optional();

export const SandboxSchema = z.strictObject({
  engine: z.enum(['docker', 'podman']).optional(),
  image: nonEmpty.optional(),
  build: nonEmpty.optional(),
  cpus,
  memory,
  network,
  runtime: nonEmpty.optional(),
  ulimits: z.record(z.string().regex(/^[a-z]+$/), z.string().regex(/^-?\d+(:-?\d+)?$/)).optional(),
  mounts: z.array(z.string().regex(/^\//)).optional(),
});
type RawSandbox = z.infer<typeof SandboxSchema>;

/** A slot's own sandbox: another image, other limits or network — or `false`, on the host. */
export const SlotSandboxSchema = z.union([z.literal(false), z.strictObject({ image: nonEmpty.optional(), cpus, memory, network })]);

export const SANDBOX_KEYS = ['engine', 'image', 'build', 'cpus', 'memory', 'network', 'runtime', 'ulimits', 'mounts'] as const;
export const SLOT_SANDBOX_KEYS = ['image', 'cpus', 'memory', 'network'] as const;

export const SANDBOX_EXPECTED: Record<string, string> = {
  sandbox:
    'a mapping with image or build (or neither: the repo’s devcontainer.json), engine, cpus, memory, network, runtime, ulimits, mounts',
  'sandbox.engine': 'one of docker, podman',
  'sandbox.image': 'an image reference, e.g. node:20-bookworm',
  'sandbox.build': 'a Dockerfile or a devcontainer.json, relative to the repo, e.g. .devcontainer/Dockerfile',
  'sandbox.cpus': 'a positive number of CPUs, e.g. 2 or 0.5',
  'sandbox.memory': 'a memory limit like 256m or 2g',
  'sandbox.network': 'one of meter-only (default: only the model, through the meter), none, host',
  'sandbox.runtime': 'an OCI runtime name, e.g. runc',
  'sandbox.ulimits': 'a mapping of limit: "soft:hard", e.g. nofile: "1024:2048"',
  'sandbox.ulimits.*': 'a "soft:hard" pair of whole numbers, e.g. "1024:2048"',
  'sandbox.mounts': 'a list of absolute host paths mounted read-only at the same place',
  'sandbox.mounts.*': 'an absolute path',
  'slots.*.sandbox': 'false (this slot runs on the host) or a mapping with image, cpus, memory, network',
  'slots.*.sandbox.image': 'an image reference, e.g. node:20-bookworm',
  'slots.*.sandbox.cpus': 'a positive number of CPUs, e.g. 2 or 0.5',
  'slots.*.sandbox.memory': 'a memory limit like 256m or 2g',
  'slots.*.sandbox.network': 'one of meter-only, none, host',
};

/** The template's sandbox with its defaults, and the slots' own; problems where they do not fit together. */
export function resolveSandbox(
  raw: RawSandbox | undefined,
  slots: { sandbox?: SlotSandbox | undefined }[],
  problems: Problem[],
): { sandbox?: SandboxSpec; slotSandboxes?: (SlotSandbox | null)[] } {
  if (raw?.image !== undefined && raw.build !== undefined)
    problems.push({ path: ['sandbox', 'build'], text: 'give either image (one to use) or build (one to build), not both' });
  const own = slots.map((sl) => sl.sandbox ?? null);
  own.forEach((sl, i) => {
    if (sl && !raw && sl.image === undefined)
      problems.push({
        path: ['slots', i, 'sandbox'],
        text: 'this slot runs in a container but names no image, and the template has no sandbox: — give it image: <ref>, or add sandbox: to the template',
      });
  });
  return {
    ...(raw ? { sandbox: { ...raw, engine: raw.engine ?? 'podman', network: raw.network ?? 'meter-only' } } : {}),
    ...(own.some((s) => s !== null) ? { slotSandboxes: own } : {}),
  };
}
