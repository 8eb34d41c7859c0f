/**
 * Hostile input, property-based (fast-check) against a listening server: malformed and oversized query strings and
 * bodies, every kind of Content-Type and Content-Encoding, repeated parameters (RFC 6749 §3.1), invalid UTF-8 and
 * percent escapes, path tricks, header injection on a raw socket, Basic credentials with colons and percent
 * escapes. Over a few thousand cases: never a 5xx, never a crash; JSON endpoints answer RFC 6749 §5.2 errors,
 * pages answer clean HTML, the parser a clean 400/413/415 (431 for oversized headers, Node's own answer).
 * Every input is bounded in size; FC_RUNS scales the number of cases.
 */
import net from 'node:net';
import fc from 'fast-check';
import { RunningServer } from '../../src/main';
import { Browser, alexaAuthorize, authorizeUrl, openLoginPage } from '../helpers/alexa-client';
import { ALEXA_REDIRECT, CLIENT_SECRET, startInProcess, testOptions } from '../helpers/test-server';
import { defined } from '../helpers/defined';

jest.setTimeout(300_000);

const RUNS = Number(process.env.FC_RUNS ?? 1);
const runs = (n: number) => Math.max(10, Math.round(n * RUNS));

/** Clients whose ids and secrets need form-encoding in HTTP Basic (RFC 6749 §2.3.1). */
const TRICKY_CLIENTS = [
  { client_id: 'colon:client', secret: 'se:cr:et with spaces+plus%25percent%zz' },
  { client_id: 'pct%41client', secret: '%3A%3A::100%' },
  { client_id: 'unicode-client', secret: 'pässwört:ключ:秘密-0123456789' },
];

let server: RunningServer & { dataDir: string };
const counts: Record<string, number> = {};
const statuses: Record<string, number> = {};
const note = (area: string, status: number) => {
  counts[area] = (counts[area] ?? 0) + 1;
  statuses[`${area} ${status}`] = (statuses[`${area} ${status}`] ?? 0) + 1;
};

beforeAll(async () => {
  const options = testOptions();
  (options.clients as unknown[]).push(
    ...TRICKY_CLIENTS.map((c) => ({
      client_id: c.client_id,
      client_type: 'confidential',
      client_secret: c.secret,
      redirect_uris: ['https://tricky.example.com/cb'],
      scopes: ['music.read'],
    })),
  );
  server = await startInProcess({
    options,
    rateLimits: { tokenFailuresPerIp: 1e9, tokenFailuresPerClient: 1e9, loginFailuresPerIp: 1e9, loginFailuresPerUser: 1e9 },
  });
});
afterAll(async () => {
  // Still alive and healthy after everything.
  const res = await fetch(`${server.url}/health`);
  expect(res.status).toBe(200);
  await server.stop();
  console.log(
    `hostile input: ${Object.values(counts).reduce((a, b) => a + b, 0)} cases ${JSON.stringify(counts)}\nstatuses ${JSON.stringify(statuses)}`,
  );
});

// ---- arbitraries -------------------------------------------------------------------------------------------

const PARAM_NAMES = [
  'grant_type',
  'code',
  'redirect_uri',
  'code_verifier',
  'refresh_token',
  'client_id',
  'client_secret',
  'scope',
  'token',
  'token_type_hint',
  'state',
  'response_type',
  'code_challenge',
  'code_challenge_method',
  'request_id',
  'csrf',
  'username',
  'password',
  'decision',
];
const GOOD_VALUES = [
  'authorization_code',
  'refresh_token',
  'amazon-alexa',
  ALEXA_REDIRECT,
  'code',
  'S256',
  'music.read',
  'music.read music.control',
  'approve',
  'owner',
  CLIENT_SECRET,
];

const bytesToPercent = (bytes: Uint8Array) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

