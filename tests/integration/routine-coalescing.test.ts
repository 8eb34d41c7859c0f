/**
 * A client or resource server that repeats routine successes (refreshes, introspections) many times a minute: the
 * flow trace writes the first 30 of each step and client each minute and counts the rest into one summary line, so
 * a loop cannot rotate the link flows and failures out of the trace. Nothing is lost from the counts: the metrics,
 * the add-on log's hourly line and the admin page's hourly chart count every request; the admin page's Activity and
 * `oauth-admin activity` show a summary as one.
 */
import { expect } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createFlowTrace, FlowEvent } from '../../src/log/flow-trace';
import { createLogger } from '../../src/log/logger';
import { hourlyActivity, readTrace } from '../../src/ops/trace-reader';
import { introspectAsResourceServer, linkAccount, refreshOk } from '../helpers/alexa-client';
import { RESOURCE_SERVER, startInProcess, tempDataDir } from '../helpers/test-server';
import { eventually } from '../helpers/wait';
import { capturedLogger } from '../helpers/captured-log';
import { isSummary, requests } from '../helpers/trace-summaries';
import { PROXY_ADDRESS, rawRequest, startWithAdmin } from '../admin/admin-helpers';

const CLI = path.join(__dirname, '..', '..', 'dist', 'cli', 'oauth-admin.js');

jest.setTimeout(60_000);

describe('routine successes repeated within a minute, on a real server', () => {
  it('the trace keeps 30 of each step a minute and counts the rest; the metrics and the hourly chart count all; the admin page and the CLI show the summaries', async () => {
    const server = await startInProcess();
    let linkGrant: string;
    try {
      const linked = await linkAccount(server.url);
      let refreshToken = linked.refresh_token;
      for (let i = 0; i < 45; i++) refreshToken = (await refreshOk(server.url, refreshToken)).refresh_token;
      // In parallel batches, as a busy resource server would send them.
      for (let batch = 0; batch < 10; batch++) {
        const answers = await Promise.all(Array.from({ length: 8 }, () => introspectAsResourceServer(server.url, linked.access_token)));
        for (const res of answers) expect(await res.json()).toMatchObject({ active: true });
      }
      expect(server.deps.metrics.tokensIssued('refresh_token')).toBe(45);
      linkGrant = (await readTrace(server.dataDir)).find((e) => e.grantType === 'authorization_code')!.grantId!;
    } finally {
      await server.stop(); // writes the summaries of what was counted
    }

    const entries = await readTrace(server.dataDir);
    const refreshes = entries.filter((e) => e.step === 'token' && e.grantType === 'refresh_token');
    const introspections = entries.filter((e) => e.step === 'introspect');
    for (const [kind, list, total] of [
      ['refreshes', refreshes, 45],
      ['introspections', introspections, 80],
    ] as const) {
      const single = list.filter((e) => !isSummary(e));
      const summaries = list.filter(isSummary);
      expect({ kind, total: requests(list) }).toEqual({ kind, total }); // none lost: written or counted
      // 30 a minute: one window, or two if the test straddled its end.
      expect(single.length).toBeGreaterThanOrEqual(30);
      expect(single.length).toBeLessThanOrEqual(60);
      expect(summaries.length).toBeGreaterThanOrEqual(1);
      for (const s of summaries) {
        expect(s.outcome).toBe('ok');
        expect(s.cause).toMatch(/^\d+ more successful .* within 60 s were counted, not recorded one by one$/);
      }
    }
    expect(introspections.find(isSummary)!.clientId).toBe(RESOURCE_SERVER.id);
    expect(refreshes.find(isSummary)!.clientId).toBe('amazon-alexa');
    // What is written one by one is unchanged: each names its grant.
    for (const e of refreshes.filter((r) => !isSummary(r))) expect(e.grantId).toBe(linkGrant);
    // The link itself and every failure are never coalesced.
    expect(entries.filter((e) => e.grantType === 'authorization_code')).toHaveLength(1);

    const hours = await hourlyActivity(server.dataDir, Date.now(), 2);
    expect(hours.reduce((n, h) => n + h.tokens, 0)).toBe(46); // the link's tokens and 45 refreshes

    // The admin page's Activity and `oauth-admin activity` show each summary as what it is.
    const again = await startWithAdmin({ dataDir: server.dataDir });
    try {
      const page = await rawRequest(`${again.adminUrl}/activity`, { localAddress: PROXY_ADDRESS });
      expect(page.status).toBe(200);
      expect(page.body).toMatch(/\d+ more token checks, counted, not listed one by one/);
      expect(page.body).toMatch(/\d+ more refreshes, counted, not listed one by one/);
    } finally {
      await again.stop();
    }
    const cli = spawnSync(process.execPath, [CLI, 'activity'], {
      env: { PATH: process.env.PATH, DATA_DIR: server.dataDir },
      encoding: 'utf8',
    });
    expect(cli.status).toBe(0);
    expect(cli.stdout).toMatch(/\d+ more successful introspections by music-assistant within 60 s were counted/);
  });
});

