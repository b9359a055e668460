// The modal question on screen (Dialogs.tsx draws it; ask() puts it here and answers its promise).
import type { SliceCreator } from '../store/slice.ts';

export interface Question {
  title: string;
  body?: string;
  confirm: string;
  /** The confirm button is red: the action removes or discards something. */
  danger?: boolean;
  /** Ask for a value instead of a yes (answered as the text typed). */
  input?: { label: string; value: string; type?: 'number' | 'text'; min?: number; step?: number };
}

export interface PendingQuestion extends Question {
  resolve(answer: string | true | null): void;
}

export interface DialogsSlice {
  question: PendingQuestion | null;
  setQuestion(q: PendingQuestion | null): void;
}

export const createDialogsSlice: SliceCreator<DialogsSlice> = (set) => ({
  question: null,
  setQuestion: (question) => set({ question }),
});
