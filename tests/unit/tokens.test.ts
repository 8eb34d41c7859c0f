/**
 * Random tokens come from a CSPRNG block that hands each byte out once (src/crypto/tokens.ts); the store's keys
 * are SHA-256 of the token, as 1.0.0 computed them, so links made before still refresh.
 */
import { expect } from '@jest/globals';
import { createHash } from 'node:crypto';
import { fingerprint, randomToken, safeEqual, tokenHash } from '../../src/crypto/tokens';

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
