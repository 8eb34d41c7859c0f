/**
 * Issue #12, findings 4 and 7: no spelling of a target is a fresh one.
 * - Usernames: Home Assistant logs " owner" and "OWNER\t" in as "owner" (strip + casefold), so the per-username
 *   lock folds at least as far, for the users option and Home Assistant logins alike; the ha_allowed_users
 *   comparison never folds further than Home Assistant does.
 * - Addresses: on a dual-stack listener (HOST=::) IPv4 clients arrive IPv4-mapped; each keeps its own bucket.
 */
import fc from 'fast-check';
import { haUsername, usernameLockKey } from '../../src/config/username';
import { PasswordCheck } from '../../src/auth/user-authenticator';
import { addressBucket, unmapIPv4 } from '../../src/log/client-address';
import { attemptLogin } from '../helpers/alexa-client';
import { rawRequest } from '../admin/admin-helpers';
import { OWNER, startInProcess, testOptions, waitForTrace } from '../helpers/test-server';

describe('usernames', () => {
  it('the lock key merges every spelling Home Assistant merges (table of the hard cases)', () => {
    const same: Array<[string, string]> = [
      [' owner', 'owner'],
      ['OWNER\t', 'owner'],
      ['\u00a0Owner\u3000', 'owner'],
      ['\x1cowner\x85', 'owner'], // Python's strip() removes these, JavaScript's trim() does not
      ['STRASSE', 'straße'], // casefold: ß -> ss
      ['straẞe', 'strasse'], // capital sharp s
      ['ſam', 'sam'], // long s
      ['ﬁona', 'fiona'], // ligature
      ['ΣΊΣΥΦΟΣ', 'σίσυφος'], // final sigma
      ['ｏｗｎｅｒ', 'owner'], // fullwidth: NFKC, coarser than Home Assistant, safe for a lock
    ];
    for (const [a, b] of same) expect({ a, key: usernameLockKey(a) }).toEqual({ a, key: usernameLockKey(b) });
  });

  it('the lock key is at least as coarse as strip + lower-case for any generated name', () => {
    const padding = fc.constantFrom('', ' ', '\t', '\n', '\u00a0', '\u2003', '\x1f', '\x85');
    fc.assert(
      fc.property(
        fc.string({ maxLength: 24 }),
        padding,
        padding,
        fc.array(fc.boolean(), { maxLength: 24 }),
        (name, before, after, flips) => {
          const variant = [...name].map((c, i) => (flips[i] ? c.toUpperCase() : c.toLowerCase())).join('');
          if (haUsername(`${before}${variant}${after}`) === haUsername(name))
            expect(usernameLockKey(`${before}${variant}${after}`)).toBe(usernameLockKey(name));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('the allow-list comparison never merges what Home Assistant keeps apart', () => {
    expect(haUsername('  Alice\t')).toBe('alice');
    expect(haUsername('admın')).not.toBe(haUsername('admin')); // dotless i: Python casefold keeps it apart
    expect(haUsername('ｏｗｎｅｒ')).not.toBe(haUsername('owner')); // no NFKC: Home Assistant does not normalise
    expect(haUsername('\ufeffowner')).not.toBe('owner'); // U+FEFF is not white space to Python
  });

  it('login-user: " owner", "OWNER\\t" and "Owner " share the lock of "owner" (users option)', async () => {
    const server = await startInProcess({
      options: testOptions({ trusted_proxies: ['loopback'] }),
      rateLimits: { loginFailuresPerIp: 1000, loginFailuresPerUser: 3 },
    });
    try {
      const attempt = async (username: string, ip: string, password = 'wrong password') =>
        (await attemptLogin(server.url, { username, password }, { 'x-forwarded-for': ip })).status;
      expect(await attempt('owner', '198.51.100.1')).toBe(401);
      expect(await attempt(' owner', '198.51.100.2')).toBe(401);
      expect(await attempt('OWNER\t', '198.51.100.3')).toBe(401);
      expect(await attempt('Owner ', '198.51.100.4')).toBe(429);
      expect(await attempt(OWNER.username, '198.51.100.5', OWNER.password)).toBe(429); // locked for every spelling
      const entry = await waitForTrace(server.dataDir, (e) => e.kind === 'rate_limited' && e.facts?.limiter === 'login-user');
      expect(entry.facts?.target).toBe('owner');
    } finally {
      await server.stop();
    }
  });

  it('login-user: Home Assistant accounts are keyed the same way', async () => {
    const ha: PasswordCheck = {
      check: (u, p) => Promise.resolve(haUsername(u) === 'jane' && p === 'jane password 123' ? 'match' : 'mismatch'),
    };
    const server = await startInProcess({
      options: testOptions({ users: [], trusted_proxies: ['loopback'] }),
      homeAssistantAuth: ha,
      rateLimits: { loginFailuresPerIp: 1000, loginFailuresPerUser: 2 },
    });
    try {
      const attempt = async (username: string, ip: string, password: string) =>
        (await attemptLogin(server.url, { username, password }, { 'x-forwarded-for': ip })).status;
      expect(await attempt('JANE', '198.51.100.11', 'guess 1')).toBe(401);
      expect(await attempt(' jane ', '198.51.100.12', 'guess 2')).toBe(401);
      expect(await attempt('Jane\u00a0', '198.51.100.13', 'guess 3')).toBe(429);
    } finally {
      await server.stop();
    }
  });
});

describe('addresses', () => {
  it('IPv4-mapped IPv6 is unmapped; IPv6 is bucketed by /56', () => {
    expect(unmapIPv4('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(unmapIPv4('::FFFF:cb00:7107')).toBe('203.0.113.7');
    expect(unmapIPv4('2001:db8::1')).toBe('2001:db8::1');
    expect(addressBucket('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressBucket('2001:db8:aa:bb12::1')).toBe(addressBucket('2001:db8:aa:bbff:ffff::9'));
    expect(addressBucket('2001:db8:aa:cc00::1')).not.toBe(addressBucket('2001:db8:aa:bb00::1'));
  });

  it('HOST=:: — two IPv4 clients have separate token-ip buckets, and the trace names each by its IPv4 address', async () => {
    const server = await startInProcess({ host: '::', rateLimits: { tokenFailuresPerIp: 2, tokenFailuresPerClient: 1000 } });
    try {
      const url = `http://127.0.0.1:${server.port}/alexa/token`;
      const fail = async (from: string) =>
        (
          await rawRequest(url, {
            method: 'POST',
            localAddress: from,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: 'grant_type=refresh_token&refresh_token=x&client_id=amazon-alexa&client_secret=wrong',
          })
        ).status;
      expect([await fail('127.0.0.1'), await fail('127.0.0.1'), await fail('127.0.0.1')]).toEqual([401, 401, 429]);
      expect(await fail('127.0.0.2')).toBe(401); // not locked by its neighbour
      const entry = await waitForTrace(server.dataDir, (e) => e.kind === 'rate_limited');
      expect(entry.facts?.target).toBe('127.0.0.1');
      expect((await waitForTrace(server.dataDir, (e) => e.ip === '127.0.0.2')).ip).toBe('127.0.0.2');
    } finally {
      await server.stop();
    }
  });
});
