// What the engine knows about the user's setup: settings.json (prices, reference model, default budgets) and the
// provider keys (the engine's environment first, then the data dir's keys.json or keys handed over in memory).
import {
  KNOWN_PROVIDER_KEYS,
  type Balance,
  type ModelList,
  type PriceEntry,
  type Settings,
  type SettingsView,
} from '../../shared/contract.ts';
import { EngineError } from '../errors.ts';
import { PriceTable, effectivePrices } from '../meter/index.ts';
import { PROVIDER_PRESETS, providerSpec, type ProviderPresetName } from '../templates/index.ts';
import { fetchBalance } from './balance.ts';
import { fetchModels, shippedModels } from './models.ts';
import { ProviderKeys } from './keys.ts';
import { loadSettings, parseSettings, saveSettings, settingsPath } from './settings-file.ts';

export interface ProviderRef {
  preset: string;
  baseUrl: string;
  apiKeyEnv: string;
}

export class EngineSettings {
  private constructor(
    private readonly dataDir: string,
    private readonly env: NodeJS.ProcessEnv,
    private settings: Settings,
    private readonly keys: ProviderKeys,
  ) {}

  static async load(dataDir: string, env: NodeJS.ProcessEnv): Promise<EngineSettings> {
    return new EngineSettings(dataDir, env, await loadSettings(dataDir), await ProviderKeys.load(dataDir));
  }

  /** The settings as saved last (new runs use them; running runs keep the prices they started with). */
  get current(): Settings {
    return this.settings;
  }

  /** Shipped prices ← settings.json. */
  prices(): PriceEntry[] {
    return effectivePrices(this.settings).entries();
  }

  view(): SettingsView {
    const known = new Set([...KNOWN_PROVIDER_KEYS, ...this.keys.names()]);
    const keys = [...known]
      .filter((name) => this.providerKey(name))
      .map((name) => ({ name, source: this.env[name] ? ('environment' as const) : ('data dir' as const) }));
    // (A key handed over by the desktop app is reported as 'data dir' only if it is also stored there.)
    return { settings: this.settings, prices: this.prices(), shipped: PriceTable.shipped().entries(), keys };
  }

  /** Validates and saves settings.json. */
  async save(value: unknown): Promise<Settings> {
    const settings = parseSettings(value, settingsPath(this.dataDir));
    await saveSettings(this.dataDir, settings);
    this.settings = settings;
    return settings;
  }

  setProviderKey(name: string, value: string | null, persist = true): Promise<void> {
    return this.keys.set(name, value, persist);
  }

  /** A provider key by its env-var name: the engine's environment first, then the data dir's keys. */
  providerKey(name: string): string | undefined {
    return this.env[name] || this.keys.get(name);
  }

  /** The provider account's balance, where the provider has an endpoint for it (Moonshot). */
  balance(provider: ProviderRef): Promise<Balance> {
    const key = this.providerKey(provider.apiKeyEnv);
    if (!key) throw new EngineError('no_key', `${provider.apiKeyEnv} is not set — the balance needs the provider key`);
    return fetchBalance(provider.baseUrl, key, provider.preset);
  }

  /** The models to offer for a provider preset: its own list when its key is set, else the shipped table. */
  async models(preset: string): Promise<ModelList> {
    if (!(PROVIDER_PRESETS as readonly string[]).includes(preset))
      throw new EngineError('bad_request', `unknown provider preset '${preset}' — use one of ${PROVIDER_PRESETS.join(', ')}`, {
        field: 'provider',
      });
    const spec = providerSpec(preset as ProviderPresetName);
    const shipped = (note: string): ModelList => ({ source: 'shipped', models: shippedModels(), note });
    if (!spec.baseUrl) return shipped('a custom provider names its own base URL in the template; showing the shipped table');
    const key = this.providerKey(spec.apiKeyEnv);
    if (!key) return shipped(`${spec.apiKeyEnv} is not set — showing the shipped table (set the key to list the provider's models)`);
    try {
      return { source: 'provider', models: await fetchModels(spec.baseUrl, key), note: null };
    } catch (err) {
      return shipped(`${(err as Error).message} — showing the shipped table`);
    }
  }
}