/** A piece of a urlencoded body or query: good values, random text, raw bytes (invalid UTF-8), broken escapes, huge values. */
const encodedPiece: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...GOOD_VALUES).map(encodeURIComponent) },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 24 }).map(bytesToPercent) }, // includes invalid UTF-8
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '%',
      '%z',
      '%zz',
      '%4',
      '%%',
      '%C3%28',
      '%ED%A0%80',
      '%F4%90%80%80',
      '%00',
      '%0d%0aSet-Cookie:%20x=1',
      '+++',
      '&&',
      '==',
      '%E2%82',
      '%FE%FF',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 30 }).map((s) => s.replace(/[&=#\s]/g, '')) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 40_000 }).map((n) => 'A'.repeat(n)) }, // oversized, bounded
);

const paramName: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...PARAM_NAMES) },
  { weight: 1, arbitrary: encodedPiece },
  { weight: 1, arbitrary: fc.constantFrom('client_id[]', 'grant_type[x]', '__proto__', 'constructor', 'hasOwnProperty', 'a.b', '') },
);

/** name=value pairs, sometimes with repeats, sometimes without '=' or with several. */
const encodedPairs: fc.Arbitrary<string> = fc
  .array(fc.tuple(paramName, encodedPiece, fc.constantFrom('=', '=', '=', '', '==')), { maxLength: 12 })
  .chain((pairs) =>
    fc.boolean().map((repeat) => {
      const [first] = pairs;
      const list = repeat && first ? [...pairs, first] : pairs;
      return list.map(([n, v, eq]) => `${n}${eq}${eq ? v : ''}`).join('&');
    }),
  );

const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/x-www-form-urlencoded') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      undefined,
      '',
      'application/x-www-form-urlencoded; charset=utf-8',
      'application/x-www-form-urlencoded; charset=UTF-8',
      'application/x-www-form-urlencoded; charset=iso-8859-1',
      'application/x-www-form-urlencoded; charset=utf-16',
      'application/x-www-form-urlencoded; charset=koi8-r',
      'application/x-www-form-urlencoded; charset="',
      'application/x-www-form-urlencoded;;;',
      'APPLICATION/X-WWW-FORM-URLENCODED',
      'application/json',
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded, application/json',
      '*/*',
      'garbage',
      '/',
      'application/',
    ),
  },
  // Any printable header value (a client cannot even send control characters: fetch refuses them).
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, '').trim()) },
);

const contentEncoding: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'compress', 'x-garbage', 'gzip, gzip') },
);

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const authorization: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom('amazon-alexa', 'public-app', 'nobody', ...TRICKY_CLIENTS.map((c) => c.client_id)),
        fc.string({ maxLength: 40 }),
      )
      .map(([id, secret]) => `Basic ${b64(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), fc.constantFrom(':', '::', '%3A', ''))
      .map(([a, b, sep]) => `Basic ${b64(`${a}${sep}${b}`)}`),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 60 }).map((bytes) => `Basic ${Buffer.from(bytes).toString('base64')}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'Basic',
      'Basic ',
      'basic YW1hem9uLWFsZXhhOg==',
      'Basic !!!!',
      'Basic ====',
      'Bearer abc',
      'Digest x',
      'Basic YQ',
      `Basic ${'A'.repeat(8000)}`,
      'Basic Og==',
      'Basic JTpA',
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: 'binary-ascii', maxLength: 60 })
      .map((s) => s.replace(/[\r\n\0]/g, ''))
      .filter((s) => /^[\x20-\x7e\t]*$/.test(s)),
  },
);

// ---- checks -----------------------------------------------------------------------------------------------

const RFC_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'temporarily_unavailable',
]);

async function expectJsonAnswer(res: Response, area: string): Promise<void> {
  note(area, res.status);
  const text = await res.text();
  if (![200, 400, 401, 413, 415].includes(res.status)) throw new Error(`${area}: unexpected status ${res.status}: ${text.slice(0, 300)}`);
  if (!/^application\/json/.test(res.headers.get('content-type') ?? ''))
    throw new Error(`${area}: ${res.status} not JSON: ${text.slice(0, 200)}`);
  if (res.headers.get('cache-control') !== 'no-store') throw new Error(`${area}: ${res.status} without Cache-Control: no-store`);
  const body = JSON.parse(text) as Record<string, unknown>;
  if (res.status === 200) return; // a revocation of an unknown token, an inactive introspection
  if (!RFC_ERRORS.has(String(body.error))) throw new Error(`${area}: error ${String(body.error)} is not an RFC 6749 code`);
  if (typeof body.error_description !== 'string' || !/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/.test(body.error_description)) {
    throw new Error(`${area}: error_description outside the RFC 6749 §5.2 character set: ${JSON.stringify(body.error_description)}`);
  }
  if (res.status === 401 && !res.headers.get('www-authenticate')) throw new Error(`${area}: 401 without WWW-Authenticate`);
}

