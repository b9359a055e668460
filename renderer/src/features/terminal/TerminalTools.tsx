// A terminal's own tools: the find bar (Ctrl+Shift+F: Enter next, Shift+Enter previous, Esc closes) and its context
// menu (copy, paste, select all, clear, find). Both give the keyboard back to the terminal when they close.
import { useEffect, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import { useStore } from '../../store/index.ts';
import { terminals } from './index.ts';

export function FindBar({ sessionId }: { sessionId: string }) {
  const open = useStore((s) => s.findIn === sessionId);
  const setFindIn = useStore((s) => s.setFindIn);
  const [query, setQuery] = useState('');
  const [found, setFound] = useState<boolean | null>(null);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (open) input.current?.select();
  }, [open]);
  if (!open) return null;
  const close = () => {
    terminals.clearFind(sessionId);
    setFindIn(null);
    terminals.focus(sessionId);
  };
  const go = (back: boolean) => setFound(terminals.find(sessionId, query, back));
  return (
    <div className="find-bar" role="search" data-testid="find-bar" onMouseDown={(e) => e.stopPropagation()}>
      <input
        ref={input}
        autoFocus
        aria-label="Find in terminal"
        data-testid="find-input"
        placeholder="Find"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setFound(e.target.value ? terminals.find(sessionId, e.target.value) : null);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') go(e.shiftKey);
          else if (e.key === 'Escape') close();
          else return;
          e.preventDefault();
          e.stopPropagation();
        }}
      />
      <span className="find-state" data-testid="find-state">
        {found === null ? '' : found ? 'found' : 'no match'}
      </span>
      <button className="icon-btn" aria-label="Previous match" onClick={() => go(true)}>
        ↑
      </button>
      <button className="icon-btn" aria-label="Next match" onClick={() => go(false)}>
        ↓
      </button>
      <button className="icon-btn" aria-label="Close find" onClick={close}>
        ×
      </button>
    </div>
  );
}

export function TerminalContextMenu({ sessionId, at, onClose }: { sessionId: string; at: { x: number; y: number }; onClose(): void }) {
  const ref = useRef<HTMLDivElement>(null);
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  useEffect(() => {
    ref.current?.querySelector<HTMLButtonElement>('button')?.focus();
    const away = (e: MouseEvent) => {
      if (!ref.current?.contains(e.target as Node)) closeRef.current();
    };
    document.addEventListener('mousedown', away, true);
    return () => document.removeEventListener('mousedown', away, true);
  }, []);
  const say = useStore.getState().say;
  const act =
    (f: () => unknown | Promise<unknown>, refocus = true) =>
    async () => {
      onClose();
      try {
        await f();
      } catch (err) {
        say((err as Error).message, 'error');
      }
      if (refocus) terminals.focus(sessionId);
    };
  return createPortal(
    <div
      ref={ref}
      className="menu context-menu"
      role="menu"
      data-testid="terminal-menu"
      style={{ position: 'fixed', left: Math.min(at.x, window.innerWidth - 230), top: Math.min(at.y, window.innerHeight - 180) }}
      onMouseDown={(e) => e.stopPropagation()}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
          terminals.focus(sessionId);
        }
      }}
    >
      <button
        role="menuitem"
        className="menu-item"
        onClick={act(async () => (await terminals.copySelection(sessionId)) || say('Nothing selected'))}
      >
        Copy
      </button>
      <button
        role="menuitem"
        className="menu-item"
        onClick={act(async () => terminals.paste(sessionId, await navigator.clipboard.readText()))}
      >
        Paste
      </button>
      <button role="menuitem" className="menu-item" onClick={act(() => terminals.selectAll(sessionId))}>
        Select all
      </button>
      <button role="menuitem" className="menu-item" onClick={act(() => terminals.clear(sessionId))}>
        Clear
      </button>
      <button role="menuitem" className="menu-item" onClick={act(() => useStore.getState().setFindIn(sessionId), false)}>
        Find…
      </button>
    </div>,
    document.body,
  );
}

/** The last action's message, for a few seconds (role=status: screen readers read it). */
export function Toast() {
  const toast = useStore((s) => s.toast);
  const [shown, setShown] = useState<typeof toast>(null);
  useEffect(() => {
    if (!toast) return;
    setShown(toast);
    const t = setTimeout(() => setShown((cur) => (cur === toast ? null : cur)), toast.kind === 'error' ? 8000 : 4000);
    return () => clearTimeout(t);
  }, [toast]);
  if (!shown) return null;
  return (
    <div className={`toast toast-${shown.kind}`} role={shown.kind === 'error' ? 'alert' : 'status'} data-testid="toast">
      {shown.text}
    </div>
  );
}
