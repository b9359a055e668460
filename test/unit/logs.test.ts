// The engine's log files (electron/engine/logs.ts): rotation by size, and secrets scrubbed before anything is written.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RotatingLog, redact, tailLog } from '../../electron/engine/logs.ts';
import { tempDir } from '../fixtures/repo.ts';

describe('logs', () => {
  it('rotates at the size limit and keeps the newest files; tailLog reads across them', () => {
    const dir = tempDir('flotilla-logs-');
    const log = new RotatingLog(dir, 'engine', () => [], 2000, 3);
    for (let i = 0; i < 200; i++) log.write(`line ${i} ${'x'.repeat(40)}`);
    const files = readdirSync(join(dir, 'logs')).sort();
    expect(files).toEqual(['engine.1.log', 'engine.2.log', 'engine.3.log', 'engine.log']);
    for (const f of files) expect(statSync(join(dir, 'logs', f)).size).toBeLessThanOrEqual(2000);
    expect((statSync(join(dir, 'logs', 'engine.log')).mode & 0o777).toString(8)).toBe('600');
    const last = tailLog(dir, 'engine', 60);
    expect(last).toHaveLength(60);
    expect(last.at(-1)).toMatch(/ line 199 x+$/);
    expect(last[0]).toMatch(/ line 140 /); // older lines come from the rotated files, in order
  });

  it('scrubs keys, tokens and credentials, known and credential-shaped', () => {
    const key = 'moonshot-real-key-0123456789';
    const line = redact(
      `upstream 401 for key ${key}; sk-abcdefghijklmnop in a body; GET /api/x?token=tok_ABCDEFGHIJ&runId=r; ` +
        `Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc; {"x-api-key":"sess-token-123456"}; proxy /s/AbCdEfGhIjKlMnOp/v1/messages`,
      [key],
    );
    for (const secret of [key, 'sk-abcdefghijklmnop', 'tok_ABCDEFGHIJ', 'eyJhbGciOiJIUzI1NiJ9', 'sess-token-123456', 'AbCdEfGhIjKlMnOp'])
      expect(line, secret).not.toContain(secret);
    expect(line).toContain('runId=r');
    const dir = tempDir('flotilla-logs-');
    new RotatingLog(dir, 'main', () => [key]).write(`saved ${key}`);
    expect(readFileSync(join(dir, 'logs', 'main.log'), 'utf8')).toMatch(/saved \[redacted\]\n$/);
  });
});
