// A session's and a run's commands in the palette and on keys: they act on the focused session and the run shown.
import { isFinalStatus } from '../../../../electron/shared/contract.ts';
import type { AppCommandDef } from '../../keys/registry.ts';
import { useStore } from '../../store/index.ts';
import { focusedSession, hasFocused } from '../grid/focus.ts';
import { openLogs, runActions, sessionActions } from './actions.ts';

const currentRun = () => useStore.getState().currentRunId;

function onFocused(
  title: string,
  id: string,
  f: (typeof sessionActions)[keyof typeof sessionActions],
  extra: Partial<AppCommandDef> = {},
): AppCommandDef {
  return {
    id,
    title,
    category: 'Session',
    enabled: hasFocused,
    run: () => {
      const s = focusedSession();
      if (s) return f(s);
    },
    ...extra,
  };
}

export function sessionCommands(): AppCommandDef[] {
  return [
    onFocused('Stop session', 'session.stop', sessionActions.stop, {
      enabled: () => !!focusedSession() && !isFinalStatus(focusedSession()!.status),
    }),
    onFocused('Restart session', 'session.restart', sessionActions.restart),
    onFocused('Resume session (Claude Code: its conversation goes on)', 'session.resume', sessionActions.resume, {
      enabled: () => !!focusedSession()?.agentSessionId,
    }),
    onFocused('Raise budget…', 'session.raiseBudget', sessionActions.raiseBudget),
    onFocused('Review session', 'session.review', sessionActions.review),
    onFocused('Open in editor', 'session.openEditor', sessionActions.openEditor),
    onFocused('Open terminal here', 'session.openTerminal', sessionActions.openTerminal),
    onFocused('Open worktree folder', 'session.openFolder', sessionActions.openFolder),
    onFocused('Copy worktree path', 'session.copyPath', sessionActions.copyPath),
    onFocused('Discard session…', 'session.discard', sessionActions.discard),
  ];
}

export function runCommands(): AppCommandDef[] {
  return [
    {
      id: 'run.stop',
      title: 'Stop run…',
      category: 'Run',
      enabled: () => currentRun() !== null,
      run: () => runActions.stop(currentRun()!),
    },
    {
      id: 'run.clean',
      title: 'Clean run (remove worktrees)…',
      category: 'Run',
      enabled: () => currentRun() !== null,
      run: () => runActions.clean(currentRun()!),
    },
    {
      id: 'run.pick',
      title: 'Switch run…',
      category: 'Run',
      keys: 'Mod+Shift+O',
      run: () => document.querySelector<HTMLSelectElement>('[data-testid="run-picker"]')?.focus(),
    },
  ];
}

export const logsCommand: AppCommandDef = { id: 'app.logs', title: 'Open logs', category: 'Help', run: openLogs };
