// Modal questions as real dialogs (the native <dialog>: focus trapped inside and given back after, Esc cancels):
// confirm an action that discards work, or ask for a number (a new budget). `ask()` answers a promise.
import { useEffect, useRef, useState } from 'react';
import { useStore } from '../store/index.ts';
import type { Question } from './dialogs-slice.ts';
import { openModal } from './modal.ts';

export type { Question } from './dialogs-slice.ts';

/** Shows the question; answers true (confirmed), the typed value (with `input`), or null (cancelled). */
export function ask(q: Question): Promise<string | true | null> {
  const st = useStore.getState();
  st.question?.resolve(null);
  return new Promise((resolve) => st.setQuestion({ ...q, resolve }));
}

export function confirmAction(q: Omit<Question, 'input'>): Promise<boolean> {
  return ask(q).then((a) => a === true);
}

export function Dialogs() {
  const q = useStore((s) => s.question);
  const ref = useRef<HTMLDialogElement>(null);
  const [value, setValue] = useState('');

  useEffect(() => {
    const d = ref.current;
    if (!d || !q) return;
    setValue(q.input?.value ?? '');
    return openModal(d);
  }, [q]);

  if (!q) return null;
  const answer = (a: string | true | null) => {
    useStore.getState().setQuestion(null);
    ref.current?.close();
    q.resolve(a);
  };
  return (
    <dialog
      ref={ref}
      className="modal"
      data-testid="dialog"
      aria-labelledby="dialog-title"
      onCancel={(e) => {
        e.preventDefault();
        answer(null);
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          answer(q.input ? value : true);
        }}
      >
        <h2 id="dialog-title">{q.title}</h2>
        {q.body && <p className="modal-body">{q.body}</p>}
        {q.input && (
          <label className="modal-input">
            {q.input.label}
            <input
              autoFocus
              data-testid="dialog-input"
              type={q.input.type ?? 'text'}
              min={q.input.min}
              step={q.input.step}
              value={value}
              onChange={(e) => setValue(e.target.value)}
            />
          </label>
        )}
        <div className="modal-actions">
          <button type="button" className="btn" data-testid="dialog-cancel" onClick={() => answer(null)}>
            Cancel
          </button>
          <button type="submit" className={`btn ${q.danger ? 'danger' : 'primary'}`} data-testid="dialog-confirm" autoFocus={!q.input}>
            {q.confirm}
          </button>
        </div>
      </form>
    </dialog>
  );
}
