/**
 * How the flow trace's files are written (src/log/jsonl-file.ts): the lines queued in one turn of the event loop
 * go to the file in one append, in order, after that turn; a write that fails is reported once, throws at no
 * caller, and the next write that succeeds starts on a fresh line.
 */
import { afterEach, expect, jest } from '@jest/globals';
import fs, { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JsonlFile, createJsonlFile } from '../../src/log/jsonl-file';
import type { Logger } from '../../src/log/logger';

const DAY = 86_400_000;
const dirs: string[] = [];
const files: JsonlFile[] = [];
afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.all(files.splice(0).map((f) => f.close()));
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function open(): { dir: string; file: JsonlFile; warnings: string[] } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'maoauth-jsonl-'));
  dirs.push(dir);
  const warnings: string[] = [];
  const log = { warn: (msg: string) => warnings.push(msg), debug: () => undefined, info: () => undefined } as unknown as Logger;
  const file = createJsonlFile(dir, 'trace', log, { maxBytes: 1024 * 1024, maxFiles: 2, maxAgeMs: 30 * DAY }, Date.now);
  files.push(file);
  return { dir, file, warnings };
}

const START = Date.now();
const line = (n: number) => `${JSON.stringify({ ts: new Date(START + n).toISOString(), n })}\n`;

it('writes the lines of one turn together, in order, once the turn is over', async () => {
  const { dir, file } = open();
  await file.flush(); // the start-up prune has run
  const appends = jest.spyOn(fs, 'appendFileSync');
  // Appends with microtasks run between them, as between the requests answered in one poll of the sockets.
  file.append([line(1)]);
  await Promise.resolve();
  file.append([line(2), line(3)]);
  await Promise.resolve();
  await Promise.resolve();
  file.append([line(4)]);
  expect(appends).not.toHaveBeenCalled();
  await file.flush();
  expect(appends).toHaveBeenCalledTimes(1);
  expect(readFileSync(path.join(dir, 'trace.jsonl'), 'utf8')).toBe([1, 2, 3, 4].map(line).join(''));
});

it('reports a failed write once, throws at no caller, and starts the next good write on a fresh line', async () => {
  const { dir, file, warnings } = open();
  await file.flush();
  const live = path.join(dir, 'trace.jsonl');
  mkdirSync(live); // appending to a directory fails (EISDIR), as on a full or read-only disk
  file.append([line(1)]);
  await file.flush();
  file.append([line(2)]);
  await file.flush();
  expect(warnings).toEqual(['trace cannot be written']);

  rmSync(live, { recursive: true });
  file.append([line(3)]);
  await file.flush();
  expect(readFileSync(live, 'utf8')).toBe(`\n${line(3)}`);
  file.append([line(4)]);
  await file.flush();
  expect(readFileSync(live, 'utf8')).toBe(`\n${line(3)}${line(4)}`);
});
