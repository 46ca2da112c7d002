import type { InlineFile } from '../jobs/file-inputs.js';
import { noSuchJob } from '../jobs/job-follower.js';
import type { JobLifecycle } from '../jobs/job-lifecycle.js';
import type { JobService, SubmitRequest } from '../jobs/job-service.js';
import { newJob } from '../jobs/new-job.js';
import { OutpostError } from '../errors.js';
import { tooManyWaiting, waitingLimitError, type LimitsOf } from '../jobs/owner-limits.js';
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
 * at once beyond the owner's waiting limit as stored, then stored and handed to the dispatcher,
 * whose queue holds the limit exactly: a job it refuses is removed again and answered with its 429.
 * Without a dispatcher the job stays stored: the next one's `resume()` reads every unfinished job.
 */
async function submitToDispatcher(deps: ClusterJobsDeps, request: SubmitRequest): Promise<JobRecord> {
  const { job, files } = newJob(deps.registry, request);
  const { maxWaiting } = deps.limits(job.owner);
  const waiting = await deps.waitingOf(job.owner);
  if (waiting >= maxWaiting) throw tooManyWaiting(job.owner, waiting, maxWaiting);
  const created = await (async () => {
    await deps.inputFiles.store(job.id, files);
    return deps.store.create(job);
  })().catch(async (err: unknown) => {
    await deps.inputFiles.remove(job.id);
    throw err;
  });
  const refusal = await deps.bus.request({ op: 'adopt', job: job.id }, deps.requestTimeoutMs).then(
    () => undefined,
    (err: unknown) => (err instanceof OutpostError && err.status === 429 ? err : undefined),
  );
  if (!refusal) return created;
  await deps.store.remove(job.id);
  await deps.inputFiles.remove(job.id);
  throw waitingLimitError(refusal.message);
}
