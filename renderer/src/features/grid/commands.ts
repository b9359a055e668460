// The grid's commands: focus a session by slot, jump to the next one that needs you, focus mode and back.
import type { AppCommandDef } from '../../keys/registry.ts';
import { useStore } from '../../store/index.ts';
import { needsYou } from '../../ui/format.ts';
import { selectCurrentSessions } from '../runs/slice.ts';
import { backToGrid, focusSession, focusedSession, hasFocused } from './focus.ts';

/** Ctrl+Shift+1…9: focus that slot's session (focus mode). */
export function slotCommands(): AppCommandDef[] {
  return Array.from({ length: 9 }, (_, i) => ({
    id: `session.focus${i + 1}`,
    title: `Focus session ${i + 1}`,
    category: 'Session',
    keys: `Mod+Shift+${i + 1}`,
    enabled: () => selectCurrentSessions(useStore.getState()).length > i,
    run: () => {
      const list = selectCurrentSessions(useStore.getState());
      const s = list.find((x) => x.slot === i + 1) ?? list[i];
      if (s) focusSession(s.id, true);
    },
  }));
}

export function gridCommands(): AppCommandDef[] {
  return [
    {
      id: 'session.nextNeedsYou',
      title: 'Next session that needs you',
      category: 'Session',
      keys: 'Mod+Shift+J',
      run: () => {
        const st = useStore.getState();
        const sessions = selectCurrentSessions(st);
        const waiting = sessions.filter((x) => needsYou(x.status));
        if (!waiting.length) return st.say('No session needs you');
        const at = sessions.findIndex((x) => x.id === st.focusedId);
        const next = sessions.slice(at + 1).find((x) => needsYou(x.status)) ?? waiting[0]!;
        focusSession(next.id);
      },
    },
    {
      id: 'view.grid',
      title: 'Back to the grid',
      category: 'View',
      keys: 'Mod+Shift+G',
      enabled: () => useStore.getState().focusMode,
      run: backToGrid,
    },
    {
      id: 'view.focusMode',
      title: 'Focus mode for this session',
      category: 'View',
      enabled: hasFocused,
      run: () => {
        const s = focusedSession();
        if (s) focusSession(s.id, true);
      },
    },
  ];
}
