import { randomUUID } from 'node:crypto';
import type { OrchestratorConfig } from '../src/config.js';
import type { StartedProcess } from './child-process.js';
import type { OrchestratorHealth } from './orchestrator-health.js';
import type { LatencySummary } from './stats.js';

/** Environment variable carrying the orchestrator's config (JSON) to its process. */
export const CONFIG_ENV = 'OUTPOST_BENCH_ORCHESTRATOR';
export type BenchOrchestratorConfig = OrchestratorConfig;

export type Request =
  | { type: 'await-agents'; processId: string; count: number; timeoutMs: number }
  | { type: 'await-jobs'; ids: string[]; timeoutMs: number }
  | { type: 'job-timings'; since: string }
  | { type: 'fleet-status' }
  | { type: 'user-tokens'; count: number }
  | { type: 'queued' }
  | { type: 'health' };

export interface JobTimings {
  statuses: Record<string, number>;
  /** created → started: waiting in the orchestrator's queue and on the way to an agent. */
  queuedMs: LatencySummary | null;
  /** started → finished, as the orchestrator saw it. */
  runningMs: LatencySummary | null;
  createdToFinishedMs: LatencySummary | null;
}

export interface Replies {
  'await-agents': { agents: number };
  'await-jobs': { finished: number; unfinished: number };
  'job-timings': JobTimings;
  'fleet-status': { online: number; catalogsCurrent: number };
  'user-tokens': { tokens: string[] };
  queued: { queued: number };
  health: OrchestratorHealth;
}

export type Reply = { id: string; ok: true; value: unknown } | { id: string; ok: false; message: string };
export type Announcement = { type: 'ready'; url: string } | { type: 'failed'; message: string };

/** The parent's side: requests to the orchestrator process, answered over its IPC channel. */
export class OrchestratorClient {
  readonly #pending = new Map<string, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  private constructor(
    readonly started: StartedProcess,
    readonly url: string,
  ) {
    started.child.on('message', (message: Reply) => {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      if (message.ok) pending.resolve(message.value);
      else pending.reject(new Error(message.message));
    });
    started.child.once('exit', () => {
      for (const { reject } of this.#pending.values()) reject(new Error(`orchestrator exited\n${started.output()}`));
      this.#pending.clear();
    });
  }

  /** Waits for the process's `ready` announcement. */
  static attach(started: StartedProcess, timeoutMs: number): Promise<OrchestratorClient> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(`not ready within ${timeoutMs} ms`), timeoutMs);
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new Error(`orchestrator: ${why}\n${started.output()}`));
      };
      started.child.once('exit', () => fail('exited before it was ready'));
      started.child.once('message', (message: Announcement) => {
        clearTimeout(timer);
        if (message.type === 'ready') resolve(new OrchestratorClient(started, message.url));
        else fail(message.message);
      });
    });
  }

  request<R extends Request>(request: R): Promise<Replies[R['type']]> {
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.started.child.send({ id, ...request });
    });
  }
}