async function expectPage(res: Response, area: string, allowed: number[]): Promise<string> {
  note(area, res.status);
  const text = await res.text();
  if (!allowed.includes(res.status)) throw new Error(`${area}: unexpected status ${res.status}: ${text.slice(0, 300)}`);
  if (res.status !== 303 && !/^text\/html/.test(res.headers.get('content-type') ?? ''))
    throw new Error(`${area}: ${res.status} is not HTML`);
  if (!res.headers.get('content-security-policy')?.includes("frame-ancestors 'none'")) throw new Error(`${area}: no CSP`);
  if (/at \S+ \(.*:\d+:\d+\)|node_modules/.test(text)) throw new Error(`${area}: stack trace in the page`);
  return text;
}

const post = (path: string, body: Uint8Array | string, headers: Record<string, string | undefined>) => {
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) h[k] = v;
  return fetch(`${server.url}${path}`, { method: 'POST', headers: h, body, redirect: 'manual' });
};

// ---- properties -------------------------------------------------------------------------------------------

describe.each(['/alexa/token', '/alexa/revoke', '/alexa/introspect'])('%s with hostile bodies and headers', (path) => {
  it('always answers an RFC 6749 §5.2 error (or 200), never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(encodedPairs, contentType, contentEncoding, authorization, async (body, type, encoding, auth) => {
        const res = await post(path, body, { 'content-type': type, 'content-encoding': encoding, authorization: auth });
        await expectJsonAnswer(res, path);
      }),
      { numRuns: runs(path === '/alexa/token' ? 900 : 300) },
    );
  });

  it('raw bytes as the body (invalid UTF-8, NUL, binary) are refused cleanly', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), contentType, async (bytes, type) => {
        const res = await post(path, bytes, { 'content-type': type, authorization: `Basic ${b64(`amazon-alexa:${CLIENT_SECRET}`)}` });
        await expectJsonAnswer(res, `${path} bytes`);
      }),
      { numRuns: runs(100) },
    );
  });
});

describe('the token endpoint past client authentication', () => {
  it('valid client credentials with hostile grant parameters: an RFC error, never a 5xx', async () => {
    const value = fc.oneof(encodedPiece, fc.constant(''));
    const form = fc.record({
      grant_type: fc.oneof(fc.constantFrom('authorization_code', 'refresh_token', 'refresh_token ', 'client_credentials'), value),
      code: fc.option(value, { nil: undefined }),
      redirect_uri: fc.option(fc.oneof(fc.constant(encodeURIComponent(ALEXA_REDIRECT)), value), { nil: undefined }),
      code_verifier: fc.option(value, { nil: undefined }),
      refresh_token: fc.option(value, { nil: undefined }),
      scope: fc.option(
        fc.oneof(
          fc.constantFrom('music.read', 'music.read%20music.control', 'music.read%20admin', '%20', 'music.read%09music.control'),
          value,
        ),
        { nil: undefined },
      ),
    });
    const auth = fc.constantFrom(
      { authorization: `Basic ${b64(`amazon-alexa:${encodeURIComponent(CLIENT_SECRET)}`)}`, extra: '' },
      { authorization: undefined, extra: `&client_id=amazon-alexa&client_secret=${encodeURIComponent(CLIENT_SECRET)}` },
      { authorization: undefined, extra: '&client_id=public-app' },
      { authorization: `Basic ${b64('public-app:')}`, extra: '' },
    );
    await fc.assert(
      fc.asyncProperty(form, auth, fc.constantFrom('/alexa/token', '/alexa/revoke', '/alexa/introspect'), async (f, a, path) => {
        const body =
          Object.entries(f)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => `${k}=${v}`)
            .join('&') +
          a.extra +
          (path === '/alexa/token' ? '' : `&token=${f.refresh_token ?? f.code ?? 'x'}`);
        const res = await post(path, body, { 'content-type': 'application/x-www-form-urlencoded', authorization: a.authorization });
        await expectJsonAnswer(res, `deep ${path}`);
      }),
      { numRuns: runs(500) },
    );
  });
});

