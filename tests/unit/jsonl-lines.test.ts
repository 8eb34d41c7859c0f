/**
 * Reading a JSON-lines file a chunk at a time (src/log/jsonl-lines.ts): the lines and their byte offsets must be
 * exactly those of the whole file, wherever the 64 KiB chunks happen to cut it (inside a line, inside a multi-byte
 * character, right after a newline), so that the prune can keep a file's tail byte for byte from an offset.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { findLine, linesFromEnd, linesOf } from '../../src/log/jsonl-lines';
import { tempDataDir } from '../helpers/test-server';

async function backwards(file: string) {
  const out: string[] = [];
  for await (const line of linesFromEnd(file)) out.push(line);
  return out;
}

async function collect(file: string) {
  const out: Array<{ line: string; start: number }> = [];
  for await (const at of linesOf(file)) out.push(at);
  return out;
}

/** What reading the whole file gives: its non-blank lines, each with the byte offset it starts at. */
function expected(bytes: Buffer) {
  const out: Array<{ line: string; start: number }> = [];
  let start = 0;
  for (const line of bytes.toString('utf8').split('\n')) {
    if (line.trim() !== '') out.push({ line, start });
    start += Buffer.byteLength(line) + 1;
  }
  return out;
}

function file(content: string | Buffer): string {
  const f = path.join(tempDataDir(), 'x.jsonl');
  writeFileSync(f, content);
  return f;
}

it('gives every non-blank line with its byte offset, across chunk boundaries and multi-byte characters', async () => {
  // Lines of many lengths with 2-, 3- and 4-byte characters, blank lines among them: over 300 KiB, so chunk ends
  // fall at every kind of place. A last line without its newline (a kill during an append) is a line too.
  const lines: string[] = [];
  for (let i = 0, length = 0; length < 300_000; i++) {
    const text = `é€😀`.repeat(i % 41) + 'x'.repeat(i % 97);
    lines.push(i % 17 === 0 ? '' : JSON.stringify({ ts: new Date(i * 1000).toISOString(), n: i, text }));
    length += (lines.at(-1) ?? '').length + 1;
  }
  const bytes = Buffer.from(`${lines.join('\n')}\n\n${JSON.stringify({ partial: 'ü' })}`);
  const got = await collect(file(bytes));
  const want = expected(bytes);
  expect(got.length).toBe(want.length);
  expect(got).toEqual(want);
  for (const { line, start } of got) expect(bytes.subarray(start, start + Buffer.byteLength(line)).toString('utf8')).toBe(line);
  expect(await backwards(file(bytes))).toEqual(want.map((w) => w.line).reverse());
  // and with a newline at the very end, and at the very start
  const framed = Buffer.concat([Buffer.from('\n'), bytes, Buffer.from('\n')]);
  expect(await backwards(file(framed))).toEqual(
    expected(framed)
      .map((w) => w.line)
      .reverse(),
  );
});

it('reads a line longer than a chunk whole, and an empty or blank file as no lines', async () => {
  const long = JSON.stringify({ ts: 'x', pad: 'ß'.repeat(150_000) });
  expect(await collect(file(`${long}\nshort\n`))).toEqual([
    { line: long, start: 0 },
    { line: 'short', start: Buffer.byteLength(long) + 1 },
  ]);
  expect(await backwards(file(`${long}\nshort\n`))).toEqual(['short', long]);
  expect(await collect(file(''))).toEqual([]);
  expect(await collect(file('\n \n\n'))).toEqual([]);
  expect(await backwards(file(''))).toEqual([]);
  expect(await backwards(file('\n \n\n'))).toEqual([]);
});

it('findLine stops at the first line accepted, and says undefined when none is', async () => {
  const f = file(['a', 'bb', '', 'ccc', 'dd'].join('\n'));
  const seen: string[] = [];
  const found = await findLine(f, (line) => {
    seen.push(line);
    return line.length === 3;
  });
  expect(found).toEqual({ line: 'ccc', start: 6 });
  expect(seen).toEqual(['a', 'bb', 'ccc']);
  expect(await findLine(f, () => false)).toBeUndefined();
  await expect(findLine(path.join(tempDataDir(), 'gone.jsonl'), () => true)).rejects.toThrow(/ENOENT/);
});
