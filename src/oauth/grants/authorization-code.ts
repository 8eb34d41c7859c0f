/**
 * The authorization code grant (RFC 6749 §4.1): issuing a code at consent, and exchanging it at the token
 * endpoint. Codes are single-use; a second redemption revokes the grant the first one created (RFC 9700 §4.5).
 */
import { ClientConfig } from '../../config/config';
import { AuthRequestRecord, CodeRecord, GrantRecord } from '../../store/records';
import { InvalidGrant, InvalidRequest } from '../errors';
import { GrantDeps, IssuedTokens, grantTtlMs, mintTokens, revokeGrant } from '../grant-deps';
import { isValidPkceValue, s256, verifyS256 } from '../pkce';
import { fingerprint, randomToken, tokenHash } from '../secrets';

/** Kept this long past expiry so a late or replayed code is recognised and explained, not just "unknown". */
const CODE_RECORD_GRACE_MS = 24 * 3600 * 1000;

export async function issueCode(deps: GrantDeps, request: AuthRequestRecord, username: string): Promise<string> {
  const code = randomToken();
  const hash = tokenHash(code);
  const now = deps.now();
  const record: CodeRecord = {
    clientId: request.clientId,
    redirectUri: request.redirectUri,
    redirectUriGiven: request.redirectUriGiven,
    scopes: request.scopes,
    username,
    codeChallenge: request.codeChallenge,
    issuedAt: now,
    expiresAt: now + deps.lifetimes.authCode * 1000,
    grantId: tokenHash(`grant:${hash}`).slice(0, 22),
  };
  await deps.repos.codes.put(hash, record, deps.lifetimes.authCode * 1000 + CODE_RECORD_GRACE_MS);
  return code;
}

export interface CodeExchangeParams {
  code?: string;
  redirect_uri?: string;
  code_verifier?: string;
}

export async function exchangeCode(deps: GrantDeps, client: ClientConfig, params: CodeExchangeParams): Promise<IssuedTokens> {
  if (params.code === undefined || params.code === '') {
    throw new InvalidRequest('code is missing', 'grant_type=authorization_code without a code parameter', 'code_missing');
  }
  const hash = tokenHash(params.code);
  return deps.lock.run(`code:${hash}`, async () => {
    const record = await deps.repos.codes.get(hash);
    const now = deps.now();
    if (!record) {
      throw new InvalidGrant('invalid authorization code', `code ${fingerprint(params.code)} is unknown (never issued, or older than a day)`, 'code_unknown');
    }
    if (record.consumedAt !== undefined) {
      await revokeGrant(deps, record.grantId, 'authorization code replayed');
      throw new InvalidGrant(
        'authorization code already used',
        `code ${fingerprint(params.code)} was already redeemed ${Math.round((now - record.consumedAt) / 1000)} s ago; grant ${record.grantId} and every token issued from it are revoked (RFC 9700 §4.5)`,
        'code_replay',
      );
    }
    if (record.clientId !== client.clientId) {
      throw new InvalidGrant('code was issued to another client', `code was issued to "${record.clientId}" but redeemed by "${client.clientId}"`, 'code_client_mismatch');
    }
    if (now > record.expiresAt) {
      const age = Math.round((now - record.issuedAt) / 1000);
      throw new InvalidGrant(
        'authorization code expired',
        `code is ${age} s old and auth_code_lifetime is ${deps.lifetimes.authCode} s; the token request came too late (if the user was quick, check this machine's clock: a skewed clock makes codes expire early)`,
        'code_expired',
      );
    }
    const sentUri = params.redirect_uri;
    if ((record.redirectUriGiven || sentUri !== undefined) && sentUri !== record.redirectUri) {
      throw new InvalidGrant(
        'redirect_uri does not match the authorization request',
        `token request redirect_uri ${sentUri === undefined ? 'is missing' : `"${sentUri}"`} but the authorization request used "${record.redirectUri}"; they must be identical byte for byte`,
        'redirect_uri_mismatch',
      );
    }
    const verifier = params.code_verifier;
    if (record.codeChallenge !== undefined) {
      if (verifier === undefined || verifier === '') {
        throw new InvalidGrant('code_verifier is missing', 'the authorization request sent a code_challenge, so the token request must send code_verifier', 'pkce_missing');
      }
      if (!isValidPkceValue(verifier) || !verifyS256(verifier, record.codeChallenge)) {
        throw new InvalidGrant(
          'PKCE verification failed',
          `code_verifier ${fingerprint(verifier)} does not match: stored code_challenge ${record.codeChallenge}, S256(code_verifier) ${s256(verifier)}`,
          'pkce_mismatch',
        );
      }
    } else if (verifier !== undefined) {
      throw new InvalidGrant('code_verifier sent but the authorization request had no code_challenge', 'a code_verifier for a code issued without code_challenge is a PKCE downgrade attempt (RFC 9700 §4.8.2)', 'pkce_downgrade');
    }

    const grant: GrantRecord = {
      id: record.grantId,
      clientId: record.clientId,
      username: record.username,
      scopes: record.scopes,
      createdAt: now,
      refreshCount: 0,
      refresh: { live: [], settled: true },
    };
    const { issued, refreshHash, writes } = mintTokens(deps, grant, record.scopes);
    grant.refresh.live = [refreshHash];
    // Tokens, grant and the consumed code in one transaction: the code is spent exactly when its tokens exist.
    await deps.repos.write(
      ...writes,
      deps.repos.grants.entry(grant.id, grant, grantTtlMs(deps)),
      deps.repos.codes.entry(hash, { ...record, consumedAt: now }, Math.max(record.expiresAt + CODE_RECORD_GRACE_MS - now, 1000)),
    );
    return issued;
  });
}
