import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Database } from './database.js';
import { tokenDigest } from './token-digest.js';

/**
 * Where upload tokens are checked: SQLite answers at once, a database server later. A token is
 * made for each dispatch and its digest written with it (`JobStoreApi.assign`).
 */
export interface UploadTokenStore {
  /** Whether `token` is the job's current token. */
  matches(jobId: string, token: string): boolean | Promise<boolean>;
}

/** 32 random bytes, base64url. */
export const newUploadToken = (): string => randomBytes(32).toString('base64url');

/** Whether `token` hashes to the stored digest, compared in constant time. */
export function digestMatches(stored: Buffer | null | undefined, token: string): boolean {
  const given = tokenDigest(token);
  return stored != null && stored.length === given.length && timingSafeEqual(stored, given);
}

/**
 * Per-job bearer tokens with which a job's agent uploads its output files. Only their SHA-256
 * is kept, in the job's row, so uploads keep working across a restart and a copy of the
 * database grants nothing.
 */
export class UploadTokens implements UploadTokenStore {
  readonly #load: Statement<[string], { upload_token_hash: Buffer | null }>;

  constructor(db: Database) {
    this.#load = db.prepare('SELECT upload_token_hash FROM jobs WHERE id = ?');
  }

  matches(jobId: string, token: string): boolean {
    return digestMatches(this.#load.get(jobId)?.upload_token_hash, token);
  }
}
