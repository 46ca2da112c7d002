import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { escapeXML } from '@xmpp/xml';
import type { Logger } from 'pino';
import { scramSha1Keys } from '../agent/xmpp/fast-scram-sha1.js';
import { ORCHESTRATOR_SUBDOMAIN } from '../protocol/index.js';
import { fillTemplate } from './config-template.js';
import { watchProcess, type WatchedProcess } from './watched-process.js';
import { freePort, waitForPort } from './free-port.js';

const TEMPLATE = fileURLToPath(new URL('../../ejabberd/ejabberd.yml.template', import.meta.url));
const EJABBERDCTL = '/usr/sbin/ejabberdctl';
/**
 * Every client session is a socket (a port) and an Erlang process: room for far more than a fleet
 * of 10,000 (the node's file descriptors are raised below; Debian's ejabberdctl as root runs the
 * node as the ejabberd user with 1,024). Idle schedulers sleep instead of spinning for a while
 * (`+sbwt none`…): the spinning is CPU the orchestrator and the agents on the same cores lack.
 */
const VM_FLAGS = ['+P', '1048576', '+Q', '262144', '+sbwt', 'none', '+sbwtdcpu', 'none', '+sbwtdio', 'none'];
/** Soft fd limit up to the port limit where the hard limit allows, else up to the hard limit; then `erl` with the arguments. */
const RAISE_FD_LIMIT = 'ulimit -n 262144 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
/** What ejabberd uses for the SCRAM-SHA-1 keys of a new account (`ejabberd_auth`, 23.01). */
const SCRAM_ITERATIONS = 4096;
const SCRAM_SALT_BYTES = 16;
/** Boot takes 2–4 s on the shared 2-core machine (docs/scale-out.md); far longer when it is overloaded. */
const BOOT_TIMEOUT_MS = 60_000;

/**
 * Where Debian's ejabberd keeps its Erlang applications (`/usr/lib/<arch>`), as its ejabberdctl
 * tells `erl`; the private ejabberd is started by `erl` the way `ejabberdctl foreground` does.
 */
function erlangLibs(): string | undefined {
  const script = existsSync(EJABBERDCTL) ? readFileSync(EJABBERDCTL, 'utf8') : '';
  return /^ERL_LIBS='([^']+)'$/m.exec(script)?.[1];
}

/** Why the private ejabberd cannot run here, or undefined when it can. */
export function ejabberdMissing(): string | undefined {
  if (!existsSync(EJABBERDCTL)) return "ejabberd is not installed (sh ejabberd/ensure-ejabberd.sh installs Debian's)";
  if (erlangLibs() === undefined) return `${EJABBERDCTL} names no ERL_LIBS: not Debian's ejabberd (sh ejabberd/ensure-ejabberd.sh installs it)`;
  return undefined;
}

export interface PrivateEjabberdOptions {
  /** Folder of its own for config, Mnesia spool, log and Erlang cookie. */
  dir: string;
  domain: string;
  logger: Logger;
  logLevel?: 'debug' | 'info' | 'warning' | 'error';
  /** PEM files of the certificate and key: with them the client port requires STARTTLS; without, it has no TLS. */
  tls?: { certFile: string; keyFile: string };
  /** The component secret, which every node of a cluster must share (default: made anew). */
  componentSecret?: string;
  /** Makes it a node that can join a cluster; without, it is not a distributed Erlang node. */
  node?: ClusterNode;
}

/** A node of a private cluster: its short name, the cluster's cookie and the port of the cluster's own epmd. */
export interface ClusterNode {
  name: string;
  cookie: string;
  epmdPort: number;
}

/**
 * An ejabberd of Outpost's own, started from Debian's package with its own config, spool, log and
 * HOME (where Erlang would keep its cookie), never the system service: loopback listeners on free
 * ports, accounts managed over its HTTP API on loopback. For the tests and as an operator's reference.
 */
export class PrivateEjabberd {
  readonly componentDomain: string;
  readonly componentSecret: string;
  readonly host = '127.0.0.1';
  #ports = { c2s: 0, component: 0, http: 0 };
  #child: ChildProcess | undefined;
  #watched: WatchedProcess | undefined;
  readonly #killOnExit = () => this.#signal('SIGKILL');

  constructor(readonly options: PrivateEjabberdOptions) {
    this.componentDomain = `${ORCHESTRATOR_SUBDOMAIN}.${options.domain}`;
    this.componentSecret = options.componentSecret ?? randomBytes(24).toString('base64url');
  }

