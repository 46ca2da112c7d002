import { pino } from 'pino';
import { defaultFetchLimits } from '../agent/jobs/fetch-inputs.js';
import { startAgent, type RunningAgent } from '../agent/main.js';
import type { AgentProcessMessage, DevAgentConfig } from './agent-process.js';

/* The dev agent's process (dev/agent-process.ts): started, stopped and heard over its IPC channel. */

type Command = { type: 'start'; config: DevAgentConfig; logLevel: string } | { type: 'stop'; graceMs: number };

const tell = (message: AgentProcessMessage) => process.send?.(message);
let running: Promise<RunningAgent> | undefined;

async function stop(graceMs: number): Promise<never> {
  await (await running?.catch(() => undefined))?.stop(graceMs);
  process.exit(0);
}

process.on('message', (command: Command) => {
  if (command.type === 'stop') return void stop(command.graceMs);
  const logger = pino({ level: command.logLevel }, { write: (line: string) => tell({ type: 'log', line }) });
  const { fetchAllow, ...config } = command.config;
  running = startAgent({ ...config, fetchLimits: defaultFetchLimits(fetchAllow) }, logger);
  running.then(
    () => tell({ type: 'started' }),
    (err: Error) => process.send?.({ type: 'failed', message: err.message } satisfies AgentProcessMessage, () => process.exit(1)),
  );
});
// The dev process went away without stopping us: runs are killed, nothing is left behind.
process.once('disconnect', () => void stop(0));
