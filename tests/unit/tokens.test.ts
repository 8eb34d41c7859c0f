/**
 * Random tokens come from a CSPRNG block that hands each byte out once (src/crypto/tokens.ts). Refresh tokens name
 * their grant, and the store keys them by that id and their SHA-256; access tokens carry the second they were issued
 * in, and are keyed by it and their SHA-256; any other token (access and refresh tokens from 1.0.0 and earlier
 * builds) is keyed by its SHA-256 alone, as 1.0.0 computed it, so links made before still refresh.
 */
import { expect } from '@jest/globals';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import {
  accessTokenAt,
  fingerprint,
  hmacSha256,
  randomToken,
  readSignedRefresh,
  refreshTokenFor,
  matchesSecret,
  safeEqual,
  secretDigest,
  tokenHash,
  tokenKey,
} from '../../src/crypto/tokens';

it('tokens are base64url of the bytes asked for, and never repeat, across many refills of the block', () => {
  const seen = new Set<string>();
  // 3 lengths interleaved, ~40 refills of the 1 KiB block, some requests straddling a block's end.
  for (let i = 0; i < 2000; i++) {
    const bytes = [32, 16, 24][i % 3] ?? 32;
    const token = randomToken(bytes);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(token, 'base64url').length).toBe(bytes);
    expect(seen.has(token)).toBe(false);
    seen.add(token);
  }
  // Larger than the block: drawn directly.
  expect(Buffer.from(randomToken(4096), 'base64url').length).toBe(4096);
});

it('tokens differ in every byte position (no block hands out zeros or the same bytes twice)', () => {
  const tokens = Array.from({ length: 200 }, () => Buffer.from(randomToken(), 'base64url'));
  for (let pos = 0; pos < 32; pos++) expect(new Set(tokens.map((t) => t[pos])).size).toBeGreaterThan(100);
});

it('hashes and fingerprints are SHA-256 as stored by every earlier version', () => {
  for (const token of ['abc', 'é😀x', 'x'.repeat(5000)]) {
    expect(tokenHash(token)).toBe(createHash('sha256').update(token, 'utf8').digest('base64url'));
    expect(fingerprint(token)).toBe(`#${createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 8)}`);
  }
  expect(fingerprint('')).toBe('(none)');
  expect(safeEqual('secret-one', 'secret-one')).toBe(true);
  expect(safeEqual('secret-one', 'secret-two')).toBe(false);
  expect(safeEqual('secret', 'secret-longer')).toBe(false);
});

it('a configured secret hashed once matches what safeEqual matches', () => {
  for (const configured of ['', 'secret-one', 'é😀x', 'x'.repeat(5000)]) {
    const digest = secretDigest(configured);
    for (const presented of [configured, `${configured}x`, configured.slice(0, -1), 'secret-two', '']) {
      expect(matchesSecret(presented, digest)).toBe(presented === configured);
      expect(safeEqual(presented, configured)).toBe(presented === configured);
    }
  }
});

describe('refresh tokens name their grant', () => {
  const grantId = randomToken(16).slice(0, 22);
  const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('base64url');

  it('a token is the grant id, a dot and 256 random bits; its key is the grant id and the hash of the whole token', () => {
    const tokens = Array.from({ length: 50 }, () => refreshTokenFor(grantId));
    expect(new Set(tokens).size).toBe(50);
    for (const token of tokens) {
      const [id, secret, ...rest] = token.split('.');
      expect(id).toBe(grantId);
      expect(rest).toEqual([]);
      expect(Buffer.from(secret!, 'base64url')).toHaveLength(32);
      expect(tokenKey(token)).toBe(`${grantId}/${sha256(token)}`);
    }
  });

  it('tokens without a well-formed grant id (access tokens, older refresh tokens) are keyed by their hash alone', () => {
    const legacy = randomToken();
    expect(tokenKey(legacy)).toBe(sha256(legacy));
    expect(tokenKey(legacy)).toBe(tokenHash(legacy));
    const secret = randomToken();
    for (const token of [
      `${grantId.slice(1)}.${secret}`, // id too short
      `${grantId}x.${secret}`, // id too long
      `${grantId}.${secret}x`, // secret too long
      `${grantId}.${secret}.x`,
      `${grantId.slice(0, 21)}/.${secret}`, // a slash could reach into another key
      `${grantId}.${secret}\n`,
      '',
    ]) {
      expect(tokenKey(token)).toBe(sha256(token));
      expect(tokenKey(token)).not.toContain('/');
    }
  });

  it('the same secret under another grant id is another key: a made-up id never finds a token', () => {
    const token = refreshTokenFor(grantId);
    const otherId = randomToken(16).slice(0, 22);
    const forged = `${otherId}.${token.split('.')[1]}`;
    expect(tokenKey(forged)).not.toBe(tokenKey(token));
    expect(tokenKey(forged).split('/')[1]).not.toBe(tokenKey(token).split('/')[1]);
  });

  it('a grant id the server did not make gets a token without one', () => {
    const token = refreshTokenFor('not/a-grant-id');
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(tokenKey(token)).toBe(sha256(token));
  });
});

