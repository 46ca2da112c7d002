import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RunToEndOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Called with the child's pid once it runs. */
  onStart?: (pid: number) => void;
  /** Called for each line the child writes to stderr. */
  onStderrLine?: (line: string) => void;
}

/**
 * Runs a program to its end and resolves with its stdout; rejects, with the end of its stderr,
 * when it fails or outlives `timeoutMs` (then it is killed with its own process group).
 */
export function runToEnd(command: string, args: string[], options: RunToEndOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderrTail = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderrTail = `${stderrTail}${line}\n`.slice(-3000);
      options.onStderrLine?.(line);
    });
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      stderrTail += `\n(killed after ${options.timeoutMs} ms)`;
      killGroup();
    }, options.timeoutMs);
    process.once('exit', killGroup);
    if (child.pid) options.onStart?.(child.pid);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      process.removeListener('exit', killGroup);
      // Helpers it left behind (client processes) go with it.
      killGroup();
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} ended with ${signal ?? `code ${code}`}\n${stderrTail}`));
    });
  });
}
