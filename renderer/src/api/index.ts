// The UI's commands and queries, over the typed client: what components call instead of the transport. Each function
// says what it does in the UI's words; all of them fail with "not connected" while the engine is away.
import type { CommandArgs, CommandName, CommandResult } from '../../../electron/shared/contract.ts';
import { EngineRequestError } from '../../../electron/shared/client.ts';
import { platform } from '../platform/index.ts';
import { engine } from '../transport/index.ts';

export function request<C extends CommandName>(cmd: C, args: CommandArgs<C>): Promise<CommandResult<C>> {
  const client = engine.client;
  if (!client) return Promise.reject(new EngineRequestError('closed', 'Not connected to the engine — wait for it to reconnect.'));
  return client.call(cmd, args);
}

/** The engine itself. */
export const engineApi = {
  /** Whether it can write to its data dir's disk, and what is held meanwhile. */
  health: () => request('health', {}),
};

/** Other machines whose engines this one relays (Settings → Hosts). */
export const hosts = {
  list: () => request('listHosts', {}),
  add: (name: string, destination: string) => request('addHost', { name, destination }),
  remove: (name: string) => request('removeHost', { name }),
};

export const runs = {
  launch: (args: CommandArgs<'launch'>) => request('launch', args),
  demo: () => request('demo', {}),
  list: () => request('listRuns', {}),
  totals: () => request('runTotals', {}),
  sessions: (runId?: string) => request('listSessions', runId ? { runId } : {}),
  /** Claude Code carries on its conversation (--resume) in the same worktree. */
  resume: (sessionId: string) => request('resume', { sessionId }),
  restart: (sessionId: string) => request('restart', { sessionId }),
  stop: (sessionId: string) => request('stop', { sessionId }),
  stopRun: (runId: string) => request('stopRun', { runId }),
  clean: (runId: string) => request('cleanRun', { runId }),
  report: (runId: string) => request('report', { runId }),
  /** The worktree in the user's editor or a terminal there (a host's: VS Code Remote-SSH, or ssh -t in a terminal). */
  openIn: (sessionId: string, app: 'editor' | 'terminal') => request('openIn', { sessionId, app }),
  paths: () => request('paths', {}),
};

export const spend = {
  overview: (runId: string) => request('spend', { runId }),
  ledger: (runId: string) => request('ledger', { runId }),
  raiseBudget: (sessionId: string, usd: number) => request('raiseBudget', { sessionId, usd }),
  raiseRunBudget: (runId: string, usd: number) => request('raiseBudget', { runId, usd }),
  declineBudget: (sessionId: string) => request('declineBudget', { sessionId }),
  governor: () => request('governor', {}),
  rejectedRequest: (sessionId: string) => request('rejectedRequest', { sessionId }),
  /** The run's ledger as a CSV download link (the engine's HTTP API, with its token). */
  csvUrl(runId: string): string | null {
    const ep = engine.endpoint;
    return ep ? `${ep.origin}/api/ledger.csv?runId=${encodeURIComponent(runId)}&token=${encodeURIComponent(ep.token)}` : null;
  },
};

export const review = {
  changes: (sessionId: string) => request('changes', { sessionId }),
  conflicts: (runId: string) => request('conflicts', { runId }),
  watchFailures: (runId: string) => request('watchFailures', { runId }),
  diff: (sessionId: string, path: string) => request('diff', { sessionId, path }),
  pathAcross: (runId: string, path: string, sessionIds?: string[]) => request('pathAcross', { runId, path, sessionIds }),
  commit: (sessionId: string, message: string) => request('commit', { sessionId, message }),
  merge: (sessionId: string, message?: string) => request('merge', { sessionId, ...(message ? { message } : {}) }),
  discard: (sessionId: string) => request('discard', { sessionId, confirm: true }),
  exportPatch: (sessionId: string) => request('exportPatch', { sessionId }),
  mergePlan: (runId: string) => request('mergePlan', { runId }),
  mergeAllClean: (runId: string) => request('mergeAllClean', { runId }),
  sendFeedback: (sessionId: string, text: string) => request('sendFeedback', { sessionId, text }),
  rebase: (sessionId: string) => request('rebase', { sessionId }),
  openPullRequest: (sessionId: string) => request('openPullRequest', { sessionId }),
  push: (sessionId: string, remote?: string) => request('push', { sessionId, ...(remote ? { remote } : {}) }),
  /** Opens the worktree in the OS file manager; answers the path to show instead where the platform cannot. */
  async openFolder(sessionId: string): Promise<{ opened: boolean; path: string }> {
    const r = await request('worktreePath', { sessionId });
    if (!r.exists) throw new Error(`The worktree ${r.path} no longer exists.`);
    if (!platform.openFolder) return { opened: false, path: r.path };
    await platform.openFolder(r.path);
    return { opened: true, path: r.path };
  },
};

export const settings = {
  load: () => request('settings', {}),
  save: (value: CommandArgs<'saveSettings'>['settings']) => request('saveSettings', { settings: value }),
  /** Sets a provider key where this platform keeps keys (see Platform.keyStore). */
  async setKey(name: string, value: string): Promise<void> {
    if (platform.keyStore === 'desktop') {
      // The desktop app keeps the key encrypted and gives it to the engine at every start; the engine holds it in
      // memory only, so no plain copy lands in the data dir.
      if (!(await platform.keepProviderKey(name, value)))
        throw new Error(`the desktop app could not keep ${name} encrypted (no OS key store) — set it in the environment instead`);
      await request('setProviderKey', { name, value, persist: false });
    } else {
      await request('setProviderKey', { name, value });
    }
  },
  removeKey: (name: string) => request('setProviderKey', { name, value: null }),
};

export const models = {
  /** The provider's models when its key is set, else the shipped table. */
  list: (provider?: string) => request('listModels', provider ? { provider } : {}),
};

export const templates = {
  list: (repo?: string) => request('listTemplates', repo ? { repo } : {}),
  read: (path: string, repo?: string) => request('readTemplate', { path, ...(repo ? { repo } : {}) }),
  save: (args: CommandArgs<'saveTemplate'>) => request('saveTemplate', args),
};
