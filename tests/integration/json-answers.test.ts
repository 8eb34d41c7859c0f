/**
 * Every JSON answer of the token, revocation and introspection endpoints, success or error of any status, is
 * written the same way (oauth-responses.ts sendNoStoreJson): JSON in UTF-8, never cached, its length the body's
 * bytes, and nothing of a 401's challenge or a 429's Retry-After lost on the way.
 */
import { RunningServer } from '../../src/main';
import { introspectAsResourceServer, linkAccount, rawTokenRequest, refresh, revoke, tokenRequest } from '../helpers/alexa-client';
import { startInProcess } from '../helpers/test-server';

let server: RunningServer & { dataDir: string };
beforeAll(async () => {
  // Two failures from an address lock it: the last case is answered 429.
  server = await startInProcess({ rateLimits: { tokenFailuresPerIp: 2 } });
});
afterAll(async () => server.stop());

async function expectNoStoreJson(res: Response, status: number): Promise<Record<string, unknown>> {
  const bytes = Buffer.from(await res.arrayBuffer());
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('pragma')).toBe('no-cache');
  expect(res.headers.get('content-length')).toBe(String(bytes.length));
  expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  return JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
}

it('answers successes, errors, a wrong method, an unreadable body and a locked address alike', async () => {
  const tokens = await linkAccount(server.url);
  const refreshed = await expectNoStoreJson(await refresh(server.url, tokens.refresh_token), 200);
  expect(refreshed.token_type).toBe('Bearer');
  expect(await expectNoStoreJson(await introspectAsResourceServer(server.url, String(refreshed.access_token)), 200)).toMatchObject({
    active: true,
  });
  expect((await revoke(server.url, String(refreshed.refresh_token))).status).toBe(200);

  // A 401 keeps its challenge (RFC 6749 §5.2).
  const unknownClient = await tokenRequest(
    server.url,
    { grant_type: 'refresh_token', refresh_token: 'x' },
    'basic',
    'unknown-client',
    'wrong',
  );
  expect(unknownClient.headers.get('www-authenticate')).toBe('Basic realm="oauth", charset="UTF-8"');
  expect(await expectNoStoreJson(unknownClient, 401)).toMatchObject({ error: 'invalid_client' });

  // A body the parser refuses is answered by the app's error handler, in the same shape.
  const tooLarge = await rawTokenRequest(server.url, 'a='.padEnd(40_000, 'x'));
  expect(await expectNoStoreJson(tooLarge, 413)).toMatchObject({ error: 'invalid_request' });

  // A GET where only POST is served says which method to use.
  const get = await fetch(`${server.url}/alexa/token`);
  expect(get.headers.get('allow')).toBe('POST');
  expect(await expectNoStoreJson(get, 405)).toMatchObject({ error: 'invalid_request' });

  // The address has failed twice: its next failing request is refused, with when to come back.
  const locked = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: 'made-up' });
  expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(await expectNoStoreJson(locked, 429)).toMatchObject({ error: 'invalid_request' });
});
