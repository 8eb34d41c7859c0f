/** Random tokens, their storage hashes and log fingerprints. Raw tokens exist only in responses and requests. */
import { hash, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';

/**
 * Random bytes are drawn from the CSPRNG a block at a time and each byte is handed out once: a call into OpenSSL
 * costs ~7 µs, two per refresh, where slicing a block costs 0.1 µs (Node's randomUUID() caches the same way). The
 * block is small, so a memory dump would show few tokens not yet issued.
 */
const POOL_BYTES = 1024;
const pool = Buffer.alloc(POOL_BYTES);
let poolAt = POOL_BYTES;

/** Where the next `bytes` (at most POOL_BYTES) random bytes start in the pool, refilling it first if it runs short. */
function takeRandom(bytes: number): number {
  if (poolAt + bytes > POOL_BYTES) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += bytes;
  return poolAt - bytes;
}

/** 256 bits of entropy, base64url: unguessable and URL-safe (RFC 6749 §10.10). */
export function randomToken(bytes = 32): string {
  if (bytes > POOL_BYTES) return randomBytes(bytes).toString('base64url');
  const at = takeRandom(bytes);
  return pool.toString('base64url', at, at + bytes);
}

/** Fills `length` bytes of `target` from `offset` with random bytes from the same pool. */
function randomInto(target: Buffer, offset: number, length: number): void {
  const at = takeRandom(length);
  pool.copy(target, offset, at, at + length);
}

/** What the store is keyed by: SHA-256 of the token, so a copy of the database grants nothing. */
export function tokenHash(token: string): string {
  return hash('sha256', token, 'base64url');
}

/** A grant's id as the server makes them (and 1.0.0 made them): 22 characters of base64url. */
const GRANT_ID = /^[\w-]{22}$/;
/** A refresh token: its grant's id, a dot, then 256 random bits. */
const GRANT_TOKEN = /^([\w-]{22})\.[\w-]{43}$/;
const GRANT_TOKEN_LENGTH = 22 + 1 + 43;

/** What a signed refresh token says about itself, once its MAC is checked. */
export interface SignedRefresh {
  grantId: string;
  /** The generation of its grant it was issued in (refresh-policy.ts). */
  generation: number;
  /** When it was issued, to the minute (ms). */
  issuedAt: number;
}

/**
 * The secret's 32 bytes: the generation (4), the minute it was issued (4), random (8), then the first 16 bytes of
 * the HMAC of those and the grant id.
 */
const SIGNED_HEAD = 16;
const MINUTE = 60_000;
const SIGNED_BYTES = 32;

/** SHA-256's block size: HMAC pads its key to it (RFC 2104 §2). */
const HMAC_BLOCK = 64;

/**
 * HMAC-SHA-256 (RFC 2104) from two one-shot hashes: the same bytes as createHmac (tests/unit/tokens.test.ts
 * compares them). createHmac makes a native object per call, which the garbage collector finalises: under a refresh
 * load that cost about 18 µs per refresh more than this (docs/benchmark.md, "The refresh path, once more").
 */
export function hmacSha256(key: Buffer, message: Buffer): Buffer {
  const k = key.length > HMAC_BLOCK ? hash('sha256', key, 'buffer') : key;
  const inner = Buffer.alloc(HMAC_BLOCK + message.length, 0x36);
  const outer = Buffer.alloc(HMAC_BLOCK + 32, 0x5c);
  for (let i = 0; i < k.length; i++) {
    const byte = k[i]!;
    inner[i] = 0x36 ^ byte;
    outer[i] = 0x5c ^ byte;
  }
  message.copy(inner, HMAC_BLOCK);
  hash('sha256', inner, 'buffer').copy(outer, HMAC_BLOCK);
  return hash('sha256', outer, 'buffer');
}

/** The MAC part of a signed secret: the first bytes of HMAC-SHA-256 over the grant id, a dot and the head. */
function refreshMac(key: Buffer, grantId: string, head: Buffer): Buffer {
  // The grant id is base64url (GRANT_ID): one byte per character.
  const message = Buffer.allocUnsafe(grantId.length + 1 + head.length);
  message.write(`${grantId}.`, 'latin1');
  head.copy(message, grantId.length + 1);
  return hmacSha256(key, message).subarray(0, SIGNED_BYTES - SIGNED_HEAD);
}

/**
 * A new refresh token: `<grant id>.<secret>`. The id is not secret (the admin page and the trace show it); it puts
 * the token's record beside its grant's in the store (see tokenKey). With its grant's key, the secret carries the
 * generation and the minute it is issued in and a MAC over them: a token issued after the database's state (a
 * backup restored) can then still be recognised as one this server issued for this grant (readSignedRefresh). 64
 * random bits keep tokens apart; the 128-bit MAC makes them unguessable without the key.
 */
export function refreshTokenFor(grantId: string, signing?: { key: Buffer; generation: number; now: number }): string {
  if (!GRANT_ID.test(grantId)) return randomToken();
  if (!signing) return `${grantId}.${randomToken()}`;
  // From Buffer's shared pool, and the random bytes from ours: a refresh allocates as little as it can.
  const secret = Buffer.allocUnsafe(SIGNED_BYTES);
  secret.writeUInt32BE(signing.generation >>> 0, 0);
  secret.writeUInt32BE(Math.floor(signing.now / MINUTE) >>> 0, 4);
  randomInto(secret, 8, SIGNED_HEAD - 8);
  refreshMac(signing.key, grantId, secret.subarray(0, SIGNED_HEAD)).copy(secret, SIGNED_HEAD);
  return `${grantId}.${secret.toString('base64url')}`;
}

/** The grant a refresh token names (`<grant id>.<secret>`), if it names one. */
export function grantIdOf(token: string): string | undefined {
  return GRANT_TOKEN.exec(token)?.[1];
}

/** The grant, generation and issue time of a refresh token signed with `key`; undefined for any other string. */
export function readSignedRefresh(token: string, key: Buffer): SignedRefresh | undefined {
  const grantId = grantIdOf(token);
  if (grantId === undefined) return undefined;
  const text = token.slice(grantId.length + 1);
  const secret = Buffer.from(text, 'base64url');
  // Only the one spelling of the bytes: a variant in the last character's unused bits is another string.
  if (secret.length !== SIGNED_BYTES || secret.toString('base64url') !== text) return undefined;
  const head = secret.subarray(0, SIGNED_HEAD);
  if (!timingSafeEqual(refreshMac(key, grantId, head), secret.subarray(SIGNED_HEAD))) return undefined;
  return { grantId, generation: head.readUInt32BE(0), issuedAt: head.readUInt32BE(4) * MINUTE };
}

/** An access token: the second it was issued in (8 hex digits), a dot, then 256 random bits. */
const STAMPED_TOKEN = /^([0-9a-f]{8})\.[\w-]{43}$/;
const STAMPED_TOKEN_LENGTH = 8 + 1 + 43;

/**
 * A new access token: `<issue second>.<secret>`, the second in hex, so its record's key sorts by when it was issued
 * (see tokenKey). The time is no secret (expires_in says as much); the 256 random bits make the token unguessable.
 */
export function accessTokenAt(now: number): string {
  return `${Math.floor(now / 1000)
    .toString(16)
    .padStart(8, '0')}.${randomToken()}`;
}

/**
 * The store's key of an access or refresh token, from the token itself:
 * - `<grant id>/<SHA-256 of the whole token>` for a refresh token that names its grant: its row sits beside its
 *   grant's (store/records.ts);
 * - `<issue second>.<SHA-256>` for an access token that carries when it was issued: rows in the order they were
 *   issued, so the tokens in use (the last hour's) share a few pages at the end, however many old ones are there;
 * - the bare SHA-256 for any other (access tokens from before they carried the second, refresh tokens from before
 *   they named their grant).
 * A made-up grant id or second only changes where the lookup looks.
 */
export function tokenKey(token: string): string {
  // The two forms have lengths of their own, so at most one pattern runs (introspections are most requests).
  const named = token.length === GRANT_TOKEN_LENGTH ? GRANT_TOKEN.exec(token) : null;
  if (named) return `${named[1]}/${tokenHash(token)}`;
  const stamped = token.length === STAMPED_TOKEN_LENGTH ? STAMPED_TOKEN.exec(token) : null;
  return stamped ? `${stamped[1]}.${tokenHash(token)}` : tokenHash(token);
}

/** A short, non-reversible tag that lets an operator match log lines about the same secret. */
export function fingerprint(secret: string | undefined): string {
  if (secret === undefined || secret === '') return '(none)';
  return `#${hash('sha256', secret, 'hex').slice(0, 8)}`;
}

/** A secret as safeEqual compares it: its SHA-256 and its length. A configured secret is hashed once, at start. */
export interface SecretDigest {
  readonly sha256: Buffer;
  readonly length: number;
}

export function secretDigest(secret: string): SecretDigest {
  return { sha256: hash('sha256', secret, 'buffer'), length: secret.length };
}

/** Whether `presented` is the secret of `expected`, in constant time; only the presented one is hashed. */
export function matchesSecret(presented: string, expected: SecretDigest): boolean {
  return timingSafeEqual(hash('sha256', presented, 'buffer'), expected.sha256) && presented.length === expected.length;
}

/** Constant-time string comparison; compares hashes so unequal lengths leak nothing either. */
export function safeEqual(a: string, b: string): boolean {
  return matchesSecret(a, secretDigest(b));
}
