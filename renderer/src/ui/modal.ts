// Opening a native <dialog> as a modal: focus moves into it and, when it goes, back to whatever had the keyboard
// before (usually a terminal). Shared by the launch dialog, the palette and the questions.

/** Shows `d` modally; answers the function that gives the keyboard back (an effect's cleanup). */
export function openModal(d: HTMLDialogElement | null): () => void {
  const before = document.activeElement as HTMLElement | null;
  if (d && !d.open) d.showModal();
  return () => before?.focus?.();
}
