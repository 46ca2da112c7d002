import type { Logger } from 'pino';
import { JobEventStream, type JobEvent } from '../jobs/job-events.js';
import { finishedJob, followJob, type JobFollower } from '../jobs/job-follower.js';
import { JobUpdates } from '../jobs/job-updates.js';
import { PerJob } from '../jobs/per-job.js';
import type { JobRecord } from '../store/job-record.js';
import type { ClusterBus, JobChange } from './cluster-bus.js';

/**
 * The dispatcher's job changes as every instance hears them on the bus (docs/scale-out.md §3):
 * each change of a job someone follows here is read again from the store, in the job's turn, and
 * told as a `JobEvent`. What SSE streams, waiting clients and the admin's event stream follow in
 * a cluster, whichever instance they are connected to.
 */
export class BusJobEvents {
  readonly events = new JobEventStream();
  readonly updates = new JobUpdates(this.events);
  readonly #perJob = new PerJob();
  readonly #read: (jobId: string) => Promise<JobRecord | undefined>;

  constructor(bus: ClusterBus, read: (jobId: string) => Promise<JobRecord | undefined>, logger: Logger) {
    this.#read = read;
    bus.on((message) => {
      if (message.kind !== 'jobs') return;
      for (const change of message.changes) {
        if (!this.#followed(change[0])) continue;
        this.#perJob.run(change[0], () => this.#tell(change)).catch((err: Error) => logger.warn({ job: change[0], err: err.message }, 'a job change could not be read'));
      }
    });
  }

  /** The job as it is now, then each later change; read in the job's turn, so none falls between. */
  follow(jobId: string): Promise<JobFollower> {
    return followJob(this.updates, jobId, () => this.#read(jobId), (step) => this.#perJob.run(jobId, step));
  }

  waitUntilFinished(jobId: string, signal: AbortSignal): Promise<JobRecord> {
    return finishedJob((id) => this.follow(id), jobId, signal);
  }

  /** A job is read again only when someone here follows it, or follows every job (the updates index itself is one listener). */
  #followed(jobId: string): boolean {
    return this.updates.listenerCount(jobId) > 0 || this.events.listenerCount > 1;
  }

  async #tell(change: JobChange): Promise<void> {
    const [jobId, type] = change;
    // A removed job has no row left to read: the change itself says what is still told of it.
    if (change.length === 5) {
      const [, , reason, owner, processId] = change;
      return this.events.emit({ type: 'removed', job: { id: jobId, owner, processId }, reason }, () => undefined);
    }
    const job = await this.#read(jobId);
    if (!job) return;
    this.events.emit(eventOf(type, job), () => undefined);
  }
}

/** The event as the dispatcher made it, with what its row says in place of the fields it carried. */
function eventOf(type: string, job: JobRecord): JobEvent {
  switch (type) {
    case 'assigned':
    case 'agent-lost':
      return type === 'assigned' ? { type, job, agent: job.agent ?? '' } : { type, job, agent: job.agent ?? '', graceMs: 0 };
    case 'kill-requested':
      return { type, job, by: job.dismissedBy };
    case 'created':
    case 'queued':
    case 'running':
    case 'progress':
    case 'finished':
      return { type, job };
    default:
      return { type: 'progress', job };
  }
}
