import type { Logger } from 'pino';
import type { JobEventStream } from '../jobs/job-events.js';
import type { JobLifecycle } from '../jobs/job-lifecycle.js';
import type { JobService } from '../jobs/job-service.js';
import type { RegistryChanges } from '../http/admin-routes.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import { endPredecessorSessions, readRegistryChanges, takeOverJobs, waitingJobsOf, writeRegistryChanges } from '../store/postgres/postgres-cluster.js';
import type { Pool } from '../store/postgres/postgres-pool.js';
import { BusJobEvents } from './bus-job-events.js';
import { ClusterBus, type ClusterOp } from './cluster-bus.js';
import { clusterJobService, type ClusterJobsDeps } from './cluster-jobs.js';
import { DispatcherLease } from './dispatcher-lease.js';
import { mirrorRegistry, publishRegistry } from './registry-mirror.js';

export interface ClusterOptions extends Pick<ClusterJobsDeps, 'store' | 'inputFiles' | 'limits' | 'requestTimeoutMs'> {
  /** The PostgreSQL URL: the lease and the bus have connections of their own. */
  url: string;
  /** The job store's pool, for notifications and the cluster's own rows. */
  db: Pool;
  /** This orchestrator's name in the store. */
  instance: string;
  logger: Logger;
  registry: AgentRegistry;
  lifecycle: JobLifecycle;
  /** Wait between attempts at the dispatcher lease (docs/deploy.md, `--lease-retry`). */
  leaseRetryMs: number;
  /** The dispatcher writes its registry for the others at most this often. */
  registryBatchMs: number;
  /** The lease or the bus failed: this instance must stop (docs/scale-out.md §4, fencing). */
  onLost: (reason: string) => void;
}

export interface OrchestratorCluster {
  /** The HTTP layer's door to jobs on this instance, dispatcher or follower. */
  jobs: JobService;
  /** Every job change the dispatcher makes, heard on the bus: the admin's event stream. */
  events: JobEventStream;
  dispatching(): boolean;
  /** An admin's drains and pool hand-overs, carried out by the dispatcher; a follower answers once its copy shows them. */
  registryChanges: RegistryChanges;
  /** Asks the dispatcher to place waiting jobs again (a user's limits changed). */
  limitsChanged(): void;
  /**
   * Takes the dispatcher lease at once if it is free, and then `startDispatching` (given the
   * agents the previous dispatcher knew); else follows, trying again every `leaseRetryMs`.
   */
  start(startDispatching: (known: string[]) => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/** How long a new dispatcher waits for the sessions of its predecessor to end. */
const PREDECESSOR_TIMEOUT_MS = 5000;

/**
 * Several orchestrators on one PostgreSQL (docs/scale-out.md §3–4): one dispatches, holding the
 * lease; every one answers HTTP from the store and the bus. A follower that gets the lease takes
 * over through the recovery path of a restart.
 */
export async function openCluster(options: ClusterOptions): Promise<OrchestratorCluster> {
  const { db, instance, logger, registry, lifecycle } = options;
  const bus = await ClusterBus.open({ url: options.url, db, logger, onLost: (reason) => options.onLost(`the bus to the other orchestrators failed: ${reason}`) });
  const busEvents = new BusJobEvents(bus, (jobId) => options.store.get(jobId), logger);
  const rows = { write: writeRegistryChanges.bind(null, db, instance), read: readRegistryChanges.bind(null, db) };
  let stopMirror = await mirrorRegistry(registry, rows, bus, logger).catch(async (err: unknown) => {
    await bus.close();
    throw err;
  });
  const lease = new DispatcherLease({ url: options.url, retryMs: options.leaseRetryMs, logger, onLost: (reason) => options.onLost(`the dispatcher lease was lost: ${reason}`) });
  let dispatching = false;
  const stops: (() => void)[] = [];

  const perform = async (request: ClusterOp): Promise<void> => {
    if (request.op === 'adopt') await lifecycle.adopt(request.job);
    else if (request.op === 'kill') await lifecycle.kill(request.job, request.by);
    else if (request.op === 'dismiss') await lifecycle.dismiss(request.job);
    else if (request.op === 'drain') registry.setDrained(request.agent, request.drained);
    else if (request.op === 'assign') registry.assign(request.process, request.pool);
    else lifecycle.dispatchWaiting();
  };

  const takeOver = async (startDispatching: (known: string[]) => Promise<void>) => {
    const ended = await endPredecessorSessions(db, instance, PREDECESSOR_TIMEOUT_MS).catch((err: Error) => {
      logger.warn({ err: err.message }, "the previous dispatcher's sessions could not be ended; taking over all the same");
      return 0;
    });
    stopMirror();
    stopMirror = () => undefined;
    // The copy is kept, so that processes stay on offer through the takeover: agents asked to
    // announce themselves refresh it, and the liveness pings drop those that are gone.
    const known = registry.agents().map((agent) => agent.jid);
    stops.push(
      lifecycle.events.listen((event) =>
        bus.publishChange(event.type === 'removed' ? [event.job.id, event.type, event.reason, event.job.owner, event.job.processId] : [event.job.id, event.type]),
      ),
      bus.serve(perform),
      publishRegistry(registry, rows, bus, options.registryBatchMs, logger),
    );
    dispatching = true;
    const jobs = await takeOverJobs(db, instance);
    logger.info({ instance, jobs, predecessorSessions: ended }, 'this orchestrator dispatches jobs now');
    await startDispatching(known);
  };

  return {
    jobs: clusterJobService({ ...options, bus, busEvents, dispatching: () => dispatching, waitingOf: (owner) => waitingJobsOf(db, owner) }),
    events: busEvents.events,
    dispatching: () => dispatching,
    registryChanges: {
      setDrained: async (jid, drained) => {
        if (dispatching) return registry.setDrained(jid, drained);
        await bus.request({ op: 'drain', agent: jid, drained }, options.requestTimeoutMs);
        await untilCopied(registry, () => registry.isDrained(jid) === drained, options.registryBatchMs * 10);
      },
      assign: async (processId, pool) => {
        if (dispatching) return registry.assign(processId, pool);
        await bus.request({ op: 'assign', process: processId, pool }, options.requestTimeoutMs);
        await untilCopied(registry, () => registry.owner(processId) === pool, options.registryBatchMs * 10);
      },
    },
    limitsChanged: () => {
      if (dispatching) return lifecycle.dispatchWaiting();
      bus.request({ op: 'limits' }, options.requestTimeoutMs).catch((err: Error) => logger.warn({ err: err.message }, 'the dispatcher could not be told that limits changed'));
    },
    async start(startDispatching) {
      if (await lease.tryAcquire()) return takeOver(startDispatching);
      logger.info({ instance }, 'another orchestrator dispatches jobs; this one answers HTTP and waits for the lease');
      void lease.acquired().then(() => takeOver(startDispatching)).catch((err: Error) => options.onLost(`taking over failed: ${err.message}`));
    },
    async stop() {
      stopMirror();
      for (const stop of stops) stop();
      await lease.close();
      await bus.close();
    },
  };
}

/**
 * Resolves once a follower's copy of the registry shows what the dispatcher did, or after
 * `timeoutMs` (a process id no agent offers is not in the copy).
 */
function untilCopied(registry: AgentRegistry, shows: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!shows()) return;
      done();
    };
    const done = () => {
      clearTimeout(timer);
      registry.off('changed', check);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    registry.on('changed', check);
    check();
  });
}
