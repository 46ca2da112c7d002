import type { JobRecord } from '../store/job-record.js';

/**
 * One event per change of a job, as `JobLifecycle` makes it (docs/decisions.md, Jobs). Each
 * carries the job as written, except `removed`, whose row is gone.
 */
export type JobEvent =
  /** Submitted and accepted; it waits in the queue or is handed out next. */
  | { type: 'created'; job: JobRecord }
  /** Handed to an agent: `execute` goes out next. */
  | { type: 'assigned'; job: JobRecord; agent: string }
  /** Back in the queue: its agent refused it as busy, could not be reached, or was lost before it started. */
  | { type: 'queued'; job: JobRecord }
  /** The agent reports it running (also after a reconnect, under a new resource). */
  | { type: 'running'; job: JobRecord }
  | { type: 'progress'; job: JobRecord }
  /** Successful, failed or dismissed. */
  | { type: 'finished'; job: JobRecord }
  /** Someone asked to stop the run; `by` is the admin, or null for the owner's dismissal. */
  | { type: 'kill-requested'; job: JobRecord; by: string | null }
  /** Its agent went away; the job waits `graceMs` for it to come back, its message saying so. */
  | { type: 'agent-lost'; job: JobRecord; agent: string; graceMs: number }
  /** Dismissed by its owner, or past its keep time (`expired`, docs/decisions.md, Retention and audit): the job and its files are gone. */
  | { type: 'removed'; job: RemovedJob; reason: 'dismissed' | 'expired' };

/** What is still told of a removed job, whose row is gone: as much as the bus between orchestrators carries (docs/scale-out.md §3). */
export type RemovedJob = Pick<JobRecord, 'id' | 'owner' | 'processId'>;

/** An event about a job that still exists, with its row as written. */
export type JobChangeEvent = Exclude<JobEvent, { type: 'removed' }>;

export type JobEventListener = (event: JobEvent) => void;

/** Events that change what a client sees of a job (its statusInfo). */
export const changesStatusInfo = (event: JobEvent) => ['created', 'running', 'progress', 'agent-lost', 'finished'].includes(event.type);

/** The stream of job events; a listener gets the events that happen after it was added. */
export class JobEventStream {
  readonly #listeners = new Set<JobEventListener>();

  /** Adds a listener; returns the function that removes it. */
  listen(listener: JobEventListener): () => void {
    const own: JobEventListener = (event) => listener(event);
    this.#listeners.add(own);
    return () => this.#listeners.delete(own);
  }

  /** How many listeners there are. */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** Tells every listener; one that throws is not allowed to keep the others from hearing it. */
  emit(event: JobEvent, onError: (err: unknown) => void): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (err) {
        onError(err);
      }
    }
  }
}
