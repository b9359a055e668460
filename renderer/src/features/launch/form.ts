// The launch dialog's pure part: the sample template, what a launch error says about which form field, and the
// preview of what a launch would start (sessions, tasks, branches) computed from the YAML and the form.
import { parse as parseYaml } from 'yaml';
import { EngineRequestError } from '../../../../electron/shared/client.ts';

export const SAMPLE = `# A Flotilla run: one session per task, each in its own git worktree.
name: tidy-up
repo: .
agent:
  preset: claude-code
provider:
  preset: moonshot
model: kimi-k2.6
budget:
  perSessionUsd: 2
tasks:
  - Fix the flaky test in the parser suite
  - Add input validation to the users endpoint
  - Document the CLI flags in README.md
`;

export type Field = 'count' | 'tasks' | 'model' | 'budget';
export const FIELDS: readonly string[] = ['count', 'tasks', 'model', 'budget'];

export interface Problem {
  message: string;
  /** The form field it is about, when it is one the dialog has. */
  field: Field | null;
}

/** The form field an engine error names (its `field`, e.g. "budget.perSessionUsd" or "tasks[2]"). */
export function formField(field: string | null | undefined): Field | null {
  const top = field?.split(/[.[]/, 1)[0] ?? '';
  return FIELDS.includes(top) ? (top as Field) : null;
}

/** An engine error as the dialog lists it: one line per problem, each routed to its field. */
export function problemsOf(err: unknown): Problem[] {
  if (err instanceof EngineRequestError && err.issues?.length)
    return err.issues.map((i) => ({ message: i.message, field: formField(i.field) }));
  const message = (err as Error).message ?? String(err);
  const field = err instanceof EngineRequestError ? formField(err.field) : null;
  return message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((m) => ({ message: m, field }));
}

export function slugOf(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return s || 'run';
}

export interface Preview {
  name: string | null;
  /** The template's provider preset, for the model list (moonshot when it names none). */
  provider: string;
  rows: { slot: number; task: string | null }[];
  note: string | null;
}

export function computePreview(source: 'yaml' | 'path', yamlText: string, count: string, tasksText: string): Preview {
  let name: string | null = null;
  let provider = 'moonshot';
  let fileTasks: string[] = [];
  let fileCount: number | null = null;
  let note: string | null = null;
  if (source === 'yaml') {
    try {
      const doc = parseYaml(yamlText) as Record<string, unknown> | null;
      if (doc && typeof doc === 'object') {
        if (typeof doc.name === 'string') name = doc.name;
        // A providers list offers the first provider's models (they all serve the one model).
        const p = (Array.isArray(doc.providers) ? doc.providers[0] : doc.provider) as { preset?: unknown } | undefined;
        if (p && typeof p.preset === 'string') provider = p.preset;
        if (Array.isArray(doc.tasks)) fileTasks = doc.tasks.map((t) => String(t));
        if (typeof doc.count === 'number') fileCount = doc.count;
      }
    } catch (err) {
      note = `YAML does not parse yet: ${(err as Error).message.split('\n')[0]}`;
    }
  } else {
    note = 'Name, count and tasks not set here are read from the file at launch.';
  }
  const overrideTasks = tasksText
    .split('\n')
    .map((t) => t.trim())
    .filter(Boolean);
  const tasks = overrideTasks.length ? overrideTasks : fileTasks;
  const n = count.trim() ? Number(count) : (fileCount ?? Math.max(1, Math.min(tasks.length, 64)));
  const total = Number.isInteger(n) && n > 0 ? Math.min(n, 64) : 0;
  const rows = Array.from({ length: total }, (_, i) => ({ slot: i + 1, task: tasks[i] ?? null }));
  return { name, provider, rows, note };
}
