// Errors a user can act on. Every error class of the engine carries a string `code` (and, for inputs, where the problem
// is); toApiError turns any thrown value into the wire's ApiError without a stack. No mapping by class name: a room's
// errors say their own code.
import type { ApiError, ErrorIssue } from '../shared/contract.ts';

export interface ErrorWhere {
  field?: string;
  file?: string;
  line?: number;
  issues?: ErrorIssue[];
}

/** A stable code plus a message naming the input and what to do. */
export class EngineError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly where: ErrorWhere = {},
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

interface ZodLikeIssue {
  path: PropertyKey[];
  message: string;
}

const isZodError = (err: unknown): err is Error & { issues: ZodLikeIssue[] } =>
  err instanceof Error && err.name === 'ZodError' && Array.isArray((err as { issues?: unknown }).issues);

const fieldOf = (path: PropertyKey[]): string | null => (path.length ? path.map(String).join('.') : null);

/** Any thrown value → the wire's ApiError. Unknown errors keep their message but never a stack. */
export function toApiError(err: unknown): ApiError {
  if (isZodError(err)) {
    // Command arguments that do not match the contract.
    const issues = err.issues.map((i) => ({ field: fieldOf(i.path), line: null, message: i.message }));
    const text = issues.map((i) => `${i.field ?? '(arguments)'}: ${i.message}`).join('; ');
    return { code: 'bad_request', message: `invalid arguments — ${text}`, ...(issues[0]?.field ? { field: issues[0].field } : {}), issues };
  }
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; where?: ErrorWhere } & ErrorWhere;
    const where: ErrorWhere = e.where ?? {
      field: e.field ?? undefined,
      file: e.file ?? undefined,
      line: e.line ?? undefined,
      issues: e.issues,
    };
    const out: ApiError = { code: typeof e.code === 'string' ? e.code : 'internal', message: err.message };
    if (typeof where.field === 'string') out.field = where.field;
    if (typeof where.file === 'string') out.file = where.file;
    if (typeof where.line === 'number') out.line = where.line;
    if (Array.isArray(where.issues) && where.issues.length) out.issues = where.issues;
    return out;
  }
  return { code: 'internal', message: String(err) };
}
