/**
 * A data folder as after months of use: the flow trace and the security events at their bounds (the build's
 * TRACE_LIMITS and SECURITY_LIMITS: 10 and 20 MiB), every entry inside its age window, as they stay on a busy
 * add-on. Start-up prunes these files and the admin page reads them; the other figures' fresh folders have none.
 * Measured: start to healthy, RSS 1 s after it, and RSS once the admin page's overview and Activity were opened.
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as FlowTraceModule from '../src/log/flow-trace';
import type { JsonlLimits } from '../src/log/jsonl-file';
import { listeningPorts } from '../tests/helpers/listening-ports';
import { loadFromBuild } from './fill';
import { Memory, Running, memory, removeFolder, tempFolder } from './proc';
import { ColdStart, median } from './report';
import { checkDeadline, serverOptions, sleep } from './settings';

export interface AgedFolderResult {
  /** Bytes of trace and security-event files in the folder. */
  traceBytes: number;
  start: ColdStart;
  /** 1 s after the first start was healthy. */
  idle: Memory;
  /** After GET / and GET /activity on the admin listener, 1 s later. */
  afterAdmin: Memory;
}

const { TRACE_LIMITS, SECURITY_LIMITS, FLOW_TRACE_NAME, SECURITY_EVENTS_NAME } = loadFromBuild<typeof FlowTraceModule>('log/flow-trace');

/** Files `<name>.jsonl`, `<name>1.jsonl`, ... each just under maxBytes, newest first, all inside maxAge. */
function writeFull(dataDir: string, name: string, limits: JsonlLimits, now: number): number {
  const span = (0.9 * limits.maxAgeMs) / limits.maxFiles;
  let bytes = 0;
  for (let n = 0; n < limits.maxFiles; n++) {
    const lines: string[] = [];
    let size = 0;
    let ts = now - (n + 1) * span;
    for (let i = 0; size < limits.maxBytes - 1024; i++, ts += 1000) {
      const failure = i % 20 === 0;
      const entry = {
        ts: new Date(ts).toISOString(),
        requestId: `aged-${n}-${i}`,
        step: 'token',
        outcome: failure ? 'error' : 'ok',
        ...(failure ? { kind: 'refresh_superseded', error: 'invalid_grant' } : {}),
        grantType: 'refresh_token',
        clientId: 'amazon-alexa',
        grantId: `g${i % 40}`,
        ip: `203.0.113.${i % 200}`,
        ms: 3,
      };
      const line = `${JSON.stringify(entry)}\n`;
      lines.push(line);
      size += line.length;
    }
    const file = path.join(dataDir, n === 0 ? `${name}.jsonl` : `${name}${n}.jsonl`);
    fs.writeFileSync(file, lines.join(''));
    const written = new Date(ts);
    fs.utimesSync(file, written, written);
    bytes += size;
  }
  return bytes;
}

async function openAdminPages(server: Running): Promise<void> {
  const admin = listeningPorts(server.pid).find((p) => p !== server.port);
  if (admin === undefined) throw new Error('the admin listener was not found');
  for (const page of ['/', '/activity']) {
    const res = await fetch(`http://127.0.0.1:${admin}${page}`);
    await res.text();
    if (res.status !== 200) throw new Error(`admin ${page} answered ${res.status}`);
  }
}

export async function measureAgedFolder(start: (dataDir: string) => Promise<Running>, starts: number): Promise<AgedFolderResult> {
  const dataDir = tempFolder('aged', serverOptions());
  try {
    const now = Date.now();
    const traceBytes =
      writeFull(dataDir, FLOW_TRACE_NAME, TRACE_LIMITS, now) + writeFull(dataDir, SECURITY_EVENTS_NAME, SECURITY_LIMITS, now);
    const samples: number[] = [];
    let idle: Memory | undefined;
    let afterAdmin: Memory | undefined;
    for (let i = 0; i < starts; i++) {
      checkDeadline('the aged folder');
      const server = await start(dataDir);
      samples.push(server.startMs);
      if (i === 0) {
        await sleep(1000);
        idle = memory(server.pid);
        await openAdminPages(server);
        await sleep(1000);
        afterAdmin = memory(server.pid);
      }
      await server.stop();
    }
    if (!idle || !afterAdmin) throw new Error('no start was measured');
    return {
      traceBytes,
      start: { medianMs: median(samples), minMs: Math.min(...samples), samplesMs: samples },
      idle,
      afterAdmin,
    };
  } finally {
    removeFolder(dataDir);
  }
}
