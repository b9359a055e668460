// The template's JSON Schema (generated from the zod schema parseTemplate uses): an editor checking a file with it
// agrees with parseTemplate on what is valid, fields carry the error messages' words, the schema line goes first once.
import { describe, expect, it } from 'vitest';
import Ajv from 'ajv';
import { parseTemplate, templateJsonSchema, withSchemaLine } from '../../electron/engine/templates/index.ts';
import { parse } from 'yaml';
import { makeRepo } from '../fixtures/repo.ts';

describe('template JSON Schema', () => {
  const schema = templateJsonSchema();
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  const repo = makeRepo();
  const samples: Record<string, string> = {
    minimal: 'name: a\n',
    full: `name: nightly
repo: ${repo}
count: 3
agent: { preset: claude-code, env: { DEBUG: 1 } }
provider: { preset: moonshot, compat: moonshot, limits: { tier: 1 } }
model: kimi-k2.6
budget: { perSessionUsd: 0.5, runUsd: 3 }
tasks: [fix the tests, write docs]
`,
    'unknown field': 'name: a\ncont: 3\n',
    'count zero': 'name: a\ncount: 0\n',
    'count too big': 'name: a\ncount: 1000\n',
    'bad preset': 'name: a\nagent: { preset: claude }\n',
    'bad env name': 'name: a\nagent: { env: { 1X: y } }\n',
    'no name': 'count: 2\n',
    'negative budget': 'name: a\nbudget: { runUsd: -1 }\n',
    'bad rule': 'name: a\nprovider: { compatRules: { on: [nope] } }\n',
  };

  it('accepts and refuses the same templates parseTemplate does', () => {
    for (const [label, text] of Object.entries(samples)) {
      let parsed = true;
      try {
        parseTemplate(text, '', { cwd: repo, repo });
      } catch {
        parsed = false;
      }
      expect(validate(parse(text)), `${label}: ${JSON.stringify(validate.errors)}`).toBe(parsed);
    }
    // Sanity: both sides saw valid and invalid samples.
    expect(validate(parse(samples.full!))).toBe(true);
    expect(validate(parse(samples['unknown field']!))).toBe(false);
  });

  it('is draft-07 (what the YAML language server reads) with descriptions from the error messages', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    const props = schema.properties as Record<string, { description?: string; properties?: Record<string, { description?: string }> }>;
    expect(props.count!.description).toBe('An integer from 1 to 64.');
    expect(props.agent!.properties!.preset!.description).toMatch(/^One of claude-code, /);
    expect(schema.required).toEqual(['name']);
    expect(schema.additionalProperties).toBe(false);
  });

  it('puts the schema line first, once', () => {
    const line = '# yaml-language-server: $schema=../template.schema.json\n';
    expect(withSchemaLine('name: a\n', '../template.schema.json')).toBe(`${line}name: a\n`);
    expect(withSchemaLine(`${line}name: a\n`, '../template.schema.json')).toBe(`${line}name: a\n`);
    const commented = `# my run\n\n${line}name: a\n`;
    expect(withSchemaLine(commented, 'x.json')).toBe(commented);
    // A schema line after the first field is not in the leading comments: one goes first.
    expect(withSchemaLine(`name: a\n${line}`, 'x.json').startsWith('# yaml-language-server: $schema=x.json\n')).toBe(true);
  });
});
