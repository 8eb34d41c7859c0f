/**
 * The configured secrets replaced wherever a request put one (log/redact.ts secretScrubber), and which secrets those
 * are (config/config.ts configuredSecrets): never one so short that it matches ordinary words.
 */
import { expect } from '@jest/globals';
import { configuredSecrets } from '../../src/config/config';
import { validateOptions } from '../../src/config/load-config';
import { SCRUBBED, secretScrubber } from '../../src/log/redact';
import { testOptions } from '../helpers/test-server';

it('replaces each secret in nested strings, leaves everything else as it was', () => {
  const scrub = secretScrubber(['s3cret-value-123', 'another-one-456']);
  const event = {
    clientId: 's3cret-value-123',
    cause: 'client "xs3cret-value-123y" is not configured; another-one-456 too',
    facts: { list: ['ok', 'another-one-456'], n: 3, nested: { deep: 's3cret-value-123' } },
    untouched: null,
  };
  expect(scrub(event)).toEqual({
    clientId: SCRUBBED,
    cause: `client "x${SCRUBBED}y" is not configured; ${SCRUBBED} too`,
    facts: { list: ['ok', SCRUBBED], n: 3, nested: { deep: SCRUBBED } },
    untouched: null,
  });
  expect(event.clientId).toBe('s3cret-value-123'); // a copy: the caller's event is not changed
  // The server's own fields are never touched, even when a secret happens to be part of them.
  const own = secretScrubber(['secret1x']);
  const fixed = {
    kind: 'client_secret1x_mismatch',
    step: 'token',
    ts: '2026-12-03T00:00:00Z',
    requestId: 'secret1x',
    clientId: 'secret1x',
  };
  expect(own(fixed)).toEqual({ ...fixed, clientId: SCRUBBED });
  // The longest first: a secret holding a shorter one leaves no piece of itself.
  expect(secretScrubber(['abcdefgh', 'xxabcdefghyy'])({ cause: 'xxabcdefghyy' })).toEqual({ cause: SCRUBBED });
  const none = secretScrubber([]);
  expect(none(event)).toBe(event);
});

it('configuredSecrets: client and resource-server secrets and passwords, none shorter than 8 characters', () => {
  const options = testOptions();
  const clients = (options.clients as Array<Record<string, unknown>>).map((c, i) => (i === 0 ? { ...c, client_secret: 'abc' } : c));
  const { config } = validateOptions({ ...options, clients }, 'fix the test');
  const secrets = configuredSecrets(config);
  expect(secrets).not.toContain('abc');
  expect(secrets).toEqual(expect.arrayContaining([...config.users.map((u) => u.password), ...config.resourceServers.map((r) => r.secret)]));
  expect(secrets.every((s) => s.length >= 8)).toBe(true);
});