describe('behind a trusted proxy, with hostile X-Forwarded-* headers', () => {
  let proxied: RunningServer & { dataDir: string };
  beforeAll(async () => {
    proxied = await startInProcess({
      options: testOptions({ trusted_proxies: ['loopback'] }),
      rateLimits: { tokenFailuresPerIp: 1e9, tokenFailuresPerClient: 1e9, loginFailuresPerIp: 1e9, loginFailuresPerUser: 1e9 },
    });
  });
  afterAll(async () => proxied.stop());

  it('any X-Forwarded-For/-Host/-Proto: never a 5xx; the issuer stays a URL', async () => {
    const printable = fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, ''));
    const xff = fc.oneof(
      fc.ipV4(),
      fc.constantFrom(
        '::1',
        '::ffff:10.0.0.1',
        '2001:db8::1',
        'unknown',
        '999.1.1.1',
        '1.2.3.4, 5.6.7.8',
        ', ,',
        '_hidden',
        '[::1]:80',
        '1.2.3.4:5678',
        '',
      ),
      printable,
    );
    const host = fc.oneof(
      fc.constantFrom('ha.example.com', 'ha.example.com:8443', '[::1]', 'evil.example.com/x?y#z', 'a b', '', '..', 'xn--nxasmq6b.example'),
      printable,
    );
    const proto = fc.oneof(fc.constantFrom('https', 'http', 'HTTPS', 'https, http', 'javascript', 'ftp', ''), printable);
    await fc.assert(
      fc.asyncProperty(xff, host, proto, fc.constantFrom('meta', 'authorize', 'token'), async (f, h, p, what) => {
        const headers: Record<string, string> = { 'x-forwarded-for': f, 'x-forwarded-host': h, 'x-forwarded-proto': p };
        let res: Response;
        if (what === 'meta') res = await fetch(`${proxied.url}/.well-known/oauth-authorization-server`, { headers });
        else if (what === 'authorize')
          res = await fetch(`${proxied.url}${authorizeUrl(alexaAuthorize({ response_type: 'token' }))}`, { headers, redirect: 'manual' });
        else
          res = await fetch(`${proxied.url}/alexa/token`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
            body: 'grant_type=refresh_token&refresh_token=x&client_id=amazon-alexa&client_secret=wrong',
          });
        note(`proxy ${what}`, res.status);
        await res.text();
        if (res.status >= 500) throw new Error(`${what} with ${JSON.stringify(headers)}: ${res.status}`);
      }),
      { numRuns: runs(300) },
    );
  });
});

describe('RFC 6749 §3.1: a repeated parameter is refused', () => {
  it('at the token endpoint: 400 invalid_request whichever parameter repeats, even with valid client credentials', async () => {
    const base = { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43), scope: 'music.read' };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(base), 'client_id'),
        fc.string({ maxLength: 20 }),
        fc.constantFrom('basic', 'body'),
        async (name, other, style) => {
          const form = new URLSearchParams(base);
          if (style === 'body') {
            form.set('client_id', 'amazon-alexa');
            form.set('client_secret', CLIENT_SECRET);
          } else if (name === 'client_id') {
            form.set('client_id', 'amazon-alexa');
          }
          form.append(name, other);
          const res = await post('/alexa/token', form.toString(), {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: style === 'basic' ? `Basic ${b64(`amazon-alexa:${encodeURIComponent(CLIENT_SECRET)}`)}` : undefined,
          });
          note('repeated token', res.status);
          expect(res.status).toBe(400);
          expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
        },
      ),
      { numRuns: runs(120) },
    );
  });

  it('at the authorization endpoint: an error page for client_id/redirect_uri, a redirect with invalid_request otherwise', async () => {
    const valid: Array<[string, string]> = Object.entries(alexaAuthorize()).filter((e): e is [string, string] => e[1] !== undefined);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...valid.map(([n]) => n)), fc.string({ maxLength: 20 }), async (name, other) => {
        const res = await fetch(`${server.url}/alexa/authorize?${new URLSearchParams([...valid, [name, other]]).toString()}`, {
          redirect: 'manual',
        });
        if (name === 'client_id' || name === 'redirect_uri') {
          await expectPage(res, 'repeated authorize', [400]);
        } else {
          note('repeated authorize', res.status);
          expect(res.status).toBe(303);
          const location = new URL(res.headers.get('location')!);
          expect(location.origin + location.pathname).toBe(ALEXA_REDIRECT);
          expect(location.searchParams.get('error')).toBe('invalid_request');
        }
      }),
      { numRuns: runs(80) },
    );
  });
});

