/**
 * Issue #12, finding 8: DNS rebinding on the loopback admin page. Outside Ingress, a web page whose name is
 * re-pointed at 127.0.0.1 could read the page's form token and post "Revoke all"; its requests still name its own
 * host. The loopback listener serves only localhost, 127.0.0.1 and [::1] with its port; Ingress is unaffected.
 */
import { LOOPBACK } from '../../src/http/admin/access';
import { linkAccount, refresh } from '../helpers/alexa-client';
import { waitForTrace } from '../helpers/test-server';
import { AdminServer, PROXY_ADDRESS, rawRequest, startWithAdmin } from '../admin/admin-helpers';

let server: AdminServer;
let port: string;
beforeAll(async () => {
  server = await startWithAdmin({ allow: LOOPBACK });
  port = new URL(server.adminUrl).port;
});
afterAll(async () => server.stop());

const get = (host: string, path = '/') => rawRequest(`${server.adminUrl}${path}`, { headers: { host } });

it('serves its own names with its port', async () => {
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
    expect({ host, status: (await get(host)).status }).toEqual({ host, status: 200 });
  }
});

it('refuses any other Host with 421, and records it as a security event', async () => {
  for (const host of [
    'evil.example',
    `evil.example:${port}`,
    '127.0.0.1',
    `localhost:${Number(port) + 1}`,
    `localhost.evil.example:${port}`,
    `192.168.1.5:${port}`,
  ]) {
    const res = await get(host);
    expect({ host, status: res.status }).toEqual({ host, status: 421 });
    expect(res.body).not.toContain('csrf'); // no page, so no form token to read
  }
  const entry = await waitForTrace(server.dataDir, (e) => e.kind === 'admin_wrong_host');
  expect(entry.outcome).toBe('security');
});

it('a rebinding page cannot revoke: its POST names its own host and is refused before the form is read', async () => {
  const tokens = await linkAccount(server.url);
  const page = await get(`127.0.0.1:${port}`, '/accounts/revoke-all');
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
  expect(csrf).toBeDefined();
  const res = await rawRequest(`${server.adminUrl}/accounts/revoke-all`, {
    method: 'POST',
    headers: { host: 'rebind.evil.example', 'content-type': 'application/x-www-form-urlencoded' },
    body: `csrf=${encodeURIComponent(csrf!)}&confirm=revoke-all`,
  });
  expect(res.status).toBe(421);
  const still = await refresh(server.url, tokens.refresh_token);
  expect(still.status).toBe(200);
});

it('behind Ingress (the check off, as adminListenFromEnv sets it for 172.30.32.2) any Host the proxy sends is served', async () => {
  const ingress = await startWithAdmin({ allow: [PROXY_ADDRESS], hostCheck: false });
  try {
    const res = await rawRequest(`${ingress.adminUrl}/`, {
      localAddress: PROXY_ADDRESS,
      headers: { host: 'homeassistant.local:8123', 'x-ingress-path': '/api/hassio_ingress/abc' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toContain('/api/hassio_ingress/abc/accounts');
  } finally {
    await ingress.stop();
  }
});
