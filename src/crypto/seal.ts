/**
 * Authenticated encryption (AES-256-GCM) of small JSON values the server hands to a browser and must get back
 * unchanged and unread: a pending authorization request travels in the login and consent forms instead of the
 * database, so an anonymous request writes nothing to disk (a flood cannot fill it).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Encrypts and authenticates `value`; `purpose` is bound in, so a blob made for one use is refused by another. */
export function seal(key: Buffer, purpose: string, value: unknown): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(purpose, 'utf8'));
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The sealed value, or undefined for anything forged, truncated, made with another key or for another purpose. */
export function unseal<T>(key: Buffer, purpose: string, sealed: string): T | undefined {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES + 2) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(purpose, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** A value derived from the key that only its holder can compute again (e.g. the code of a decided consent). */
export function derive(key: Buffer, purpose: string, input: string): string {
  return createHmac('sha256', key).update(`${purpose}\0${input}`, 'utf8').digest('base64url');
}

export function newKey(): Buffer {
  return randomBytes(32);
}