describe('the authorization endpoint with hostile query strings', () => {
  it('answers the login page, an HTML error page, or a redirect to a registered URI only; never a 5xx', async () => {
    const registered = (testOptions().clients as Array<{ redirect_uris: string[] }>).flatMap((c) => c.redirect_uris);
    const query = fc.oneof(
      encodedPairs,
      // Mostly valid requests with one hostile value, to get past client and redirect checks.
      fc
        .tuple(
          fc.constantFrom('state', 'scope', 'response_type', 'code_challenge', 'code_challenge_method', 'redirect_uri', 'client_id'),
          encodedPiece,
        )
        .map(([name, value]) => {
          const base = new URLSearchParams(alexaAuthorize() as Record<string, string>);
          base.delete(name);
          return `${base.toString()}&${name}=${value}`;
        }),
    );
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        if (q.length > 12_000) q = q.slice(0, 12_000); // stays under Node's 16 KiB header limit (tested on its own below)
        const res = await fetch(`${server.url}/alexa/authorize?${q}`, { redirect: 'manual' });
        const text = await expectPage(res, 'authorize', [200, 303, 400]);
        if (res.status === 303) {
          const location = res.headers.get('location')!;
          if (!registered.some((uri) => location.startsWith(`${uri}?`))) throw new Error(`redirect to an unregistered URI: ${location}`);
        }
        if (/<script|onerror=|javascript:/i.test(text)) throw new Error(`unescaped markup echoed: ${text.slice(0, 500)}`);
      }),
      { numRuns: runs(700) },
    );
  });

  it('an oversized URL or header is refused by the HTTP parser (431), not by a crash', async () => {
    const res = await fetch(`${server.url}/alexa/authorize?state=${'A'.repeat(20_000)}`, { redirect: 'manual' });
    note('oversized url', res.status);
    expect(res.status).toBe(431);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
  });
});

describe('login and consent forms with hostile input', () => {
  it('never a 5xx, always an HTML page or the redirect to consent', async () => {
    const browser = new Browser(server.url);
    const { requestId, csrf } = await openLoginPage(browser);
    const form = fc.oneof(
      encodedPairs,
      fc
        .tuple(encodedPiece, encodedPiece, fc.boolean())
        .map(([user, pass, realIds]) => `${realIds ? `request_id=${requestId}&csrf=${csrf}&` : ''}username=${user}&password=${pass}`),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/alexa/login', '/alexa/consent'),
        form,
        contentType,
        fc.boolean(),
        async (path, body, type, withCookies) => {
          const headers: Record<string, string> = {};
          if (type !== undefined) headers['content-type'] = type;
          const res = withCookies
            ? await browser.request(path, { method: 'POST', headers, body })
            : await fetch(`${server.url}${path}`, { method: 'POST', headers, body, redirect: 'manual' });
          await expectPage(res, path, [303, 400, 401, 403, 413, 415]);
        },
      ),
      { numRuns: runs(400) },
    );
  });
});

