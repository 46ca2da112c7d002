import type { ChildProcess } from 'node:child_process';

/** A private server's process as its owner follows it: whether it is gone, its exit, and the end of its stderr for error messages. */
export interface WatchedProcess {
  exited: Promise<void>;
  isDead(): boolean;
  stderrTail(): string;
}

export function watchProcess(child: ChildProcess): WatchedProcess {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { exited, isDead: () => child.exitCode !== null || child.signalCode !== null, stderrTail: () => stderr };
}
