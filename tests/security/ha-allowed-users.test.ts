/**
 * Issue #12, finding 10: any Home Assistant user could approve a link through a password-only page (Home
 * Assistant's MFA does not apply to the Supervisor's /auth) while the page said only the owner could.
 * ha_allowed_users names who may; the login page says what is true for the configuration.
 */
import { problemLine, validateOptions } from '../../src/config/load-config';
import { PasswordCheck } from '../../src/auth/user-authenticator';
import { Browser, openLoginPage, submitLogin } from '../helpers/alexa-client';
import { OWNER, startInProcess, testOptions, waitForTrace } from '../helpers/test-server';

/** Home Assistant as the Supervisor would answer: case and surrounding spaces ignored. */
const HA_USERS = { alice: 'alice password 1', bob: 'bob password 22' };
const homeAssistant: PasswordCheck = {
  check: (u, p) =>
    Promise.resolve(
      Object.entries(HA_USERS).some(([name, password]) => name === u.trim().toLowerCase() && password === p) ? 'match' : 'mismatch',
    ),
};

async function login(url: string, username: string, password: string): Promise<{ status: number; body: string; page: string }> {
  const browser = new Browser(url);
  const form = await openLoginPage(browser);
  const res = await submitLogin(browser, form, { username, password });
  return { status: res.status, body: await res.text(), page: form.html };
}

it('the option is validated and spelt as Home Assistant compares usernames', () => {
  expect(validateOptions(testOptions({ ha_allowed_users: [' Alice ', 'BOB'] }), 'fix').config.haAllowedUsers).toEqual(['alice', 'bob']);
  expect(validateOptions(testOptions(), 'fix').config.haAllowedUsers).toEqual([]);
  expect(
    validateOptions(testOptions({ ha_allowed_users: ['alice', 'ALICE'] }), 'fix')
      .warnings.map(problemLine)
      .join('\n'),
  ).toMatch(/ha_allowed_users\[1\]: "alice" is listed twice/);
  expect(() => validateOptions(testOptions({ ha_allowed_users: ['  '] }), 'fix')).toThrow(/ha_allowed_users\[0\]: is only white space/);
});

describe('with ha_allowed_users: [alice]', () => {
  let server: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(async () => {
    server = await startInProcess({ options: testOptions({ ha_allowed_users: ['alice'] }), homeAssistantAuth: homeAssistant });
  });
  afterAll(async () => server.stop());

  it('a Home Assistant user not in the list is refused with a page that says why, and a security event', async () => {
    const res = await login(server.url, 'bob', HA_USERS.bob);
    expect(res.status).toBe(403);
    expect(res.body).toContain('may not approve links here');
    expect(res.body).toContain('ha_allowed_users');
    const entry = await waitForTrace(server.dataDir, (e) => e.kind === 'ha_user_not_allowed');
    expect(entry).toMatchObject({ step: 'login', outcome: 'security', username: 'bob' });
  });

  it('a wrong password is still just a wrong password (the list is no oracle)', async () => {
    const res = await login(server.url, 'bob', 'wrong password');
    expect(res.status).toBe(401);
    expect(res.body).toContain('Wrong username or password.');
  });

  it('a listed user logs in with any spelling Home Assistant accepts, recorded under the Home Assistant name', async () => {
    const res = await login(server.url, ' ALICE', HA_USERS.alice);
    expect(res.status).toBe(303);
    const entry = await waitForTrace(server.dataDir, (e) => e.step === 'login' && e.outcome === 'ok' && e.username === 'alice');
    expect(entry.detail).toMatchObject({ source: 'home-assistant' });
  });

  it('users from the users option are always allowed', async () => {
    expect((await login(server.url, OWNER.username, OWNER.password)).status).toBe(303);
  });

  it('the login page says who can link, truthfully, without naming anyone (it is open to anyone)', async () => {
    const { page } = await login(server.url, 'x', 'y');
    expect(page).toContain(
      'Whoever logs in here can link this skill to Music Assistant: the Home Assistant user this add-on allows (ha_allowed_users) and the users listed in the add-on configuration.',
    );
    expect(page).not.toContain('alice');
    expect(page).not.toContain('Only the owner');
  });
});

it('without the list, the page says any Home Assistant user can link', async () => {
  const server = await startInProcess({ options: testOptions({ users: [] }), homeAssistantAuth: homeAssistant });
  try {
    const { page } = await login(server.url, 'x', 'y');
    expect(page).toContain('any Home Assistant user of this home');
    expect((await login(server.url, 'bob', HA_USERS.bob)).status).toBe(303);
  } finally {
    await server.stop();
  }
});
