import type { Readable } from 'node:stream';
import { CappedBuffer, TailBuffer } from './capture-buffers.js';
import { LineSplitter, MAX_LINE_BYTES, QUIET_RECORD_MS } from './line-splitter.js';
import { GroupTermination } from './process-group.js';
import { spawnChild, type ChildSpec, type ChildStarter, type StartedChild } from './child-starter.js';

export type { ChildSpec } from './child-starter.js';

export interface SuperviseOptions {
  timeoutMs: number;
  signal: AbortSignal;
  /** Aborting ends the run as a failure (`line-rule`): the program's output said it failed. */
  failSignal?: AbortSignal;
  killGraceMs: number;
  /** Most stdout bytes kept; undefined when stdout is read only for progress. */
  maxStdoutBytes?: number;
  /**
   * Sees every whole stdout and stderr record as it arrives (a line, a CR-drawn update, GDAL's
   * `10...`, or what came before a quiet spell; see LineSplitter); returns false to leave it out
   * of what is kept.
   */
  onLine: (line: string) => boolean;
  /** How the child is started; Node's spawn by default. */
  start?: ChildStarter;
}

/** Why the runner ended the child itself. */
export type StopReason = 'timeout' | 'abort' | 'stdout-limit' | 'line-rule';

export type ChildResult =
  | { kind: 'spawn-error'; error: NodeJS.ErrnoException }
  | {
      kind: 'exited';
      exitCode: number | null;
      signal: NodeJS.Signals | null;
      stopReason?: StopReason;
      /** The last signal the runner sent, if it sent any. */
      stopSignal?: NodeJS.Signals;
      stdout: Buffer;
      stderr: string;
    };

/** How long pipes may stay open after the child exited (held by a grandchild that escaped the group). */
export const PIPE_DRAIN_MS = 200;
export const STDERR_TAIL_BYTES = 4096;
/** setTimeout fires at once for longer delays. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs one child in its own process group, without a shell, and resolves once it has exited and
 * its pipes are drained. A timeout, an abort or too much stdout ends the whole group.
 */
export async function superviseChild(spec: ChildSpec, options: SuperviseOptions): Promise<ChildResult> {
  const started = await (options.start ?? spawnChild)(spec);
  if (!started.ok) return { kind: 'spawn-error', error: started.error };
  return supervise(started.child, spec, options);
}

function supervise(child: StartedChild, spec: ChildSpec, options: SuperviseOptions): Promise<ChildResult> {
  return new Promise((resolve) => {
    const { pid } = child;
    const termination = new GroupTermination(pid, options.killGraceMs);
    let stopReason: StopReason | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    // Only the stdout limit can be reached after the exit; that needs no kill, just the failure.
    const stop = (reason: StopReason) => {
      if (stopReason) return;
      stopReason = reason;
      if (!exit) termination.start();
    };
    const timer = setTimeout(() => stop('timeout'), Math.min(options.timeoutMs, MAX_TIMER_MS));
    const onAbort = () => stop('abort');
    options.signal.addEventListener('abort', onAbort, { once: true });
    const onFail = () => stop('line-rule');
    options.failSignal?.addEventListener('abort', onFail, { once: true });
    // An abort that came while the launcher was starting the child ends it now.
    if (options.signal.aborted) stop('abort');

    const kept = options.maxStdoutBytes === undefined ? undefined : new CappedBuffer(options.maxStdoutBytes);
    const stdoutLines = new LineSplitter((bytes, line) => {
      const keep = line === undefined || options.onLine(line);
      if (keep && kept && stopReason !== 'stdout-limit' && !kept.push(bytes)) stop('stdout-limit');
    }, MAX_LINE_BYTES, QUIET_RECORD_MS);
    const tail = new TailBuffer(STDERR_TAIL_BYTES);
    const stderrLines = new LineSplitter((bytes, line) => {
      if (line === undefined || options.onLine(line)) tail.push(bytes);
    }, MAX_LINE_BYTES, QUIET_RECORD_MS);

    const pipes: Array<[Readable, LineSplitter]> = [
      [child.stdout, stdoutLines],
      [child.stderr, stderrLines],
    ];
    let openPipes = pipes.length;
    let drainTimer: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = () => {
      if (settled || !exit) return;
      settled = true;
      clearTimeout(drainTimer);
      stdoutLines.end();
      stderrLines.end();
      resolve({
        kind: 'exited',
        exitCode: exit.code,
        signal: exit.signal,
        ...(stopReason && { stopReason }),
        ...(termination.lastSignal && { stopSignal: termination.lastSignal }),
        stdout: kept?.toBuffer() ?? Buffer.alloc(0),
        stderr: tail.toString(),
      });
    };
    for (const [stream, splitter] of pipes) {
      stream.on('data', (chunk: Buffer) => splitter.push(chunk));
      // A failing pipe ends like EOF; the exit status still decides the outcome.
      stream.on('error', () => {});
      stream.once('close', () => {
        openPipes--;
        if (exit && openPipes === 0) settle();
      });
    }
    if (spec.stdin !== undefined && child.stdin) {
      // The program may exit without reading its input; the resulting EPIPE is not a failure.
      child.stdin.on('error', () => {});
      child.stdin.end(spec.stdin);
    }

    child.onExit((code, signal) => {
      exit = { code, signal };
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      options.failSignal?.removeEventListener('abort', onFail);
      termination.leaderExited(child.groupEndsWithLeader);
      if (openPipes === 0) {
        settle();
        return;
      }
      // Timers run before the loop polls for I/O: after a busy spell the child's last output may be
      // waiting unread in the pipe when the timer fires, so the pipes are let go one poll later.
      drainTimer = setTimeout(() => {
        setImmediate(() => {
          if (openPipes === 0) return;
          for (const [stream] of pipes) stream.destroy();
          settle();
        });
      }, PIPE_DRAIN_MS);
    });
  });
}
