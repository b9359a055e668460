import { useEffect, useMemo, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { ModelList, TemplateEntry } from '../../../../electron/shared/contract.ts';
import { models as modelApi, runs, templates as templateApi } from '../../api/index.ts';
import { focusSession } from '../grid/focus.ts';
import { platform } from '../../platform/index.ts';
import { openModal } from '../../ui/modal.ts';
import { useStore } from '../../store/index.ts';
import { loadRun } from '../../store/sync.ts';
import { type Field, type Problem, SAMPLE, computePreview, problemsOf, slugOf } from './form.ts';

export function LaunchDialog() {
  const setLaunchOpen = useStore((s) => s.setLaunchOpen);
  const dialogRef = useRef<HTMLDialogElement>(null);
  useEffect(() => openModal(dialogRef.current), []);
  const progress = useStore((s) => s.launchProgress);
  const [source, setSource] = useState<'yaml' | 'path'>('yaml');
  const [yamlText, setYamlText] = useState(SAMPLE);
  const [path, setPath] = useState('');
  const [repo, setRepo] = useState('');
  const [host, setHost] = useState('');
  const hostList = useStore(useShallow((s) => [...s.hosts.values()]));
  const [count, setCount] = useState('');
  const [tasksText, setTasksText] = useState('');
  const [model, setModel] = useState('');
  const [budget, setBudget] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Problem[]>([]);
  const textRef = useRef<HTMLTextAreaElement>(null);
  const [templates, setTemplates] = useState<TemplateEntry[]>([]);
  const [picked, setPicked] = useState('');
  const [saveName, setSaveName] = useState('');
  const [saveWhere, setSaveWhere] = useState<'repo' | 'data'>('data');
  const [saveResult, setSaveResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    textRef.current?.focus();
    useStore.getState().setLaunchProgress(null);
  }, []);

  // The template library: `<repo>/.flotilla/templates/` (the Repository field, else the engine's cwd) and the data dir's.
  const repoArg = repo.trim();
  const refreshTemplates = async () => {
    try {
      setTemplates(await templateApi.list(repoArg || undefined));
    } catch {
      setTemplates([]);
    }
  };
  useEffect(() => {
    const t = setTimeout(() => void refreshTemplates(), 250);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [repoArg]);

  const pickTemplate = async (file: string) => {
    setPicked(file);
    if (!file) return;
    try {
      const { text } = await templateApi.read(file, repoArg || undefined);
      setSource('yaml');
      setYamlText(text);
      setErrors([]);
      const entry = templates.find((t) => t.path === file);
      if (entry) setSaveName(entry.name);
    } catch (err) {
      setErrors(problemsOf(err));
    }
  };

  const saveTemplate = async () => {
    const name = saveName.trim() || preview.name?.trim() || '';
    if (!name) return setSaveResult({ ok: false, text: 'Give the template a name.' });
    if (source !== 'yaml') return setSaveResult({ ok: false, text: 'Switch to Template YAML: the text in the editor is what is saved.' });
    setSaving(true);
    try {
      const saved = await templateApi.save({ name, text: yamlText, where: saveWhere, ...(repoArg ? { repo: repoArg } : {}) });
      setSaveResult({ ok: true, text: `Saved ${saved.path}` });
      setPicked(saved.path);
      await refreshTemplates();
    } catch (err) {
      setSaveResult({ ok: false, text: (err as Error).message });
    } finally {
      setSaving(false);
    }
  };

  const preview = useMemo(() => computePreview(source, yamlText, count, tasksText), [source, yamlText, count, tasksText]);
  // The models the template's provider offers (its own list when its key is set, else the shipped table).
  const [modelList, setModelList] = useState<ModelList | null>(null);
  const known = ['moonshot', 'moonshot-openai', 'openrouter', 'custom'];
  const providerForModels = known.includes(preview.provider) ? preview.provider : 'moonshot';
  useEffect(() => {
    let live = true;
    modelApi
      .list(providerForModels)
      .then((m) => live && setModelList(m))
      .catch(() => live && setModelList(null));
    return () => {
      live = false;
    };
  }, [providerForModels]);
  const fieldErrors = useMemo(() => {
    const m = new Map<Field, string[]>();
    for (const e of errors) if (e.field) m.set(e.field, [...(m.get(e.field) ?? []), e.message]);
    return m;
  }, [errors]);

  const close = () => {
    if (!busy) setLaunchOpen(false);
  };

  const launch = async () => {
    const overrides: Record<string, unknown> = {};
    const local: Problem[] = [];
    if (count.trim()) {
      const n = Number(count);
      if (!Number.isInteger(n) || n < 1)
        local.push({ message: `count: ${count} is not a whole number of sessions of at least 1`, field: 'count' });
      else overrides.count = n;
    }
    const tasks = tasksText
      .split('\n')
      .map((t) => t.trim())
      .filter(Boolean);
    if (tasks.length) overrides.tasks = tasks;
    if (model.trim()) overrides.model = model.trim();
    if (budget.trim()) {
      const b = Number(budget);
      if (!(b > 0)) local.push({ message: `budget.perSessionUsd: ${budget} is not a positive number of US dollars`, field: 'budget' });
      else overrides.budget = { perSessionUsd: b };
    }
    if (source === 'path' && !path.trim()) local.push({ message: 'Give the path of a template file, or paste the YAML.', field: null });
    if (local.length) return setErrors(local);
    setErrors([]);
    setBusy(true);
    try {
      const result = await runs.launch({
        ...(source === 'yaml' ? { templateText: yamlText } : { templatePath: path.trim() }),
        ...(repo.trim() ? { repo: repo.trim() } : {}),
        ...(host ? { host } : {}),
        ...(Object.keys(overrides).length ? { overrides } : {}),
      });
      const st = useStore.getState();
      st.upsertRun(result.run);
      st.upsertSessions(result.sessions);
      st.setCurrentRun(result.run.id);
      st.setFocusMode(false);
      void loadRun(result.run.id);
      setBusy(false);
      setLaunchOpen(false);
      const first = result.sessions.sort((a, b) => a.slot - b.slot)[0];
      if (first) focusSession(first.id);
      for (const n of result.notices ?? []) st.say(n);
    } catch (err) {
      setBusy(false);
      setErrors(problemsOf(err));
    }
  };

  const pickFolder = platform.pickFolder;
  const pickRepo = async () => {
    const dir = await pickFolder?.();
    if (dir) setRepo(dir);
  };

  const slug = slugOf(preview.name ?? 'run');
  return (
    // A native modal <dialog>: focus stays inside, Esc closes, the keyboard goes back where it was.
    <dialog
      ref={dialogRef}
      className="dialog"
      aria-labelledby="launch-title"
      data-testid="launch-dialog"
      onCancel={(e) => {
        e.preventDefault();
        close();
      }}
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) close();
      }}
      onKeyDown={(e) => {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void launch();
      }}
    >
      <div className="dialog-inner">
        <div className="dialog-head">
          <h2 id="launch-title">Launch a run</h2>
          <div className="seg">
            <button className={source === 'yaml' ? 'on' : ''} onClick={() => setSource('yaml')}>
              Template YAML
            </button>
            <button className={source === 'path' ? 'on' : ''} onClick={() => setSource('path')}>
              Template file
            </button>
          </div>
        </div>
        <div className="dialog-body">
          <div className="col-left">
            <label className="field">
              <span>Saved templates</span>
              <select
                className="select"
                data-testid="launch-template-select"
                value={picked}
                onChange={(e) => void pickTemplate(e.target.value)}
              >
                <option value="">{templates.length ? '— pick a template —' : '(no saved templates)'}</option>
                {(['repo', 'data'] as const).map((src) => {
                  const list = templates.filter((t) => t.source === src);
                  if (!list.length) return null;
                  return (
                    <optgroup key={src} label={src === 'repo' ? 'Repository (.flotilla/templates)' : 'Flotilla data dir'}>
                      {list.map((t) => (
                        <option key={t.path} value={t.path} title={t.path}>
                          {t.name}
                        </option>
                      ))}
                    </optgroup>
                  );
                })}
              </select>
            </label>
            {source === 'yaml' ? (
              <textarea
                ref={textRef}
                className={`yaml${errors.length ? ' invalid' : ''}`}
                data-testid="launch-yaml"
                spellCheck={false}
                value={yamlText}
                onChange={(e) => setYamlText(e.target.value)}
              />
            ) : (
              <label className="field">
                <span>Template path</span>
                <input
                  data-testid="launch-path"
                  value={path}
                  placeholder="/path/to/repo/.flotilla/templates/run.yaml"
                  onChange={(e) => setPath(e.target.value)}
                />
              </label>
            )}
            {errors.length > 0 && (
              <ul className="errors" data-testid="launch-errors">
                {errors.map((e, i) => (
                  <li key={i}>{e.message}</li>
                ))}
              </ul>
            )}
            <div className="row save-row">
              <input
                data-testid="launch-save-name"
                value={saveName}
                placeholder={preview.name ? `template name (${preview.name})` : 'template name'}
                onChange={(e) => setSaveName(e.target.value)}
              />
              <select
                className="select"
                data-testid="launch-save-where"
                value={saveWhere}
                onChange={(e) => setSaveWhere(e.target.value as 'repo' | 'data')}
              >
                <option value="data">data dir</option>
                <option value="repo">repo</option>
              </select>
              <button className="btn" data-testid="launch-save" onClick={() => void saveTemplate()} disabled={saving || busy}>
                {saving ? 'Saving…' : 'Save template'}
              </button>
            </div>
            {saveResult && (
              <div
                className={saveResult.ok ? 'save-result dim small' : 'save-result field-error'}
                data-testid="launch-save-result"
                data-ok={saveResult.ok ? 'true' : 'false'}
              >
                {saveResult.text}
              </div>
            )}
          </div>
          <div className="col-right">
            {hostList.length > 0 && (
              <label className="field">
                <span>Where it runs</span>
                <select data-testid="launch-host" value={host} onChange={(e) => setHost(e.target.value)}>
                  <option value="">the template's host: (else this machine)</option>
                  {hostList.map((h) => (
                    <option key={h.name} value={h.name} data-testid={`launch-host-${h.name}`}>
                      {h.name} — {h.destination}
                      {h.state === 'connected' ? '' : ` (${h.state.replace('_', ' ')})`}
                    </option>
                  ))}
                </select>
              </label>
            )}
            <label className="field">
              <span>
                {host ? `Repository on ${host} (absolute, or relative to its home)` : "Repository (overrides the template's repo)"}
              </span>
              <div className="row">
                <input data-testid="launch-repo" value={repo} placeholder="template's repo:" onChange={(e) => setRepo(e.target.value)} />
                {pickFolder && (
                  <button className="btn" onClick={pickRepo}>
                    Browse…
                  </button>
                )}
              </div>
            </label>
            <div className="row">
              <label className={`field${fieldErrors.has('count') ? ' has-error' : ''}`}>
                <span>Count</span>
                <input
                  data-testid="launch-count"
                  inputMode="numeric"
                  value={count}
                  placeholder="from template"
                  onChange={(e) => setCount(e.target.value)}
                />
              </label>
              <label className={`field${fieldErrors.has('budget') ? ' has-error' : ''}`}>
                <span>Budget / session $</span>
                <input
                  data-testid="launch-budget"
                  inputMode="decimal"
                  value={budget}
                  placeholder="from template"
                  onChange={(e) => setBudget(e.target.value)}
                />
              </label>
            </div>
            {(fieldErrors.get('count') ?? []).concat(fieldErrors.get('budget') ?? []).map((e, i) => (
              <div key={i} className="field-error">
                {e}
              </div>
            ))}
            <label className={`field${fieldErrors.has('model') ? ' has-error' : ''}`}>
              <span>Model</span>
              <input
                data-testid="launch-model"
                list="launch-models"
                value={model}
                placeholder="from template"
                onChange={(e) => setModel(e.target.value)}
              />
              <datalist id="launch-models" data-testid="launch-models">
                {modelList?.models
                  .filter((m) => !m.retiredOn)
                  .map((m) => (
                    <option key={m.id} value={m.id}>
                      {`${m.priced ? '' : 'unpriced · '}${m.contextWindow ? `${Math.round(m.contextWindow / 1024)}K context` : ''}`}
                    </option>
                  ))}
              </datalist>
              {modelList && (
                <span className="dim small" data-testid="launch-models-source">
                  {modelList.source === 'provider' ? `models from ${providerForModels}` : (modelList.note ?? 'shipped price table')}
                </span>
              )}
            </label>
            {(fieldErrors.get('model') ?? []).map((e, i) => (
              <div key={i} className="field-error">
                {e}
              </div>
            ))}
            <label className={`field${fieldErrors.has('tasks') ? ' has-error' : ''}`}>
              <span>Tasks (one per line; replaces the template's list)</span>
              <textarea data-testid="launch-tasks" rows={4} value={tasksText} onChange={(e) => setTasksText(e.target.value)} />
            </label>
            {(fieldErrors.get('tasks') ?? []).map((e, i) => (
              <div key={i} className="field-error">
                {e}
              </div>
            ))}
            <div className="preview">
              <div className="preview-head">
                {preview.rows.length} session{preview.rows.length === 1 ? '' : 's'} will start
              </div>
              {preview.note && <div className="dim small">{preview.note}</div>}
              <table data-testid="launch-preview">
                <thead>
                  <tr>
                    <th>#</th>
                    <th>Task</th>
                    <th>Branch</th>
                  </tr>
                </thead>
                <tbody>
                  {preview.rows.slice(0, 64).map((r) => (
                    <tr key={r.slot}>
                      <td>{r.slot}</td>
                      <td className="ellipsis">{r.task ?? <span className="dim">(no task)</span>}</td>
                      <td className="mono">
                        flotilla/{slug}-…/{r.slot}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        </div>
        <div className="dialog-foot">
          <div className="progress" data-testid="launch-progress">
            {busy && progress && (
              <>
                <span className="spinner" /> {progress.message}
                {progress.total > 0 && ` (${progress.done}/${progress.total})`}
              </>
            )}
            {busy && !progress && (
              <>
                <span className="spinner" /> Validating…
              </>
            )}
          </div>
          <button className="btn" onClick={close} disabled={busy}>
            Cancel
          </button>
          <button className="btn primary" data-testid="launch-submit" onClick={() => void launch()} disabled={busy}>
            {busy ? 'Launching…' : 'Launch'}
          </button>
        </div>
      </div>
    </dialog>
  );
}