describe('access tokens carry the second they were issued in', () => {
  const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('base64url');

  it('a token is the second in 8 hex digits, a dot and 256 random bits; its key is the second and the hash of the whole token', () => {
    const now = Date.parse('2026-12-03T12:34:56.789Z');
    const tokens = Array.from({ length: 50 }, () => accessTokenAt(now));
    expect(new Set(tokens).size).toBe(50);
    const second = Math.floor(now / 1000).toString(16);
    for (const token of tokens) {
      const [stamp, secret, ...rest] = token.split('.');
      expect(stamp).toBe(second);
      expect(rest).toEqual([]);
      expect(Buffer.from(secret!, 'base64url')).toHaveLength(32);
      expect(tokenKey(token)).toBe(`${second}.${sha256(token)}`);
    }
    expect(accessTokenAt(0).split('.')[0]).toBe('00000000');
  });

  it('keys sort in the order the tokens were issued, across digit boundaries (each in a second of its own)', () => {
    const times = [0, 1000, 15_000, 16_000, 255_000, 256_000, Date.parse('2026-12-03T12:00:00Z'), Date.parse('2106-02-07T06:28:15Z')];
    const keys = times.map((t) => tokenKey(accessTokenAt(t)));
    expect([...keys].sort()).toEqual(keys);
  });

  it('the same secret under another second is another key; malformed ones are keyed by their hash alone', () => {
    const token = accessTokenAt(Date.now());
    const [, secret] = token.split('.') as [string, string];
    const moved = `00000001.${secret}`;
    expect(tokenKey(moved)).not.toBe(tokenKey(token));
    expect(tokenKey(moved).split('.')[1]).not.toBe(tokenKey(token).split('.')[1]);
    for (const other of [
      `6A00000f.${secret}`,
      `0000001.${secret}`,
      `000000001.${secret}`,
      `00000001.${secret}x`,
      `00000001/.${secret}`,
      `00000001.${secret}\n`,
    ]) {
      expect(tokenKey(other)).toBe(sha256(other));
    }
  });
});

describe('HMAC-SHA-256 from one-shot hashes', () => {
  it('RFC 4231 test cases 2 and 6 (a short key, a key longer than the block)', () => {
    expect(hmacSha256(Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?')).toString('hex')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    expect(hmacSha256(Buffer.alloc(131, 0xaa), Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First')).toString('hex')).toBe(
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    );
  });

  it('the same bytes as createHmac for every key length from 0 to 130 and messages of 0 to 200 bytes', () => {
    for (let keyLength = 0; keyLength <= 130; keyLength++) {
      const key = randomBytes(keyLength);
      for (const messageLength of [0, 1, 39, 55, 56, 63, 64, 65, 200]) {
        const message = randomBytes(messageLength);
        expect(hmacSha256(key, message).equals(createHmac('sha256', key).update(message).digest())).toBe(true);
      }
    }
  });
});

describe('signed refresh tokens (a restored backup recognises them)', () => {
  const grantId = randomToken(16).slice(0, 22);
  const key = randomBytes(32);

  it.each([0, 1, 7, 2 ** 31, 2 ** 32 - 1])('generation %i: read back with its grant; 50 tokens all differ', (generation) => {
    const now = Date.parse('2026-12-03T12:34:56.789Z');
    const tokens = Array.from({ length: 50 }, () => refreshTokenFor(grantId, { key, generation, now }));
    expect(new Set(tokens).size).toBe(50);
    for (const token of tokens) {
      expect(token).toMatch(/^[\w-]{22}\.[\w-]{43}$/);
      expect(readSignedRefresh(token, key)).toEqual({ grantId, generation, issuedAt: Date.parse('2026-12-03T12:34:00Z') });
    }
  });

  it('a token signed with createHmac, as the builds before signed them, still reads back', () => {
    const head = Buffer.alloc(16);
    head.writeUInt32BE(9, 0);
    head.writeUInt32BE(Math.floor(Date.parse('2026-12-01T08:00:00Z') / 60_000), 4);
    randomBytes(8).copy(head, 8);
    const mac = createHmac('sha256', key).update(grantId).update('.').update(head).digest().subarray(0, 16);
    const token = `${grantId}.${Buffer.concat([head, mac]).toString('base64url')}`;
    expect(readSignedRefresh(token, key)).toEqual({ grantId, generation: 9, issuedAt: Date.parse('2026-12-01T08:00:00Z') });
  });

  it('refused: another key, another grant id, any character changed, another spelling of the same bytes, anything unsigned', () => {
    const token = refreshTokenFor(grantId, { key, generation: 3, now: Date.now() });
    const [, secret] = token.split('.') as [string, string];
    expect(readSignedRefresh(token, randomBytes(32))).toBeUndefined();
    expect(readSignedRefresh(`${randomToken(16).slice(0, 22)}.${secret}`, key)).toBeUndefined();
    for (let i = 0; i < secret.length; i++) {
      const changed = secret.slice(0, i) + (secret[i] === 'A' ? 'B' : 'A') + secret.slice(i + 1);
      expect(readSignedRefresh(`${grantId}.${changed}`, key)).toBeUndefined();
    }
    for (const other of [refreshTokenFor(grantId), randomToken(), `${token}x`, token.slice(0, -1), ''])
      expect(readSignedRefresh(other, key)).toBeUndefined();
  });
});
