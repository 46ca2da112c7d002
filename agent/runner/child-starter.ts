import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export interface ChildSpec {
  executable: string;
  args: string[];
  /** Written to the child's stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string;
  cwd: string;
  env: Record<string, string>;
}

/** A started child, leader of its own process group (pid = pgid). */
export interface StartedChild {
  pid: number;
  stdout: Readable;
  stderr: Readable;
  stdin: Writable | null;
  /** The starter kills what is left of the group when the leader exits (the launcher does; Node's spawn does not). */
  groupEndsWithLeader?: true;
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
}

export type StartResult = { ok: true; child: StartedChild } | { ok: false; error: NodeJS.ErrnoException };

/** How a run's program is started: Node's own spawn, or the agent's launcher (launcher.ts). */
export type ChildStarter = (spec: ChildSpec) => Promise<StartResult>;

/** A program's own files are its user's alone unless it says otherwise (docs/decisions.md, Security). */
export const CHILD_UMASK = 0o077;

/** `child_process.spawn`, no shell, its own process group: the path that works everywhere. */
export const spawnChild: ChildStarter = (spec) =>
  new Promise((resolve) => {
    // Node has no per-child umask and a shell is never used, so the process's umask is set around
    // the spawn call alone: the child takes it over when it is forked, within that synchronous call.
    const umask = process.umask(CHILD_UMASK);
    try {
      const child = spawn(spec.executable, spec.args, {
        shell: false,
        detached: true,
        cwd: spec.cwd,
        env: spec.env,
        stdio: [spec.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
      const pid = child.pid;
      if (pid === undefined) {
        child.once('error', (error) => resolve({ ok: false, error }));
        return;
      }
      const onExit: StartedChild['onExit'] = (listener) => void child.once('exit', listener);
      resolve({ ok: true, child: { pid, stdout: child.stdout!, stderr: child.stderr!, stdin: child.stdin, onExit } });
    } catch (error) {
      resolve({ ok: false, error: error as NodeJS.ErrnoException });
    } finally {
      process.umask(umask);
    }
  });
