import type { Logger } from 'pino';
import { isFinished } from '../store/job-record.js';
import type { JobOutcome } from '../store/job-store.js';
import type { JobStoreApi } from '../store/job-store-api.js';
import type { JobEvent } from './job-events.js';
import { GraceTimers, lostAgentNote } from './grace-timers.js';

/** What the grace periods of lost agents' jobs need of the lifecycle they belong to. */
export interface LostAgentDeps {
  jobStore: Pick<JobStoreApi, 'get' | 'note'>;
  /** The jobs handed to the agent now. */
  jobsOn(jid: string): string[];
  /** Runs `step` in the job's turn (per-job.ts). */
  inTurn(jobId: string, step: () => Promise<void>): Promise<void>;
  /** Runs `step` in the job's turn without anyone awaiting it. */
  inBackground(jobId: string, step: () => Promise<unknown>): void;
  emit(event: JobEvent): void;
  requeue(jobId: string): void;
  finish(jobId: string, seq: number, outcome: JobOutcome): Promise<unknown>;
  graceMs: number;
  logger: Logger;
}

/**
 * Jobs whose agent is away (docs/protocol.md §6.2): each gets a grace period to be reported again
 * (by `jobs` or a terminal event); one still waiting to start goes back to the queue when it ends,
 * a running one fails with `agent-lost`.
 */
export class LostAgents {
  readonly #graces = new GraceTimers();
  /** Jobs whose message is (or, after a restart, may be) the note that their agent was lost, until an agent reports them again. */
  readonly notes = new Set<string>();

  constructor(private readonly deps: LostAgentDeps) {}

  /** The agent's jobs get their grace period; meanwhile their message says so, and until when, since their status alone does not change. */
  async agentLost(jid: string): Promise<void> {
    const { deps } = this;
    const lostAt = new Date();
    await Promise.all(deps.jobsOn(jid).map((jobId) => deps.inTurn(jobId, async () => {
      this.startGrace(jobId, jid);
      const stored = await deps.jobStore.get(jobId);
      if (!stored || isFinished(stored)) return;
      const job = await deps.jobStore.note(jobId, lostAgentNote(jid, stored.status, lostAt, deps.graceMs));
      if (!job) return;
      this.notes.add(jobId);
      deps.emit({ type: 'agent-lost', job, agent: jid, graceMs: deps.graceMs });
    })));
  }

  startGrace(jobId: string, jid: string, ms = this.deps.graceMs): void {
    const { deps } = this;
    this.#graces.start(jobId, ms, () => {
      deps.inBackground(jobId, async () => {
        const job = await deps.jobStore.get(jobId);
        if (!job || isFinished(job)) return;
        if (job.status === 'accepted') {
          deps.logger.warn({ job: jobId, agent: jid }, 'agent lost before starting the job; requeued');
          return deps.requeue(jobId);
        }
        const lost = { status: 'failed', error: { code: 'agent-lost', message: `agent ${jid} was lost while running the job` } } as const;
        await deps.finish(jobId, 0, lost).catch((err: unknown) => {
          this.startGrace(jobId, jid, ms);
          throw err;
        });
      });
    });
  }

  /** The job is reported again, or over. */
  cancel(jobId: string): void {
    this.#graces.cancel(jobId);
  }

  /** No grace period starts or ends any more. */
  stop(): void {
    this.#graces.stop();
  }
}
