import type { ApiError } from '../shared/contract.ts';

/** An error a user can act on: a stable code plus a message naming the input and what to do. */
export class EngineError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

const CODE_BY_NAME: Record<string, string> = {
  TemplateError: 'template_invalid',
  WorkspaceError: 'workspace',
  StoreError: 'data_dir',
};

/** Any thrown value → the wire's ApiError. Unknown errors keep their message but never a stack. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof EngineError) return { code: err.code, message: err.message };
  if (err instanceof Error && Array.isArray((err as { issues?: unknown }).issues)) {
    const issues = (err as unknown as { issues: { path: PropertyKey[]; message: string }[] }).issues;
    const text = issues.map((i) => `${i.path.map(String).join('.') || '(arguments)'}: ${i.message}`).join('; ');
    return { code: 'bad_request', message: `invalid arguments — ${text}` };
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      code: CODE_BY_NAME[err.name] ?? (typeof code === 'string' ? code : 'internal'),
      message: err.message,
    };
  }
  return { code: 'internal', message: String(err) };
}
