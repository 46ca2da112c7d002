import { EventEmitter } from 'node:events';
import { tokenDigest } from '../token-digest.js';
import {
  TOKEN_COLUMNS,
  newUserToken,
  toUser,
  type Authentication,
  type IssuedToken,
  type LimitOverrides,
  type Role,
  type TokenRecord,
  type UserRecord,
  type UserRow,
  type UserStoreApi,
  type UserStoreEvents,
} from '../user-store.js';
import { ALL_ROWS, announce, type ChangeFeed } from './change-feed.js';
import type { Queryable } from './postgres-pool.js';

interface TokenRow extends TokenRecord {
  hash: Buffer;
}

const byCreation = (a: TokenRecord, b: TokenRecord) => (a.created === b.created ? (a.id < b.id ? -1 : 1) : a.created < b.created ? -1 : 1);

/**
 * The users and tokens of src/store/user-store.ts in PostgreSQL, shared by every orchestrator.
 * Each one keeps a copy in memory, read on every request, loaded when opened and reloaded row by
 * row as the change feed reports other orchestrators' writes (docs/decisions.md, Scale-out): a
 * token revoked anywhere stops working here as soon as that revocation is committed and heard.
 */
export class PostgresUserStore extends EventEmitter<UserStoreEvents> implements UserStoreApi {
  readonly #users = new Map<string, UserRecord>();
  readonly #tokens = new Map<string, TokenRow>();
  /** Token ids by the hex of their SHA-256. */
  readonly #byDigest = new Map<string, string>();
  /** Tokens this orchestrator is revoking: it announces those itself, also when it hears its own write first. */
  readonly #revoking = new Set<string>();

  private constructor(private readonly db: Queryable) {
    super();
    this.setMaxListeners(0);
  }

  static async open(db: Queryable, changes: ChangeFeed): Promise<PostgresUserStore> {
    const store = new PostgresUserStore(db);
    changes.on('users', (name) => store.#reloadUsers(name));
    changes.on('tokens', (id) => store.#reloadTokens(id, true));
    await store.#reloadUsers(ALL_ROWS);
    await store.#reloadTokens(ALL_ROWS);
    return store;
  }

  async create(name: string, role: Role, now = new Date()): Promise<UserRecord | undefined> {
    const { rows } = await this.db.query(
      `WITH created AS (INSERT INTO users (name, role, created) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING RETURNING name)
       SELECT ${announce('users', 'name')} FROM created`,
      [name, role, now.toISOString()],
    );
    if (rows.length === 0) return undefined;
    await this.#reloadUsers(name);
    return this.get(name);
  }

  get(name: string): UserRecord | undefined {
    return this.#users.get(name);
  }

  list(): UserRecord[] {
    return [...this.#users.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async setLimits(name: string, limits: LimitOverrides): Promise<UserRecord | undefined> {
    await this.db.query(
      `WITH changed AS (UPDATE users SET max_running = $2, max_waiting = $3 WHERE name = $1 RETURNING name)
       SELECT ${announce('users', 'name')} FROM changed`,
      [name, limits.maxRunning, limits.maxWaiting],
    );
    await this.#reloadUsers(name);
    return this.get(name);
  }

  async issueToken(user: string, label: string | null, now = new Date()): Promise<IssuedToken> {
    const { id, token, hash } = newUserToken();
    const created = now.toISOString();
    await this.db.query(
      `WITH issued AS (INSERT INTO tokens (id, user_name, hash, label, created) VALUES ($1, $2, $3, $4, $5) RETURNING id)
       SELECT ${announce('tokens', 'id')} FROM issued`,
      [id, user, hash, label, created],
    );
    await this.#reloadTokens(id);
    return { id, user, label, created, revoked: null, token };
  }

  tokens(user: string): TokenRecord[] {
    return [...this.#tokens.values()].filter((token) => token.user === user).sort(byCreation).map(({ hash: _hash, ...token }) => token);
  }

  async revokeToken(id: string, now = new Date()): Promise<TokenRecord | undefined> {
    this.#revoking.add(id);
    try {
      await this.db.query(
        `WITH changed AS (UPDATE tokens SET revoked = coalesce(revoked, $2) WHERE id = $1 RETURNING id)
         SELECT ${announce('tokens', 'id')} FROM changed`,
        [id, now.toISOString()],
      );
      await this.#reloadTokens(id);
    } finally {
      this.#revoking.delete(id);
    }
    const token = this.#tokens.get(id);
    if (!token) return undefined;
    this.emit('token-revoked', id);
    const { hash: _hash, ...record } = token;
    return record;
  }

  isTokenLive(id: string): boolean {
    const token = this.#tokens.get(id);
    return token !== undefined && token.revoked === null && this.#users.has(token.user);
  }

  authenticate(token: string): Authentication {
    const id = this.#byDigest.get(tokenDigest(token).toString('hex'));
    const row = id === undefined ? undefined : this.#tokens.get(id);
    const user = row && this.#users.get(row.user);
    if (!row || !user) return { ok: false, reason: 'unknown' };
    if (row.revoked !== null) return { ok: false, reason: 'revoked' };
    return { ok: true, user: { name: user.name, role: user.role, tokenId: row.id } };
  }

  async #reloadUsers(name: string): Promise<void> {
    const all = name === ALL_ROWS;
    const { rows } = await this.db.query<UserRow>(`SELECT * FROM users${all ? '' : ' WHERE name = $1'}`, all ? [] : [name]);
    if (all) this.#users.clear();
    for (const row of rows) this.#users.set(row.name, toUser(row));
  }

  /** Reloads the token(s); `heard` when another orchestrator changed them, whose revocations are then announced here. */
  async #reloadTokens(id: string, heard = false): Promise<void> {
    const all = id === ALL_ROWS;
    const { rows } = await this.db.query<TokenRow>(`SELECT ${TOKEN_COLUMNS}, hash FROM tokens${all ? '' : ' WHERE id = $1'}`, all ? [] : [id]);
    for (const row of rows) {
      const wasLive = this.#tokens.get(row.id)?.revoked === null;
      this.#tokens.set(row.id, row);
      this.#byDigest.set(row.hash.toString('hex'), row.id);
      if (heard && wasLive && row.revoked !== null && !this.#revoking.has(row.id)) this.emit('token-revoked', row.id);
    }
  }
}
