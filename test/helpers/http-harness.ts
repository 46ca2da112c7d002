import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createApp, type AppDeps } from '../../src/http/create-app.js';
import { followJob, type JobFollower } from '../../src/jobs/job-follower.js';
import type { JobService, SubmitRequest } from '../../src/jobs/job-service.js';
import type { Link } from '../../src/http/links.js';
import { createMetrics } from '../../src/jobs/job-metrics.js';
import { JobEventStream } from '../../src/jobs/job-events.js';
import { JobUpdates } from '../../src/jobs/job-updates.js';
import type { ProcessSpec } from '../../protocol/index.js';
import { AgentRegistry } from '../../src/registry/agent-registry.js';
import { isFinished, type JobRecord } from '../../src/store/job-record.js';
import type { JobStore, JobOutcome } from '../../src/store/job-store.js';
import { SqliteJobStore } from '../../src/store/sqlite-job-store.js';
import { ResultFiles } from '../../src/store/result-files.js';
import { AgentAccounts } from '../../src/store/agent-accounts.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { newUploadToken, UploadTokens } from '../../src/store/upload-tokens.js';
import { tokenDigest } from '../../src/store/token-digest.js';
import { UserStore } from '../../src/store/user-store.js';
import { testCallers, type TestCallers } from './api.js';
import { jobRecord } from './job-records.js';
import { capturingLogger } from './logger.js';
import { openTempDatabase, type TempDatabase } from './temp-database.js';

export { at, jobRecord, T0 } from './job-records.js';

/** A job list as `/jobs` and `/admin/jobs` answer it. */
export interface JobListBody {
  jobs: { jobID: string }[];
  links: Link[];
}

export function spec(id: string, fields: Partial<ProcessSpec> = {}): ProcessSpec {
  return {
    id,
    keywords: [],
    version: '1.0.0',
    inputs: {},
    outputs: { result: { type: 'string' } },
    maxParallel: 1,
    file: `${id}.properties`,
    ...fields,
  };
}


/** The feed of job changes, with a way for tests to announce a change they made in the store. */
export class TestUpdates extends JobUpdates {
  constructor(readonly events = new JobEventStream()) {
    super(events);
  }

  publish(job: JobRecord): void {
    this.events.emit({ type: isFinished(job) ? 'finished' : 'progress', job }, (err) => {
      throw err;
    });
  }
}

/**
 * Just enough of a job service for HTTP tests: jobs are read from the real store, go to it
 * when submitted, and finish with whatever `outcome` says once someone waits for them (or
 * never, when it returns undefined).
 */
export class TestJobService implements JobService {
  readonly submitted: SubmitRequest[] = [];
  readonly dismissed: string[] = [];
  /** Kills asked for, as [job id, by whom]. */
  readonly killed: [string, string][] = [];
  /** Jobs whose waiter gave up. */
  readonly abandoned: string[] = [];
  outcome: (job: JobRecord) => JobOutcome | undefined = () => ({ status: 'successful', results: {} });
  submitError: Error | undefined;
  private count = 0;

  private readonly jobs: JobStore;

  constructor(
    private readonly store: SqliteJobStore,
    private readonly updates: TestUpdates,
  ) {
    this.jobs = store.rows;
  }

  get(id: string) {
    return this.store.get(id);
  }

  list(filter: Parameters<JobService['list']>[0]) {
    return this.store.list(filter);
  }

  assignedPerAgent() {
    return this.store.assignedPerAgent();
  }

  follow(jobId: string): Promise<JobFollower> {
    return followJob(this.updates, jobId, () => this.store.get(jobId), (step) => step());
  }

  async submit(request: SubmitRequest): Promise<JobRecord> {
    if (this.submitError) throw this.submitError;
    this.submitted.push(request);
    const now = new Date().toISOString();
    const job = jobRecord(`job-${++this.count}`, { ...request, created: now, updated: now });
    this.jobs.create(job);
    return job;
  }

  async waitUntilFinished(jobId: string, signal: AbortSignal): Promise<JobRecord> {
    const outcome = this.outcome(this.jobs.get(jobId)!);
    if (outcome) return this.jobs.finish(jobId, 0, outcome)!;
    return new Promise((_, reject) =>
      signal.addEventListener('abort', () => {
        this.abandoned.push(jobId);
        reject(signal.reason);
      }),
    );
  }

