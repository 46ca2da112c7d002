import path from 'node:path';
import type { Logger } from 'pino';
import { Agent, DEFAULT_PING_INTERVAL_MS } from './agent.js';
import { createAgentLogger } from './agent-logger.js';
import { systemdUnit } from './systemd-unit.js';
import { AGENT_USAGE, DEFAULT_STOP_GRACE_SECONDS, loadAgentConfig, type AgentConfig } from './config.js';
import { Outbox } from './jobs/outbox.js';
import { RunJournal } from './jobs/run-journal.js';
import { RunFolders } from './jobs/run-folders.js';
import { preparePrivateWorkDir, WorkDirError } from './jobs/work-dir.js';
import { runProcess } from './runner/run-process.js';
import { Launcher } from './runner/launcher.js';
import { ServicesFolderError, watchServices } from './services/services-watcher.js';
import { XmppLoginError } from '../xmpp/connection.js';
import { ServerTrustError } from '../xmpp/server-trust.js';
import { AgentLink } from './xmpp/agent-link.js';
import { defaultFetchLimits } from './jobs/fetch-inputs.js';

export interface RunningAgent {
  agent: Agent;
  /** Settles when the server refuses the login on a reconnect (e.g. the account was revoked). */
  loginRefused: Promise<XmppLoginError>;
  stop(graceMs?: number): Promise<void>;
}

/** Composition root of one agent: services watcher, outbox, XMPP link and runner. */
export async function startAgent(config: AgentConfig, logger: Logger): Promise<RunningAgent> {
  await preparePrivateWorkDir(config.workDir);
  const journal = await RunJournal.open(config.workDir, logger);
  const folders = await RunFolders.open(config.workDir);
  const outbox = await Outbox.open(path.join(config.workDir, 'outbox'));
  outbox.onWriteError((job, err) => logger.error({ job, err: err.message }, 'result could not be kept on disk; it is sent from memory only'));
  let agent: Agent | undefined;
  const watcher = await watchServices(
    config.services,
    (catalog) => {
      for (const invalid of catalog.invalid) logger.warn({ file: invalid.file, reason: invalid.reason }, 'invalid service file');
      for (const { file, note } of catalog.notes) logger.info({ file, note }, 'service file note');
      logger.info({ processes: [...catalog.services.keys()], hash: catalog.hash }, 'services changed');
      void agent?.announceCatalog();
    },
    { onError: (err) => logger.error({ err: err.message }, 'services folder') },
  );
  const loaded = watcher.current();
  for (const invalid of loaded.invalid) logger.warn({ file: invalid.file, reason: invalid.reason }, 'invalid service file');
  for (const { file, note } of loaded.notes) logger.info({ file, note }, 'service file note');
  logger.info({ services: loaded.services.size, invalid: loaded.invalid.length, folder: config.services }, 'services loaded');
  // posix_spawn through the prebuilt launcher where it runs; Node's spawn anywhere else, or when asked.
  const launcher = process.env['OUTPOST_AGENT_SPAWN'] === 'child_process' ? undefined : await Launcher.start();
  logger.info({ spawn: launcher ? 'launcher' : 'child_process' }, 'runs are started');
  const run: typeof runProcess = launcher ? (request) => runProcess({ ...request, start: launcher.start }) : runProcess;
  const trust = config.serverTrust ?? {};
  const pingIntervalMs = config.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
  const link = new AgentLink({
    services: config.servers,
    jid: config.jid,
    password: config.password,
    orchestrator: config.orchestrator,
    trust,
    // The ping interval is how long the agent takes silence to mean a server is gone, connecting as connected.
    connectTimeoutMs: pingIntervalMs,
    logger,
  });
  agent = new Agent({
    link,
    outbox,
    catalog: () => watcher.current(),
    slots: config.slots,
    pingIntervalMs,
    runner: { folders, journal, run, killGraceMs: config.killGraceMs, serverTrust: trust, fetchLimits: config.fetchLimits ?? defaultFetchLimits() },
    logger,
  });
  await agent.start().catch(async (err: unknown) => {
    // A launcher left running would keep this process alive after the failure.
    await launcher?.close();
    throw err;
  });
  const running = agent;
  const loginRefused = new Promise<XmppLoginError>((resolve) => link.once('login-refused', resolve));
  return {
    agent: running,
    loginRefused,
    async stop(graceMs) {
      await watcher.close();
      await running.stop(graceMs);
      await launcher?.close();
      journal.close();
    },
  };
}

/** sysexits.h: a configuration error, which restarting will not cure. */
const EX_CONFIG = 78;

const refusedLogin = (jid: string, err: XmppLoginError) => `${jid}: ${err.message} (check the password and that the account exists)`;

/** `outpost-agent`: one agent until SIGINT/SIGTERM. */
export async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    process.stdout.write(`${AGENT_USAGE}\n`);
    return;
  }
  let config: AgentConfig;
  try {
    config = loadAgentConfig(argv, process.env);
  } catch (err) {
    process.stderr.write(`outpost-agent: ${(err as Error).message}\n${AGENT_USAGE}\n`);
    process.exit(EX_CONFIG);
  }
  if (config.systemdUnitFlags) {
    const command = [process.execPath, path.resolve(process.argv[1]!)];
    process.stdout.write(systemdUnit({ command, flags: config.systemdUnitFlags, workDir: config.workDir, stopGraceSeconds: (config.stopGraceMs ?? DEFAULT_STOP_GRACE_SECONDS * 1000) / 1000 }));
    return;
  }
  const logger = createAgentLogger(config.logLevel, config.jid);
  let running: RunningAgent;
  try {
    running = await startAgent(config, logger);
  } catch (err) {
    if (!(err instanceof WorkDirError) && !(err instanceof ServicesFolderError) && !(err instanceof XmppLoginError) && !(err instanceof ServerTrustError)) throw err;
    // One line and EX_CONFIG, so that a service manager does not restart it in a loop.
    process.stderr.write(`outpost-agent: ${err instanceof XmppLoginError ? refusedLogin(config.jid, err) : err.message}\n`);
    process.exit(EX_CONFIG);
  }
  // A revoked account stops the agent as a wrong password does, instead of leaving it connected to nothing.
  void running.loginRefused.then(async (err) => {
    process.stderr.write(`outpost-agent: ${refusedLogin(config.jid, err)}\n`);
    await running.stop(0);
    process.exit(EX_CONFIG);
  });
  let signals = 0;
  // Two-stage shutdown: the first signal drains and waits for runs; a second one kills them now.
  const shutdown = () => {
    signals += 1;
    logger.info({ signals }, signals === 1 ? 'stopping: waiting for runs to finish' : 'stopping now');
    void running.stop(signals === 1 ? config.stopGraceMs ?? DEFAULT_STOP_GRACE_SECONDS * 1000 : 0).then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