describe('hostile cookies', () => {
  it('malformed, JSON-prefixed, oversized or repeated flow and session cookies: a clean page, never a 5xx', async () => {
    const cookieValue = fc.oneof(
      fc.constantFrom(
        'j:{"a":1}',
        'j:[1,2]',
        'j:null',
        'j:',
        's:abc.def',
        '%E0%A4%A',
        '%',
        '"quoted"',
        'a;b',
        'x'.repeat(43),
        'x'.repeat(4000),
      ),
      fc.string({ maxLength: 60 }).map(encodeURIComponent),
      fc.uint8Array({ maxLength: 40 }).map(bytesToPercent),
    );
    const cookies = fc
      .array(fc.tuple(fc.constantFrom('maoauth_flow', 'maoauth_session', 'other', ''), cookieValue), { maxLength: 5 })
      .map((pairs) => pairs.map(([n, v]) => `${n}=${v}`).join('; '));
    await fc.assert(
      fc.asyncProperty(cookies, fc.constantFrom('authorize', 'consent', 'login'), async (cookie, where) => {
        const headers = { cookie };
        let res: Response;
        if (where === 'authorize') res = await fetch(`${server.url}${authorizeUrl(alexaAuthorize())}`, { headers, redirect: 'manual' });
        else if (where === 'consent') res = await fetch(`${server.url}/alexa/consent?request=abc`, { headers, redirect: 'manual' });
        else
          res = await fetch(`${server.url}/alexa/login`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
            body: 'request_id=abc&csrf=x&username=owner&password=y',
            redirect: 'manual',
          });
        await expectPage(res, `cookie ${where}`, [200, 400, 403]);
      }),
      { numRuns: runs(300) },
    );
  });
});

describe('path tricks and methods', () => {
  it('every path and method gets a clean 2xx-4xx', async () => {
    const segment = fc.oneof(
      fc.constantFrom(
        'alexa',
        'token',
        'authorize',
        'login',
        'consent',
        'health',
        '.well-known',
        'oauth-authorization-server',
        '.well-known/oauth-authorization-server',
        'admin',
        'api',
        '..',
        '.',
        '',
        '%2e%2e',
        '%2E',
        '%2f',
        '%5c',
        '%00',
        '%',
        '%zz',
        '%C0%AE',
        ';x=1',
        'TOKEN',
        'token%20',
        'token.json',
        '~',
        '*',
        '%ff%fe',
      ),
      fc.string({ maxLength: 10 }).map(encodeURIComponent),
    );
    const path = fc.array(segment, { minLength: 1, maxLength: 6 }).map((segs) => `/${segs.join('/')}`);
    await fc.assert(
      fc.asyncProperty(path, fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'), async (p, method) => {
        const res = await fetch(`${server.url}${p}`, {
          method,
          redirect: 'manual',
          headers: method === 'GET' || method === 'HEAD' ? {} : { 'content-type': 'application/x-www-form-urlencoded' },
          body: method === 'GET' || method === 'HEAD' ? undefined : 'a=b',
        });
        note('paths', res.status);
        await res.arrayBuffer();
        if (res.status >= 500 || res.status < 200) throw new Error(`${method} ${p}: ${res.status}`);
      }),
      { numRuns: runs(500) },
    );
  });
});

/** Sends bytes on a raw socket; resolves with the status line's code, or 0 when the server closed without one. */
function rawRequest(payload: Buffer, timeoutMs = 800): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      // A request the parser is still waiting on (e.g. a body shorter than its Content-Length) is not an answer
      // to judge; the server must merely still be alive, which the next case checks.
      resolve(-1);
    }, timeoutMs);
    socket.on('data', (d) => {
      data += d.toString('latin1');
      if (data.includes('\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
        resolve(m ? Number(m[1]) : 0);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(data ? Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0) : 0);
    });
    socket.write(payload, (err) => err && reject(err));
  });
}

