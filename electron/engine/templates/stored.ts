// A run's resolved template as the store keeps it (runs.template_json): checked when written and when read back, so a
// resume or a restart after an upgrade fails with a sentence naming the run instead of starting a half-read template.
import { z } from 'zod';
import { ApiStyle, PriceOverrides, ProviderLimits, WorkspaceMode } from '../../shared/contract.ts';
import { EngineError } from '../errors.ts';
import { AGENT_PRESETS, type AgentPresetName } from './presets.ts';
import { ROUTES } from './provider-entry.ts';
import type { Template } from './schema.ts';

const StoredProvider = z
  .object({
    // Absent in runs stored before provider lists: the preset names it.
    name: z.string().optional(),
    preset: z.string(),
    baseUrl: z.string(),
    style: ApiStyle,
    apiKeyEnv: z.string(),
    keyRequired: z.boolean().optional(),
    // Absent (runs stored before profiles existed, or a template that names none): the preset's default, as at launch.
    compat: z.string().optional(),
    compatRules: z.object({ on: z.array(z.string()), off: z.array(z.string()) }).optional(),
    limits: ProviderLimits.optional(),
    model: z.string().optional(),
    preferences: z.record(z.string(), z.unknown()).optional(),
    line: z.number().int().nullable().optional(),
  })
  .transform((p) => ({ ...p, name: p.name ?? p.preset }));

const StoredTemplateSchema = z.object({
  name: z.string(),
  file: z.string().nullable(),
  repo: z.string(),
  base: z.string(),
  workspace: WorkspaceMode,
  count: z.number().int().min(1),
  concurrency: z.number().int().min(1),
  agent: z.object({
    preset: z.enum(AGENT_PRESETS as [AgentPresetName, ...AgentPresetName[]]),
    command: z.string(),
    args: z.array(z.string()).nullable(),
    env: z.record(z.string(), z.string()),
  }),
  provider: StoredProvider,
  providers: z.array(StoredProvider).min(1).optional(),
  route: z.enum(ROUTES).optional(),
  model: z.string(),
  models: z.array(z.string().nullable()).optional(),
  budget: z.object({ perSessionUsd: z.number().nullable(), runUsd: z.number().nullable() }),
  tasks: z.array(z.string()),
  prices: PriceOverrides.optional(),
  referenceModel: z.string().nullable().optional(),
  setup: z.array(z.string()).optional(),
  host: z.string().optional(),
  // A resumed or restarted session must run where it ran: in its container (the image resolved at launch), or not.
  sandbox: z
    .object({
      engine: z.enum(['docker', 'podman']),
      image: z.string().optional(),
      build: z.string().optional(),
      cpus: z.number().optional(),
      memory: z.string().optional(),
      network: z.enum(['meter-only', 'none', 'host']),
      runtime: z.string().optional(),
      ulimits: z.record(z.string(), z.string()).optional(),
      mounts: z.array(z.string()).optional(),
      env: z.record(z.string(), z.string()).optional(),
      setup: z.array(z.string()).optional(),
    })
    .optional(),
  slotSandboxes: z
    .array(
      z
        .union([
          z.literal(false),
          z.object({
            image: z.string().optional(),
            cpus: z.number().optional(),
            memory: z.string().optional(),
            network: z.enum(['meter-only', 'none', 'host']).optional(),
          }),
        ])
        .nullable(),
    )
    .optional(),
}) satisfies z.ZodType<Template>;

export function storedTemplateJson(t: Template): string {
  return JSON.stringify(StoredTemplateSchema.parse(t));
}

/** The template a run was launched with; `runId` names it in the error. */
export function parseStoredTemplate(json: string, runId: string): Template {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new EngineError('data_dir', `the stored template of run ${runId} is not JSON (${(err as Error).message}) — launch the run again`);
  }
  const r = StoredTemplateSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new EngineError(
      'data_dir',
      `the stored template of run ${runId} does not match this version of Flotilla (${issue.path.map(String).join('.') || '(top)'}: ${issue.message}) — launch the run again`,
    );
  }
  return r.data;
}
