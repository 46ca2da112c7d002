import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { DevConfig } from '../src/config.js';
import { issueUserToken } from '../src/auth/token-command.js';
import { startOrchestrator, type RunningOrchestrator } from '../src/main.js';
import type { AgentRegistry } from '../src/registry/agent-registry.js';
import type { Role, UserStoreApi } from '../src/store/user-store.js';
import { isLoopbackHost } from '../xmpp/server-trust.js';
import { startDevAgent, type DevAgent } from './agent-process.js';
import { PrivateProsody } from './private-prosody.js';
import { ensureDevCertificate, type TlsFiles } from './tls-certificate.js';

/** The embedded Prosody's XMPP domain. */
export const DEV_DOMAIN = 'outpost.localhost';
const LOCAL_AGENT = 'local';

const DEV_TOKEN_LABEL = 'dev';

/**
 * A fresh token for the dev user of a role, named after it (`admin`, `user`) and created if
 * needed; the tokens of earlier dev runs stop working.
 */
async function devToken(users: UserStoreApi, role: Role): Promise<string> {
  for (const token of users.tokens(role)) {
    if (token.label === DEV_TOKEN_LABEL && token.revoked === null) await users.revokeToken(token.id);
  }
  return (await issueUserToken(users, role, role, DEV_TOKEN_LABEL)).token;
}

/** Resolves once some agent's catalog has arrived (its presence comes first). */
function firstCatalog(registry: AgentRegistry): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!registry.agents().some((a) => a.catalogHash === a.load.catalog)) return;
      registry.off('changed', check);
      resolve();
    };
    registry.on('changed', check);
  });
}

/** Where `outpost dev` keeps its private Prosody, inside the data directory. */
export const prosodyDir = (dataDir: string) => path.join(dataDir, 'prosody');

/**
 * `outpost dev`: a private Prosody, the orchestrator and one agent on the services folder, until
 * Ctrl-C. The agent runs in a child process that only this one stops, so shutdown order is ours:
 * agent first (its runs finish or are killed), then the orchestrator, then Prosody.
 */
export async function runDev(config: DevConfig, logger: Logger): Promise<void> {
  // The operator's certificate, else one of our own, kept in the data directory (docs/security.md, the network).
  const ownCertificate = !(config.tlsCert && config.tlsKey);
  const tls: TlsFiles = ownCertificate ? await ensureDevCertificate(config.dataDir, [DEV_DOMAIN, 'localhost', config.host]) : { certFile: config.tlsCert!, keyFile: config.tlsKey! };
  // HTTPS by default as soon as other machines can reach the orchestrator (docs/decisions.md, Fabric).
  const https = config.https ?? !isLoopbackHost(config.host);
  const prosody = new PrivateProsody({ dir: prosodyDir(config.dataDir), host: config.host, domain: DEV_DOMAIN, logger, tls });
  await prosody.start();
  const devFile = path.join(config.dataDir, 'dev.json');
  let orchestrator: RunningOrchestrator | undefined;
  let agent: DevAgent | undefined;
  let tokens: { adminToken: string; userToken: string };
  const shutdown = async (graceMs: number) => {
    await agent?.stop(graceMs);
    await orchestrator?.stop();
    await prosody.stop();
    await rm(devFile, { force: true });
  };
  try {
    const password = randomBytes(18).toString('base64url');
    await prosody.registerAccount(LOCAL_AGENT, password);
    orchestrator = await startOrchestrator(
      {
        host: config.host,
        httpPort: config.httpPort,
        dataDir: config.dataDir,
        logLevel: config.logLevel,
        agentGrace: config.agentGrace,
        pingInterval: config.pingInterval,
        jobDeadline: config.jobDeadline,
        publicUrl: config.publicUrl,
        maxUploadBytes: config.maxUploadBytes,
        keepJobs: config.keepJobs,
        anonymousRead: config.anonymousRead,
        anonymousExecute: config.anonymousExecute,
        maxRunning: config.maxRunning,
        maxWaiting: config.maxWaiting,
        metricsOpen: config.metricsOpen,
        publicHosts: config.publicHosts,
        ...(https ? { tlsCert: tls.certFile, tlsKey: tls.keyFile } : {}),
        xmppServer: prosody.componentService,
        componentJid: prosody.componentDomain,
        componentSecret: prosody.componentSecret,
      },
      logger,
      {},
      { removeAccount: (jid) => prosody.removeAccount(jid) },
    );
    await orchestrator.agentAccounts.add(`${LOCAL_AGENT}@${DEV_DOMAIN}`, LOCAL_AGENT);
    tokens = { adminToken: await devToken(orchestrator.users, 'admin'), userToken: await devToken(orchestrator.users, 'user') };
    const announced = firstCatalog(orchestrator.registry);
    agent = await startDevAgent(
      {
        servers: [prosody.clientService],
        jid: `${LOCAL_AGENT}@${DEV_DOMAIN}/dev`,
        password,
        services: config.services,
        slots: config.slots,
        workDir: path.join(config.dataDir, 'agent'),
        orchestrator: prosody.componentDomain,
        logLevel: config.logLevel,
        killGraceMs: 5000,
        // The dev agent pins the certificate, as the agents `outpost agent add` prints commands for.
        serverTrust: { fingerprints: [prosody.fingerprint!.replace(/:/g, '')] },
        ...(config.fetchAllow === undefined ? {} : { fetchAllow: config.fetchAllow }),
      },
      logger.child({ agent: LOCAL_AGENT }),
    );
    await announced;
  } catch (err) {
    await shutdown(0);
    throw err;
  }
  const { adminToken, userToken } = tokens;
  const info = {
    url: orchestrator.url,
    ...(config.publicUrl === undefined ? {} : { publicUrl: config.publicUrl }),
    // For `outpost agent add`: npm must be told to trust a certificate no CA signed.
    ...(https && ownCertificate ? { selfSignedCertificate: await readFile(tls.certFile, 'utf8') } : {}),
    adminToken,
    userToken,
    xmpp: { host: prosody.host, port: prosody.c2sPort, domain: prosody.domain, fingerprint: prosody.fingerprint },
  };
  // Written whole, then renamed: a script polling for the file never reads half of it.
  await writeFile(`${devFile}.partial`, JSON.stringify(info, null, 2), { mode: 0o600 });
  await rename(`${devFile}.partial`, devFile);
  process.stdout.write(
    `\nOutpost is ready at ${orchestrator.url}\n` +
      `  processes:   ${orchestrator.url}/processes\n` +
      `  agents:      ${orchestrator.url}/admin/agents (with the admin token)\n` +
      `  admin page:  ${orchestrator.url}/admin/ui/ (paste the admin token into it)\n` +
      `  admin token: ${adminToken}\n` +
      `  user token:  ${userToken}\n` +
      `  (both are in ${devFile}; send them as 'Authorization: Bearer TOKEN')\n` +
      `  services:    ${config.services} (drop a .properties file here to publish a program)\n` +
      `  add an agent: node bin/outpost.js agent add NAME --data-dir ${config.dataDir}\n` +
      `Press Ctrl-C to stop (twice to kill running jobs at once).\n\n`,
  );
  let signals = 0;
  const onSignal = () => {
    signals += 1;
    if (signals === 1) process.stdout.write('Stopping: waiting for running jobs (Ctrl-C again to kill them)...\n');
    void shutdown(signals === 1 ? 30_000 : 0).then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
