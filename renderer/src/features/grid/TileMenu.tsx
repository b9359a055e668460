// A tile's actions (the ⋯ button in its header, the same in focus mode): stop, restart, resume, raise the budget,
// review, open the worktree in the editor / a terminal / the file manager, copy its path, discard. A menu button with
// a popup menu: arrow keys move, Esc closes and gives the keyboard back.
import { useEffect, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import { isFinalStatus, type SessionInfo } from '../../../../electron/shared/contract.ts';
import { useStore } from '../../store/index.ts';
import { canResume, sessionActions } from '../runs/actions.ts';

type Item = { id: keyof typeof sessionActions | 'pin'; label: string; enabled: boolean; separatorBefore?: boolean };

function items(s: SessionInfo): Item[] {
  const live = !isFinalStatus(s.status);
  return [
    { id: 'stop', label: 'Stop', enabled: live && s.status !== 'queued' },
    { id: 'restart', label: 'Restart', enabled: true },
    { id: 'resume', label: 'Resume (its conversation goes on)', enabled: canResume(s) },
    { id: 'raiseBudget', label: 'Raise budget…', enabled: true },
    {
      id: 'pin',
      label: useStore.getState().layoutByRun[s.runId]?.pinned.includes(s.id) ? 'Unpin' : 'Pin to the front',
      enabled: true,
      separatorBefore: true,
    },
    { id: 'review', label: 'Review', enabled: true },
    { id: 'openEditor', label: 'Open in editor', enabled: true },
    { id: 'openTerminal', label: 'Open terminal here', enabled: true },
    { id: 'openFolder', label: 'Open folder', enabled: true },
    { id: 'copyPath', label: 'Copy worktree path', enabled: true },
    { id: 'discard', label: 'Discard…', enabled: true, separatorBefore: true },
  ];
}

export function TileMenu({ session }: { session: SessionInfo }) {
  // Where the menu opens (fixed, in a portal: a tile clips what overflows it).
  const [open, setOpen] = useState<{ right: number; top: number } | null>(null);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const list = items(session);

  useEffect(() => {
    if (!open) return;
    menu.current?.querySelector<HTMLButtonElement>('[role="menuitem"]:not([disabled])')?.focus();
    const away = (e: MouseEvent) => {
      if (!menu.current?.contains(e.target as Node) && e.target !== button.current) setOpen(null);
    };
    document.addEventListener('mousedown', away, true);
    return () => document.removeEventListener('mousedown', away, true);
  }, [open]);

  const move = (delta: number) => {
    const all = [...(menu.current?.querySelectorAll<HTMLButtonElement>('[role="menuitem"]:not([disabled])') ?? [])];
    const i = all.indexOf(document.activeElement as HTMLButtonElement);
    all[(i + delta + all.length) % all.length]?.focus();
  };
  const pick = (it: Item) => {
    setOpen(null);
    button.current?.focus();
    if (it.id === 'pin') useStore.getState().togglePin(session.runId, session.id);
    else void sessionActions[it.id](session);
  };
  return (
    <span className="tile-menu" onMouseDown={(e) => e.stopPropagation()}>
      <button
        ref={button}
        className="icon-btn"
        data-testid={`tile-menu-${session.slot}`}
        aria-label={`Actions for session ${session.slot}`}
        title="Actions"
        aria-haspopup="menu"
        aria-expanded={open !== null}
        onClick={() => {
          const r = button.current!.getBoundingClientRect();
          setOpen((o) =>
            o ? null : { right: Math.max(4, window.innerWidth - r.right), top: Math.min(r.bottom + 2, window.innerHeight - 320) },
          );
        }}
      >
        ⋯
      </button>
      {open &&
        createPortal(
          <div
            ref={menu}
            style={{ position: 'fixed', right: open.right, top: open.top }}
            className="menu"
            role="menu"
            aria-label={`Session ${session.slot}`}
            data-testid={`tile-menu-list-${session.slot}`}
            onKeyDown={(e) => {
              if (e.key === 'ArrowDown') move(1);
              else if (e.key === 'ArrowUp') move(-1);
              else if (e.key === 'Escape') {
                setOpen(null);
                button.current?.focus();
              } else return;
              e.preventDefault();
              e.stopPropagation();
            }}
          >
            {list.map((it) => (
              <span key={it.id}>
                {it.separatorBefore && <hr />}
                <button
                  role="menuitem"
                  className="menu-item"
                  data-testid={`tile-menu-${it.id}`}
                  disabled={!it.enabled}
                  onClick={() => pick(it)}
                >
                  {it.label}
                </button>
              </span>
            ))}
          </div>,
          document.body,
        )}
    </span>
  );
}
