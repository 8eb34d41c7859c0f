/**
 * The notifier without a server: the trace-kind table against the OAuth code, the database fault / recovery
 * pairing, the modes in which nothing is sent, and secrets removed before values are shortened.
 */
import { expect } from '@jest/globals';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { NOTIFIED_KINDS, NotificationEvent, eventFromTrace } from '../../src/ops/notification-causes';
import { LocalSend } from '../../src/ops/local-http';
import { Notifier, NotifierDeps, createNotifier } from '../../src/ops/notifications';
import { eventually } from '../helpers/wait';

const SRC = path.join(__dirname, '..', '..', 'src');
/** Announced by the new refresh policy (confidential clients: a token outside the grace window, no revocation). */
const UPCOMING_KINDS = new Set(['refresh_superseded']);

function sourceText(dir: string): string {
  return readdirSync(dir)
    .map((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory() ? sourceText(full) : full.endsWith('.ts') ? readFileSync(full, 'utf8') : '';
    })
    .join('\n');
}

interface Posted {
  url: string;
  body: { title: string; message: string; notification_id: string };
}

function fakeHomeAssistant(status = 200): { send: LocalSend; posted: Posted[] } {
  const posted: Posted[] = [];
  const send: LocalSend = (url, init) => {
    posted.push({ url: url.toString(), body: JSON.parse(init?.body ?? 'null') as Posted['body'] });
    return Promise.resolve({ status, text: status === 200 ? '[]' : '' });
  };
  return { send, posted };
}

const silent = { warn: () => undefined, info: () => undefined };
const SUPERVISOR = { url: 'http://supervisor.test', token: 'tok', adminPath: '/hassio/ingress/local_music_assistant_alexa_oauth' };

function notifier(overrides: Partial<NotifierDeps> = {}): Notifier {
  return createNotifier({
    supervisor: SUPERVISOR,
    enabled: true,
    clients: [{ clientId: 'amazon-alexa', redirectUris: [] }],
    secrets: [],
    log: silent,
    ...overrides,
  });
}

describe('the flow-trace table', () => {
  it('maps only kinds the OAuth code records (or the announced refresh_superseded)', () => {
    const code = sourceText(path.join(SRC, 'oauth')) + sourceText(path.join(SRC, 'http'));
    for (const kind of NOTIFIED_KINDS.filter((k) => !UPCOMING_KINDS.has(k))) {
      expect({ kind, recorded: code.includes(`'${kind}'`) }).toEqual({ kind, recorded: true });
    }
    expect(NOTIFIED_KINDS).toContain('refresh_superseded');
  });

  it("ignores successes, and failures that are a client's or a guesser's business", () => {
    expect(eventFromTrace({ step: 'token', outcome: 'ok', kind: 'unknown_client' })).toBeUndefined();
    for (const kind of ['refresh_unknown', 'code_expired', 'login_failed', 'malformed_body', 'constructor', '__proto__']) {
      expect(eventFromTrace({ step: 'token', outcome: 'error', kind })).toBeUndefined();
    }
  });

  it('tells an unregistered redirect URI (authorize) from one changed before the token request', () => {
    expect(
      eventFromTrace({ step: 'authorize', outcome: 'error', kind: 'redirect_uri_mismatch', clientId: 'a', redirectUri: 'https://x' }),
    ).toEqual({ cause: 'redirect_uri_unregistered', clientId: 'a', redirectUri: 'https://x' });
    expect(eventFromTrace({ step: 'token', outcome: 'error', kind: 'redirect_uri_mismatch', clientId: 'a' })).toEqual({
      cause: 'redirect_uri_changed',
      clientId: 'a',
    });
    expect(
      eventFromTrace({
        step: 'login',
        outcome: 'security',
        kind: 'rate_limited',
        facts: { limiter: 'login-user', target: 'owner', retryAfter: 600 },
      }),
    ).toEqual({ cause: 'login_lockout', by: 'username', target: 'owner', retryAfterSeconds: 600 });
  });
});

