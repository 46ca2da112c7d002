import type { Logger } from 'pino';
import { backoffDelay, type Backoff } from '../../xmpp/backoff.js';
import { resultsDocument } from '../http/results-response.js';
import { urlBase } from '../http/links.js';
import { statusInfo } from '../http/status-info.js';
import type { JobChangeEvent, JobEvent } from '../jobs/job-events.js';
import type { CallbackDelivery, CallbackStoreApi } from '../store/callback-store.js';
import type { JobRecord } from '../store/job-record.js';
import { postJson } from './callback-post.js';
import { urlRefusal, type AddressAllowlist } from '../../net/address-guard.js';

export interface CallbackSenderOptions {
  store: CallbackStoreApi;
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
  /** What job events owe, written in the order the events came. */
  #writes: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: CallbackSenderOptions) {
    this.#options = { giveUpAfterMs: 3_600_000, timeoutMs: 10_000, backoff: { initialMs: 1000, maxMs: 60_000 }, ...options };
  }

  /** The lifecycle listener: records what each subscriber is owed. */
  readonly onJobEvent = (event: JobEvent): void => {
    if (event.type === 'removed') return;
    const subscriber = event.job.execution.subscriber;
    if (!subscriber) return;
    const write = this.#owed(event, subscriber);
    if (!write) return;
    this.#writes = this.#writes
      .then(write)
      .then(
        () => this.#schedule(),
        (err: Error) => this.#options.logger.error({ job: event.job.id, err: err.message }, 'a callback delivery could not be stored'),
      );
  };

  /** The write of what the event owes the subscriber, if anything. */
  #owed(event: JobChangeEvent, subscriber: NonNullable<JobRecord['execution']['subscriber']>): (() => Promise<void>) | undefined {
    const now = Date.now();
    const { store } = this.#options;
    const { job } = event;
    if ((event.type === 'running' || event.type === 'progress') && subscriber.inProgressUri) {
      const at = Math.max(now, (this.#lastProgress.get(job.id) ?? 0) + PROGRESS_INTERVAL_MS);
      const body = this.#statusBody(job);
      return () => store.progress(job.id, subscriber.inProgressUri!, body, at);
    }
    if (event.type !== 'finished') return undefined;
    this.#lastProgress.delete(job.id);
    if (job.status === 'successful' && subscriber.successUri) {
      const body = JSON.stringify(resultsDocument(urlBase(this.#options.publicBase()), job));
      return () => store.add(job.id, 'success', subscriber.successUri!, body, now);
    }
    if (job.status === 'failed' && subscriber.failedUri) {
      const body = this.#statusBody(job);
      return () => store.add(job.id, 'failed', subscriber.failedUri!, body, now);
    }
    return undefined;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  /** Stops sending; deliveries under way finish (each is bounded by the timeout). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#writes;
    await Promise.all(this.#inFlight);
  }

  #statusBody(job: JobRecord): string {
    return JSON.stringify(statusInfo(urlBase(this.#options.publicBase()), job));
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#options.store.nextDue().then(
      (next) => {
        if (this.#stopped) return;
        clearTimeout(this.#timer);
        if (next === undefined) return;
        this.#timer = setTimeout(() => this.#sendDue(), Math.max(0, next - Date.now()));
        this.#timer.unref();
      },
      (err: Error) => this.#options.logger.error({ err: err.message }, 'callback deliveries could not be looked up'),
    );
  }

  #sendDue(): void {
    const sending = this.#options.store.due(Date.now(), BATCH).then((due) => Promise.all(due.map((delivery) => this.#deliver(delivery)))).then(
      () => undefined,
      (err: Error) => this.#options.logger.error({ err: err.message }, 'callback deliveries could not be made'),
    );
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
      return await store.remove(delivery.id);
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
      return await store.delivered(delivery.id, delivery.body);
    }
    const now = Date.now();
    if (now - delivery.created >= this.#options.giveUpAfterMs) {
      logger.warn({ ...about, attempts: delivery.attempts + 1, reason: outcome }, 'callback given up');
      return await store.remove(delivery.id);
    }
    const retryAt = now + backoffDelay(delivery.attempts, this.#options.backoff);
    logger.info({ ...about, attempts: delivery.attempts + 1, reason: outcome, retryAt: new Date(retryAt).toISOString() }, 'callback failed; retrying');
    await store.retryAt(delivery.id, retryAt);
  }
}