  async dismiss(jobId: string): Promise<JobRecord> {
    this.dismissed.push(jobId);
    const job = this.jobs.finish(jobId, 0, { status: 'dismissed', dismissedBy: 'anonymous' }) ?? this.jobs.get(jobId)!;
    this.jobs.remove(jobId);
    return { ...job, status: 'dismissed' };
  }

  async kill(jobId: string, by: string): Promise<JobRecord> {
    this.killed.push([jobId, by]);
    return this.jobs.finish(jobId, 0, { status: 'dismissed', dismissedBy: by })!;
  }
}

export interface Harness extends TestCallers {
  url: string;
  users: UserStore;
  registry: AgentRegistry;
  jobs: JobStore;
  jobService: TestJobService;
  updates: TestUpdates;
  results: ResultFiles;
  inputs: ResultFiles;
  uploadTokens: UploadTokens;
  /** Gives the job a new upload token, as a dispatch does, whatever its state. */
  issueUploadToken(jobId: string): string;
  /** The audit log the app writes. */
  audit: AuditStore;
  /** Lines the app logged, parsed. */
  logs: Record<string, unknown>[];
  ready: boolean;
  /** The SQLite file, for a second connection as another process would open. */
  databaseFile: string;
  /** What the app was made of; `apiRouter(deps)` gives its routes. */
  deps: AppDeps;
  close(): Promise<void>;
}

const LOAD = { slots: 2, running: 0, load1: 0, cores: 2, memFree: 1e9, catalog: 'h1', draining: false };

/** The app on a real HTTP server on a free port, with one agent offering `processes`. */
export async function startHarness(processes: ProcessSpec[], options: Partial<Omit<AppDeps, 'users'>> = {}): Promise<Harness> {
  const temp: TempDatabase = await openTempDatabase();
  const registry = new AgentRegistry();
  registry.updatePresence('worker@example.org/a', LOAD);
  registry.setCatalog('worker@example.org/a', 'h1', processes, []);
  const jobStore = new SqliteJobStore(temp.db);
  const jobs = jobStore.rows;
  const updates = new TestUpdates();
  const jobService = new TestJobService(jobStore, updates);
  const results = new ResultFiles(path.join(temp.dir, 'results'));
  const inputs = new ResultFiles(path.join(temp.dir, 'inputs'));
  const uploadTokens = new UploadTokens(temp.db);
  const users = new UserStore(temp.db);
  const audit = new AuditStore(temp.db);
  const { logger, lines: logs } = capturingLogger();
  const setToken = temp.db.prepare<[Buffer, string]>('UPDATE jobs SET upload_token_hash = ? WHERE id = ?');
  const issueUploadToken = (jobId: string) => {
    const token = newUploadToken();
    setToken.run(tokenDigest(token), jobId);
    return token;
  };
  const harness = { registry, jobs, jobService, updates, results, inputs, uploadTokens, issueUploadToken, users, audit, ...(await testCallers(users)), logs, ready: true, databaseFile: temp.file } as Harness;
  const deps: AppDeps = {
    registry,
    jobs: jobService,
    jobEvents: updates.events,
    results,
    inputs,
    uploadTokens,
    users,
    logger,
    readiness: () => harness.ready,
    metrics: createMetrics(updates.events, registry, () => 0),
    agentAccounts: new AgentAccounts(temp.db),
    audit,
    ...options,
  };
  harness.deps = deps;
  const app = createApp(deps);
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  harness.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  harness.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await temp.dispose();
  };
  return harness;
}

/** Asserts an OGC exception body and returns it. */
export async function problemOf(response: Response): Promise<{ type: string; title: string; status: number; detail: string } & Record<string, unknown>> {
  const body = (await response.json()) as { type: string; title: string; status: number; detail: string };
  if (body.status !== response.status) throw new Error(`body status ${body.status} differs from ${response.status}`);
  if (JSON.stringify(body).includes('    at ')) throw new Error('response carries a stack trace');
  return body;
}
