import os from 'node:os';
import type { Logger } from 'pino';
import type { AgentFeature, AgentLoad, AgentMessage, OrchestratorMessage } from '../protocol/index.js';
import type { AgentLink } from './xmpp/agent-link.js';
import { catalogMessages } from './xmpp/catalog-messages.js';
import { toProcessSpec, type Catalog } from './services/catalog.js';
import type { Outbox } from './jobs/outbox.js';
import { runJob, type JobRunnerOptions, type RunningJob } from './jobs/job-runner.js';
import { WaitingRuns, type WaitingRun } from './jobs/waiting-runs.js';
import type { ServiceDefinition } from './services/service-definition.js';

export interface AgentOptions {
  link: AgentLink;
  outbox: Outbox;
  catalog: () => Catalog;
  slots: number;
  runner: Omit<JobRunnerOptions, 'outbox' | 'send' | 'logger' | 'onSlotFree' | 'onFinished'>;
  /** How often the orchestrator is pinged, to notice its restarts, and the server when the orchestrator does not answer (XEP-0199). */
  pingIntervalMs?: number;
  logger: Logger;
}

export const DEFAULT_PING_INTERVAL_MS = 10_000;
/**
 * Announced in every presence (docs/protocol.md §2.1): this agent takes `acks` as well as `ack`,
 * and keeps up to one job per slot waiting for a slot (`queue`).
 */
const FEATURES: readonly AgentFeature[] = ['acks', 'queue'];

type ExecuteMessage = Extract<OrchestratorMessage, { type: 'execute' }>;
type QueuedRun = WaitingRun & { request: ExecuteMessage; service: ServiceDefinition };

/**
 * The agent's behaviour: announces itself and its catalog, runs what the orchestrator sends
 * within its slots, relays kills, and keeps terminal events until they are acknowledged.
 */
/** How long a stopping agent waits for the orchestrator to acknowledge its last results. */
const ACK_WAIT_MS = 2000;

export class Agent {
  readonly #running = new Map<string, RunningJob>();
  /** Runs that are over but whose terminal event is not yet in the outbox; stopping waits for them. */
  readonly #finishing = new Set<string>();
  readonly #waiting: WaitingRuns<QueuedRun>;
  readonly #options: AgentOptions;
  #pingTimer: NodeJS.Timeout | undefined;
  #orchestratorReachable = true;
  #draining = false;
  #stopping: Promise<void> | undefined;
  #stopUntil = Infinity;

