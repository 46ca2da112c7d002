import { EventEmitter } from 'node:events';
import type { JobRecord } from '../store/job-record.js';

/** A symbol cannot collide with a job id. */
const ALL = Symbol('all jobs');

/** Every change to a job, by job id: for synchronous execution, SSE streams and tests. */
export class JobUpdates {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  publish(job: JobRecord): void {
    this.#emitter.emit(job.id, job);
    this.#emitter.emit(ALL, job);
  }

  /** Calls `listener` for every change of every job (metrics). */
  subscribeAll(listener: (job: JobRecord) => void): () => void {
    this.#emitter.on(ALL, listener);
    return () => this.#emitter.off(ALL, listener);
  }

  /** Calls `listener` for each change of the job; returns the unsubscribe function. */
  subscribe(jobId: string, listener: (job: JobRecord) => void): () => void {
    this.#emitter.on(jobId, listener);
    return () => this.#emitter.off(jobId, listener);
  }

  /** How many listeners follow the job: lets tests prove that closed streams unsubscribe. */
  listenerCount(jobId: string): number {
    return this.#emitter.listenerCount(jobId);
  }
}