describe('the trace policy, on a clock of its own', () => {
  const start = Date.parse('2026-12-03T10:00:00.000Z');
  const ok = { requestId: 'r', outcome: 'ok' as const };

  it('counts per step and client, starts over each minute, and never counts the link or a failure', async () => {
    const dataDir = tempDataDir();
    let clock = start;
    const trace = createFlowTrace(dataDir, createLogger('error', true), { now: () => clock });
    const seen: FlowEvent[] = [];
    trace.subscribe((e) => seen.push(e));
    try {
      for (let i = 0; i < 50; i++) {
        trace.record({ ...ok, requestId: `a${i}`, step: 'introspect', clientId: 'resource-a' });
        trace.record({ ...ok, requestId: `b${i}`, step: 'introspect', clientId: 'resource-b' });
        trace.record({ ...ok, requestId: `c${i}`, step: 'token', grantType: 'authorization_code', clientId: 'resource-a' });
      }
      for (let i = 0; i < 25; i++)
        trace.record({
          requestId: `f${i}`,
          step: 'introspect',
          outcome: 'error',
          clientId: 'resource-a',
          ip: '10.0.0.1',
          kind: 'unknown_client',
        });
      clock += 60_000; // the window is over: its summary comes before the next entry
      trace.record({ ...ok, requestId: 'next', step: 'introspect', clientId: 'resource-a' });
      await trace.flush();
      const entries = await readTrace(dataDir);
      const of = (client: string) => entries.filter((e) => e.step === 'introspect' && e.outcome === 'ok' && e.clientId === client);
      // resource-a: 30 written, a summary of 20, then the next minute's first one (oldest first).
      const a = of('resource-a').reverse();
      expect(a.filter((e) => !isSummary(e)).map((e) => e.requestId)).toEqual([...Array.from({ length: 30 }, (_, i) => `a${i}`), 'next']);
      expect(a.filter(isSummary).map((e) => e.detail?.coalesced)).toEqual([20]);
      // resource-b counts on its own; its summary is written when its window is swept.
      expect(of('resource-b').filter((e) => !isSummary(e))).toHaveLength(30);
      expect(entries.filter((e) => e.grantType === 'authorization_code')).toHaveLength(50);
      // Failures keep their own rule (20 a minute from one source).
      expect(entries.filter((e) => e.outcome === 'error' && !isSummary(e))).toHaveLength(20);
      // The listeners see every entry.
      expect(seen.filter((e) => e.step === 'introspect' && e.outcome === 'ok')).toHaveLength(101);
    } finally {
      await trace.close();
    }
    const after = await readTrace(dataDir);
    const b = after.filter((e) => e.step === 'introspect' && e.outcome === 'ok' && e.clientId === 'resource-b');
    expect(requests(b)).toBe(50);
  });

  it('at debug, the add-on log has a line for each written success and one for each summary; the hourly line counts all', async () => {
    const { log, lines } = capturedLogger('debug');
    let clock = start;
    const trace = createFlowTrace(tempDataDir(), log, { now: () => clock, routineSummaryMs: 20 });
    try {
      for (let i = 0; i < 40; i++) trace.record({ ...ok, step: 'token', grantType: 'refresh_token', clientId: 'amazon-alexa' });
      clock += 60_000;
      trace.record({ ...ok, step: 'token', grantType: 'refresh_token', clientId: 'amazon-alexa' });
      await eventually('the summary line', () =>
        lines.find((l) => / DEBUG +token ok: 10 more successful refresh_token requests by amazon-alexa /.test(l)),
      );
      expect(lines.filter((l) => / DEBUG +token ok /.test(l))).toHaveLength(31);
      clock += 3_600_000;
      const hourly = await eventually('the hourly line', () => lines.find((l) => l.includes('succeeded since')));
      expect(hourly).toMatch(new RegExp(` INFO +41 refreshes succeeded since ${new Date(start).toISOString()}$`));
    } finally {
      await trace.close();
    }
  });
});