describe('header injection and request smuggling on a raw socket', () => {
  it('CR/LF/NUL in headers, obs-fold, conflicting lengths, bad request lines: a clean 4xx or a closed connection', async () => {
    const injected = fc.constantFrom(
      'x\r\nSet-Cookie: evil=1',
      'x\nX-Injected: 1',
      'x\rY',
      'x\0y',
      ' folded\r\n continuation',
      '\u00ff\u00fe',
      'a'.repeat(20_000),
    );
    const headerName = fc.constantFrom(
      'X-Request-Id',
      'Host',
      'Authorization',
      'Content-Type',
      'X-Forwarded-For',
      'Cookie',
      'Bad Header',
      'Bad:Header',
      '',
      'Content-Length',
    );
    const shape = fc.oneof(
      fc
        .tuple(headerName, injected)
        .map(
          ([name, value]) =>
            `POST /alexa/token HTTP/1.1\r\nHost: 127.0.0.1\r\n${name}: ${value}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=b`,
        ),
      fc.constantFrom(
        'POST /alexa/token HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\na=bcd',
        'POST /alexa/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n',
        'POST /alexa/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n3\r\na=b\r\n0\r\n\r\n',
        'POST /alexa/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\na=b\r\n0\r\n\r\n',
        'POST /alexa/token HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
        'POST /alexa/token HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n',
        'GET /alexa/authorize?state=a\r\nX: y HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET /alexa/authorize?state=a b HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET /alexa/\0authorize HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET http://evil.example.com/alexa/authorize HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET * HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET /health HTTP/9.9\r\nHost: x\r\n\r\n',
        'GET /health\r\n\r\n',
        'G\u00c9T /health HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
        '\r\n\r\n\r\n',
        'GET /health HTTP/1.1\nHost: x\n\n',
      ),
      fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    await fc.assert(
      fc.asyncProperty(shape, async (request) => {
        const status = await rawRequest(Buffer.from(request, 'latin1'));
        note('raw', status);
        if (status >= 500) throw new Error(`${JSON.stringify(request.slice(0, 120))}: ${status}`);
      }),
      { numRuns: runs(250) },
    );
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('a request id or state carrying CR/LF is never reflected as a header', async () => {
    const res = await fetch(`${server.url}${authorizeUrl(alexaAuthorize({ response_type: 'token', state: 'a\r\nSet-Cookie: evil=1' }))}`, {
      redirect: 'manual',
      headers: { 'x-request-id': 'ok-id' },
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('set-cookie') ?? '').not.toMatch(/evil/);
    expect(new URL(res.headers.get('location')!).searchParams.get('state')).toBe('a\r\nSet-Cookie: evil=1');
  });
});

describe('HTTP Basic with colons and percent escapes (RFC 6749 §2.3.1: form-encode, then Basic)', () => {
  const grantProbe = 'grant_type=refresh_token&refresh_token=' + 'z'.repeat(43);
  /** Authentication passed when the answer is about the grant (400 invalid_grant), not the client (401). */
  async function authOutcome(authorization: string | undefined, body = grantProbe): Promise<number> {
    const res = await post('/alexa/token', body, { 'content-type': 'application/x-www-form-urlencoded', authorization });
    await expectJsonAnswer(res.clone(), 'basic');
    return res.status;
  }

  it('form-encoded id and secret authenticate, whatever colons, spaces, plus signs or percent signs they hold', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TRICKY_CLIENTS), fc.boolean(), async (client, plusForSpace) => {
        const enc = (s: string) => (plusForSpace ? new URLSearchParams({ x: s }).toString().slice(2) : encodeURIComponent(s));
        expect(await authOutcome(`Basic ${b64(`${enc(client.client_id)}:${enc(client.secret)}`)}`)).toBe(400);
      }),
      { numRuns: runs(60) },
    );
  });

  it('the same credentials in the body authenticate too', async () => {
    for (const c of TRICKY_CLIENTS) {
      expect(
        await authOutcome(
          undefined,
          `${grantProbe}&${new URLSearchParams({ client_id: c.client_id, client_secret: c.secret }).toString()}`,
        ),
      ).toBe(400);
    }
  });

  it('any other secret is 401 invalid_client, including near misses in encoding', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TRICKY_CLIENTS), fc.string({ maxLength: 30 }), async (client, wrong) => {
        fc.pre(wrong !== client.secret);
        expect(await authOutcome(`Basic ${b64(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(wrong)}`)}`)).toBe(401);
      }),
      { numRuns: runs(120) },
    );
    // Double-encoded, or cut at an inner colon: not the secret.
    const c = defined(TRICKY_CLIENTS[0], 'a tricky client');
    expect(
      await authOutcome(`Basic ${b64(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(encodeURIComponent(c.secret))}`)}`),
    ).toBe(401);
    expect(await authOutcome(`Basic ${b64(`${encodeURIComponent(c.client_id)}:${c.secret.split(':')[0]}`)}`)).toBe(401);
    // An unencoded client id with a colon splits at its colon: a different client, refused.
    expect(await authOutcome(`Basic ${b64(`${c.client_id}:${encodeURIComponent(c.secret)}`)}`)).toBe(401);
  });
});
