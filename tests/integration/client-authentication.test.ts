/**
 * Client authentication at the token endpoint (RFC 6749 §2.3): HTTP Basic and credentials in the body are both
 * accepted, Basic credentials are form-decoded (§2.3.1), and every failure is 401 invalid_client (with
 * WWW-Authenticate) or, for two methods at once, 400 invalid_request.
 */
import { expect } from '@jest/globals';
import { RunningServer } from '../../src/main';
import { basicAuth, introspectAsClient, issueCode, rawTokenRequest, tokenRequest } from '../helpers/alexa-client';
import { ALEXA_REDIRECT, CLIENT_SECRET, startInProcess, testOptions } from '../helpers/test-server';
import { defined } from '../helpers/defined';

/** A secret with every character that breaks naive Basic handling: ':' (the separator), '%' and '+' (form encoding). */
const AWKWARD_SECRET = 'se:cr%41et+with space&=/:end-0123456789';
/** The resource server's, as awkward; a second entry with the same id must not count (the first one listed does). */
const RS_SECRET = 'rs:se%41cret+with space&=/:end-9876543210';
const RS_LATER_SECRET = 'the-second-entry-of-that-id-0123456789';

let server: RunningServer & { dataDir: string };
beforeAll(async () => {
  const options = testOptions();
  defined((options.clients as Array<Record<string, unknown>>)[0], 'a client').client_secret = AWKWARD_SECRET;
  options.resource_servers = [
    { id: 'music-assistant', secret: RS_SECRET },
    { id: 'music-assistant', secret: RS_LATER_SECRET },
  ];
  server = await startInProcess({ options });
});
afterAll(async () => server.stop());

const FORM = 'application/x-www-form-urlencoded';

async function codeForm(): Promise<Record<string, string>> {
  const { code, verifier } = await issueCode(server.url);
  return { grant_type: 'authorization_code', code, redirect_uri: ALEXA_REDIRECT, code_verifier: verifier! };
}

async function expectInvalidClient(res: Response): Promise<void> {
  expect(res.status).toBe(401);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
  expect(await res.json()).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
}

describe('accepted', () => {
  it('HTTP Basic with the id and secret form-encoded, as RFC 6749 §2.3.1 asks', async () => {
    const res = await tokenRequest(server.url, await codeForm(), 'basic', 'amazon-alexa', AWKWARD_SECRET);
    expect(res.status).toBe(200);
  });

  it('HTTP Basic with the secret not form-encoded (what many clients send)', async () => {
    const res = await rawTokenRequest(server.url, new URLSearchParams(await codeForm()).toString(), {
      'content-type': FORM,
      authorization: basicAuth('amazon-alexa', AWKWARD_SECRET, false),
    });
    expect(res.status).toBe(200);
  });

  it('client_id and client_secret in the body', async () => {
    const res = await tokenRequest(server.url, await codeForm(), 'body', 'amazon-alexa', AWKWARD_SECRET);
    expect(res.status).toBe(200);
  });

  it('Basic, plus a body client_id equal to the Basic one', async () => {
    const res = await rawTokenRequest(server.url, new URLSearchParams({ ...(await codeForm()), client_id: 'amazon-alexa' }).toString(), {
      'content-type': FORM,
      authorization: basicAuth('amazon-alexa', AWKWARD_SECRET),
    });
    expect(res.status).toBe(200);
  });

  it('the "Basic" scheme name case-insensitively', async () => {
    const res = await rawTokenRequest(server.url, new URLSearchParams(await codeForm()).toString(), {
      'content-type': FORM,
      authorization: basicAuth('amazon-alexa', AWKWARD_SECRET).replace('Basic', 'basic'),
    });
    expect(res.status).toBe(200);
  });
});

