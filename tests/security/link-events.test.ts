/**
 * Strangers flooding the trace from many addresses (behind a trusted proxy, each one below the per-source bound)
 * rotate the flow trace, whose files are bounded; the owner's link, which only a credential holder can cause, stays
 * in the Activity because the link-events file keeps it too. A real server with small trace files; every loop is
 * bounded.
 */
import { expect } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LINK_EVENTS_FILE } from '../../src/log/flow-trace';
import { isCredentialBacked } from '../../src/log/trace-policy';
import { readActivity, readTrace } from '../../src/ops/trace-reader';
import { alexaAuthorize, authorizeUrl, linkAccount, refresh, refreshPublic } from '../helpers/alexa-client';
import { ALEXA_REDIRECT, readFlowTrace, startInProcess, testOptions } from '../helpers/test-server';

jest.setTimeout(60_000);

it("a flood from 120 addresses rotates the trace, and the owner's link stays in the Activity", async () => {
  const server = await startInProcess({
    options: testOptions({ trusted_proxies: ['loopback'] }),
    trace: { maxBytes: 16 * 1024, maxFiles: 2 },
  });
  try {
    const linked = await linkAccount(server.url);
    // An authenticated refresh failure (a token the server never issued), also the owner's business.
    expect((await refresh(server.url, `${linked.refresh_token.split('.')[0]}.${'A'.repeat(43)}`)).status).toBe(400);
    await server.deps.trace.flush();
    const mine = readFlowTrace(server.dataDir).filter((e) => isCredentialBacked(e, new Set(['amazon-alexa'])));
    expect(mine.map((e) => `${e.step} ${e.outcome}`)).toEqual(['login ok', 'consent ok', 'token ok', 'token error']);

    // A public client's failures prove no secret: not link events (anyone can send its id).
    expect((await refreshPublic(server.url, `${'B'.repeat(22)}.${'C'.repeat(43)}`)).status).toBe(400);
    // 120 sources × 15 unregistered redirect URIs each: under every per-source bound, 1,800 entries in all.
    for (let source = 0; source < 120; source++) {
      const ip = `198.18.${source >> 8}.${source & 255}`;
      await Promise.all(
        Array.from({ length: 15 }, (_, i) =>
          fetch(`${server.url}${authorizeUrl(alexaAuthorize({ redirect_uri: `${ALEXA_REDIRECT}x${i}` }))}`, {
            headers: { 'x-forwarded-for': ip },
          }).then((r) => r.text()),
        ),
      );
    }
    await server.deps.trace.flush();
    const trace = await readTrace(server.dataDir);
    expect(trace.some((e) => e.step === 'login')).toBe(false); // rotated away
    expect(existsSync(path.join(server.dataDir, LINK_EVENTS_FILE))).toBe(true);

    const activity = await readActivity(server.dataDir, { limit: 50 });
    for (const e of mine)
      expect(activity).toContainEqual(expect.objectContaining({ requestId: e.requestId, step: e.step, outcome: e.outcome }));
    // Nothing a stranger sent is in the link events: exactly the owner's four entries.
    const linkEvents = readFileSync(path.join(server.dataDir, LINK_EVENTS_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { requestId: string; ip?: string });
    expect(linkEvents.map((e) => e.requestId)).toEqual(mine.map((e) => e.requestId));
  } finally {
    await server.stop();
  }
});