describe('database faults and recoveries', () => {
  const fault: NotificationEvent = { cause: 'storage_fault', fault: 'full', reason: 'the disk is full' };
  const recovered: NotificationEvent = { cause: 'storage_recovered', fault: 'full', lastedMs: 3000 };

  it('a recovery replaces the fault notice (same notification_id), and is not sent for a fault never shown', async () => {
    const ha = fakeHomeAssistant();
    const n = notifier({ send: ha.send });
    n.notify(recovered);
    n.notify(fault);
    n.notify(recovered);
    await n.settled();
    expect(ha.posted.map((p) => [p.body.notification_id, p.body.title])).toEqual([
      ['music_assistant_alexa_oauth_storage', 'Alexa linking: the database cannot be used'],
      ['music_assistant_alexa_oauth_storage', 'Alexa linking: the database works again'],
    ]);
    expect(ha.posted[0]?.url).toBe('http://supervisor.test/core/api/services/persistent_notification/create');
  });

  it("each fault's notice gives that fault's fix: a newer release's database is not promised to resume by itself", async () => {
    const ha = fakeHomeAssistant();
    const n = notifier({ send: ha.send });
    n.notify({ cause: 'storage_fault', fault: 'unopened', reason: 'it cannot be opened (the database was written by a newer release)' });
    await n.settled();
    const message = String(ha.posted[0]?.body.message);
    expect(message).toMatch(/needs that release again/);
    expect(message).not.toMatch(/resumes by itself|no restart needed/);
  });

  it('a start-over is always told, and says that every link is gone: never "nothing to do"', async () => {
    const ha = fakeHomeAssistant();
    const n = notifier({ send: ha.send });
    n.notify({ cause: 'storage_recovered', fault: 'missing', lastedMs: 60_000, startedOver: true }); // no fault notice shown before
    await n.settled();
    expect(ha.posted).toHaveLength(1);
    const body = ha.posted[0]!.body;
    expect(body.notification_id).toBe('music_assistant_alexa_oauth_storage');
    expect(body.title).toBe('Alexa linking: started over with an empty database');
    expect(String(body.message)).toMatch(/every link made before is gone/);
    expect(String(body.message)).toMatch(/links the skill again/);
    expect(String(body.message)).not.toMatch(/Nothing to do/);
  });

  it('a fault again within the window is sent when the window ends, unless it recovers first', async () => {
    const ha = fakeHomeAssistant();
    const n = notifier({ send: ha.send, throttleMs: 200 });
    n.notify(fault);
    n.notify(recovered);
    n.notify(fault); // held: Home Assistant says "works again" until the window ends
    await n.settled();
    expect(ha.posted).toHaveLength(2);
    await eventually('the held notice to be sent when the window ends', () => ha.posted.length >= 3, 5000, 20);
    expect(ha.posted[2]?.body.title).toBe('Alexa linking: the database cannot be used');
    n.close();
  });
});

describe('what is never sent', () => {
  it('nothing without the Supervisor or with the option off; both listed with the reason', () => {
    for (const [deps, delivery] of [
      [{ supervisor: undefined }, 'no_supervisor'],
      [{ enabled: false }, 'off'],
    ] as const) {
      const ha = fakeHomeAssistant();
      const n = notifier({ ...deps, send: ha.send });
      n.notify({ cause: 'code_replay', clientId: 'amazon-alexa' });
      expect(ha.posted).toEqual([]);
      expect(n.recent()).toEqual([expect.objectContaining({ cause: 'code_replay', delivery })]);
    }
  });

  it('no part of a secret, even one a long value would cut in half', async () => {
    const secret = 'S3CRET-value-of-the-console-0123456789';
    const ha = fakeHomeAssistant();
    const n = notifier({ send: ha.send, secrets: [secret] });
    n.notify({ cause: 'unknown_client', clientId: `${'x'.repeat(190)}${secret}` });
    n.notify({ cause: 'storage_fault', fault: 'io', reason: `error near ${secret}` });
    await n.settled();
    const text = JSON.stringify(ha.posted);
    expect(text).not.toContain(secret.slice(0, 6));
    expect(text).toContain('[a configu'); // the replacement itself may be cut, never the secret
  });

  it('a notifier whose request throws at once still never throws to the caller', async () => {
    const warnings: string[] = [];
    const n = notifier({
      send: () => {
        throw new Error('boom');
      },
      log: { warn: (m: string) => warnings.push(m), info: () => undefined },
    });
    expect(() => n.notify({ cause: 'pkce_mismatch', clientId: 'amazon-alexa' })).not.toThrow();
    await n.settled();
    expect(n.recent()[0]).toMatchObject({ delivery: 'failed', problem: expect.stringContaining('boom') });
    expect(warnings).toHaveLength(1);
  });
});
