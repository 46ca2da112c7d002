import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import { OutpostError, type ErrorCode } from '../errors.js';
import { dispatcherLockHeld, listenTo, notifyAll, openSessionClient } from '../store/postgres/postgres-cluster.js';
import type { Queryable } from '../store/postgres/postgres-pool.js';

/** The one channel every orchestrator of a database listens on. */
const CHANNEL = 'outpost';
/** PostgreSQL refuses a payload of 8,000 bytes or more; job changes are packed into notifications below it. */
const MAX_PAYLOAD = 7000;

/** A change of a job the dispatcher made: its id, the event's type, and a removal's reason. */
/** A job change as the bus carries it; a removal carries what is still told of the job, whose row is gone. */
export type JobChange = [id: string, type: string] | [id: string, type: 'removed', reason: 'dismissed' | 'expired', owner: string, processId: string];

/** What the dispatcher is asked to carry out for another instance (docs/scale-out.md §3). */
export type ClusterOp =
  | { op: 'adopt'; job: string }
  | { op: 'kill'; job: string; by: string }
  | { op: 'dismiss'; job: string }
  | { op: 'drain'; agent: string; drained: boolean }
  | { op: 'assign'; process: string; pool: string }
  | { op: 'limits' };

export type BusMessage =
  | { kind: 'jobs'; changes: JobChange[] }
  | { kind: 'registry' }
  /** A job stored by a follower, for the dispatcher's queue. */
  | { kind: 'request'; id: string; request: ClusterOp }
  | { kind: 'reply'; id: string; error?: { code: ErrorCode; status: number; detail: string } };

export interface ClusterBusOptions {
  url: string;
  /** Where notifications are sent from: the job store's pool. */
  db: Queryable;
  logger: Logger;
  /** The listening connection failed: notifications may have been missed (docs/scale-out.md §4). */
  onLost: (reason: string) => void;
}

/**
 * The bus between the orchestrators of one database: PostgreSQL LISTEN on a connection of its own,
 * NOTIFY through the pool. Payloads carry ids and small fields; receivers read the rows again.
 * Every instance hears its own notifications too.
 */
export class ClusterBus {
  readonly #options: ClusterBusOptions;
  readonly #client: pg.Client;
  readonly #handlers = new Set<(message: BusMessage) => void>();
  readonly #replies = new Map<string, (message: Extract<BusMessage, { kind: 'reply' }>) => void>();
  #outgoing: string[] = [];
  #changes: JobChange[] = [];
  #closed = false;

  private constructor(options: ClusterBusOptions, client: pg.Client) {
    this.#options = options;
    this.#client = client;
  }

  static async open(options: ClusterBusOptions): Promise<ClusterBus> {
    const client = await openSessionClient(options.url, 'bus');
    const bus = new ClusterBus(options, client);
    client.on('notification', (n) => bus.#received(n.payload));
    client.on('error', (err) => bus.#lost(err.message));
    client.on('end', () => bus.#lost('the connection ended'));
    await listenTo(client, CHANNEL);
    return bus;
  }

  /** Calls `handler` for every message; returns the function that stops it. */
  on(handler: (message: BusMessage) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  publish(message: BusMessage): void {
    this.#queue(JSON.stringify(message));
  }

  /** A job change; those of one turn of the event loop go out packed together. */
  publishChange(change: JobChange): void {
    if (this.#changes.length === 0) setImmediate(() => this.#packChanges());
    this.#changes.push(change);
  }

  /**
   * Asks the dispatcher to carry out `request` and resolves once it has, or throws its error; a
   * clear 503 when no instance dispatches, or none answered within `timeoutMs`.
   */
  async request(request: ClusterOp, timeoutMs: number): Promise<void> {
    if (!(await dispatcherLockHeld(this.#options.db))) throw noDispatcher('no orchestrator dispatches jobs at the moment; try again shortly');
    const id = randomUUID();
    const reply = await new Promise<Extract<BusMessage, { kind: 'reply' }> | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.#replies.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.#replies.set(id, (message) => {
        clearTimeout(timer);
        this.#replies.delete(id);
        resolve(message);
      });
      this.publish({ kind: 'request', id, request });
    });
    if (!reply) throw noDispatcher(`the dispatching orchestrator did not carry out the ${request.op} within ${timeoutMs / 1000} s; try again`);
    if (reply.error) throw new OutpostError(reply.error.code, reply.error.status, reply.error.detail);
  }

  /** Carries out the requests of other instances with `perform`, replying with its outcome; returns the function that stops. */
  serve(perform: (request: ClusterOp) => Promise<void>): () => void {
    return this.on((message) => {
      if (message.kind !== 'request') return;
      perform(message.request).then(
        () => this.publish({ kind: 'reply', id: message.id }),
        (err: Error) => {
          const error = err instanceof OutpostError ? { code: err.code, status: err.status, detail: err.message } : { code: 'internal' as const, status: 500, detail: 'the request failed on the dispatching orchestrator' };
          if (!(err instanceof OutpostError)) this.#options.logger.error({ request: message.request, err: err.message }, 'a request from another orchestrator failed');
          this.publish({ kind: 'reply', id: message.id, error });
        },
      );
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#client.removeAllListeners('end');
    await this.#client.end().catch(() => undefined);
  }

  #packChanges(): void {
    const changes = this.#changes;
    this.#changes = [];
    let packed: JobChange[] = [];
    for (const change of changes) {
      packed.push(change);
      if (JSON.stringify(packed).length > MAX_PAYLOAD) {
        packed.pop();
        this.publish({ kind: 'jobs', changes: packed });
        packed = [change];
      }
    }
    if (packed.length > 0) this.publish({ kind: 'jobs', changes: packed });
  }

  /** Notifications of one turn go out in one statement. */
  #queue(payload: string): void {
    if (this.#outgoing.length === 0) {
      setImmediate(() => {
        const payloads = this.#outgoing;
        this.#outgoing = [];
        notifyAll(this.#options.db, CHANNEL, payloads).catch((err: Error) => this.#options.logger.error({ err: err.message, notifications: payloads.length }, 'notifications to other orchestrators could not be sent'));
      });
    }
    this.#outgoing.push(payload);
  }

  #received(payload: string | undefined): void {
    let message: BusMessage;
    try {
      message = JSON.parse(payload ?? '') as BusMessage;
    } catch {
      return this.#options.logger.warn({ payload }, 'a notification that is not JSON; ignored');
    }
    if (message.kind === 'reply') return this.#replies.get(message.id)?.(message);
    for (const handler of [...this.#handlers]) handler(message);
  }

  #lost(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#options.onLost(reason);
  }
}

const noDispatcher = (detail: string) => new OutpostError('unavailable', 503, detail);
