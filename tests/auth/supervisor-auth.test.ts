import { expect } from '@jest/globals';
import http from 'node:http';
import net, { AddressInfo } from 'node:net';
import { createSupervisorAuth, supervisorAuthFromEnv } from '../../src/auth/supervisor-auth';
import { startSupervisorStandIn, SupervisorStandIn } from './supervisor-stand-in';
import { defined } from '../helpers/defined';

const TOKEN = 'addon-token-0123456789abcdef';
const USERS = { owner: 'correct horse battery staple', jürgen: 'pässwörd mit ümlauten' };

describe('Home Assistant login through the Supervisor (POST /auth)', () => {
  let supervisor: SupervisorStandIn;

  afterEach(async () => {
    await supervisor?.close();
  });

  it('accepts Home Assistant credentials, sent in the exact format the Supervisor reads', async () => {
    supervisor = await startSupervisorStandIn({ token: TOKEN, users: USERS });
    const auth = createSupervisorAuth({ baseUrl: supervisor.url, token: TOKEN });

    await expect(auth.check('owner', USERS.owner)).resolves.toBe('match');

    expect(supervisor.requests).toHaveLength(1);
    const req = defined(supervisor.requests[0], 'a request to the Supervisor');
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/auth');
    expect(req.headers['x-supervisor-token']).toBe(TOKEN);
    // An Authorization header would be read as the Basic credentials to check, not as our token.
    expect(req.headers.authorization).toBeUndefined();
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual({ username: 'owner', password: USERS.owner });
  });

  it('carries non-ASCII usernames and passwords intact', async () => {
    supervisor = await startSupervisorStandIn({ token: TOKEN, users: USERS });
    const auth = createSupervisorAuth({ baseUrl: supervisor.url, token: TOKEN });
    await expect(auth.check('jürgen', USERS['jürgen'])).resolves.toBe('match');
  });

  it.each(['current', 'legacy'] as const)('reports a wrong password as a mismatch (%s Supervisor)', async (flavour) => {
    supervisor = await startSupervisorStandIn({ token: TOKEN, users: USERS, flavour });
    const auth = createSupervisorAuth({ baseUrl: supervisor.url, token: TOKEN });
    await expect(auth.check('owner', 'not the password')).resolves.toBe('mismatch');
    await expect(auth.check('nobody', USERS.owner)).resolves.toBe('mismatch');
  });

  it('never sends an empty password (the Supervisor cannot check one)', async () => {
    supervisor = await startSupervisorStandIn({ token: TOKEN, users: USERS });
    const auth = createSupervisorAuth({ baseUrl: supervisor.url, token: TOKEN });
    await expect(auth.check('owner', '')).resolves.toBe('mismatch');
    await expect(auth.check('', 'x')).resolves.toBe('mismatch');
    expect(supervisor.requests).toHaveLength(0);
  });

  it('explains a refused token instead of calling it a wrong password', async () => {
    supervisor = await startSupervisorStandIn({ token: TOKEN, users: USERS });
    const auth = createSupervisorAuth({ baseUrl: supervisor.url, token: 'some-other-token' });
    const answer = await auth.check('owner', USERS.owner);
    expect(answer).toEqual({ unavailable: expect.stringContaining('403') });
    expect(answer).toEqual({ unavailable: expect.stringContaining('auth_api') });
  });

  it('explains an add-on without auth_api', async () => {
    supervisor = await startSupervisorStandIn({ token: TOKEN, users: USERS, authApi: false });
    const auth = createSupervisorAuth({ baseUrl: supervisor.url, token: TOKEN });
    await expect(auth.check('owner', USERS.owner)).resolves.toEqual({ unavailable: expect.stringContaining('auth_api') });
  });

  it('is unavailable, not a mismatch, while the Supervisor is starting', async () => {
    supervisor = await startSupervisorStandIn({ token: TOKEN, users: USERS, notReady: true });
    const auth = createSupervisorAuth({ baseUrl: supervisor.url, token: TOKEN });
    await expect(auth.check('owner', USERS.owner)).resolves.toEqual({
      unavailable: expect.stringContaining('System is not ready'),
    });
  });

  it('is unavailable with the reason when nothing listens at the Supervisor address', async () => {
    // A port that was free a moment ago: connection refused.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const auth = createSupervisorAuth({ baseUrl: `http://127.0.0.1:${port}`, token: TOKEN });
    const answer = await auth.check('owner', USERS.owner);
    expect(answer).toEqual({ unavailable: expect.stringMatching(/could not be reached.*ECONNREFUSED/) });
    expect(JSON.stringify(answer)).not.toContain(USERS.owner);
  });

  it('gives up after its timeout when the Supervisor does not answer', async () => {
    const silent = http.createServer(() => undefined); // accepts, never responds
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const auth = createSupervisorAuth({ baseUrl: `http://127.0.0.1:${port}`, token: TOKEN, timeoutMs: 300 });
      const started = Date.now();
      const answer = await auth.check('owner', USERS.owner);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(answer).toEqual({ unavailable: expect.stringContaining('did not answer the login check within 300 ms') });
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('reports an unexpected status as unavailable, with the status', async () => {
    const broken = http.createServer((_req, res) => {
      res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end('bad gateway');
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    const { port } = broken.address() as AddressInfo;
    try {
      const auth = createSupervisorAuth({ baseUrl: `http://127.0.0.1:${port}`, token: TOKEN });
      await expect(auth.check('owner', USERS.owner)).resolves.toEqual({ unavailable: expect.stringContaining('HTTP 502') });
    } finally {
      await new Promise<void>((resolve) => broken.close(() => resolve()));
    }
  });

  it('is configured from SUPERVISOR_TOKEN and SUPERVISOR_URL, and absent without a token', async () => {
    expect(supervisorAuthFromEnv({})).toBeUndefined();
    supervisor = await startSupervisorStandIn({ token: TOKEN, users: USERS });
    const auth = supervisorAuthFromEnv({ SUPERVISOR_TOKEN: TOKEN, SUPERVISOR_URL: supervisor.url });
    await expect(auth?.check('owner', USERS.owner)).resolves.toBe('match');
  });
});
