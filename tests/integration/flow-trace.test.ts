/**
 * The flow trace (DATA_DIR/flow-trace.jsonl): one structured entry per step with the request id, client_id,
 * redirect_uri, grant_type and outcome, and on failure the precise cause an operator needs, e.g. the registered
 * URIs a redirect_uri was compared with, or the stored PKCE challenge next to S256 of the verifier received.
 */
import { expect } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import { RunningServer } from '../../src/main';
import { alexaAuthorize, authorizeUrl, issueCode, pkcePair, tokenRequest } from '../helpers/alexa-client';
import { FlowEntry } from '../../src/log/flow-trace';
import { ALEXA_REDIRECT, startInProcess, testOptions, waitForTrace } from '../helpers/test-server';
import { defined } from '../helpers/defined';

let server: RunningServer & { dataDir: string };
beforeAll(async () => {
  server = await startInProcess();
});
afterAll(async () => server.stop());

const REGISTERED = defined((testOptions().clients as Array<{ redirect_uris: string[] }>)[0], 'a client').redirect_uris;

async function tokenWithId(form: Record<string, string>): Promise<{ res: Response; entry: FlowEntry }> {
  const requestId = randomUUID();
  const res = await tokenRequest(server.url, form, 'basic', undefined, undefined, { headers: { 'x-request-id': requestId } });
  // The request id is ours; the client's X-Request-Id is recorded beside it, never as it.
  const ours = res.headers.get('x-request-id');
  expect(ours).toMatch(/^[0-9a-f-]{36}$/);
  expect(ours).not.toBe(requestId);
  const entry = await waitForTrace(server.dataDir, (e) => e.clientRequestId === requestId);
  expect(entry.requestId).toBe(ours);
  return { res, entry };
}

it('an unregistered redirect_uri: the cause lists every registered URI it was compared with, and the closest', async () => {
  const requestId = randomUUID();
  const given = ALEXA_REDIRECT.replace('M2TESTVENDOR', 'M2TESTVENDQR');
  const res = await fetch(`${server.url}${authorizeUrl(alexaAuthorize({ redirect_uri: given }))}`, {
    headers: { 'x-request-id': requestId },
  });
  const ours = res.headers.get('x-request-id');
  expect(ours).not.toBe(requestId);
  const entry = await waitForTrace(server.dataDir, (e) => e.requestId === ours);
  expect(entry).toMatchObject({
    step: 'authorize',
    outcome: 'error',
    clientId: 'amazon-alexa',
    redirectUri: given,
    kind: 'redirect_uri_mismatch',
  });
  for (const uri of REGISTERED) expect(entry.cause).toContain(uri);
  expect(entry.cause).toContain(`closest: ${ALEXA_REDIRECT}`);
});

it('a PKCE mismatch: the cause shows the stored challenge next to S256 of the verifier received', async () => {
  const { code } = await issueCode(server.url);
  const wrong = pkcePair().verifier;
  const { res, entry } = await tokenWithId({ grant_type: 'authorization_code', code, redirect_uri: ALEXA_REDIRECT, code_verifier: wrong });
  expect(res.status).toBe(400);
  expect(entry).toMatchObject({
    step: 'token',
    outcome: 'error',
    grantType: 'authorization_code',
    clientId: 'amazon-alexa',
    redirectUri: ALEXA_REDIRECT,
    error: 'invalid_grant',
    kind: 'pkce_mismatch',
  });
  expect(entry.cause).toMatch(/stored code_challenge [\w-]{43}/);
  expect(entry.cause).toContain(`S256(code_verifier) ${createHash('sha256').update(wrong).digest('base64url')}`);
});

it('a successful exchange: step token, outcome ok, grant and user named, tokens only as fingerprints', async () => {
  const { code, verifier } = await issueCode(server.url);
  const { res, entry } = await tokenWithId({
    grant_type: 'authorization_code',
    code,
    redirect_uri: ALEXA_REDIRECT,
    code_verifier: verifier!,
  });
  expect(res.status).toBe(200);
  expect(entry).toMatchObject({
    step: 'token',
    outcome: 'ok',
    grantType: 'authorization_code',
    clientId: 'amazon-alexa',
    redirectUri: ALEXA_REDIRECT,
    username: 'owner',
  });
  expect(entry.grantId).toEqual(expect.any(String));
  expect(entry.detail).toMatchObject({
    accessToken: expect.stringMatching(/^#[0-9a-f]{8}$/),
    refreshToken: expect.stringMatching(/^#[0-9a-f]{8}$/),
  });
});

it('each browser step of a link leaves an ok entry: authorize, login, consent', async () => {
  await issueCode(server.url);
  for (const step of ['authorize', 'login', 'consent']) {
    const entry = await waitForTrace(server.dataDir, (e) => e.step === step && e.outcome === 'ok');
    expect(entry.requestId).toEqual(expect.any(String));
    expect(entry.clientId).toBe('amazon-alexa');
  }
});

it('a wrong client secret: the cause says which scheme and compares fingerprints', async () => {
  const requestId = randomUUID();
  await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: 'x' }, 'body', 'amazon-alexa', 'wrong', {
    headers: { 'x-request-id': requestId },
  });
  const entry = await waitForTrace(server.dataDir, (e) => e.clientRequestId === requestId);
  expect(entry).toMatchObject({ outcome: 'error', error: 'invalid_client', kind: 'client_secret_mismatch' });
  expect(entry.cause).toMatch(/received #[0-9a-f]{8}, configured #[0-9a-f]{8}, scheme credentials in request body/);
});
