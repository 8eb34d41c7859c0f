/**
 * Successes a stranger can cause at will, with nothing secret: starting a link (a valid authorization request, whose
 * client id and redirect URI are public) and a public client's revocation of a token that does not exist. A flood of
 * them must neither rotate what the operator needs out of the flow trace (its 5 files of 2 MiB) nor fill the add-on
 * log: like failures, the trace writes the first 20 a minute from one source and counts the rest into one summary
 * line, and the log follows it. Every request still reaches the listeners (metrics), and a link started from the same
 * address goes through and is recorded step by step.
 */
import { expect } from '@jest/globals';
import { createFlowTrace, FlowEvent } from '../../src/log/flow-trace';
import { createLogger } from '../../src/log/logger';
import { readTrace } from '../../src/ops/trace-reader';
import { PUBLIC_APP, alexaAuthorize, authorizeUrl, basicAuth, linkAccount, revoke } from '../helpers/alexa-client';
import { startInProcess, tempDataDir } from '../helpers/test-server';
import { capturedLogger } from '../helpers/captured-log';
import { isSummary, requests } from '../helpers/trace-summaries';
import { PROXY_ADDRESS, rawRequest, startWithAdmin } from '../admin/admin-helpers';

jest.setTimeout(60_000);

describe('a flood of successes anyone can cause, on a real server', () => {
  it('leaves earlier failures and a real link in the trace, and at most 20 lines a minute per step in the add-on log', async () => {
    const { log, lines } = capturedLogger('info');
    const server = await startInProcess({ log });
    const seen: FlowEvent[] = [];
    server.deps.trace.subscribe((e) => seen.push(e));
    const FLOOD = 150;
    const REVOCATIONS = 60;
    try {
      // What the operator will need: a failure, recorded before the flood.
      const wrongSecret = await fetch(`${server.url}/alexa/token`, {
        method: 'POST',
        headers: { authorization: basicAuth('amazon-alexa', 'not-the-secret'), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=refresh_token&refresh_token=x',
      });
      expect(wrongSecret.status).toBe(401);
      for (let batch = 0; batch < FLOOD / 25; batch++) {
        const answers = await Promise.all(Array.from({ length: 25 }, () => fetch(`${server.url}${authorizeUrl(alexaAuthorize())}`)));
        for (const r of answers) {
          expect(r.status).toBe(200);
          await r.text();
        }
      }
      for (let i = 0; i < REVOCATIONS; i++) expect((await revoke(server.url, `junk-${i}`, 'none', PUBLIC_APP.clientId)).status).toBe(200);
      // The owner links from the same address in the middle of it.
      const linked = await linkAccount(server.url);
      expect(linked.refresh_token).toBeTruthy();
    } finally {
      await server.stop(); // writes the summaries of what was counted
    }

    const entries = await readTrace(server.dataDir);
    const authorizeOk = entries.filter((e) => e.step === 'authorize' && e.outcome === 'ok');
    const revokeOk = entries.filter((e) => e.step === 'revoke' && e.outcome === 'ok');
    const seenAuthorize = seen.filter((e) => e.step === 'authorize' && e.outcome === 'ok').length;
    expect(seenAuthorize).toBeGreaterThan(FLOOD); // the listeners see every one (the link adds its own)
    for (const [step, list, total] of [
      ['authorize', authorizeOk, seenAuthorize],
      ['revoke', revokeOk, REVOCATIONS],
    ] as const) {
      expect({ step, total: requests(list) }).toEqual({ step, total }); // written or counted, none lost
      // 20 a minute: one window, or two if the test straddled a window's end.
      expect(list.filter((e) => !isSummary(e)).length).toBeLessThanOrEqual(40);
      const summaries = list.filter(isSummary);
      expect(summaries.length).toBeGreaterThanOrEqual(1);
      for (const s of summaries) {
        expect(s.ip).toBe('127.0.0.1');
        expect(s.cause).toMatch(
          /^\d+ more (authorization requests|revocations that revoked nothing) from 127\.0\.0\.1 within 60 s were counted/,
        );
      }
    }
    // The failure before the flood is still there, and the link is recorded step by step.
    expect(entries.some((e) => e.kind === 'client_secret_mismatch')).toBe(true);
    for (const step of ['login', 'consent'] as const) expect(entries.filter((e) => e.step === step && e.outcome === 'ok')).toHaveLength(1);
    expect(entries.filter((e) => e.step === 'token' && e.grantType === 'authorization_code' && e.outcome === 'ok')).toHaveLength(1);

    // The add-on log follows the trace: each written success, and each summary at info.
    expect(lines.filter((l) => / INFO +authorize ok requestId=/.test(l)).length).toBeLessThanOrEqual(40);
    expect(lines.filter((l) => / INFO +revoke ok requestId=/.test(l)).length).toBeLessThanOrEqual(40);
    expect(lines.some((l) => / INFO +authorize ok: \d+ more authorization requests from 127\.0\.0\.1 /.test(l))).toBe(true);

    // The admin page's Activity shows a summary as one.
    const again = await startWithAdmin({ dataDir: server.dataDir });
    try {
      const page = await rawRequest(`${again.adminUrl}/activity`, { localAddress: PROXY_ADDRESS });
      expect(page.status).toBe(200);
      expect(page.body).toMatch(/\d+ more linking starts, counted, not listed one by one/);
    } finally {
      await again.stop();
    }
  });
});

describe('successes anyone can cause, on a clock of their own', () => {
  const start = Date.parse('2026-12-03T10:00:00.000Z');

  it('are counted per source, start over each minute, and never include a revocation that revoked something', async () => {
    const dataDir = tempDataDir();
    let clock = start;
    const trace = createFlowTrace(dataDir, createLogger('error', true), { now: () => clock });
    const authorize = (ip: string, requestId: string) =>
      trace.record({ requestId, step: 'authorize', outcome: 'ok', clientId: 'amazon-alexa', ip });
    try {
      for (let i = 0; i < 50; i++) authorize('203.0.113.7', `flood${i}`);
      // Another household, and another address in the flooding one's IPv6 /56, count on their own.
      for (let i = 0; i < 3; i++) authorize('198.51.100.2', `home${i}`);
      for (let i = 0; i < 25; i++) authorize('2001:db8:0:100::1', `v6-a${i}`);
      for (let i = 0; i < 25; i++) authorize('2001:db8:0:1ff::2', `v6-b${i}`);
      // Revocations by a client that held the token are never counted this way.
      for (let i = 0; i < 30; i++)
        trace.record({
          requestId: `rv${i}`,
          step: 'revoke',
          outcome: 'ok',
          clientId: 'amazon-alexa',
          ip: '203.0.113.7',
          detail: { revoked: 'grant' },
        });
      clock += 60_000; // the window is over: its summary comes before the next entry
      authorize('203.0.113.7', 'next');
      await trace.flush();
      const entries = (await readTrace(dataDir)).reverse(); // oldest first
      const from = (ip: RegExp) => entries.filter((e) => e.step === 'authorize' && ip.test(e.ip ?? ''));
      const flood = from(/^203\.0\.113\.7$/);
      expect(flood.filter((e) => !isSummary(e)).map((e) => e.requestId)).toEqual([
        ...Array.from({ length: 20 }, (_, i) => `flood${i}`),
        'next',
      ]);
      expect(flood.filter(isSummary).map((e) => e.detail?.coalesced)).toEqual([30]);
      expect(from(/^198\.51\.100\.2$/).map((e) => e.requestId)).toEqual(['home0', 'home1', 'home2']);
      // One /56: 20 written of the 50, whichever address in it sent them.
      expect(from(/^2001:db8:0:1/).filter((e) => !isSummary(e))).toHaveLength(20);
      expect(entries.filter((e) => e.step === 'revoke' && !isSummary(e))).toHaveLength(30);
    } finally {
      await trace.close();
    }
    const after = await readTrace(dataDir);
    expect(requests(after.filter((e) => e.step === 'authorize' && (e.ip ?? '').startsWith('2001:db8:0:1')))).toBe(50);
  });
});
