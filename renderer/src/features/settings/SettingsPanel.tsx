// The Settings panel: provider keys (set / not set and where from — never a value), the price table (overrides of the
// shipped prices), default budgets and the reference model. Everything goes through the engine's `settings`,
// `saveSettings` and `setProviderKey` commands; in the desktop app a key is also handed to the bridge (kept encrypted).
import { useCallback, useEffect, useState } from 'react';
import { HostsSettings } from './HostsSettings.tsx';
import { InterfaceSettings } from './InterfaceSettings.tsx';
import { applyUi } from './prefs.ts';
import { KNOWN_PROVIDER_KEYS, type Settings, type SettingsView } from '../../../../electron/shared/contract.ts';
import { settings as settingsApi } from '../../api/index.ts';
import { platform } from '../../platform/index.ts';
import { useStore } from '../../store/index.ts';

type RateField = 'inputUsd' | 'cacheReadUsd' | 'outputUsd';
const RATE_FIELDS: RateField[] = ['inputUsd', 'cacheReadUsd', 'outputUsd'];
const RATE_LABEL: Record<RateField, string> = { inputUsd: 'input', cacheReadUsd: 'cache read', outputUsd: 'output' };

type Result = { ok: boolean; text: string } | null;

const numText = (n: number | null | undefined): string => (n == null ? '' : String(n));

/** Price inputs: model → field → text; a field's text is '' when the model uses the shipped value. */
function priceDraft(view: SettingsView): Record<string, Record<RateField, string>> {
  const out: Record<string, Record<RateField, string>> = {};
  for (const p of view.prices) {
    const o = view.settings.prices?.[p.model] ?? {};
    out[p.model] = { inputUsd: numText(o.inputUsd), cacheReadUsd: numText(o.cacheReadUsd), outputUsd: numText(o.outputUsd) };
  }
  return out;
}

