import { fork } from 'node:child_process';
import type { Logger } from 'pino';
import type { AgentConfig } from '../agent/config.js';

/**
 * The agent's settings as they cross the IPC channel (JSON): the file-input allowlist goes as its
 * `--fetch-allow` text and is parsed on the other side.
 */
export type DevAgentConfig = Omit<AgentConfig, 'fetchLimits'> & { fetchAllow?: string };

/** Messages from the dev agent's process. */
export type AgentProcessMessage = { type: 'started' } | { type: 'failed'; message: string } | { type: 'log'; line: string };

export interface DevAgent {
  /** Lets runs finish for up to `graceMs` (0: kills them), then ends the process. */
  stop(graceMs: number): Promise<void>;
}

/**
 * The dev agent in a process of its own (docs/decisions.md, Performance): sharing the
 * orchestrator's event loop, every job's agent work queued behind the orchestrator's on one
 * core. Its own process group keeps a terminal's Ctrl-C away from it, so shutdown order stays
 * ours; it stops when asked or when this process goes away. Its log lines come here.
 */
export function startDevAgent(config: DevAgentConfig, logger: Logger): Promise<DevAgent> {
  const child = fork(new URL('./agent-process-main.js', import.meta.url), [], { detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('message', (message: AgentProcessMessage) => {
    if (message.type === 'log') relay(logger, message.line);
  });
  const agent: DevAgent = {
    async stop(graceMs) {
      if (child.connected) child.send({ type: 'stop', graceMs });
      await exited;
    },
  };
  return new Promise((resolve, reject) => {
    child.on('message', (message: AgentProcessMessage) => {
      if (message.type === 'started') resolve(agent);
      if (message.type === 'failed') reject(new Error(message.message));
    });
    void exited.then(() => reject(new Error('the dev agent exited before it started')));
    child.send({ type: 'start', config, logLevel: logger.level });
  });
}

/** A pino line of the agent, logged again by the dev logger, so both read alike. */
function relay(logger: Logger, line: string): void {
  const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...fields } = JSON.parse(line) as Record<string, unknown>;
  const label = (logger.levels.labels[Number(level)] ?? 'info') as 'info';
  logger[label](fields, String(msg ?? ''));
}
