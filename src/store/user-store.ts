import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Statement } from 'better-sqlite3';
import type { Database } from './database.js';
import { tokenDigest } from './token-digest.js';

export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Owner of the jobs of requests without a token; no user may take this name. */
export const ANONYMOUS = 'anonymous';

const USER_NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

/** Why `name` cannot be a user's name, or undefined when it can. */
export function userNameProblem(name: string): string | undefined {
  if (!USER_NAME.test(name)) return `a user name is 1 to 64 letters, digits, '_', '.', '@' or '-'; got '${name}'`;
  if (name === ANONYMOUS) return `'${ANONYMOUS}' is the owner of jobs submitted without a token; it cannot be a user`;
  return undefined;
}

/** Per-user overrides of the configured limits; null keeps the default. */
export interface LimitOverrides {
  maxRunning: number | null;
  maxWaiting: number | null;
}

export interface UserRecord {
  name: string;
  role: Role;
  created: string;
  limits: LimitOverrides;
}

/** A token as it may be shown: never the token itself, never its hash. */
export interface TokenRecord {
  id: string;
  user: string;
  label: string | null;
  created: string;
  revoked: string | null;
}

export interface IssuedToken extends TokenRecord {
  /** The bearer token; it exists only in this answer, the store keeps its SHA-256. */
  token: string;
}

export type Authentication = { ok: true; user: { name: string; role: Role; tokenId: string } } | { ok: false; reason: 'unknown' | 'revoked' };

export interface UserStoreEvents {
  /** A token was revoked: through this store, or (on PostgreSQL) by another orchestrator. */
  'token-revoked': [id: string];
}

/**
 * Users and their tokens, on either engine. Reads are synchronous, as a token is looked up on every
 * request; writes resolve once stored, and are then seen by every read of this orchestrator.
 */
export interface UserStoreApi {
  /** Creates the user; undefined when the name is taken. The name must pass `userNameProblem`. */
  create(name: string, role: Role, now?: Date): Promise<UserRecord | undefined>;
  get(name: string): UserRecord | undefined;
  list(): UserRecord[];
  /** Replaces the user's overrides; undefined when there is no such user. */
  setLimits(name: string, limits: LimitOverrides): Promise<UserRecord | undefined>;
  /** A new token for an existing user: `opt_<id>_<32 random bytes, base64url>`. */
  issueToken(user: string, label: string | null, now?: Date): Promise<IssuedToken>;
  tokens(user: string): TokenRecord[];
  /** Revokes the token (a second revocation keeps the first time); undefined when there is no such token. */
  revokeToken(id: string, now?: Date): Promise<TokenRecord | undefined>;
  isTokenLive(id: string): boolean;
  authenticate(token: string): Authentication;
  on(event: 'token-revoked', listener: (id: string) => void): unknown;
  off(event: 'token-revoked', listener: (id: string) => void): unknown;
  listenerCount(event: 'token-revoked'): number;
}

