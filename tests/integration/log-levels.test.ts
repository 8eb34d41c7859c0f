/**
 * What the add-on log shows at each log_level. At info: a link made (the code exchanged), a revocation, every
 * failure, and one line an hour counting Alexa's refreshes (one an hour per link) and the resource server's
 * introspections (one per voice request), which are written one by one only at debug; the flow trace keeps them at
 * every level (the first 30 of each client a minute one by one: routine-coalescing.test.ts). And a line below the level costs nothing: winston would otherwise redact and format it
 * before dropping it.
 */
import { expect } from '@jest/globals';
import { LogLevel } from '../../src/config/config';
import { createFlowTrace } from '../../src/log/flow-trace';
import { introspectAsResourceServer, linkAccount, refresh, refreshOk, revoke } from '../helpers/alexa-client';
import { startInProcess, tempDataDir, waitForTrace } from '../helpers/test-server';
import { eventually } from '../helpers/wait';
import { capturedLogger } from '../helpers/captured-log';

const lineOf = (lines: string[], pattern: RegExp) => lines.find((l) => pattern.test(l));

describe('which successes reach the add-on log', () => {
  async function linkRefreshIntrospectRevoke(level: LogLevel) {
    const { log, lines } = capturedLogger(level);
    const server = await startInProcess({ log });
    try {
      const linked = await linkAccount(server.url);
      const refreshed = await refreshOk(server.url, linked.refresh_token);
      expect(await (await introspectAsResourceServer(server.url, refreshed.access_token)).json()).toMatchObject({ active: true });
      expect((await refresh(server.url, 'not-a-token-we-issued')).status).toBe(400);
      expect((await revoke(server.url, refreshed.refresh_token)).status).toBe(200);
      // The trace keeps every step, whatever the level.
      for (const step of ['token', 'introspect', 'revoke'] as const)
        await waitForTrace(server.dataDir, (e) => e.step === step && e.outcome === 'ok');
      await waitForTrace(server.dataDir, (e) => e.step === 'token' && e.grantType === 'refresh_token' && e.outcome === 'ok');
      // Lines are written in the order they were logged: once the revocation's is there, every earlier one is too.
      await eventually('the revocation in the log', () => lineOf(lines, /INFO +revoke ok/), 10_000, 20);
      return lines;
    } finally {
      await server.stop();
    }
  }

  it('at info: the code exchange, the revocation and the failed refresh; not the refresh nor the introspection', async () => {
    const lines = await linkRefreshIntrospectRevoke('info');
    expect(lineOf(lines, /INFO +token ok .*grantType=authorization_code/)).toBeDefined();
    expect(lineOf(lines, /WARN +token failed: .*grantType=refresh_token/)).toBeDefined();
    expect(lineOf(lines, /token ok .*grantType=refresh_token/)).toBeUndefined();
    expect(lineOf(lines, /introspect ok/)).toBeUndefined();
    expect(lines.filter((l) => / DEBUG /.test(l))).toEqual([]);
    // Counted instead, in the line the server writes as it stops (and every hour): the failed refresh is not.
    await eventually('the count of routine successes', () => lineOf(lines, /INFO +1 refresh and 1 introspection succeeded since \S+Z$/));
  });

  it('at debug: each refresh and introspection too, as debug lines naming the grant', async () => {
    const lines = await linkRefreshIntrospectRevoke('debug');
    expect(lineOf(lines, /INFO +token ok .*grantType=authorization_code/)).toBeDefined();
    expect(lineOf(lines, /DEBUG +token ok .*grantType=refresh_token .*grantId=\S+/)).toBeDefined();
    expect(lineOf(lines, /DEBUG +introspect ok .*grantId=\S+/)).toBeDefined();
  });
});

describe('the count of routine successes', () => {
  it('is one info line per interval, naming what succeeded since when, and starts over after it', async () => {
    const { log, lines } = capturedLogger('info');
    let clock = Date.parse('2026-12-02T10:00:00.000Z');
    const trace = createFlowTrace(tempDataDir(), log, { now: () => clock, routineSummaryMs: 50 });
    try {
      const ok = { requestId: 'r', outcome: 'ok' as const };
      for (let i = 0; i < 3; i++) trace.record({ ...ok, step: 'token', grantType: 'refresh_token' });
      for (let i = 0; i < 2; i++) trace.record({ ...ok, step: 'introspect' });
      trace.record({ ...ok, step: 'token', grantType: 'authorization_code' });
      clock = Date.parse('2026-12-02T11:00:00.000Z');
      const first = '3 refreshes and 2 introspections succeeded since 2026-12-02T10:00:00.000Z';
      await eventually('the first count', () => lineOf(lines, new RegExp(`INFO +${first}$`)), 5_000, 10);

      trace.record({ ...ok, step: 'introspect' });
      await eventually(
        'the second count',
        () => lineOf(lines, /INFO +1 introspection succeeded since 2026-12-02T11:00:00.000Z$/),
        5_000,
        10,
      );
      expect(lines.filter((l) => l.includes('succeeded since'))).toHaveLength(2);
      expect(lineOf(lines, /INFO +token ok .*grantType=authorization_code/)).toBeDefined();
    } finally {
      await trace.close();
    }
  });
});

describe('a line below the level', () => {
  it('is dropped before any format reads it, and is written once the level is lowered', async () => {
    const { log, lines } = capturedLogger('info');
    let reads = 0;
    const meta = {
      get clientId() {
        reads++;
        return 'amazon-alexa';
      },
    };
    log.debug('below the level', meta);
    expect(reads).toBe(0);
    log.info('at the level', meta);
    expect(reads).toBeGreaterThan(0);

    log.level = 'debug';
    reads = 0;
    log.debug('now at the level', meta);
    expect(reads).toBeGreaterThan(0);
    await eventually('the debug line', () => lineOf(lines, /DEBUG +now at the level clientId=amazon-alexa/), 5_000, 10);
    expect(lineOf(lines, /below the level/)).toBeUndefined();
  });

  it('a child logger keeps its own metadata, and its level checks too', async () => {
    const { log, lines } = capturedLogger('info');
    const child = log.child({ component: 'purge' });
    child.debug('child below the level');
    child.info('child at the level');
    await eventually('the child line', () => lineOf(lines, /INFO +child at the level component=purge/), 5_000, 10);
    expect(lineOf(lines, /child below the level/)).toBeUndefined();
  });
});
