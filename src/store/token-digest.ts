import { createHash } from 'node:crypto';

/** Bearer tokens are random and long, so a plain SHA-256 (no slow hash) is what is stored and looked up. */
export const tokenDigest = (token: string): Buffer => createHash('sha256').update(token).digest();
