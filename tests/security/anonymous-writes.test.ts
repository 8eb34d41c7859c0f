/**
 * No request from a stranger writes to the database: a flood of authorization requests (each with a 2 KB state)
 * leaves the database's rows as they were, because the pending request travels sealed in the page, not on disk.
 * A sealed request cannot be forged, altered, replayed into another browser, or revived after "revoke all".
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { RunningServer } from '../../src/main';
import { revokeAll } from '../../src/ops/admin-service';
import { Browser, alexaAuthorize, authorizeUrl, openLoginPage, submitLogin } from '../helpers/alexa-client';
import { sqlAll } from '../helpers/sqlite';
import { startInProcess } from '../helpers/test-server';

let server: RunningServer & { dataDir: string };
beforeAll(async () => {
  server = await startInProcess();
});
afterAll(async () => server.stop());

/** Every row of the database except the health probe's, as text: what a flood could have added or changed. */
function rows(): string[] {
  return sqlAll(path.join(server.dataDir, 'oauth.sqlite'), `SELECT key, value FROM kv WHERE key NOT LIKE 'health:%' ORDER BY key`, {
    readOnly: true,
  }).map((r) => `${String(r.key)}=${String(r.value)}`);
}

it('1,000 authorization requests with a 2 KB state each write nothing to the database', async () => {
  // One request first, so the server's own key exists before the snapshot.
  expect((await fetch(`${server.url}${authorizeUrl(alexaAuthorize())}`)).status).toBe(200);
  const before = rows();
  for (let batch = 0; batch < 20; batch++) {
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        fetch(`${server.url}${authorizeUrl(alexaAuthorize({ state: randomBytes(1536).toString('base64url') }))}`),
      ),
    );
    for (const r of responses) {
      expect(r.status).toBe(200);
      await r.text();
    }
  }
  expect(rows()).toEqual(before);
});

it('a failed login writes nothing to the database either', async () => {
  const before = rows();
  const browser = new Browser(server.url);
  const res = await submitLogin(browser, await openLoginPage(browser), { username: 'owner', password: 'not the password' });
  expect(res.status).toBe(401);
  expect(rows()).toEqual(before);
});

it('a sealed request altered by one character, or carried to another browser, is refused', async () => {
  const browser = new Browser(server.url);
  const form = await openLoginPage(browser);
  const i = Math.floor(form.requestId.length / 2);
  const flipped = form.requestId.slice(0, i) + (form.requestId[i] === 'A' ? 'B' : 'A') + form.requestId.slice(i + 1);
  expect((await submitLogin(browser, { ...form, requestId: flipped })).status).toBe(400);
  const elsewhere = new Browser(server.url);
  await elsewhere.request(authorizeUrl(alexaAuthorize())); // its own flow cookie
  expect((await submitLogin(elsewhere, form)).status).toBe(403);
  expect((await submitLogin(browser, form)).status).toBe(303);
});

it('"revoke all" ends every pending link request: a login page opened before it no longer works', async () => {
  const browser = new Browser(server.url);
  const form = await openLoginPage(browser);
  await revokeAll(server.admin.context, { via: 'admin-page', user: 'test' });
  expect((await submitLogin(browser, form)).status).toBe(400);
});
