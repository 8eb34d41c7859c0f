/**
 * What the add-on log shows at each log_level. At info: a link made (the code exchanged), a revocation, every
 * failure. Alexa's refreshes (one an hour per link) and the resource server's introspections (one per voice
 * request) only at debug; the flow trace keeps each of them at every level. And a line below the level costs
 * nothing: winston would otherwise redact and format it before dropping it.
 */
import { expect } from '@jest/globals';
import { PassThrough } from 'node:stream';
import winston from 'winston';
import { LogLevel } from '../../src/config/config';
import { Logger, createLogger } from '../../src/log/logger';
import { introspectAsResourceServer, linkAccount, refresh, refreshOk, revoke } from '../helpers/alexa-client';
import { startInProcess, waitForTrace } from '../helpers/test-server';
import { eventually } from '../helpers/wait';

/** Our logger (its formats and level checks) with its lines collected instead of written to stdout. */
function capturedLogger(level: LogLevel): { log: Logger; lines: string[] } {
  const log = createLogger(level);
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => lines.push(...String(chunk).split('\n').filter(Boolean)));
  log.clear().add(new winston.transports.Stream({ stream }));
  return { log, lines };
}

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
  });

  it('at debug: each refresh and introspection too, as debug lines naming the grant', async () => {
    const lines = await linkRefreshIntrospectRevoke('debug');
    expect(lineOf(lines, /INFO +token ok .*grantType=authorization_code/)).toBeDefined();
    expect(lineOf(lines, /DEBUG +token ok .*grantType=refresh_token .*grantId=\S+/)).toBeDefined();
    expect(lineOf(lines, /DEBUG +introspect ok .*grantId=\S+/)).toBeDefined();
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
