import type { Logger } from 'pino';
import { backoffDelay, type Backoff } from '../../xmpp/backoff.js';
import { resultsDocument } from '../http/results-response.js';
import { urlBase } from '../http/links.js';
import { statusInfo } from '../http/status-info.js';
import type { JobEvent } from '../jobs/job-events.js';
import type { CallbackDelivery, CallbackStore } from '../store/callback-store.js';
import type { JobRecord } from '../store/job-record.js';
import { postJson } from './callback-post.js';
import { urlRefusal, type AddressAllowlist } from '../../net/address-guard.js';

export interface CallbackSenderOptions {
  store: CallbackStore;
  allow: AddressAllowlist;
  /** Where links in the bodies point: the orchestrator's public URL. */
  publicBase: () => string;
  logger: Logger;
  /** How long a delivery is retried before it is given up (default one hour). */
  giveUpAfterMs?: number;
  /** How long one attempt may take (default 10 s). */
  timeoutMs?: number;
  backoff?: Backoff;
}

/** At most one progress callback a second per job (OGC 18-062r2 leaves the rate to the server). */
const PROGRESS_INTERVAL_MS = 1000;
const BATCH = 20;

/**
 * The callback class (OGC 18-062r2 §7.11.3, `subscriber`): turns job events into deliveries kept in
 * the store, and makes them — in order per job, retried with backoff for a bounded time, never on
 * the job's path. A delivery survives a restart: the store holds it until it is made or given up.
 */
export class CallbackSender {
  readonly #options: Required<Omit<CallbackSenderOptions, 'backoff'>> & { backoff: Backoff };
  readonly #lastProgress = new Map<string, number>();
  readonly #inFlight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: CallbackSenderOptions) {
    this.#options = { giveUpAfterMs: 3_600_000, timeoutMs: 10_000, backoff: { initialMs: 1000, maxMs: 60_000 }, ...options };
  }

  /** The lifecycle listener: records what each subscriber is owed. */
  readonly onJobEvent = (event: JobEvent): void => {
    const subscriber = event.job.execution.subscriber;
    if (!subscriber) return;
    const now = Date.now();
    const { store } = this.#options;
    if ((event.type === 'running' || event.type === 'progress') && subscriber.inProgressUri) {
      const at = Math.max(now, (this.#lastProgress.get(event.job.id) ?? 0) + PROGRESS_INTERVAL_MS);
      store.progress(event.job.id, subscriber.inProgressUri, this.#statusBody(event.job), at);
    } else if (event.type === 'finished') {
      this.#lastProgress.delete(event.job.id);
      if (event.job.status === 'successful' && subscriber.successUri) {
        store.add(event.job.id, 'success', subscriber.successUri, JSON.stringify(resultsDocument(urlBase(this.#options.publicBase()), event.job)), now);
      } else if (event.job.status === 'failed' && subscriber.failedUri) {
        store.add(event.job.id, 'failed', subscriber.failedUri, this.#statusBody(event.job), now);
      }
    } else {
      return;
    }
    this.#schedule();
  };

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  /** Stops sending; deliveries under way finish (each is bounded by the timeout). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await Promise.all(this.#inFlight);
  }

  #statusBody(job: JobRecord): string {
    return JSON.stringify(statusInfo(urlBase(this.#options.publicBase()), job));
  }

  #schedule(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    const next = this.#options.store.nextDue();
    if (next === undefined) return;
    this.#timer = setTimeout(() => this.#sendDue(), Math.max(0, next - Date.now()));
    this.#timer.unref();
  }

  #sendDue(): void {
    const due = this.#options.store.due(Date.now(), BATCH);
    if (due.length === 0) return this.#schedule();
    const sending = Promise.all(due.map((delivery) => this.#deliver(delivery))).then(() => undefined);
    this.#inFlight.add(sending);
    void sending.finally(() => {
      this.#inFlight.delete(sending);
      this.#schedule();
    });
  }

  async #deliver(delivery: CallbackDelivery): Promise<void> {
    const { store, allow, timeoutMs, logger } = this.#options;
    const about = { job: delivery.jobId, kind: delivery.kind, uri: delivery.uri };
    const refusal = await urlRefusal(delivery.uri, allow);
    if (refusal) {
      logger.warn({ ...about, reason: refusal }, 'callback refused');
      return store.remove(delivery.id);
    }
    // Progress goes out at most once a second, counted from when a delivery starts.
    if (delivery.kind === 'in-progress') this.#lastProgress.set(delivery.jobId, Date.now());
    const outcome = await postJson(delivery.uri, delivery.body, allow, timeoutMs).then(
      // A redirect is an answer: the URI the client named was reached, and its target is not called.
      (status) => (status >= 200 && status < 400 ? undefined : `answered ${status}`),
      (err: Error) => err.message,
    );
    if (outcome === undefined) {
      logger.debug(about, 'callback delivered');
      return store.delivered(delivery.id, delivery.body);
    }
    const now = Date.now();
    if (now - delivery.created >= this.#options.giveUpAfterMs) {
      logger.warn({ ...about, attempts: delivery.attempts + 1, reason: outcome }, 'callback given up');
      return store.remove(delivery.id);
    }
    const retryAt = now + backoffDelay(delivery.attempts, this.#options.backoff);
    logger.info({ ...about, attempts: delivery.attempts + 1, reason: outcome, retryAt: new Date(retryAt).toISOString() }, 'callback failed; retrying');
    store.retryAt(delivery.id, retryAt);
  }
}
