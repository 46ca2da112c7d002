import { EventEmitter } from 'node:events';
import type { JobRecord } from '../store/job-record.js';
import { changesStatusInfo, type JobEventStream } from './job-events.js';

/**
 * The job events that change a job's statusInfo, by job id: what SSE streams and waiting
 * clients follow. A listener of the lifecycle's event stream, nothing more.
 */
export class JobUpdates {
  readonly #emitter = new EventEmitter();

  constructor(events: JobEventStream) {
    this.#emitter.setMaxListeners(0);
    events.listen((event) => {
      if (changesStatusInfo(event)) this.#emitter.emit(event.job.id, event.job);
    });
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
