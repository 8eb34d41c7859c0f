// oidc-provider configured like the server under test: one confidential client (Alexa) with client_secret_basic,
// authorization_code + refresh_token, PKCE S256, refresh tokens rotated on every use and always issued to this client,
// opaque access tokens (no resource indicators, so no JWT access tokens), introspection for a second client (the
// resource server). Credentials and redirect URI come from the bench's settings (bench/settings.ts).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';
import { Keyv } from 'keyv';
import { KeyvNodeSqlite } from './keyv-sqlite-store.mjs';
import { keyvAdapter } from './oidc-keyv-adapter.mjs';

const require = createRequire(import.meta.url);
// The repository's compiled bench settings (npx tsc -p bench/tsconfig.json): <repo>/dist-bench/bench/settings.js.
const S = require(path.resolve(import.meta.dirname, '../../dist-bench/bench/settings.js'));

export const ISSUER = 'http://127.0.0.1';
export const DB_FILE = 'peer.sqlite';
export const SCOPE = S.SCOPES.join(' ');

/** Keys and cookie secrets of a data folder, created once (by the fill) and read by every start. */
export function folderSecrets(dataDir) {
  const file = path.join(dataDir, 'peer-secrets.json');
  if (!fs.existsSync(file)) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-1', use: 'sig', alg: 'RS256' };
    fs.writeFileSync(file, JSON.stringify({ jwks: { keys: [jwk] }, cookieKeys: [randomBytes(32).toString('base64url')] }));
  }
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

export function openKeyv(dataDir) {
  const store = new KeyvNodeSqlite(path.join(dataDir, DB_FILE));
  const keyv = new Keyv({ store });
  keyv.on('error', (err) => process.stderr.write(`keyv error: ${err?.stack ?? err}\n`));
  return { keyv, store };
}

export function createProvider(dataDir) {
  const { keyv, store } = openKeyv(dataDir);
  const { jwks, cookieKeys } = folderSecrets(dataDir);
  const provider = new Provider(ISSUER, {
    adapter: keyvAdapter(keyv),
    clients: [
      {
        client_id: S.CLIENT.id,
        client_secret: S.CLIENT.secret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [S.REDIRECT],
      },
      {
        // The resource server: introspects, nothing else.
        client_id: S.RESOURCE_SERVER.id,
        client_secret: S.RESOURCE_SERVER.secret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: [],
        response_types: [],
        redirect_uris: [],
      },
    ],
    jwks,
    cookies: { keys: cookieKeys },
    scopes: ['openid', 'offline_access', ...S.SCOPES],
    pkce: { required: () => true },
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx, client) => client.clientId === S.CLIENT.id,
    // Alexa links outlive any browser session: tokens never die with the login session (what offline_access would do).
    expiresWithSession: async () => false,
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 600,
      RefreshToken: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
      Interaction: 3600,
    },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    features: {
      devInteractions: { enabled: true }, // login + consent pages used by the fill; never touched by the measured load
      introspection: {
        enabled: true,
        // The default policy, written out (silences the "you SHOULD change it" notice): any authenticated client.
        allowedPolicy: async (ctx, client, token) => !(client.clientAuthMethod === 'none' && token.clientId !== ctx.oidc.client.clientId),
      },
      revocation: { enabled: true },
    },
  });
  return { provider, keyv, store };
}
