import { digestMatches, type UploadTokenStore } from '../upload-tokens.js';
import type { Queryable } from './postgres-pool.js';

/** The upload tokens of src/store/upload-tokens.ts, their SHA-256 kept in the job's row in PostgreSQL. */
export class PostgresUploadTokens implements UploadTokenStore {
  constructor(private readonly db: Queryable) {}

  async matches(jobId: string, token: string): Promise<boolean> {
    const { rows } = await this.db.query<{ upload_token_hash: Buffer | null }>('SELECT upload_token_hash FROM jobs WHERE id = $1', [jobId]);
    return digestMatches(rows[0]?.upload_token_hash, token);
  }
}
