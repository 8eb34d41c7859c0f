// oidc-provider adapter on Keyv, after the upstream example adapters (example/adapters/redis.js): one Keyv entry per
// model instance (`Model:id`), secondary entries for uid / userCode lookups, and a per-grant index of the token keys
// issued from that grant, used by revokeByGrantId. Keyv stores the TTL (expiresIn) with each entry.
//
// Keyv has no list type, so the grant index is one entry holding [key, expiresAt] pairs, read-modified-written on every
// upsert of a grant-bound token. As upstream's redis example suggests ("consider using LTRIM here to trim the list"),
// entries already expired are dropped and the list is trimmed to the newest GRANT_INDEX_MAX keys, so it does not grow
// without bound under rotation (every refresh adds a refresh token and an access token to it). Tokens that fall off
// the index are still inert once their grant is revoked: oidc-provider checks the Grant on refresh and introspection.
import { Keyv } from 'keyv';

const grantable = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

export const GRANT_INDEX_MAX = 32;

const grantKeyFor = (id) => `grant:${id}`;
const userCodeKeyFor = (userCode) => `userCode:${userCode}`;
const uidKeyFor = (uid) => `uid:${uid}`;
const ttlMs = (expiresIn) => (typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn * 1000 : undefined);

/** Returns the adapter class for oidc-provider's `adapter` option, bound to one Keyv instance. */
export function keyvAdapter(keyv) {
  if (!(keyv instanceof Keyv)) throw new TypeError('keyvAdapter needs a Keyv instance');
  return class KeyvAdapter {
    constructor(name) {
      this.name = name;
    }

    key(id) {
      return `${this.name}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      const ttl = ttlMs(expiresIn);

      if (grantable.has(this.name) && payload.grantId) {
        const grantKey = grantKeyFor(payload.grantId);
        const now = Date.now();
        const expiresAt = ttl === undefined ? Infinity : now + ttl;
        const members = ((await keyv.get(grantKey)) ?? []).filter(([k, exp]) => k !== key && (exp === null || exp > now));
        members.push([key, Number.isFinite(expiresAt) ? expiresAt : null]);
        const kept = members.slice(-GRANT_INDEX_MAX);
        const latest = kept.some(([, exp]) => exp === null) ? undefined : Math.max(...kept.map(([, exp]) => exp)) - now;
        await keyv.set(grantKey, kept, latest);
      }

      if (payload.userCode) await keyv.set(userCodeKeyFor(payload.userCode), id, ttl);
      if (payload.uid) await keyv.set(uidKeyFor(payload.uid), id, ttl);

      await keyv.set(key, payload, ttl);
    }

    async find(id) {
      if (!id) return undefined;
      return (await keyv.get(this.key(id))) ?? undefined;
    }

    async findByUid(uid) {
      const id = await keyv.get(uidKeyFor(uid));
      return this.find(id);
    }

    async findByUserCode(userCode) {
      const id = await keyv.get(userCodeKeyFor(userCode));
      return this.find(id);
    }

    async destroy(id) {
      await keyv.delete(this.key(id));
    }

    async consume(id) {
      // Keyv has no partial update: read, mark consumed, write back with the remaining lifetime.
      const key = this.key(id);
      const raw = await keyv.getRaw(key);
      if (!raw) return;
      const ttl = typeof raw.expires === 'number' ? raw.expires - Date.now() : undefined;
      await keyv.set(key, { ...raw.value, consumed: Math.floor(Date.now() / 1000) }, ttl !== undefined && ttl > 0 ? ttl : undefined);
    }

    async revokeByGrantId(grantId) {
      const grantKey = grantKeyFor(grantId);
      const members = (await keyv.get(grantKey)) ?? [];
      for (const [key] of members) await keyv.delete(key);
      await keyv.delete(grantKey);
    }
  };
}
