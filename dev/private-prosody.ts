import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { ORCHESTRATOR_SUBDOMAIN } from '../protocol/index.js';
import { fillTemplate } from './config-template.js';
import { freePort, isPortFree, waitForPort } from './free-port.js';
import { watchProcess } from './watched-process.js';
import { registerAccounts, removeAccount } from './prosody-accounts.js';
import { CONFIG_FILE, findProsody } from './prosody-paths.js';
import { certificateFingerprint } from './tls-certificate.js';

const TEMPLATE = fileURLToPath(new URL('../../prosody/prosody.cfg.lua.template', import.meta.url));
const PID_FILE = 'prosody.pid';

export interface PrivateProsodyOptions {
  /** Folder of its own for config, data, log and pid file. */
  dir: string;
  host: string;
  domain: string;
  logger: Logger;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** PEM files of the certificate and key: with them the client port requires STARTTLS; without, it has no TLS. */
  tls?: { certFile: string; keyFile: string };
}

interface Ports {
  c2s: number;
  component: number;
  /** The address agents reach the client port at, for `outpost agent add`. */
  host: string;
  /** The SHA-256 fingerprint of the client port's certificate, which agents pin (`outpost agent add`). */
  fingerprint?: string;
}

/**
 * The component port (XEP-0114, no TLS, a shared secret) listens on loopback only, whatever
 * `--host` says: only the orchestrator beside it connects there (docs/security.md, the network).
 */
const COMPONENT_HOST = '127.0.0.1';


/** Keeps the ports of an earlier run when they are still free, so printed agent commands stay valid. */
async function choosePorts(file: string, host: string, fingerprint: string | undefined): Promise<Ports> {
  const previous = await readFile(file, 'utf8').then((text) => JSON.parse(text) as Ports, () => undefined);
  const reusable = previous && (await isPortFree(host, previous.c2s)) && (await isPortFree(COMPONENT_HOST, previous.component));
  const chosen = reusable ? { c2s: previous.c2s, component: previous.component } : { c2s: await freePort(host), component: await freePort(COMPONENT_HOST) };
  const ports = { ...chosen, host, ...(fingerprint === undefined ? {} : { fingerprint }) };
  await writeFile(file, JSON.stringify(ports));
  return ports;
}

/**
 * Ends a Prosody that an earlier, crashed run left behind (found through its pid file), and waits
 * until it is gone so that its ports are free again.
 */
async function killLeftover(pidFile: string, configFile: string): Promise<void> {
  const pid = Number(await readFile(pidFile, 'utf8').catch(() => ''));
  if (!Number.isInteger(pid) || pid <= 0) return;
  const isLeftover = async () => (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes(configFile);
  if (!(await isLeftover())) return;
  process.kill(pid, 'SIGKILL');
  for (let waited = 0; waited < 5000 && (await isLeftover()); waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
}

/**
 * A Prosody of Outpost's own: generated config, free ports, a component secret made anew at each
 * start, no mod_limits, STARTTLS required when given a certificate. Started for `outpost dev` and for the tests; never left running.
 */
export class PrivateProsody {
  readonly componentDomain: string;
  readonly componentSecret = randomBytes(24).toString('base64url');
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #ports: Ports = { c2s: 0, component: 0, host: '' };
  readonly #configFile: string;
  readonly #killOnExit = () => this.#child?.kill('SIGKILL');

  constructor(readonly options: PrivateProsodyOptions) {
    this.componentDomain = `${ORCHESTRATOR_SUBDOMAIN}.${options.domain}`;
    this.#configFile = path.join(options.dir, CONFIG_FILE);
  }

  get domain(): string {
    return this.options.domain;
  }
  get host(): string {
    return this.options.host;
  }
  get c2sPort(): number {
    return this.#ports.c2s;
  }
  get componentPort(): number {
    return this.#ports.component;
  }
  /** The client port's certificate fingerprint, when it has TLS. */
  get fingerprint(): string | undefined {
    return this.#ports.fingerprint;
  }
  get clientService(): string {
    return `xmpp://${this.host}:${this.c2sPort}`;
  }
  get componentService(): string {
    return `xmpp://${COMPONENT_HOST}:${this.componentPort}`;
  }

  async start(): Promise<void> {
    if (this.#child) return;
    const binary = findProsody();
    const { dir, host, logger } = this.options;
    await mkdir(path.join(dir, 'data'), { recursive: true, mode: 0o700 });
    await mkdir(path.join(dir, 'certs'), { recursive: true });
    await killLeftover(path.join(dir, PID_FILE), this.#configFile);
    const fingerprint = this.options.tls && certificateFingerprint(this.options.tls.certFile);
    this.#ports = await choosePorts(path.join(dir, 'ports.json'), host, fingerprint);
    await this.#writeConfig();
    // A process group of its own: a terminal's Ctrl-C must not stop it before the agent's grace
    // period and the orchestrator's last writes are over; it is stopped last, explicitly.
    const child = spawn(binary, ['--config', this.#configFile, '-F'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      detached: true,
    });
    this.#child = child;
    // Written here rather than by Prosody: its pid file comes with mod_posix, which also changes
    // its signal handling and umask, and the private server needs neither.
    if (child.pid !== undefined) await writeFile(path.join(dir, PID_FILE), String(child.pid));
    const watched = watchProcess(child);
    this.#exited = watched.exited;
    process.once('exit', this.#killOnExit);
    try {
      const dead = watched.isDead;
      await waitForPort(host, this.#ports.c2s, 10_000, dead);
      await waitForPort(COMPONENT_HOST, this.#ports.component, 10_000, dead);
    } catch (err) {
      await this.stop();
      const log = await readFile(path.join(dir, 'prosody.log'), 'utf8').catch(() => '');
      throw new Error(`Prosody did not start: ${(err as Error).message}\n${watched.stderrTail()}${log.slice(-2000)}`);
    }
    logger.info({ c2s: this.c2sPort, component: this.componentPort, domain: this.domain }, 'private prosody ready');
  }

  /** Creates (or resets the password of) an account, e.g. for an agent. */
  async registerAccount(username: string, password: string): Promise<void> {
    await registerAccounts(this.options.dir, this.domain, [{ username, password }]);
  }

  /** Deletes an account of this server (closing its sessions when it runs); another domain's JID is not ours to delete. */
  async removeAccount(jid: string): Promise<void> {
    const [username = '', domain] = jid.split('@');
    if (domain === this.domain) await removeAccount(this.options.dir, username, this.domain);
  }

  /** SIGTERM, then SIGKILL if Prosody has not exited within `graceMs`. Idempotent. */
  async stop(graceMs = 3000): Promise<void> {
    const child = this.#child;
    if (!child) return;
    process.removeListener('exit', this.#killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await this.#exited;
      clearTimeout(timer);
    }
    await rm(path.join(this.options.dir, PID_FILE), { force: true });
    this.#child = undefined;
  }

  async #writeConfig(): Promise<void> {
    const values: Record<string, string> = {
      dataDir: this.options.dir,
      logLevel: this.options.logLevel ?? 'warn',
      host: this.host,
      componentHost: COMPONENT_HOST,
      c2sPort: String(this.#ports.c2s),
      componentPort: String(this.#ports.component),
      domain: this.domain,
      componentDomain: this.componentDomain,
      componentSecret: this.componentSecret,
      tlsCertificate: this.options.tls?.certFile ?? '',
      tlsKey: this.options.tls?.keyFile ?? '',
    };
    const config = await fillTemplate(TEMPLATE, values);
    await writeFile(this.#configFile, config, { mode: 0o600 });
  }
}
