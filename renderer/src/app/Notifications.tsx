// Notifications when a session starts needing you (a question, a refused request, a request held over budget), ends
// (done / failed), or passes 80 % of a budget — only for what happens after the page loaded, and none for a tile that is
// on screen in a focused window (its tile says it already). In the desktop app: the OS notification (see platform/),
// whose click brings the window up on that tile; in a browser: a stack of at most three notices at the bottom right,
// each focusing its tile (switching to its run) when clicked and fading out by itself after a few seconds.
import { useEffect, useState } from 'react';
import type { SessionInfo, SessionStatus } from '../../../electron/shared/contract.ts';
import { platform } from '../platform/index.ts';
import { useStore } from '../store/index.ts';
import { focusSession } from '../features/grid/focus.ts';

const NOTIFY: readonly SessionStatus[] = ['needs_you', 'rejected', 'over_budget', 'done', 'failed'];
const DISMISS_MS = 8_000;
const MAX_NOTICES = 3;

/** Its tile is on screen in a window the user is looking at (the grid shows every tile of the current run). */
function tileInSight(sessionId: string): boolean {
  const st = useStore.getState();
  const s = st.sessions.get(sessionId);
  return !!s && s.runId === st.currentRunId && document.visibilityState === 'visible' && document.hasFocus();
}

/** Shows the session's tile: its run in the grid, the keyboard in its terminal. */
export function showSession(sessionId: string): void {
  const st = useStore.getState();
  const s = st.sessions.get(sessionId);
  if (!s) return;
  if (st.currentRunId !== s.runId) st.setCurrentRun(s.runId);
  focusSession(sessionId);
}

interface Notice {
  key: number;
  sessionId: string;
  status: SessionStatus;
  title: string;
  body: string;
}

function describe(s: SessionInfo, runName: string | undefined): { title: string; body: string } {
  const who = `#${s.slot}${s.task ? ` ${s.task}` : ''}`;
  const title =
    s.status === 'needs_you'
      ? `Session ${who} needs you`
      : s.status === 'rejected'
        ? `The provider rejected a request of session ${who}`
        : s.status === 'over_budget'
          ? `Session ${who} is over budget: its next request is held until you raise it`
          : s.status === 'done'
            ? `Session ${who} is done`
            : `Session ${who} failed`;
  const body = [runName, s.statusDetail].filter(Boolean).join(' · ');
  return { title, body };
}

let nextKey = 1;

export function Notifications() {
  const [notices, setNotices] = useState<Notice[]>([]);

  useEffect(() => {
    // Sessions already known (at load or at the first listSessions) are a baseline, not transitions.
    const seen = new Map<string, SessionStatus>();
    for (const s of useStore.getState().sessions.values()) seen.set(s.id, s.status);
    let baselined = useStore.getState().sessions.size > 0;
    const timers = new Set<ReturnType<typeof setTimeout>>();

    const show = (sessionId: string, status: SessionStatus, title: string, body: string) => {
      if (tileInSight(sessionId)) return;
      if (platform.notify(title, body, sessionId)) return;
      const notice: Notice = { key: nextKey++, sessionId, status, title, body };
      setNotices((list) => [...list.filter((n) => n.sessionId !== sessionId), notice].slice(-MAX_NOTICES));
      const t = setTimeout(() => {
        timers.delete(t);
        setNotices((list) => list.filter((n) => n.key !== notice.key));
      }, DISMISS_MS);
      timers.add(t);
    };

    const unsub = useStore.subscribe((state, prev) => {
      // 80 % of a budget: a notice only, nothing stops.
      const b = state.budgetAlert;
      if (b && b !== prev.budgetAlert && b.alert.level === 80) {
        const a = b.alert;
        const s = a.scope === 'session' ? state.sessions.get(a.id) : [...state.sessions.values()].find((x) => x.runId === a.id);
        const whose = a.scope === 'session' ? `Session #${s?.slot ?? '?'}` : `Run ${state.runs.get(a.id)?.name ?? a.id}`;
        if (s) show(s.id, s.status, `${whose} has used 80 % of its budget`, `$${a.usd.toFixed(4)} of $${a.budgetUsd.toFixed(2)}`);
      }
      if (state.sessions === prev.sessions) return;
      const first = !baselined;
      baselined = true;
      for (const s of state.sessions.values()) {
        const before = seen.get(s.id);
        seen.set(s.id, s.status);
        if (first && before === undefined && !isFreshRun(state.runs.get(s.runId)?.state)) continue;
        if (before === s.status || !NOTIFY.includes(s.status)) continue;
        const { title, body } = describe(s, state.runs.get(s.runId)?.name);
        show(s.id, s.status, title, body);
      }
    });
    // A click on an OS notification (desktop).
    const offClick = platform.onFocusSession(showSession);
    return () => {
      unsub();
      offClick();
      for (const t of timers) clearTimeout(t);
    };
  }, []);

  if (notices.length === 0) return null;
  return (
    <div className="notice-stack" aria-live="polite">
      {notices.map((n) => (
        <button
          key={n.key}
          className={`notice notice-${n.status}`}
          data-testid="notice"
          data-session={n.sessionId}
          title="Show this session"
          onClick={() => {
            showSession(n.sessionId);
            setNotices((list) => list.filter((x) => x.key !== n.key));
          }}
        >
          <span className="notice-title">{n.title}</span>
          {n.body && <span className="notice-body">{n.body}</span>}
        </button>
      ))}
    </div>
  );
}

/**
 * On the first batch of sessions (the connect-time listing), a session counts as new only if its run is still
 * launching — otherwise it existed before the page loaded.
 */
function isFreshRun(state: string | undefined): boolean {
  return state === 'launching';
}
