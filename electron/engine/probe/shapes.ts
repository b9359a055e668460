// The request shapes `flotilla probe` sends: Claude Code's own main request (recorded from the real CLI, see
// claude-code-shape.ts), and variants of it for each thing a provider is reported to refuse — a side request without
// thinking, a tool-search result, a PDF, more than 128 tools, a tool schema with $ref. Each is tiny (16 output tokens,
// texts shortened) so the whole probe costs a fraction of a cent.
import { CLAUDE_CODE_MAIN_REQUEST } from './claude-code-shape.ts';

export interface ProbeShape {
  id: string;
  /** What Claude Code does that sends this. */
  description: string;
  body: Record<string, any>;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** A one-page PDF ("ok"), small enough to send. */
const TINY_PDF =
  'JVBERi0xLjQKMSAwIG9iago8PC9UeXBlL0NhdGFsb2cvUGFnZXMgMiAwIFI+PgplbmRvYmoKMiAwIG9iago8PC9UeXBlL1BhZ2VzL0tpZHNbMyAwIFJdL0NvdW50IDE+PgplbmRvYmoKMyAwIG9iago8PC9UeXBlL1BhZ2UvUGFyZW50IDIgMCBSL01lZGlhQm94WzAgMCAyMDAgMjAwXT4+CmVuZG9iagp0cmFpbGVyCjw8L1Jvb3QgMSAwIFI+PgolJUVPRgo=';

function mcpTool(
  server: string,
  name: string,
  schema: Record<string, unknown> = { type: 'object', properties: { q: { type: 'string' } } },
) {
  return { name: `mcp__${server}__${name}`, description: `${name} (an MCP tool)`, input_schema: schema };
}

export function probeShapes(model: string): ProbeShape[] {
  const main = (): Record<string, any> => ({ ...clone(CLAUDE_CODE_MAIN_REQUEST), model });
  const shapes: ProbeShape[] = [];

  shapes.push({
    id: 'main',
    description: "a turn of Claude Code's main loop (thinking adaptive, 12 tools, a role system message)",
    body: main(),
  });

  const side = main();
  delete side.thinking;
  delete side.tools;
  delete side.context_management;
  side.output_config = {
    format: { type: 'json_schema', schema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] } },
  };
  shapes.push({ id: 'side', description: 'a side request (session title, subagent): no thinking, structured output', body: side });

  const search = main();
  search.messages.push(
    {
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'toolu_probe_1', name: 'ToolSearch', input: { query: 'select:mcp__docs__lookup' } }],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_probe_1', content: [{ type: 'tool_reference', tool_name: 'mcp__docs__lookup' }] },
      ],
    },
  );
  shapes.push({ id: 'tool-search', description: 'tool search found a deferred MCP tool (tool_reference blocks)', body: search });

  const pdf = main();
  pdf.messages.push(
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_probe_2', name: 'Read', input: { file_path: '/tmp/spec.pdf' } }] },
    {
      role: 'user',
      content: [
        {
          type: 'tool_result',
          tool_use_id: 'toolu_probe_2',
          content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: TINY_PDF } }],
        },
      ],
    },
  );
  shapes.push({ id: 'pdf', description: 'Claude Code read a PDF (a document block)', body: pdf });

  const many = main();
  many.tools = [...many.tools, ...Array.from({ length: 130 }, (_, i) => mcpTool(`server${Math.floor(i / 26) + 1}`, `tool${i}`))];
  shapes.push({ id: 'many-tools', description: 'many MCP servers (more than 128 tools)', body: many });

  const refs = main();
  refs.tools = [
    ...refs.tools,
    mcpTool('tracker', 'create_issue', {
      type: 'object',
      properties: { issue: { $ref: '#/$defs/Issue' } },
      $defs: { Issue: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] } },
    }),
  ];
  shapes.push({ id: 'schema-refs', description: 'an MCP tool whose schema uses $ref/$defs', body: refs });
  return shapes;
}
