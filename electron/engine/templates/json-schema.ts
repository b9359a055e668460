// The template's JSON Schema, generated from its zod schema (the one parseTemplate validates with), with each field's
// description taken from the same words the error messages use. Editors with the YAML language server (VS Code's YAML
// extension, Neovim's yamlls, …) complete and check a template that names it in its first line:
//   # yaml-language-server: $schema=../template.schema.json
// The build ships it as dist/template.schema.json; saving a template writes it beside the templates folder.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { EXPECTED, TemplateSchema } from './schema.ts';

export const SCHEMA_FILE = 'template.schema.json';

interface JsonNode {
  description?: string;
  properties?: Record<string, JsonNode>;
  items?: JsonNode;
  additionalProperties?: JsonNode | boolean;
  [k: string]: unknown;
}

function describe(node: JsonNode, at: string[]): void {
  const words = EXPECTED[at.join('.')];
  if (words && !node.description) node.description = `${words[0]!.toUpperCase()}${words.slice(1)}.`;
  for (const [key, child] of Object.entries(node.properties ?? {})) describe(child, [...at, key]);
  if (node.items && typeof node.items === 'object') describe(node.items, [...at, '*']);
  if (node.additionalProperties && typeof node.additionalProperties === 'object') describe(node.additionalProperties, [...at, '*']);
}

/** JSON Schema draft-07 (what the YAML language server reads) of what a template file may hold. */
export function templateJsonSchema(): Record<string, unknown> {
  // io 'input': what the author writes (a YAML number where a string is taken is fine, as parseTemplate accepts it).
  const schema = z.toJSONSchema(TemplateSchema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as JsonNode;
  describe(schema, []);
  return {
    ...schema,
    $id: 'https://flotilla.dev/template.schema.json',
    title: 'Flotilla run template',
    description: 'A run: which agent, how many sessions, on which provider and model, with which budget and tasks.',
  };
}

export function templateJsonSchemaText(): string {
  return `${JSON.stringify(templateJsonSchema(), null, 2)}\n`;
}

const MODELINE = /^#\s*yaml-language-server:\s*\$schema=/m;

/** The template text with the schema line first, unless its leading comments name a schema already. */
export function withSchemaLine(text: string, schemaRef: string): string {
  const lead = /^(?:[ \t]*(?:#[^\n]*)?\n)*/.exec(text)?.[0] ?? '';
  if (MODELINE.test(lead)) return text;
  return `# yaml-language-server: $schema=${schemaRef}\n${text}`;
}

/**
 * Writes the schema beside a templates folder (`<dir>/../template.schema.json`) when it is missing or differs, and
 * answers the reference a template in `dir` uses for it (relative, so a repo's templates work on every clone).
 */
export async function ensureSchemaBeside(dir: string): Promise<string> {
  const file = path.join(path.dirname(dir), SCHEMA_FILE);
  const text = templateJsonSchemaText();
  const now = await readFile(file, 'utf8').catch(() => null);
  if (now !== text) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  return path.relative(dir, file).split(path.sep).join('/');
}
