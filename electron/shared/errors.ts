// Errors on the wire: a stable machine code, a message a user can act on, and where the problem is when it is in an
// input (a template field and line, a command argument).
import { z } from 'zod';

/** One problem in an input: a template or settings field (with its line), or a command argument. */
export const ErrorIssue = z.object({
  /** e.g. "budget.perSessionUsd", "tasks[2]", "count (override)". */
  field: z.string().nullable(),
  line: z.number().int().nullable(),
  message: z.string(),
});
export type ErrorIssue = z.infer<typeof ErrorIssue>;

export const ApiError = z.object({
  /**
   * Stable code: bad_request, unknown_command, not_found, not_live, queued, closing, unauthorized, forbidden,
   * template_invalid, settings_invalid, prices_invalid, keys_invalid, agent_missing, not_a_repo, bad_ref,
   * worktree_failed, git_missing, git_failed, merge_refused_<conflict|dirty|nothing|not_a_branch>, shared, no_base,
   * no_target, confirm, run_active, no_key, upstream, unsupported, data_dir, exists, port_in_use, internal, …
   */
  code: z.string(),
  /** What went wrong, with which input, and what to do. */
  message: z.string(),
  /** The field of the input the (first) problem is about, the file and line it is on. */
  field: z.string().optional(),
  file: z.string().optional(),
  line: z.number().int().optional(),
  /** Every problem, when there are several (a template with three bad fields). */
  issues: z.array(ErrorIssue).optional(),
});
export type ApiError = z.infer<typeof ApiError>;

/** The HTTP status an error code is answered with on /api. */
export function httpStatusOf(code: string): number {
  if (code === 'not_found') return 404;
  if (code === 'internal') return 500;
  return 400;
}
