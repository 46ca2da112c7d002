import type { Logger } from 'pino';
import type { AgentRegistry } from '../registry/agent-registry.js';
import type { JobStoreApi } from '../store/job-store-api.js';
import type { OrchestratorMessage } from '../../protocol/index.js';
import type { InlineFile } from './file-inputs.js';
import type { LimitsOf } from './owner-limits.js';

/** A day: long enough for any queue that is still moving, short enough that a forgotten job ends. */
export const DEFAULT_JOB_DEADLINE_SECONDS = 86_400;

export interface UploadGrant {
  url: string;
  token: string;
}

export interface JobLifecycleOptions {
  jobStore: JobStoreApi;
  registry: AgentRegistry;
  /** The one way messages reach agents. */
  send: (jid: string, message: OrchestratorMessage) => Promise<void>;
  /** Where the job's agent uploads output files, with a new token for this dispatch (stored, as a digest, by the dispatch's write). */
  uploadFor: (jobId: string) => UploadGrant;
  /**
   * The files sent inline: stored before the job is (one over the size limit is refused), fetched
   * by its agent from `url` with its upload token, removed when the job ends.
   */
  inputFiles: {
    store: (jobId: string, files: Record<string, InlineFile>) => Promise<void>;
    url: (jobId: string) => string;
    remove: (jobId: string) => Promise<void>;
  };
  /** Deletes the input and output files stored for a job. */
  removeFiles: (jobId: string) => Promise<void>;
  /** The limits of each job owner: `maxWaiting` applies at submission, `maxRunning` at placement. */
  limits: LimitsOf;
  /** How long a lost agent's jobs wait for it to come back before failing with `agent-lost`. */
  graceMs: number;
  /** Time from its submission by which a job must have ended, sent as `execute.deadline`; 0 or absent: none. */
  deadlineMs?: number;
  /** How long a stop waits for the agent to confirm the kill before giving up on it. */
  killTimeoutMs?: number;
  logger: Logger;
}