describe('refused with 401 invalid_client', () => {
  it.each(['basic', 'body'] as const)('a wrong secret (%s)', async (auth) => {
    await expectInvalidClient(await tokenRequest(server.url, await codeForm(), auth, 'amazon-alexa', CLIENT_SECRET));
  });

  it('a secret that differs only in its last character', async () => {
    await expectInvalidClient(await tokenRequest(server.url, await codeForm(), 'basic', 'amazon-alexa', `${AWKWARD_SECRET.slice(0, -1)}X`));
  });

  it('a prefix of the secret', async () => {
    await expectInvalidClient(await tokenRequest(server.url, await codeForm(), 'body', 'amazon-alexa', AWKWARD_SECRET.slice(0, 10)));
  });

  it.each(['basic', 'body'] as const)('an unknown client (%s)', async (auth) => {
    await expectInvalidClient(await tokenRequest(server.url, await codeForm(), auth, 'Amazon-Alexa', AWKWARD_SECRET));
  });

  it('a confidential client that sends no secret (client_id only)', async () => {
    await expectInvalidClient(await tokenRequest(server.url, await codeForm(), 'none', 'amazon-alexa'));
  });

  it('a confidential client with an empty secret in Basic', async () => {
    await expectInvalidClient(await tokenRequest(server.url, await codeForm(), 'basic', 'amazon-alexa', ''));
  });

  it('no client credentials at all', async () => {
    await expectInvalidClient(await rawTokenRequest(server.url, new URLSearchParams(await codeForm()).toString()));
  });

  it.each(['basic', 'body'] as const)('a public client that sends a secret (%s)', async (auth) => {
    const res = await tokenRequest(
      server.url,
      { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43) },
      auth,
      'public-app',
      'a-secret-nobody-configured',
    );
    await expectInvalidClient(res);
  });

  it.each([
    ['a Bearer token', 'Bearer abcdef'],
    ['Basic without a colon', `Basic ${Buffer.from('amazon-alexa').toString('base64')}`],
    ['Basic with characters outside base64', 'Basic !!!'],
  ])('a malformed Authorization header: %s', async (_what, header) => {
    const res = await rawTokenRequest(server.url, new URLSearchParams(await codeForm()).toString(), {
      'content-type': FORM,
      authorization: header,
    });
    await expectInvalidClient(res);
  });

  it('a failed authentication does not consume the code', async () => {
    const form = await codeForm();
    await expectInvalidClient(await tokenRequest(server.url, form, 'basic', 'amazon-alexa', 'wrong-secret'));
    expect((await tokenRequest(server.url, form, 'basic', 'amazon-alexa', AWKWARD_SECRET)).status).toBe(200);
  });
});

describe('refused with 400 invalid_request', () => {
  it('credentials both in Basic and in the body', async () => {
    const res = await rawTokenRequest(
      server.url,
      new URLSearchParams({ ...(await codeForm()), client_id: 'amazon-alexa', client_secret: AWKWARD_SECRET }).toString(),
      {
        'content-type': FORM,
        authorization: basicAuth('amazon-alexa', AWKWARD_SECRET),
      },
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
  });

  it('a body client_id that differs from the Basic one', async () => {
    const res = await rawTokenRequest(server.url, new URLSearchParams({ ...(await codeForm()), client_id: 'public-app' }).toString(), {
      'content-type': FORM,
      authorization: basicAuth('amazon-alexa', AWKWARD_SECRET),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
  });
});

describe('the resource server at /alexa/introspect', () => {
  let accessToken: string;
  beforeAll(async () => {
    const res = await tokenRequest(server.url, await codeForm(), 'basic', 'amazon-alexa', AWKWARD_SECRET);
    accessToken = ((await res.json()) as { access_token: string }).access_token;
  });

  const introspect = (headers: Record<string, string>, form: Record<string, string> = {}) =>
    fetch(`${server.url}/alexa/introspect`, {
      method: 'POST',
      headers: { 'content-type': FORM, ...headers },
      body: new URLSearchParams({ token: accessToken, ...form }).toString(),
    });
  const active = async (res: Response) => {
    expect(res.status).toBe(200);
    expect(((await res.json()) as { active: boolean }).active).toBe(true);
  };

  it('accepts its secret by Basic, form-encoded or not, and in the body', async () => {
    await active(await introspect({ authorization: basicAuth('music-assistant', RS_SECRET) }));
    await active(await introspect({ authorization: basicAuth('music-assistant', RS_SECRET, false) }));
    await active(await introspect({}, { client_id: 'music-assistant', client_secret: RS_SECRET }));
  });

  it.each([
    ['a wrong secret', 'wrong-secret'],
    ['a secret that differs only in its last character', `${RS_SECRET.slice(0, -1)}X`],
    ['a prefix of the secret', RS_SECRET.slice(0, -1)],
    ['the secret of a later entry with the same id', RS_LATER_SECRET],
    ["the client's secret", AWKWARD_SECRET],
  ])('refuses %s with 401 invalid_client', async (_what, secret) => {
    await expectInvalidClient(await introspectAsClient(server.url, accessToken, 'basic', 'music-assistant', secret));
    await expectInvalidClient(await introspectAsClient(server.url, accessToken, 'body', 'music-assistant', secret));
  });

  it('refuses its id without a secret', async () => {
    await expectInvalidClient(await introspect({}, { client_id: 'music-assistant' }));
  });
});
