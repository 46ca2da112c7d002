import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { repoRoot } from './paths.js';

export interface AgentProcess {
  child: ChildProcess;
  output(): string;
  /** SIGKILL, as a crash would; resolves once the process is gone. */
  crash(): Promise<void>;
}

/** An agent in a process of its own, started the way a remote machine starts it. */
export function spawnAgent(options: { server: string; jid: string; password: string; services: string; workDir: string; slots?: number; logLevel?: string; extraArgs?: string[]; env?: Record<string, string> }): AgentProcess {
  const child = spawn(
    process.execPath,
    [
      path.join(repoRoot, 'bin', 'outpost-agent.js'),
      '--server', options.server,
      '--jid', options.jid,
      '--services', options.services,
      '--work-dir', options.workDir,
      '--slots', String(options.slots ?? 2),
      '--log-level', options.logLevel ?? 'warn',
      ...(options.extraArgs ?? []),
    ],
    { env: { PATH: process.env['PATH'], OUTPOST_AGENT_PASSWORD: options.password, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return watchAgent(child);
}

/** An agent started by a shell command line, as an operator pastes it; `exec` so that the agent is the child. */
export function spawnAgentCommand(commandLine: string, env: NodeJS.ProcessEnv): AgentProcess {
  return watchAgent(spawn('/bin/sh', ['-c', `exec ${commandLine}`], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
}

function watchAgent(child: ChildProcess): AgentProcess {
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    output: () => output,
    crash: async () => void (await signalAndWait(child, 'SIGKILL')),
  };
}

/** Sends `signal` to a child still running and resolves with its exit code once it is gone (null: ended by a signal). */
export async function signalAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit') as Promise<[number | null]>;
  child.kill(signal);
  return (await exited)[0];
}
