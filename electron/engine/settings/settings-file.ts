// <dataDir>/settings.json: parsed and checked with messages that name the file and the field, written atomically (0600).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { appMayBind, normalizeChord } from '../../shared/chords.ts';
import { PRICE_OVERRIDE_FIELDS, Settings as SettingsSchema, type Settings } from '../../shared/contract.ts';
import { DEFAULT_REFERENCE_MODEL, PriceTable } from '../meter/index.ts';
import { writePrivateFile } from './private-file.ts';

export class SettingsError extends Error {
  readonly code = 'settings_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

const SETTINGS_FIELDS = ['prices', 'referenceModel', 'defaultBudget'];

const SETTINGS_EXPECTED: Record<string, string> = {
  '': 'a JSON object with prices, referenceModel, defaultBudget',
  prices: 'an object of model id → { inputUsd, cacheReadUsd, cacheWriteUsd, outputUsd, contextWindow }',
  'prices.*': `an object with ${PRICE_OVERRIDE_FIELDS.join(', ')}`,
  'prices.*.inputUsd': 'a number of US dollars per million tokens, 0 or more',
  'prices.*.cacheReadUsd': 'a number of US dollars per million tokens, 0 or more',
  'prices.*.cacheWriteUsd': 'a number of US dollars per million tokens, 0 or more',
  'prices.*.outputUsd': 'a number of US dollars per million tokens, 0 or more',
  'prices.*.contextWindow': 'a positive whole number of tokens',
  referenceModel: 'a non-empty model id, e.g. claude-sonnet-4-5',
  defaultBudget: 'an object with perSessionUsd and/or runUsd',
  'defaultBudget.perSessionUsd': 'a positive number of US dollars, or null',
  'defaultBudget.runUsd': 'a positive number of US dollars, or null',
};

export function settingsPath(dataDir: string): string {
  return join(dataDir, 'settings.json');
}

function settingsProblem(file: string, issues: z.core.$ZodIssue[], value: unknown): SettingsError {
  const lines = issues.map((issue) => {
    const path = issue.path.map(String);
    const field = path.join('.');
    const pattern = path.map((seg, i) => (i === 1 && path[0] === 'prices' ? '*' : seg)).join('.');
    if (issue.code === 'unrecognized_keys') {
      const allowed = pattern === '' ? SETTINGS_FIELDS : pattern === 'prices.*' ? [...PRICE_OVERRIDE_FIELDS] : ['perSessionUsd', 'runUsd'];
      return `${file}: ${issue.keys.map((k) => (field ? `${field}.${k}` : k)).join(', ')}: unknown field — expected one of ${allowed.join(', ')}`;
    }
    let got: unknown = value;
    for (const seg of path) got = got !== null && typeof got === 'object' ? (got as Record<string, unknown>)[seg] : undefined;
    const shown = got === undefined ? '' : ` (got ${JSON.stringify(got)})`;
    return `${file}: ${field || '(top level)'}: must be ${SETTINGS_EXPECTED[pattern] ?? 'a valid value'}${shown}`;
  });
  return new SettingsError(lines.join('\n'));
}

/**
 * Parses settings (already decoded JSON); `file` names them in errors. Also checked: prices of models the table does
 * not know are complete, and the reference model has a price.
 */
export function parseSettings(value: unknown, file: string): Settings {
  const r = SettingsSchema.safeParse(value);
  if (!r.success) throw settingsProblem(file, r.error.issues, value);
  const s = r.data as Settings;
  let table: PriceTable;
  try {
    table = PriceTable.shipped().withOverrides(s.prices ?? {}, file);
  } catch (err) {
    throw new SettingsError((err as Error).message);
  }
  for (const [id, chord] of Object.entries(s.ui?.keybindings ?? {})) {
    if (chord === null) continue;
    const mac = process.platform === 'darwin';
    let normal: string;
    try {
      normal = normalizeChord(chord, mac);
    } catch (err) {
      throw new SettingsError(`${file}: ui.keybindings.${id}: ${(err as Error).message}`);
    }
    if (!appMayBind(normal, mac))
      throw new SettingsError(
        `${file}: ui.keybindings.${id}: ${normal} is a key the agents receive — app shortcuts need ${mac ? 'Cmd' : 'Ctrl+Shift'} (e.g. ${mac ? 'Cmd+Shift+K' : 'Ctrl+Shift+K'})`,
      );
  }
  if (s.referenceModel !== undefined && !table.get(s.referenceModel)) {
    throw new SettingsError(
      `${file}: referenceModel: '${s.referenceModel}' has no price, so savings could not be measured against it — name a priced model (e.g. ${DEFAULT_REFERENCE_MODEL}) or give its prices under prices`,
    );
  }
  return s;
}

/** Reads <dataDir>/settings.json: {} when it does not exist; a SettingsError naming the file and field when invalid. */
export async function loadSettings(dataDir: string): Promise<Settings> {
  const file = settingsPath(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new SettingsError(`${file}: cannot read: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SettingsError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  return parseSettings(value, file);
}

/** Writes <dataDir>/settings.json atomically (temp file, fsync, rename), readable by the owner only (0600). */
export async function saveSettings(dataDir: string, s: Settings): Promise<void> {
  const file = settingsPath(dataDir);
  const valid = parseSettings(s, file);
  try {
    await writePrivateFile(file, `${JSON.stringify(valid, null, 2)}\n`);
  } catch (err) {
    throw new SettingsError(`${file}: cannot write: ${(err as Error).message}`);
  }
}
