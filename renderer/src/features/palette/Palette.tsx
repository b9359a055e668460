// The command palette (Ctrl+Shift+P, ⌘⇧P): every command of the registry, reachable by typing (fuzzy), with its keys.
// The focused session is the target of session commands. "?" as the first character shows the shortcut sheet.
// A native modal <dialog>: focus stays inside, Esc closes, the terminal gets the keyboard back.
import { useEffect, useMemo, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { currentKeymap, type AppCommandDef } from '../../keys/index.ts';
import { rank } from './fuzzy.ts';
import { openModal } from '../../ui/modal.ts';
import { useStore } from '../../store/index.ts';
import { selectCurrentSessions } from '../runs/slice.ts';

function titleOf(c: AppCommandDef, tasks: Map<number, string>): string {
  const m = /^session\.focus(\d)$/.exec(c.id);
  const task = m ? tasks.get(Number(m[1])) : undefined;
  return task ? `${c.title} — ${task}` : c.title;
}

function Highlighted({ text, at }: { text: string; at: number[] }) {
  const marks = new Set(at);
  return <>{[...text].map((ch, i) => (marks.has(i) ? <mark key={i}>{ch}</mark> : <span key={i}>{ch}</span>))}</>;
}

export function Palette() {
  const mode = useStore((s) => s.palette);
  const setPalette = useStore((s) => s.setPalette);
  const focusedSlot = useStore((s) => (s.focusedId ? s.sessions.get(s.focusedId)?.slot : undefined));
  const sessions = useStore(useShallow(selectCurrentSessions));
  const ref = useRef<HTMLDialogElement>(null);
  const [query, setQuery] = useState('');
  const [at, setAt] = useState(0);
  const keymap = currentKeymap();
  const tasks = useMemo(() => new Map(sessions.map((s) => [s.slot, s.task ?? s.command])), [sessions]);

  useEffect(() => {
    const d = ref.current;
    if (!d || !mode) return;
    setQuery(mode === 'shortcuts' ? '?' : '');
    setAt(0);
    return openModal(d);
  }, [mode]);

  const sheet = query.startsWith('?');
  const items = useMemo(() => {
    const visible = keymap.commands.filter((c) => !c.hidden);
    const q = sheet ? query.slice(1) : query;
    // The title first (what was typed is usually its start), the category after ("session stop" finds it too).
    return rank(visible, q, (c) => `${titleOf(c, tasks)} · ${c.category}`);
  }, [keymap, query, sheet, tasks]);

  if (!mode) return null;
  const close = () => {
    ref.current?.close();
    setPalette(null);
  };
  const runAt = (i: number) => {
    const hit = items[i];
    if (!hit || (hit.item.enabled && !hit.item.enabled())) return;
    close();
    // After the dialog gave the keyboard back (a command may move it: focus a session, open a dialog).
    requestAnimationFrame(() => void hit.item.run());
  };
  return (
    <dialog
      ref={ref}
      className="palette"
      data-testid="palette"
      aria-label={sheet ? 'Keyboard shortcuts' : 'Command palette'}
      onCancel={(e) => {
        e.preventDefault();
        close();
      }}
      onClick={(e) => {
        if (e.target === ref.current) close();
      }}
    >
      <input
        autoFocus
        className="palette-input"
        data-testid="palette-input"
        role="combobox"
        aria-expanded="true"
        aria-controls="palette-list"
        aria-activedescendant={items[at] ? `palette-item-${at}` : undefined}
        placeholder={focusedSlot ? `Type a command for session ${focusedSlot} (? for shortcuts)…` : 'Type a command (? for shortcuts)…'}
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setAt(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') setAt((i) => Math.min(items.length - 1, i + 1));
          else if (e.key === 'ArrowUp') setAt((i) => Math.max(0, i - 1));
          else if (e.key === 'Enter' && !sheet) runAt(at);
          else return;
          e.preventDefault();
        }}
      />
      <ul
        className={`palette-list${sheet ? ' sheet' : ''}`}
        id="palette-list"
        role="listbox"
        data-testid={sheet ? 'shortcut-sheet' : 'palette-list'}
      >
        {items.length === 0 && <li className="palette-empty">No command matches “{query}”</li>}
        {items.map(({ item, match }, i) => {
          const label = `${titleOf(item, tasks)} · ${item.category}`;
          const off = item.enabled ? !item.enabled() : false;
          const keys = keymap.keysOf(item.id);
          if (sheet && !keys) return null;
          return (
            <li
              key={item.id}
              id={`palette-item-${i}`}
              role="option"
              aria-selected={i === at}
              aria-disabled={off}
              className={`palette-item${i === at ? ' active' : ''}${off ? ' off' : ''}`}
              data-testid={`palette-item-${item.id}`}
              onMouseEnter={() => setAt(i)}
              onClick={() => runAt(i)}
            >
              <span className="palette-title">
                <Highlighted text={label} at={match.positions} />
              </span>
              {keys && <kbd>{keys}</kbd>}
            </li>
          );
        })}
      </ul>
    </dialog>
  );
}
