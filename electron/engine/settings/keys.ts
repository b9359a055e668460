// Provider keys kept by the headless engine (`flotilla serve`): <dataDir>/keys.json, mode 0600, by env-var name
// (e.g. MOONSHOT_API_KEY). The desktop app keeps its keys encrypted with safeStorage instead. A key set in the engine's
// environment wins. Keys never cross the wire: clients only learn which names are set.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writePrivateFile } from './private-file.ts';
import { EngineError } from '../errors.ts';
import { KEY_NAME } from '../../shared/contract.ts';

export class ProviderKeys {
  /** Keys handed over for this engine's lifetime only (the desktop app's, kept encrypted there). */
  private readonly memory = new Map<string, string>();

  private constructor(
    private readonly file: string,
    private keys: Record<string, string>,
  ) {}

  static async load(dataDir: string): Promise<ProviderKeys> {
    const file = join(dataDir, 'keys.json');
    let keys: Record<string, string> = {};
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
        keys = Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new EngineError('keys_invalid', `${file} is not valid JSON — fix or delete it (${(err as Error).message})`);
    }
    return new ProviderKeys(file, keys);
  }

  get(name: string): string | undefined {
    return this.memory.get(name) ?? this.keys[name];
  }

  names(): string[] {
    return [...new Set([...Object.keys(this.keys), ...this.memory.keys()])].sort();
  }

  /** Sets (or with null, removes) a key: written at once (0600), or with `persist: false` kept in memory only. */
  async set(name: string, value: string | null, persist = true): Promise<void> {
    if (!KEY_NAME.test(name)) throw new EngineError('bad_request', `key name '${name}' must look like an env var, e.g. MOONSHOT_API_KEY`);
    if (value !== null && value !== '' && !persist) {
      this.memory.set(name, value.trim());
      return;
    }
    this.memory.delete(name);
    const next = { ...this.keys };
    if (value === null || value === '') delete next[name];
    else next[name] = value.trim();
    await writePrivateFile(this.file, `${JSON.stringify(next, null, 2)}\n`);
    this.keys = next;
  }
}
