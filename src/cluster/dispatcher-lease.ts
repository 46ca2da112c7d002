import type pg from 'pg';
import type { Logger } from 'pino';
import { openSessionClient, tryDispatcherLock } from '../store/postgres/postgres-cluster.js';

export interface DispatcherLeaseOptions {
  /** The PostgreSQL URL; the lease has a connection of its own. */
  url: string;
  /** Wait between attempts while another instance holds it, and between checks of the connection once held. */
  retryMs: number;
  logger: Logger;
  /**
   * The connection that holds the lease failed: PostgreSQL may give the lease to another instance
   * at any moment, so this one must stop dispatching at once (docs/scale-out.md §4, fencing).
   */
  onLost: (reason: string) => void;
}

/**
 * The right to dispatch (docs/scale-out.md §3): a PostgreSQL session-level advisory lock on a
 * connection of its own. PostgreSQL frees it when the session ends, so an instance killed with
 * SIGKILL, whose sockets the kernel closes, hands it on at once; TCP keepalives on the server's
 * side end a session whose instance is cut off.
 */
export class DispatcherLease {
  readonly #options: DispatcherLeaseOptions;
  #client: pg.Client | undefined;
  #held = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: DispatcherLeaseOptions) {
    this.#options = options;
  }

  get held(): boolean {
    return this.#held;
  }

  /** One attempt: true when this instance holds the lease now. A connection that fails is opened again at the next attempt. */
  async tryAcquire(): Promise<boolean> {
    if (this.#held) return true;
    try {
      this.#client ??= await this.#connect();
      this.#held = await tryDispatcherLock(this.#client);
    } catch (err) {
      this.#options.logger.warn({ err: (err as Error).message }, 'the dispatcher lease could not be tried; trying again');
      this.#drop();
    }
    if (this.#held) this.#watch();
    return this.#held;
  }

  /** Resolves once this instance holds the lease, trying every `retryMs`; never, once closed. */
  acquired(): Promise<void> {
    return new Promise((resolve) => {
      const attempt = async () => {
        if (this.#closed) return;
        if (await this.tryAcquire()) return resolve();
        this.#timer = setTimeout(() => void attempt(), this.#options.retryMs);
      };
      void attempt();
    });
  }

  /** Gives the lease up by ending its session. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    this.#held = false;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<pg.Client> {
    // Keepalives of the server's own end: a session whose instance is cut off ends, and frees the lease, within about 11 s.
    const client = await openSessionClient(this.#options.url, 'dispatcher lease', { tcp_keepalives_idle: 5, tcp_keepalives_interval: 2, tcp_keepalives_count: 3 });
    client.on('error', (err) => this.#lost(err.message));
    client.on('end', () => this.#lost('the connection ended'));
    return client;
  }

  /** A held lease is checked every `retryMs`, so that a connection that stopped answering is noticed. */
  #watch(): void {
    const check = () => {
      const client = this.#client;
      if (!client || !this.#held) return;
      const timeout = setTimeout(() => this.#lost('the database stopped answering'), Math.max(5000, this.#options.retryMs * 5));
      client
        .query('SELECT 1')
        .then(() => {
          clearTimeout(timeout);
          this.#timer = setTimeout(check, this.#options.retryMs);
        })
        .catch((err: Error) => {
          clearTimeout(timeout);
          this.#lost(err.message);
        });
    };
    this.#timer = setTimeout(check, this.#options.retryMs);
  }

  #lost(reason: string): void {
    if (this.#closed) return;
    const wasHeld = this.#held;
    this.#drop();
    if (wasHeld) this.#options.onLost(reason);
  }

  #drop(): void {
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    this.#held = false;
    client?.removeAllListeners();
    client?.on('error', () => undefined);
    void client?.end().catch(() => undefined);
  }
}
