import type { InlineFile } from '../jobs/file-inputs.js';
import { noSuchJob } from '../jobs/job-follower.js';
import type { JobLifecycle } from '../jobs/job-lifecycle.js';
import type { JobService, SubmitRequest } from '../jobs/job-service.js';
import { newJob } from '../jobs/new-job.js';
import { tooManyWaiting, type LimitsOf } from '../jobs/owner-limits.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import type { JobRecord } from '../store/job-record.js';
import type { JobStoreApi } from '../store/job-store-api.js';
import type { BusJobEvents } from './bus-job-events.js';
import type { ClusterBus, ClusterOp } from './cluster-bus.js';

export interface ClusterJobsDeps {
  /** The shared store. */
  store: JobStoreApi;
  lifecycle: JobLifecycle;
  /** The dispatcher's registry, or a follower's copy of it. */
  registry: AgentRegistry;
  bus: ClusterBus;
  busEvents: BusJobEvents;
  /** Whether this instance holds the dispatcher lease now. */
  dispatching: () => boolean;
  inputFiles: { store(jobId: string, files: Record<string, InlineFile>): Promise<void>; remove(jobId: string): Promise<void> };
  limits: LimitsOf;
  /** Jobs of an owner waiting for an agent, as stored. */
  waitingOf: (owner: string) => Promise<number>;
  /** How long a follower waits for the dispatcher to carry out a kill or a dismissal. */
  requestTimeoutMs: number;
}

/**
 * The HTTP layer's door to jobs on an instance of a cluster (docs/scale-out.md §3). The
 * dispatcher acts through its lifecycle; a follower stores a submitted job and tells the
 * dispatcher, and asks it on the bus for kills and dismissals. Jobs are read from the shared
 * store; a follower follows them on the bus.
 */
export function clusterJobService(deps: ClusterJobsDeps): JobService {
  const { store, lifecycle, bus, busEvents, dispatching } = deps;
  const viaDispatcher = (request: ClusterOp) => bus.request(request, deps.requestTimeoutMs);
  return {
    get: (id) => store.get(id),
    list: (filter) => store.list(filter),
    assignedPerAgent: () => store.assignedPerAgent(),
    submit: (request) => (dispatching() ? lifecycle.submit(request) : submitToDispatcher(deps, request)),
    waitUntilFinished: (jobId, signal) => (dispatching() ? lifecycle.waitUntilFinished(jobId, signal) : busEvents.waitUntilFinished(jobId, signal)),
    follow: (jobId) => (dispatching() ? lifecycle.follow(jobId) : busEvents.follow(jobId)),
    kill: async (jobId, by) => {
      if (dispatching()) return lifecycle.kill(jobId, by);
      await viaDispatcher({ op: 'kill', job: jobId, by });
      return (await store.get(jobId)) ?? Promise.reject(noSuchJob(jobId));
    },
    dismiss: async (jobId) => {
      if (dispatching()) return lifecycle.dismiss(jobId);
      const job = await store.get(jobId);
      if (!job) throw noSuchJob(jobId);
      await viaDispatcher({ op: 'dismiss', job: jobId });
      return { ...job, status: 'dismissed', dismissedBy: null };
    },
  };
}

/**
 * A follower's submission: validated against the process as the dispatcher registered it, refused
 * beyond the owner's waiting limit as stored, then stored and announced on the bus, for the
 * dispatcher to queue. A job a dispatcher that takes over finds unannounced is queued by its
 * `resume()`, which reads every unfinished job.
 */
async function submitToDispatcher(deps: ClusterJobsDeps, request: SubmitRequest): Promise<JobRecord> {
  const { job, files } = newJob(deps.registry, request);
  const { maxWaiting } = deps.limits(job.owner);
  const waiting = await deps.waitingOf(job.owner);
  if (waiting >= maxWaiting) throw tooManyWaiting(job.owner, waiting, maxWaiting);
  try {
    await deps.inputFiles.store(job.id, files);
    const created = await deps.store.create(job);
    deps.bus.publish({ kind: 'submitted', job: job.id });
    return created;
  } catch (err) {
    await deps.inputFiles.remove(job.id);
    throw err;
  }
}
