import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const TAIL_CHARS = 4000;

export interface StartedProcess {
  name: string;
  child: ChildProcess;
  /** The last few thousand characters the process wrote to stdout and stderr. */
  output(): string;
  isRunning(): boolean;
  /** SIGTERM (to the whole group when started as one), SIGKILL after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Own process group, for programs that start children of their own (brokers, worker pools). */
  group?: boolean;
  /** An IPC channel (for Node children), reachable through `child.send`. */
  ipc?: boolean;
}

const everyGroup = new Set<number>();
// Last resort if the benchmark dies without running its cleanup: no broker or worker outlives it.
process.once('exit', () => {
  for (const pgid of everyGroup) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Starts a long-running helper whose output is kept, not shown, so stdout stays one JSON document. */
export function startProcess(name: string, command: string, args: string[], options: StartOptions): StartedProcess {
  const spawnOptions: SpawnOptions = { env: options.env, stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc ? ['ipc' as const] : [])], detached: options.group ?? false };
  if (options.cwd) spawnOptions.cwd = options.cwd;
  const child = spawn(command, args, spawnOptions);
  let tail = '';
  const keep = (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-TAIL_CHARS));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const group = options.group && child.pid ? child.pid : undefined;
  if (group) everyGroup.add(group);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.once('error', (error) => keep(Buffer.from(`\n${name} could not start: ${error.message}\n`)));
  const running = () => child.exitCode === null && child.signalCode === null && child.pid !== undefined;
  const signal = (name: NodeJS.Signals) => {
    try {
      if (group) process.kill(-group, name);
      else child.kill(name);
    } catch {
      // already gone
    }
  };
  let stopping: Promise<void> | undefined;
  return {
    name,
    child,
    output: () => tail,
    isRunning: running,
    stop: (graceMs = 5000) =>
      (stopping ??= (async () => {
        if (running()) {
          signal('SIGTERM');
          const timer = setTimeout(() => signal('SIGKILL'), graceMs);
          await exited;
          clearTimeout(timer);
        }
        // Helpers that stay in the group (a shell's trap, a pool's children) go with it.
        if (group) signal('SIGKILL');
        if (group) everyGroup.delete(group);
      })()),
  };
}

/** The environment a child gets: PATH and the given variables, nothing else of ours. */
export function smallEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...extra };
}
