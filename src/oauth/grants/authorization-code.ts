/**
 * The authorization code grant's token request (RFC 6749 §4.1.3), as one transaction: the code is spent exactly
 * when its tokens exist. The client is checked before anything else, so a client replaying another client's code
 * changes nothing; a second redemption by the code's own client revokes the grant the first one created (RFC 9700 §4.5).
 */
import { ClientConfig } from '../../config/config';
import { fingerprint, randomToken, tokenHash } from '../../crypto/tokens';
import { CodeRecord, GrantRecord } from '../../store/records';
import { InvalidGrant, InvalidRequest, OAuthError } from '../errors';
import { GrantDeps, IssuedTokens, grantExpiry, mintTokens, revokeGrantIn } from '../grant-deps';
import { isValidPkceValue, s256, verifyS256 } from '../pkce';

/** Kept this long past expiry so a late or replayed code is recognised and explained, not just "unknown". */
export const CODE_RECORD_GRACE_MS = 24 * 3600 * 1000;

/** Whether a code is past its lifetime at `now`: the one rule for the exchange and for anything else that asks. */
export function codeExpired(record: Pick<CodeRecord, 'expiresAt'>, now: number): boolean {
  return now > record.expiresAt;
}

export interface CodeExchangeParams {
  code?: string;
  redirect_uri?: string;
  code_verifier?: string;
}

/** The checks of a code that is the client's, unspent and in time: redirect_uri and PKCE (RFC 7636 §4.6). */
function verifyRequest(record: CodeRecord, params: CodeExchangeParams): OAuthError | undefined {
  const sentUri = params.redirect_uri;
  if ((record.redirectUriGiven || sentUri !== undefined) && sentUri !== record.redirectUri) {
    return new InvalidGrant('redirect_uri does not match the authorization request', {
      kind: 'redirect_uri_mismatch',
      facts: { asked: sentUri, authorized: record.redirectUri },
      debug: `token request redirect_uri ${sentUri === undefined ? 'is missing' : `"${sentUri}"`} but the authorization request used "${record.redirectUri}"; they must be identical byte for byte`,
    });
  }
  const verifier = params.code_verifier;
  if (record.codeChallenge !== undefined) {
    if (verifier === undefined || verifier === '') {
      return new InvalidGrant('code_verifier is missing', {
        kind: 'pkce_missing',
        facts: {},
        debug: 'the authorization request sent a code_challenge, so the token request must send code_verifier',
      });
    }
    if (!isValidPkceValue(verifier) || !verifyS256(verifier, record.codeChallenge)) {
      const facts = { verifierFingerprint: fingerprint(verifier), storedChallenge: record.codeChallenge, verifierS256: s256(verifier) };
      return new InvalidGrant('PKCE verification failed', {
        kind: 'pkce_mismatch',
        facts,
        debug: `code_verifier ${facts.verifierFingerprint} does not match: stored code_challenge ${facts.storedChallenge}, S256(code_verifier) ${facts.verifierS256}`,
      });
    }
  } else if (verifier !== undefined) {
    return new InvalidGrant('code_verifier sent but the authorization request had no code_challenge', {
      kind: 'pkce_downgrade',
      facts: {},
      debug: 'a code_verifier for a code issued without code_challenge is a PKCE downgrade attempt (RFC 9700 §4.8.2)',
    });
  }
  return undefined;
}

export function exchangeCode(deps: GrantDeps, client: ClientConfig, params: CodeExchangeParams): IssuedTokens {
  if (params.code === undefined || params.code === '') {
    throw new InvalidRequest('code is missing', {
      kind: 'code_missing',
      facts: {},
      debug: 'grant_type=authorization_code without a code parameter',
    });
  }
  const code = params.code;
  const hash = tokenHash(code);
  const outcome = deps.storage.transaction((tx): IssuedTokens | OAuthError => {
    const record = tx.codes.find(hash);
    const now = deps.now();
    if (!record) {
      const codeFingerprint = fingerprint(code);
      return new InvalidGrant('invalid authorization code', {
        kind: 'code_unknown',
        facts: { codeFingerprint },
        debug: `code ${codeFingerprint} is unknown (never issued, or older than a day)`,
      });
    }
    if (record.clientId !== client.clientId) {
      return new InvalidGrant('code was issued to another client', {
        kind: 'code_client_mismatch',
        facts: { issuedTo: record.clientId, presentedBy: client.clientId },
        debug: `code was issued to "${record.clientId}" but redeemed by "${client.clientId}"`,
      });
    }
    if (record.consumedAt !== undefined) {
      revokeGrantIn(deps, tx, record.grantId, 'authorization code replayed');
      const facts = {
        codeFingerprint: fingerprint(code),
        grantId: record.grantId,
        redeemedSecondsAgo: Math.round((now - record.consumedAt) / 1000),
      };
      return new InvalidGrant('authorization code already used', {
        kind: 'code_replay',
        facts,
        debug: `code ${facts.codeFingerprint} was already redeemed ${facts.redeemedSecondsAgo} s ago; grant ${facts.grantId} and every token issued from it are revoked (RFC 9700 §4.5)`,
      });
    }
    if (codeExpired(record, now)) {
      const age = Math.round((now - record.issuedAt) / 1000);
      return new InvalidGrant('authorization code expired', {
        kind: 'code_expired',
        facts: { ageSeconds: age, lifetimeSeconds: deps.lifetimes.authCode },
        debug: `code is ${age} s old and auth_code_lifetime is ${deps.lifetimes.authCode} s; the token request came too late (if the user was quick, check this machine's clock: a skewed clock makes codes expire early)`,
      });
    }
    const refused = verifyRequest(record, params);
    if (refused) return refused;
    const grant: GrantRecord & { signingKey: string } = {
      id: record.grantId,
      clientId: record.clientId,
      username: record.username,
      scopes: record.scopes,
      createdAt: now,
      refreshCount: 0,
      refresh: { live: [], previous: [], generation: 0 },
      signingKey: randomToken(16),
    };
    const { issued, refreshKey } = mintTokens(deps, tx, grant, record.scopes, grant.refresh.generation);
    tx.grants.save({ ...grant, refresh: { ...grant.refresh, live: [refreshKey] } }, grantExpiry(deps));
    tx.codes.consume(hash, record, now, Math.max(record.expiresAt + CODE_RECORD_GRACE_MS, now + 1000));
    return issued;
  });
  if (outcome instanceof OAuthError) throw outcome;
  return outcome;
}