export function SettingsPanel() {
  const [view, setView] = useState<SettingsView | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [result, setResult] = useState<Result>(null);
  const [keyDraft, setKeyDraft] = useState<Record<string, string>>({});
  const [newKeyName, setNewKeyName] = useState('');
  const [extraNames, setExtraNames] = useState<string[]>([]);
  const [prices, setPrices] = useState<Record<string, Record<RateField, string>>>({});
  const [perSession, setPerSession] = useState('');
  const [perRun, setPerRun] = useState('');
  const [holdMinutes, setHoldMinutes] = useState('');
  const [reference, setReference] = useState('');
  const [keepContainers, setKeepContainers] = useState(false);
  const [busy, setBusy] = useState(false);

  const connected = useStore((s) => s.connection.state === 'open');
  const load = useCallback(async () => {
    try {
      const v = await settingsApi.load();
      setView(v);
      setLoadError(null);
      setPrices(priceDraft(v));
      setPerSession(numText(v.settings.defaultBudget?.perSessionUsd));
      setPerRun(numText(v.settings.defaultBudget?.runUsd));
      setHoldMinutes(numText(v.settings.budgetHoldMinutes));
      setReference(v.settings.referenceModel ?? '');
      setKeepContainers(v.settings.keepContainers === true);
    } catch (err) {
      setLoadError((err as Error).message);
    }
  }, []);

  // Loaded when the panel opens and again after every reconnect.
  useEffect(() => {
    if (connected) void load();
  }, [load, connected]);

  const run = async (what: string, fn: () => Promise<void>) => {
    setBusy(true);
    setResult(null);
    try {
      await fn();
      setResult({ ok: true, text: what });
      await load();
    } catch (err) {
      setResult({ ok: false, text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };

  if (!view) {
    return (
      <div className="settings-panel" data-testid="settings-panel">
        {loadError ? (
          <p className="error" data-testid="settings-result">
            {loadError}
          </p>
        ) : (
          <p className="dim">Loading settings…</p>
        )}
      </div>
    );
  }

  const shipped = new Map(view.shipped.map((p) => [p.model, p]));
  const effective = new Map(view.prices.map((p) => [p.model, p]));
  const keySource = new Map(view.keys.map((k) => [k.name, k.source]));
  const keyNames = [...new Set([...KNOWN_PROVIDER_KEYS, ...view.keys.map((k) => k.name), ...extraNames])];
  const desktop = platform.keyStore === 'desktop';

  const saveKey = (name: string) => {
    const value = keyDraft[name] ?? '';
    if (!value) return setResult({ ok: false, text: `Type a value for ${name} first.` });
    void run(`${name} saved.`, async () => {
      await settingsApi.setKey(name, value);
      setKeyDraft((d) => ({ ...d, [name]: '' }));
    });
  };

  const removeKey = (name: string) =>
    void run(`${name} removed.`, async () => {
      await settingsApi.removeKey(name);
    });

  const savePrices = () =>
    void run('Prices saved.', async () => {
      const out: NonNullable<Settings['prices']> = {};
      for (const [model, fields] of Object.entries(prices)) {
        const base = shipped.get(model);
        const kept = { ...(view.settings.prices?.[model] ?? {}) };
        for (const f of RATE_FIELDS) delete kept[f];
        let changed = false;
        for (const f of RATE_FIELDS) {
          const text = fields[f].trim();
          if (text === '') continue;
          const n = Number(text);
          if (!Number.isFinite(n) || n < 0)
            throw new Error(`${model} ${RATE_LABEL[f]}: '${text}' is not a price (US dollars per million tokens, 0 or more)`);
          if (base && base[f] === n) continue;
          kept[f] = n;
          changed = true;
        }
        if (changed || Object.keys(kept).length > 0) out[model] = kept;
      }
      const { prices: _old, ...rest } = view.settings;
      await settingsApi.save(Object.keys(out).length ? { ...rest, prices: out } : rest);
    });

  const resetPrices = () =>
    void run('Prices reset to the shipped table.', async () => {
      const { prices: _old, ...rest } = view.settings;
      await settingsApi.save(rest);
    });

  const saveDefaults = () =>
    void run('Defaults saved.', async () => {
      const budget = (text: string, label: string): number | null => {
        if (text.trim() === '') return null;
        const n = Number(text);
        if (!Number.isFinite(n) || n <= 0)
          throw new Error(`${label}: '${text}' must be a positive number of US dollars (or empty for none)`);
        return n;
      };
      const { defaultBudget: _b, referenceModel: _r, budgetHoldMinutes: _h, keepContainers: _k, ...rest } = view.settings;
      const perSessionUsd = budget(perSession, 'Budget per session');
      const runUsd = budget(perRun, 'Budget per run');
      const settings: Settings = { ...rest };
      if (perSessionUsd != null || runUsd != null) settings.defaultBudget = { perSessionUsd, runUsd };
      if (holdMinutes.trim() !== '') {
        const m = Number(holdMinutes);
        if (!Number.isFinite(m) || m <= 0 || m > 1440)
          throw new Error(`Hold over budget for: '${holdMinutes}' must be minutes above 0, at most 1440 (or empty for 15)`);
        settings.budgetHoldMinutes = m;
      }
      if (reference) settings.referenceModel = reference;
      if (keepContainers) settings.keepContainers = true;
      await settingsApi.save(settings);
    });

  return (
    <div className="settings-panel" data-testid="settings-panel">
      {result && (
        <p className={`settings-result ${result.ok ? 'ok' : 'error'}`} data-testid="settings-result">
          {result.text}
        </p>
      )}

      <section className="settings-section">
        <h3>Provider keys</h3>
        <p className="settings-note dim">
          {desktop
            ? 'Saved keys are kept encrypted by the desktop app (OS key store) and handed to the engine.'
            : 'Saved keys are stored by the engine in its data dir (keys.json, readable by you only — mode 0600).'}{' '}
          Values are never shown. A key from the environment wins over a saved one.
        </p>
        {keyNames.map((name) => {
          const src = keySource.get(name);
          return (
            <div className="settings-key" key={name}>
              <div className="settings-key-head">
                <code>{name}</code>
                <span className={`settings-key-state ${src ? 'set' : 'unset'}`} data-testid={`settings-key-state-${name}`}>
                  {src ? `set (${src})` : 'not set'}
                </span>
              </div>
              <div className="settings-key-row">
                <input
                  type="password"
                  autoComplete="off"
                  placeholder={src ? 'replace…' : 'paste the key'}
                  value={keyDraft[name] ?? ''}
                  data-testid={`settings-key-input-${name}`}
                  onChange={(e) => setKeyDraft((d) => ({ ...d, [name]: e.target.value }))}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter') saveKey(name);
                  }}
                />
                <button className="btn" disabled={busy} data-testid={`settings-key-save-${name}`} onClick={() => saveKey(name)}>
                  Save
                </button>
                {src === 'data dir' && (
                  <button className="btn" disabled={busy} data-testid={`settings-key-remove-${name}`} onClick={() => removeKey(name)}>
                    Remove
                  </button>
                )}
              </div>
            </div>
          );
        })}
        <div className="settings-key-row">
          <input
            placeholder="OTHER_API_KEY (env-var name)"
            value={newKeyName}
            data-testid="settings-key-new-name"
            onChange={(e) => setNewKeyName(e.target.value.trim())}
          />
          <button
            className="btn"
            disabled={!/^[A-Za-z_][A-Za-z0-9_]*$/.test(newKeyName) || keyNames.includes(newKeyName)}
            onClick={() => {
              setExtraNames((n) => [...n, newKeyName]);
              setNewKeyName('');
            }}
          >
            Add name
          </button>
        </div>
      </section>

      <section className="settings-section">
        <h3>Prices</h3>
        <p className="settings-note dim">US dollars per million tokens. Empty = the shipped price (shown greyed). New runs use these.</p>
        <table className="settings-prices">
          <thead>
            <tr>
              <th>model</th>
              {RATE_FIELDS.map((f) => (
                <th key={f}>{RATE_LABEL[f]}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {view.prices.map((p) => (
              <tr key={p.model}>
                <td className="settings-model" title={`${p.source} · ${p.asOf}`}>
                  {p.model}
                </td>
                {RATE_FIELDS.map((f) => (
                  <td key={f}>
                    <input
                      inputMode="decimal"
                      className="settings-price-input"
                      data-testid={`settings-price-${p.model}-${f}`}
                      placeholder={numText(shipped.get(p.model)?.[f] ?? effective.get(p.model)?.[f])}
                      value={prices[p.model]?.[f] ?? ''}
                      onChange={(e) =>
                        setPrices((d) => ({
                          ...d,
                          [p.model]: { ...(d[p.model] ?? { inputUsd: '', cacheReadUsd: '', outputUsd: '' }), [f]: e.target.value },
                        }))
                      }
                    />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        <div className="settings-actions">
          <button className="btn primary" disabled={busy} data-testid="settings-save-prices" onClick={savePrices}>
            Save prices
          </button>
          <button className="btn" disabled={busy} data-testid="settings-reset-prices" onClick={resetPrices}>
            Reset to shipped
          </button>
        </div>
      </section>

      <section className="settings-section">
        <h3>Defaults for new runs</h3>
        <label className="settings-field">
          <span>Budget per session (USD)</span>
          <input
            inputMode="decimal"
            placeholder="none"
            value={perSession}
            data-testid="settings-budget-session"
            onChange={(e) => setPerSession(e.target.value)}
          />
        </label>
        <label className="settings-field">
          <span>Budget per run (USD)</span>
          <input
            inputMode="decimal"
            placeholder="none"
            value={perRun}
            data-testid="settings-budget-run"
            onChange={(e) => setPerRun(e.target.value)}
          />
        </label>
        <label className="settings-field" title="How long a request over budget waits for a raise before the agent gets the budget error">
          <span>Hold over budget for (minutes)</span>
          <input
            inputMode="decimal"
            placeholder="15"
            value={holdMinutes}
            data-testid="settings-hold-minutes"
            onChange={(e) => setHoldMinutes(e.target.value)}
          />
        </label>
        <label className="settings-field">
          <span>Reference model (savings)</span>
          <select value={reference} data-testid="settings-reference" onChange={(e) => setReference(e.target.value)}>
            <option value="">default (claude-sonnet-4-5)</option>
            {view.prices.map((p) => (
              <option key={p.model} value={p.model}>
                {p.model}
              </option>
            ))}
          </select>
        </label>
        <label
          className="settings-field checkbox"
          title="Sandboxed sessions (template sandbox:): leave each container after its session ends, to inspect it (podman ps -a); flotilla clean removes them"
        >
          <input
            type="checkbox"
            checked={keepContainers}
            data-testid="settings-keep-containers"
            onChange={(e) => setKeepContainers(e.target.checked)}
          />
          <span>Keep sandbox containers after sessions end (for inspection)</span>
        </label>
        <div className="settings-actions">
          <button className="btn primary" disabled={busy} data-testid="settings-save-defaults" onClick={saveDefaults}>
            Save defaults
          </button>
        </div>
      </section>
      <HostsSettings />
      <InterfaceSettings
        settings={view.settings}
        busy={busy}
        save={(s, what) =>
          void run(what, async () => {
            applyUi((await settingsApi.save(s)).ui);
          })
        }
      />
    </div>
  );
}
