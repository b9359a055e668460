// The UI's store: zustand slices (sessions, spend, review, ui) combined into one store. Maps are replaced on every
// update, never mutated, so selectors comparing with Object.is see changes. Terminal output never comes through here.
import { create } from 'zustand';
import { createReviewSlice, type ReviewSlice } from './review.ts';
import { createSessionsSlice, type SessionsSlice } from './sessions.ts';
import { createSpendSlice, type SpendSlice } from './spend.ts';
import { createUiSlice, type UiSlice } from './ui.ts';

export type FlotillaState = SessionsSlice & SpendSlice & ReviewSlice & UiSlice;

export const useStore = create<FlotillaState>()((...a) => ({
  ...createSessionsSlice(...a),
  ...createSpendSlice(...a),
  ...createReviewSlice(...a),
  ...createUiSlice(...a),
}));
