import type { FailureCode } from '../../protocol/index.js';
import type { ServiceDefinition } from '../services/service-definition.js';
import type { ChildStarter } from './child-starter.js';

export interface RunRequest {
  jobId: string;
  service: ServiceDefinition;
  inputs: Record<string, unknown>;
  /** Created (recursively) by the runner and left in place; the caller removes it. */
  workDir: string;
  /** Aborting kills the run; the outcome is then `killed`. */
  signal: AbortSignal;
  /** The earlier of this and `service.timeoutSeconds` ends the run with `timeout`. */
  deadline?: Date;
  /** Delay between SIGTERM and SIGKILL; default 5000. */
  killGraceMs?: number;
  /** Most stdout kept in memory for outputs read from stdout; default 16 MiB. */
  maxStdoutBytes?: number;
  /** Output name → the chosen one of its `formats` (from `execute`); others get their default. */
  formats?: Record<string, string>;
  onProgress: (progress: number, message?: string) => void;
  /** How the program is started; Node's spawn by default (the agent passes its launcher when it has one). */
  start?: ChildStarter;
}

export type LocalOutputValue =
  | { kind: 'value'; value: unknown }
  /** `filename`: the name the program gave it, offered to whoever downloads it. */
  | { kind: 'file'; path: string; mediaType?: string; size: number; filename?: string };

export type RunOutcome =
  | { status: 'completed'; outputs: Record<string, LocalOutputValue> }
  | { status: 'failed'; code: FailureCode; message: string; exitCode?: number; signal?: string; stderr?: string }
  | { status: 'killed'; signal: string };

export type Failure = Extract<RunOutcome, { status: 'failed' }>;

export const DEFAULT_KILL_GRACE_MS = 5000;
export const DEFAULT_MAX_STDOUT_BYTES = 16 * 1024 * 1024;