  constructor(options: AgentOptions) {
    this.#options = options;
    this.#waiting = new WaitingRuns(options.slots);
    const { link, outbox } = options;
    outbox.setSender((event) => this.#send(event));
    link.on('online', () => void this.announce());
    link.on('message', (message) => this.#onMessage(message));
  }

  get running(): number {
    return this.#running.size;
  }

  /** Jobs handed to this agent that wait for a slot. */
  get waiting(): number {
    return this.#waiting.size;
  }

  async start(): Promise<void> {
    await this.#options.link.start();
    const interval = this.#options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    this.#pingTimer = setInterval(() => void this.#checkOrchestrator(), interval);
    this.#pingTimer.unref();
  }

  /** Presence, catalog, runs in flight and unacknowledged results: all the orchestrator needs to know us. */
  announce(): Promise<void> {
    return this.#tryAnnounce(async () => {
      await this.#sendCatalog();
      // A waiting job has sent nothing yet: seq 0 (docs/protocol.md §4.1.8).
      const waiting = this.#waiting.all().map(({ job, process }) => ({ job, process, seq: 0 }));
      const jobs = [...[...this.#running.values()].map(({ job, process, seq }) => ({ job, process, seq })), ...waiting];
      await this.#send({ v: 1, type: 'jobs', jobs });
      this.#options.outbox.resendAll();
    });
  }

  /** After a change in the services folder only the offer changed: presence (new hash) and catalog. */
  announceCatalog(): Promise<void> {
    return this.#tryAnnounce(() => this.#sendCatalog());
  }

  async #tryAnnounce(steps: () => Promise<void>): Promise<void> {
    if (!this.#options.link.online) return;
    try {
      await steps();
    } catch (err) {
      // The link reconnects by itself and announces again when it is back.
      this.#options.logger.warn({ err: (err as Error).message }, 'announcing to the orchestrator failed');
    }
  }

  async #sendCatalog(): Promise<void> {
    const catalog = this.#options.catalog();
    await this.#options.link.sendPresence(this.#load(catalog));
    const processes = [...catalog.services.values()].map((s) => toProcessSpec(s, this.#options.slots));
    for (const message of catalogMessages(catalog.hash, processes, catalog.invalid, catalog.notes)) await this.#send(message);
  }

  /** Stop taking work; runs in flight go on, jobs not started yet go back to the orchestrator. */
  async drain(draining: boolean): Promise<void> {
    this.#draining = draining;
    const handedBack = draining ? this.#waiting.takeAll() : [];
    if (this.#options.link.online) await this.#options.link.sendPresence(this.#load(this.#options.catalog())).catch(() => undefined);
    // After the presence, so that the orchestrator places them elsewhere rather than here again.
    for (const { job } of handedBack) this.#reject(job, 'draining', 'the agent is draining and hands back a job it has not started');
  }

  /**
   * Two-stage stop: take no more work, wait up to `graceMs` for runs, then kill what is left.
   * Calling it again while stopping shortens the wait (e.g. a second Ctrl-C with `graceMs` 0).
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopUntil = Math.min(this.#stopUntil, Date.now() + graceMs);
    if (this.#stopping) return this.#stopping;
    clearInterval(this.#pingTimer);
    this.#stopping = (async () => {
      await this.drain(true);
      while (this.#running.size > 0 && Date.now() < this.#stopUntil) await new Promise((r) => setTimeout(r, 50));
      if (this.#running.size > 0) this.#options.logger.warn({ jobs: [...this.#running.keys()] }, 'stopping: grace over, killing the runs left');
      for (const job of this.#running.values()) job.abort.abort();
      while (this.#running.size > 0 || this.#finishing.size > 0) await new Promise((r) => setTimeout(r, 20));
      // Results of the last runs reach the orchestrator now rather than at the next start.
      const ackBy = Date.now() + ACK_WAIT_MS;
      while (this.#options.outbox.size > 0 && this.#options.link.online && Date.now() < ackBy) await new Promise((r) => setTimeout(r, 20));
      await this.#options.outbox.close();
      await this.#options.link.stop();
    })();
    return this.#stopping;
  }

  #load(catalog: Catalog): AgentLoad {
    return {
      slots: this.#options.slots,
      running: this.#running.size,
      load1: Math.round(os.loadavg()[0]! * 100) / 100,
      cores: os.availableParallelism(),
      memFree: os.freemem(),
      catalog: catalog.hash,
      draining: this.#draining,
      features: FEATURES,
    };
  }

  async #send(message: AgentMessage): Promise<void> {
    await this.#options.link.send(message);
  }

  async #checkOrchestrator(): Promise<void> {
    const { link, logger } = this.#options;
    // Half the interval, so that a check ends before the next one starts (5 s at the default 10 s).
    const timeoutMs = (this.#options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS) / 2;
    const reachable = await link.pingOrchestrator(timeoutMs);
    // Silence from the orchestrator may be its own (it restarts) or that of our node: the node's answer tells.
    if (!reachable && link.online && !(await link.pingServer(timeoutMs))) {
      logger.warn({ timeoutMs }, 'the XMPP server answers no ping; dropping the connection to connect anew');
      link.dropConnection();
      return;
    }
    if (reachable && !this.#orchestratorReachable) {
      logger.info('orchestrator is back; announcing again');
      await this.announce();
    } else if (reachable) {
      // Load (running, load average, free memory) goes stale otherwise; one presence per ping interval is cheap.
      await link.sendPresence(this.#load(this.#options.catalog())).catch(() => undefined);
    }
    this.#orchestratorReachable = reachable;
  }

  #onMessage(message: OrchestratorMessage): void {
    switch (message.type) {
      case 'execute':
        return this.#execute(message);
      case 'kill':
        return this.#kill(message.job);
      case 'ack':
        this.#options.outbox.ack(message.job, message.seq).catch(() => undefined);
        return;
      case 'acks':
        for (const { job, seq } of message.acks) this.#options.outbox.ack(job, seq).catch(() => undefined);
        return;
      case 'catalog-request':
        void this.announce();
        return;
      case 'error':
        this.#options.logger.warn({ code: message.code, job: message.job, reason: message.message }, 'orchestrator reported an error');
        return;
    }
  }

  #reject(job: string, reason: 'busy' | 'unknown-process' | 'draining', text: string): void {
    this.#send({ v: 1, type: 'rejected', job, reason, message: text }).catch(() => undefined);
  }

  #execute(request: ExecuteMessage): void {
    const { job } = request;
    if (this.#endedHere(job)) return;
    const current = this.#running.get(job);
    const waiting = this.#waiting.get(job);
    if (current || waiting) {
      // A new dispatch of the job made a new upload token; the old one no longer works.
      if (current) current.upload = request.upload;
      if (waiting) waiting.request = request;
      return void this.#send({ v: 1, type: 'accepted', job, seq: 1 }).catch(() => undefined);
    }
    if (this.#draining) return this.#reject(job, 'draining', 'the agent is draining and takes no new work');
    const service = this.#options.catalog().services.get(request.process);
    if (!service) return this.#reject(job, 'unknown-process', `process '${request.process}' is not offered by this agent`);
    const { slots } = this.#options;
    const run: QueuedRun = { job, process: request.process, limit: Math.min(service.maxParallel ?? slots, slots), request, service };
    // Nothing waiting could start now (each freed slot starts what it can), so a job that can goes first.
    if (this.#canStart(run)) return this.#start(run);
    if (this.#waiting.add(run)) return;
    const taken = this.#running.size >= slots ? `all ${slots} slots are in use` : `process '${run.process}' already runs ${run.limit} time(s) here`;
    this.#reject(job, 'busy', `${taken} and ${slots} job(s) wait for a slot`);
  }

  #canStart(run: WaitingRun): boolean {
    return this.#running.size < this.#options.slots && this.#runsOf(run.process) < run.limit;
  }

  #runsOf(process: string): number {
    return [...this.#running.values()].filter((r) => r.process === process).length;
  }

  #start({ job, request, service }: QueuedRun): void {
    const running: RunningJob = { job, process: request.process, seq: 0, abort: new AbortController(), upload: request.upload };
    this.#running.set(job, running);
    const { logger, outbox } = this.#options;
    runJob(
      { ...this.#options.runner, outbox, logger, send: (m) => this.#send(m), onSlotFree: () => this.#slotFree(job), onFinished: () => this.#finishing.delete(job) },
      service,
      request,
      running,
    ).catch((err: Error) => {
      logger.error({ job, err: err.message }, 'run could not be completed');
      this.#slotFree(job);
      this.#finishing.delete(job);
    });
  }

  #slotFree(job: string): void {
    this.#running.delete(job);
    this.#finishing.add(job);
    // After the ended run's terminal event has gone out, which follows in the same turn: the orchestrator learns of it first.
    queueMicrotask(() => {
      for (let next = this.#nextWaiting(); next; next = this.#nextWaiting()) this.#start(next);
    });
  }

  #nextWaiting(): QueuedRun | undefined {
    return this.#waiting.takeNext({ total: this.#running.size, ofProcess: (process) => this.#runsOf(process) });
  }

  /**
   * Whether the job's run is over on this agent: its terminal event is sent again if it waits in
   * the outbox, or is on its way there (and will be sent from it).
   */
  #endedHere(job: string): boolean {
    const finished = this.#options.outbox.get(job);
    if (finished) this.#send(finished).catch(() => undefined);
    return finished !== undefined || this.#finishing.has(job);
  }

  #kill(job: string): void {
    const running = this.#running.get(job);
    if (running) return running.abort.abort();
    // A job that never started ends as a killed run does: through the outbox, until acknowledged.
    if (this.#waiting.remove(job)) return void this.#options.outbox.add({ v: 1, type: 'killed', job, seq: 1 }).catch(() => undefined);
    if (this.#endedHere(job)) return;
    this.#send({ v: 1, type: 'error', job, code: 'unknown-job', message: `job '${job}' is not running on this agent` }).catch(() => undefined);
  }
}
