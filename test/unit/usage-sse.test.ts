import { describe, expect, it } from 'vitest';
import { SseReader } from '../../electron/engine/meter/usage/sse.ts';
import { scanString, scannedLength } from '../../electron/engine/meter/usage/scan.ts';
import { intentsFromToolCall, patchPaths } from '../../electron/engine/meter/usage/index.ts';

function read(pieces: Array<string | Uint8Array>): Array<[string | null, string]> {
  const out: Array<[string | null, string]> = [];
  const r = new SseReader((e, d) => out.push([e, d]));
  for (const p of pieces) r.push(typeof p === 'string' ? Buffer.from(p) : p);
  r.end();
  return out;
}

describe('SseReader', () => {
  it('LF, CRLF and CR line endings; blank line dispatches; comments and id/retry ignored', () => {
    expect(
      read(['event: a\ndata: 1\n\n', 'event: b\r\ndata: 2\r\n\r\n', 'event: c\rdata: 3\r\r', ': comment\nid: 7\nretry: 10\ndata: 4\n\n']),
    ).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
      [null, '4'],
    ]);
  });

  it('a chunk ending between \\r and \\n does not make an extra blank line', () => {
    expect(read(['event: a\r', '\ndata: 1\r', '\n', 'data: 2\r', '\n\r', '\n'])).toEqual([['a', '1\n2']]);
  });

  it('multi-line data joined with \\n; "data:" without a space; event without data dispatches nothing', () => {
    expect(read(['data:{"a":\ndata: 1}\n\nevent: lonely\n\ndata\n\n'])).toEqual([
      [null, '{"a":\n1}'],
      [null, ''],
    ]);
  });

  it('multi-byte UTF-8 split across chunks', () => {
    const bytes = Buffer.from('data: é🚀日\n\n');
    const pieces = Array.from(bytes, (b) => Uint8Array.of(b));
    expect(read(pieces)).toEqual([[null, 'é🚀日']]);
  });

  it('a final event without the trailing blank line is dispatched at end()', () => {
    expect(read(['data: [DONE]'])).toEqual([[null, '[DONE]']]);
    expect(read(['data: x\n'])).toEqual([[null, 'x']]);
  });
});

describe('scanString', () => {
  it('returns the closing quote and the decoded length (escapes and \\u count once)', () => {
    const s = JSON.stringify({ t: 'a"b\\c\n\u00e9🚀\u2028' });
    const start = s.indexOf(':"') + 2;
    const end = scanString(s, start);
    expect(end).toBe(s.length - 2);
    expect(scannedLength).toBe('a"b\\c\n\u00e9🚀\u2028'.length);
    expect(scanString('"abc\\', 1)).toBe(-1);
    expect(scanString('"abc', 1)).toBe(-1);
    expect(scanString('"\\u00', 1)).toBe(-1);
  });
});

describe('intents', () => {
  it('apply_patch paths in order, deduplicated, CRLF tolerated', () => {
    const patch =
      '*** Begin Patch\r\n*** Update File: a.ts\r\n*** Move to: b.ts\r\n@@\r\n-*** Add File: not-a-header\r\n*** Update File: a.ts\r\n*** End Patch';
    expect(patchPaths(patch)).toEqual(['a.ts', 'b.ts']);
  });

  it.each([
    ['Write', { file_path: '/r/a.txt', content: 'x' }, ['/r/a.txt']],
    ['Edit', '{"file_path":"/r/b.txt","old_string":"a","new_string":"b"}', ['/r/b.txt']],
    ['MultiEdit', { file_path: '/r/c.txt', edits: [] }, ['/r/c.txt']],
    ['NotebookEdit', { notebook_path: '/r/n.ipynb', new_source: '' }, ['/r/n.ipynb']],
    ['Bash', { command: 'echo hi > x.txt' }, []],
    ['Read', { file_path: '/r/a.txt' }, []],
    ['TodoWrite', { todos: [] }, []],
    ['apply_patch', { input: '*** Begin Patch\n*** Add File: z.txt\n+1\n*** End Patch' }, ['z.txt']],
    ['apply_patch', '*** Begin Patch\n*** Delete File: y.txt\n*** End Patch', ['y.txt']],
    ['shell', { command: ['apply_patch', '*** Begin Patch\n*** Update File: s.py\n*** End Patch'] }, ['s.py']],
    ['shell', { command: ['bash', '-lc', 'ls'] }, []],
    ['write_file', { path: 'w.md', content: '' }, ['w.md']],
    ['StrReplaceFile', { path: 'k.py', edit: {} }, ['k.py']],
    ['str_replace_based_edit_tool', { command: 'view', path: 'v.py' }, []],
    ['str_replace_based_edit_tool', { command: 'str_replace', path: 'v.py' }, ['v.py']],
    ['create_directory', { path: 'dir' }, []],
    ['Write', '{"file_path":"/r/broken.txt","content":"unterminated', ['/r/broken.txt']],
  ] as const)('%s %j → %j', (tool, args, paths) => {
    expect(intentsFromToolCall(tool, args).map((i) => i.path)).toEqual(paths);
  });
});