/** A new bearer token and what the store keeps of it: `opt_<id>_<32 random bytes, base64url>`. */
export function newUserToken(): { id: string; token: string; hash: Buffer } {
  const id = randomBytes(8).toString('hex');
  const token = `opt_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, token, hash: tokenDigest(token) };
}

export interface UserRow {
  name: string;
  role: Role;
  created: string;
  max_running: number | null;
  max_waiting: number | null;
}

export const TOKEN_COLUMNS = 'id, user_name AS user, label, created, revoked';
export const toUser = (row: UserRow): UserRecord => ({
  name: row.name,
  role: row.role,
  created: row.created,
  limits: { maxRunning: row.max_running, maxWaiting: row.max_waiting },
});

/**
 * Users, their roles and limits, and their bearer tokens, in SQLite. Tokens are looked up by their SHA-256
 * on every request, so a revocation takes effect at once, also when another process (the
 * `outpost token` command) made the change. Revocations made here are also announced, for what
 * outlives a request (event streams).
 */
export class UserStore extends EventEmitter<UserStoreEvents> implements UserStoreApi {
  readonly #insertUser: Statement<[{ name: string; role: Role; created: string }]>;
  readonly #selectUser: Statement<[string], UserRow>;
  readonly #selectUsers: Statement<[], UserRow>;
  readonly #updateLimits: Statement<[{ name: string; max_running: number | null; max_waiting: number | null }]>;
  readonly #insertToken: Statement<[{ id: string; user: string; hash: Buffer; label: string | null; created: string }]>;
  readonly #selectTokens: Statement<[string], TokenRecord>;
  readonly #selectToken: Statement<[string], TokenRecord>;
  readonly #revoke: Statement<[{ id: string; now: string }]>;
  readonly #selectByHash: Statement<[Buffer], { id: string; revoked: string | null; name: string; role: Role }>;
  readonly #selectLive: Statement<[string], { id: string }>;

  constructor(db: Database) {
    super();
    this.setMaxListeners(0);
    this.#insertUser = db.prepare('INSERT INTO users (name, role, created) VALUES (@name, @role, @created) ON CONFLICT (name) DO NOTHING');
    this.#selectUser = db.prepare('SELECT * FROM users WHERE name = ?');
    this.#selectUsers = db.prepare('SELECT * FROM users ORDER BY name');
    this.#updateLimits = db.prepare('UPDATE users SET max_running = @max_running, max_waiting = @max_waiting WHERE name = @name');
    this.#insertToken = db.prepare('INSERT INTO tokens (id, user_name, hash, label, created) VALUES (@id, @user, @hash, @label, @created)');
    this.#selectTokens = db.prepare(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE user_name = ? ORDER BY created, id`);
    this.#selectToken = db.prepare(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE id = ?`);
    this.#revoke = db.prepare('UPDATE tokens SET revoked = coalesce(revoked, @now) WHERE id = @id');
    this.#selectByHash = db.prepare('SELECT t.id, t.revoked, u.name, u.role FROM tokens t JOIN users u ON u.name = t.user_name WHERE t.hash = ?');
    this.#selectLive = db.prepare('SELECT t.id FROM tokens t JOIN users u ON u.name = t.user_name WHERE t.id = ? AND t.revoked IS NULL');
  }

  async create(name: string, role: Role, now = new Date()): Promise<UserRecord | undefined> {
    if (this.#insertUser.run({ name, role, created: now.toISOString() }).changes === 0) return undefined;
    return this.get(name);
  }

  get(name: string): UserRecord | undefined {
    const row = this.#selectUser.get(name);
    return row && toUser(row);
  }

  list(): UserRecord[] {
    return this.#selectUsers.all().map(toUser);
  }

  async setLimits(name: string, limits: LimitOverrides): Promise<UserRecord | undefined> {
    this.#updateLimits.run({ name, max_running: limits.maxRunning, max_waiting: limits.maxWaiting });
    return this.get(name);
  }

  async issueToken(user: string, label: string | null, now = new Date()): Promise<IssuedToken> {
    const { id, token, hash } = newUserToken();
    const created = now.toISOString();
    this.#insertToken.run({ id, user, hash, label, created });
    return { id, user, label, created, revoked: null, token };
  }

  tokens(user: string): TokenRecord[] {
    return this.#selectTokens.all(user);
  }

  async revokeToken(id: string, now = new Date()): Promise<TokenRecord | undefined> {
    this.#revoke.run({ id, now: now.toISOString() });
    const token = this.#selectToken.get(id);
    if (token) this.emit('token-revoked', id);
    return token;
  }

  isTokenLive(id: string): boolean {
    return this.#selectLive.get(id) !== undefined;
  }

  authenticate(token: string): Authentication {
    const row = this.#selectByHash.get(tokenDigest(token));
    if (!row) return { ok: false, reason: 'unknown' };
    if (row.revoked !== null) return { ok: false, reason: 'revoked' };
    return { ok: true, user: { name: row.name, role: row.role, tokenId: row.id } };
  }
}
