import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Database } from './database.js';
import { tokenDigest } from './token-digest.js';


/**
 * Per-job bearer tokens with which a job's agent uploads its output files. Only their SHA-256
 * is kept, in the job's row, so uploads keep working across a restart and a copy of the
 * database grants nothing.
 */
export class UploadTokens {
  readonly #save: Statement<[{ id: string; hash: Buffer }]>;
  readonly #load: Statement<[string], { upload_token_hash: Buffer | null }>;

  constructor(db: Database) {
    this.#save = db.prepare('UPDATE jobs SET upload_token_hash = @hash WHERE id = @id');
    this.#load = db.prepare('SELECT upload_token_hash FROM jobs WHERE id = ?');
  }

  /** A new token for the job (32 random bytes, base64url); it replaces the job's earlier one. */
  issue(jobId: string): string {
    const token = randomBytes(32).toString('base64url');
    this.#save.run({ id: jobId, hash: tokenDigest(token) });
    return token;
  }

  /** Whether `token` is the job's current token, compared in constant time. */
  matches(jobId: string, token: string): boolean {
    const stored = this.#load.get(jobId)?.upload_token_hash;
    const given = tokenDigest(token);
    return stored != null && stored.length === given.length && timingSafeEqual(stored, given);
  }
}