  get domain(): string {
    return this.options.domain;
  }
  get c2sPort(): number {
    return this.#ports.c2s;
  }
  get componentPort(): number {
    return this.#ports.component;
  }
  get clientService(): string {
    return `xmpp://${this.host}:${this.c2sPort}`;
  }
  get componentService(): string {
    return `xmpp://${this.host}:${this.componentPort}`;
  }
  get configFile(): string {
    return path.join(this.options.dir, 'ejabberd.yml');
  }
  get #logFile(): string {
    return path.join(this.options.dir, 'ejabberd.log');
  }
  /** Its Erlang node name, when it is a cluster node. */
  get nodeName(): string | undefined {
    return this.options.node && `${this.options.node.name}@localhost`;
  }

  async start(): Promise<void> {
    if (this.#child) return;
    const missing = ejabberdMissing();
    if (missing) throw new Error(missing);
    const { dir, logger } = this.options;
    const spool = path.join(dir, 'spool');
    await mkdir(spool, { recursive: true, mode: 0o700 });
    // Chosen once: a node started again keeps its ports, so its agents find it where it was.
    if (this.#ports.c2s === 0) this.#ports = { c2s: await freePort(this.host), component: await freePort(this.host), http: await freePort(this.host) };
    await writeFile(this.configFile, await this.#config(), { mode: 0o600 });
    const started = Date.now();
    // A process group of its own, like the private Prosody: stopped explicitly, last.
    const erl = ['erl', ...VM_FLAGS, ...this.#distribution(this.nodeName), '-noinput', '-mnesia', 'dir', JSON.stringify(spool), '-s', 'ejabberd'];
    const child = spawn('sh', ['-c', RAISE_FD_LIMIT, 'sh', ...erl], {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: dir,
      env: { ...this.#erlangEnv(), EJABBERD_CONFIG_PATH: this.configFile, EJABBERD_LOG_PATH: this.#logFile },
      detached: true,
    });
    this.#child = child;
    const watched = watchProcess(child);
    this.#watched = watched;
    process.once('exit', this.#killOnExit);
    try {
      const dead = watched.isDead;
      for (const port of Object.values(this.#ports)) await waitForPort(this.host, port, BOOT_TIMEOUT_MS, dead);
    } catch (err) {
      await this.stop();
      const log = await readFile(this.#logFile, 'utf8').catch(() => '');
      throw new Error(`ejabberd did not start: ${(err as Error).message}\n${watched.stderrTail()}${log.slice(-2000)}`);
    }
    logger.info({ ...this.#ports, bootMs: Date.now() - started }, 'private ejabberd ready');
  }

  /**
   * Joins the cluster of node `seed`, copying its tables; ejabberd restarts on this node. Run
   * from a separate Erlang node, as `ejabberdctl join_cluster` does: called over the HTTP API,
   * the join stops ejabberd, and with it the request's own process, half-way.
   */
  async joinCluster(seed: string): Promise<void> {
    const own = this.nodeName;
    if (!own) throw new Error('this ejabberd is not a cluster node: give it `node`');
    const call = `R = rpc:call('${own}', ejabberd_admin, join_cluster, [<<"${seed}">>]), io:format("~p", [R]), halt(case R of ok -> 0; _ -> 1 end).`;
    const joiner = spawn('erl', [...this.#distribution(`join-${randomBytes(4).toString('hex')}@localhost`), '-noinput', '-eval', call], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: this.#erlangEnv(),
    });
    let output = '';
    for (const stream of [joiner.stdout, joiner.stderr]) stream?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(joiner, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`${own} could not join the cluster of ${seed}: ${output.trim()}`);
    const dead = () => this.#watched?.isDead() ?? true;
    for (const port of Object.values(this.#ports)) await waitForPort(this.host, port, BOOT_TIMEOUT_MS, dead);
  }

  /** Creates (or resets the password of) an account, e.g. for an agent. */
  async registerAccount(username: string, password: string): Promise<void> {
    const created = await this.#api('register', { user: username, host: this.domain, password });
    if (created.ok) return;
    if (!created.text.includes('already registered')) throw new Error(`ejabberd could not create ${username}@${this.domain}: ${created.text}`);
    const reset = await this.#api('change_password', { user: username, host: this.domain, newpass: password });
    if (!reset.ok) throw new Error(`ejabberd could not set the password of ${username}@${this.domain}: ${reset.text}`);
  }

  /**
   * Creates many new accounts in one step: their SCRAM-SHA-1 keys derived here, with ejabberd's
   * own salt length and iteration count, and imported as one XEP-0227 file (`import_piefxis`).
   * Over `register` ejabberd derives each key in Erlang code (10,000 accounts: 209 s; this way
   * 13–22 s). An account that exists already stops the import; those before it are made.
   */
  async importAccounts(accounts: readonly { username: string; password: string }[]): Promise<void> {
    // As ejabberd's own export_piefxis writes them: it keeps each value as base64 text, and the file holds that text in base64 again.
    const twice = (bytes: Buffer) => Buffer.from(bytes.toString('base64')).toString('base64');
    const users = accounts.map(({ username, password }) => {
      const salt = randomBytes(SCRAM_SALT_BYTES);
      const { storedKey, serverKey } = scramSha1Keys(password, salt, SCRAM_ITERATIONS);
      const keys = { 'iter-count': String(SCRAM_ITERATIONS), salt: twice(salt), 'server-key': twice(serverKey), 'stored-key': twice(storedKey) };
      const credentials = Object.entries(keys).map(([name, value]) => `<${name}>${value}</${name}>`).join('');
      return `<user name='${escapeXML(username)}'><scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'>${credentials}</scram-credentials></user>`;
    });
    const file = path.join(this.options.dir, `accounts-${randomBytes(6).toString('hex')}.xml`);
    await writeFile(file, `<?xml version='1.0' encoding='UTF-8'?><server-data xmlns='urn:xmpp:pie:0'><host jid='${escapeXML(this.domain)}'>${users.join('')}</host></server-data>`, { mode: 0o600 });
    try {
      const imported = await this.#api('import_piefxis', { file });
      // The answer says only `import_failed`; which account stopped the import, and why, goes to the log.
      if (!imported.ok || imported.text.trim() !== '0') {
        throw new Error(`ejabberd could not import ${accounts.length} accounts (${imported.text.trim()}): one exists already or has a name it refuses; ${this.#logFile} names it`);
      }
    } finally {
      await rm(file, { force: true });
    }
  }

  /** Deletes an account and closes its sessions; another domain's JID is not ours to delete. */
  async removeAccount(jid: string): Promise<void> {
    const [username = '', domain] = jid.split('@');
    if (domain !== this.domain) return;
    const removed = await this.#api('unregister', { user: username, host: this.domain });
    if (!removed.ok) throw new Error(`ejabberd could not delete ${jid}: ${removed.text}`);
  }

  /** Runs one ejabberd command (https://docs.ejabberd.im/developer/ejabberd-api/) over the loopback HTTP API. */
  async #api(command: string, args: Record<string, string>): Promise<{ ok: boolean; text: string }> {
    const response = await fetch(`http://${this.host}:${this.#ports.http}/api/${command}`, { method: 'POST', body: JSON.stringify(args) });
    return { ok: response.ok, text: await response.text() };
  }

  /**
   * SIGTERM (ejabberd closes its sessions, sending their unavailable presence), then SIGKILL of
   * the group after `graceMs`; with 0, SIGKILL at once, as a crash would. Idempotent.
   */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.#child;
    if (!child) return;
    process.removeListener('exit', this.#killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      if (graceMs > 0) child.kill('SIGTERM');
      const timer = setTimeout(() => this.#signal('SIGKILL'), graceMs);
      await this.#watched?.exited;
      clearTimeout(timer);
    }
    this.#signal('SIGKILL');
    this.#child = undefined;
  }

  /** Signals the whole process group: `erl` leaves helper processes (erl_child_setup) beside the VM. */
  #signal(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  }

  /** A cluster node's name and cookie, and no epmd of its own: the cluster's epmd is on `epmdPort`. Nothing without `node`. */
  #distribution(name: string | undefined): string[] {
    const node = this.options.node;
    return node && name ? ['-sname', name, '-setcookie', node.cookie, '-start_epmd', 'false'] : [];
  }

  #erlangEnv(): NodeJS.ProcessEnv {
    const epmd = this.options.node?.epmdPort;
    return {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: this.options.dir,
      ERL_LIBS: erlangLibs(),
      ERL_CRASH_DUMP_BYTES: '0',
      ...(epmd === undefined ? {} : { ERL_EPMD_PORT: String(epmd) }),
    };
  }

  #config(): Promise<string> {
    const tls = this.options.tls;
    return fillTemplate(TEMPLATE, {
      domain: this.domain,
      logLevel: this.options.logLevel ?? 'warning',
      host: this.host,
      c2sPort: String(this.c2sPort),
      componentPort: String(this.componentPort),
      httpPort: String(this.#ports.http),
      componentDomain: this.componentDomain,
      componentSecret: this.componentSecret,
      // A flow list of plain paths: ejabberd refuses an empty path, so no TLS is an empty list.
      certfiles: tls ? `${tls.certFile}, ${tls.keyFile}` : '',
      starttls: tls ? 'true' : 'false',
    });
  }
}

/**
 * The Erlang port mapper of a private cluster, on a loopback port of its own: the nodes find each
 * other through it, and it is ours to stop (a node left to start one would leave a system-wide
 * daemon behind).
 */
export async function startEpmd(port: number): Promise<{ stop(): Promise<void> }> {
  const child = spawn('epmd', ['-port', String(port), '-address', '127.0.0.1'], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  await waitForPort('127.0.0.1', port, 10_000, () => child.exitCode !== null || child.signalCode !== null);
  return {
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
