// What `flotilla probe` sends: the first /v1/messages body of the pinned Claude Code, as recorded in
// claude-code-shape.json by test/upstream/record-claude-shape.ts (refresh it with that script; do not edit the data).
import shape from './claude-code-shape.json' with { type: 'json' };

export const CLAUDE_CODE_VERSION: string = shape.version;
export const CLAUDE_CODE_MAIN_REQUEST: Record<string, unknown> = shape.request;
export const CLAUDE_CODE_SHAPE_RECORDED: string = shape.recorded;
