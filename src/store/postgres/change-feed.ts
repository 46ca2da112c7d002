import pg from 'pg';

/** The channel every change of a cached table is announced on, as `table:key` (`table:*` for many rows). */
export const CHANGES_CHANNEL = 'outpost_changes';
/** The key of a change of many rows at once: the listener reloads the whole table. */
export const ALL_ROWS = '*';
/** How long a lost listening connection waits before it tries again. */
const RECONNECT_MS = 500;

/** A handler of one table's changes: called with the changed row's key, or `ALL_ROWS`. */
export type ChangeHandler = (key: string) => Promise<void>;

/**
 * Changes other orchestrators made to the tables each one keeps in memory, through LISTEN/NOTIFY
 * on a connection of its own: a notification is sent in the writer's transaction and delivered
 * when it commits (docs/decisions.md, Scale-out). When that connection is lost, every table is
 * reloaded in full once it is back, as notifications sent meanwhile are lost.
 */
export class ChangeFeed {
  readonly #handlers = new Map<string, ChangeHandler>();
  #client: pg.Client | undefined;
  #closed = false;
  #reconnect: NodeJS.Timeout | undefined;
  /** The handling of every change heard so far, one after the other. */
  #queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly url: string,
    private readonly onError: (error: Error) => void,
  ) {}

  static async open(url: string, onError: (error: Error) => void): Promise<ChangeFeed> {
    const feed = new ChangeFeed(url, onError);
    await feed.#connect();
    return feed;
  }

  /** Routes the changes of `table` to `handler`; changes are handled one at a time, in order. */
  on(table: string, handler: ChangeHandler): void {
    this.#handlers.set(table, handler);
  }

  /** Stops listening; resolves once the changes already heard are handled. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#reconnect);
    await this.#client?.end().catch(() => undefined);
    await this.#queue;
  }

  #handle(table: string, key: string): void {
    const handler = this.#handlers.get(table);
    if (handler) this.#queue = this.#queue.then(() => handler(key)).catch(this.onError);
  }

  async #connect(): Promise<void> {
    // Keep-alive probes find a connection that a network fault cut without a word, which then reconnects.
    const client = new pg.Client({ connectionString: this.url, application_name: 'outpost-changes', keepAlive: true });
    client.on('notification', ({ payload }) => {
      const split = payload?.indexOf(':') ?? -1;
      if (split > 0) this.#handle(payload!.slice(0, split), payload!.slice(split + 1));
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    client.once('end', () => {
      if (this.#closed) return;
      this.onError(new Error('the connection listening to changes of other orchestrators was lost; reconnecting'));
      this.#retry();
    });
    this.#client = client;
  }

  #retry(): void {
    clearTimeout(this.#reconnect);
    this.#reconnect = setTimeout(() => {
      this.#connect().then(
        () => {
          for (const table of this.#handlers.keys()) this.#handle(table, ALL_ROWS);
        },
        () => this.#retry(),
      );
    }, RECONNECT_MS);
    this.#reconnect.unref();
  }
}

/** SQL that announces a change of `table`, to append as `SELECT ${announce(...)}` to a data-modifying CTE. */
export const announce = (table: string, keyExpression: string): string => `pg_notify('${CHANGES_CHANNEL}', '${table}:' || ${keyExpression})`;
