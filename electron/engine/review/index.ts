// Review: changes and collision warnings of live runs (both workspace modes), diffs, and landing a session's work.
// The public face of the review folder.
export { Review, type ReviewDeps } from './review.ts';
export { Landing, draftMessage } from './landing.ts';
export { planOrder, pairKey, type PlanFacts } from './merge-plan.ts';
export { SharedReview, WorktreeReview, type RunReview, type RunReviewEvents } from './run-review.ts';
