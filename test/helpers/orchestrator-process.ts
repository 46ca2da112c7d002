import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { promisify } from 'node:util';
import type { PrivateProsody } from '../../dev/private-prosody.js';
import { signalAndWait } from './agent-process.js';
import { eventually } from './cluster.js';
import { repoRoot } from './paths.js';

const run = promisify(execFile);
const outpost = path.join(repoRoot, 'bin', 'outpost.js');

/** `outpost serve` in a process of its own, so that a test can `kill -9` it and start it again on the same data directory. */
export interface OrchestratorProcess {
  url: string;
  output(): string;
  /** SIGKILL; resolves once the process is gone. */
  crash(): Promise<void>;
  /** SIGTERM, as an operator stops it; resolves with its exit code. */
  stop(): Promise<number | null>;
  /** Resolves with its exit code once it ends by itself. */
  exited(): Promise<number | null>;
  /** Starts it again with the same flags and data directory; `url` is the new one. */
  restart(): Promise<void>;
  /** `outpost …` on the same data directory (agent add, token create); its stdout, trimmed. */
  cli(...args: string[]): Promise<string>;
}

/** `prosody` is the private Prosody or ejabberd whose component port the orchestrator connects to. */
export async function startOrchestratorProcess(prosody: Pick<PrivateProsody, 'componentService' | 'componentDomain' | 'componentSecret'>, dataDir: string, flags: string[] = []): Promise<OrchestratorProcess> {
  let child: ChildProcess;
  let output = '';
  const start = async () => {
    output = '';
    child = spawn(process.execPath, [outpost, 'serve', '--http-port', '0', '--data-dir', dataDir, '--log-level', 'warn', ...flags], {
      env: {
        PATH: process.env['PATH'],
        OUTPOST_XMPP_SERVER: prosody.componentService,
        OUTPOST_COMPONENT_JID: prosody.componentDomain,
        OUTPOST_COMPONENT_SECRET: prosody.componentSecret,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    handle.url = await eventually(() => /listening on (http:\/\/\S+)/.exec(output)?.[1], 20_000, `listening line (output: ${output})`);
  };
  const handle: OrchestratorProcess = {
    url: '',
    output: () => output,
    crash: async () => void (await signalAndWait(child, 'SIGKILL')),
    stop: () => signalAndWait(child, 'SIGTERM'),
    exited: async () => (child.exitCode !== null || child.signalCode !== null ? child.exitCode : ((await once(child, 'exit')) as [number | null])[0]),
    restart: start,
    cli: async (...args) => (await run(process.execPath, [outpost, ...args, '--data-dir', dataDir])).stdout.trim(),
  };
  await start();
  return handle;
}
