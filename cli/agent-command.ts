import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, publicUrl } from '../src/config.js';
import { DEV_DOMAIN, prosodyDir } from '../dev/dev-mode.js';
import { registerAccount, removeAccount } from '../dev/private-prosody.js';
import { AgentAccounts, poolNameProblem } from '../src/store/agent-accounts.js';
import { AuditStore, commandLineAction } from '../src/store/audit-store.js';
import { openDatabase } from '../src/store/database.js';

const NAME = /^[a-z0-9][a-z0-9._-]*$/i;

interface Parsed {
  name: string;
  /** Given for an account of an operator's own XMPP server; absent for the embedded Prosody. */
  domain: string | undefined;
  values: { pool?: string; host?: string; 'data-dir'?: string; 'public-url'?: string };
}

function parse(argv: string[], withName: boolean): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { pool: { type: 'string' }, host: { type: 'string' }, 'data-dir': { type: 'string' }, 'public-url': { type: 'string' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const [account, ...extra] = parsed.positionals;
  if (extra.length > 0) throw new ConfigError(`unexpected argument '${extra[0]}'`);
  if (!withName) return { name: '', domain: undefined, values: parsed.values };
  if (!account) throw new ConfigError('an agent NAME (or NAME@DOMAIN) is required');
  const [name = '', domain, ...rest] = account.split('@');
  if (!NAME.test(name) || rest.length > 0 || domain === '') {
    throw new ConfigError(`agent name '${account}' must be letters, digits, '.', '_' or '-', optionally followed by @DOMAIN`);
  }
  return { name, domain, values: parsed.values };
}

function withAccounts<T>(dataDir: string, use: (accounts: AgentAccounts, audit: AuditStore) => T): T {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // SQLite in WAL mode lets a running orchestrator share the file; it reads accounts per stanza.
  const db = openDatabase(path.join(dataDir, 'outpost.db'));
  try {
    return use(new AgentAccounts(db), new AuditStore(db));
  } finally {
    db.close();
  }
}

const dataDirOf = (values: Parsed['values']) => path.resolve(values['data-dir'] ?? process.env['OUTPOST_DATA_DIR'] ?? './.outpost');

/**
 * `outpost agent add|remove|list`: Outpost's record of the accounts that may act as agents
 * (docs/security.md). For the embedded Prosody it also creates or deletes the XMPP account;
 * for NAME@DOMAIN on an operator's own server it keeps the record only.
 */
export async function agentCommand(argv: string[]): Promise<void> {
  const [action, ...rest] = argv;
  switch (action) {
    case 'add':
      return addAgent(parse(rest, true));
    case 'remove':
      return removeAgent(parse(rest, true));
    case 'list': {
      const accounts = withAccounts(dataDirOf(parse(rest, false).values), (store) => store.list());
      for (const a of accounts) process.stdout.write(`${a.jid}\tpool ${a.pool}\tcreated ${a.created}${a.revoked ? `\trevoked ${a.revoked}` : ''}\n`);
      return;
    }
    default:
      throw new ConfigError(action ? `unknown agent command '${action}'` : 'an agent command is required');
  }
}

async function addAgent({ name, domain, values }: Parsed): Promise<void> {
  const pool = values.pool ?? name;
  const problem = poolNameProblem(pool);
  if (problem) throw new ConfigError(problem);
  const dataDir = dataDirOf(values);
  if (domain !== undefined) {
    addAccount(dataDir, `${name}@${domain}`, pool);
    process.stdout.write(`Agent account ${name}@${domain} recorded in pool ${pool}. Create the account on your XMPP server; Outpost accepts it as an agent from now on.\n`);
    return;
  }
  const ports = await readFile(path.join(prosodyDir(dataDir), 'ports.json'), 'utf8').then(
    (text) => JSON.parse(text) as { c2s: number; host?: string; fingerprint?: string },
    () => {
      throw new ConfigError(`no embedded Prosody in ${dataDir}: run \`npm start\` (outpost dev) once first, or name an account of your own server as NAME@DOMAIN`);
    },
  );
  const { url, certificate } = await orchestratorUrl(dataDir, values);
  const password = randomBytes(18).toString('base64url');
  await registerAccount(prosodyDir(dataDir), name, DEV_DOMAIN, password);
  addAccount(dataDir, `${name}@${DEV_DOMAIN}`, pool);
  // The address `outpost dev --host` gave the embedded Prosody, unless told another (e.g. behind NAT).
  const host = values.host ?? ports.host ?? process.env['OUTPOST_HOST'] ?? '127.0.0.1';
  const passwordFile = `~/outpost/${name}.password`;
  // The agent pins the embedded Prosody's certificate (docs/security.md, the network); rotation adds the next one, comma-separated.
  const pin = ports.fingerprint ? ` --server-fingerprint ${ports.fingerprint}` : '';
  process.stdout.write(
    `Agent account ${name}@${DEV_DOMAIN} created in pool ${pool}. On the machine that runs the programs (Node.js 20.10 or later; ` +
      `nothing is compiled), as the user that runs them:\n\n` +
      `  ${installCommand(`${url}/agent/outpost-agent.tgz`, certificate)}\n` +
      `  mkdir -p ~/outpost/services.d && (umask 077 && printf '%s\\n' '${password}' > ${passwordFile})\n` +
      `  outpost-agent --server xmpp://${host}:${ports.c2s} --jid ${name}@${DEV_DOMAIN} --password-file ${passwordFile} --services ~/outpost/services.d${pin}\n\n` +
      `The password is shown only now; its file is readable by that user alone (or set OUTPOST_AGENT_PASSWORD in an environment ` +
      `file of the same mode; never pass it on the command line). Put a .properties file per program into ~/outpost/services.d ` +
      `(Outpost's services.d/ has examples); the agent offers each as it appears.\n` +
      reachabilityHint(host, url),
  );
}

function addAccount(dataDir: string, jid: string, pool: string): void {
  withAccounts(dataDir, (accounts, audit) => {
    accounts.add(jid, pool);
    audit.record(commandLineAction('agent.add', jid, { pool }));
  });
}

const isLoopback = (host: string) => host.startsWith('127.') || host === 'localhost' || host === '[::1]';

/** What keeps other machines from reaching the addresses printed, if anything. */
function reachabilityHint(xmppHost: string, url: string): string {
  const urlHost = new URL(url).hostname;
  if (isLoopback(xmppHost)) {
    const what = isLoopback(urlHost) ? 'The embedded Prosody and the orchestrator listen' : 'The embedded Prosody listens';
    return `${what} on ${xmppHost} only; start \`npm start -- --host ADDRESS\` to reach ${isLoopback(urlHost) ? 'them' : 'it'} from other machines.\n`;
  }
  return isLoopback(urlHost) ? `The orchestrator is at ${url}, on this machine only; give --public-url with an address other machines reach.\n` : '';
}

/**
 * npm trusts the system's CAs only: to download from `outpost dev`'s own HTTPS it is given the
 * self-signed certificate (PEM text) as its CA, written beside the agent's other files.
 */
function installCommand(packageUrl: string, certificate: string | undefined): string {
  if (certificate === undefined) return `npm install -g ${packageUrl}`;
  const pem = certificate.trim().replace(/\n/g, '\\n');
  return `mkdir -p ~/outpost && printf '%b\\n' '${pem}' > ~/outpost/server.pem && npm install -g --cafile ~/outpost/server.pem ${packageUrl}`;
}

/**
 * Where agents download their package: the URL given, or that of the `outpost dev` running on the
 * data directory, with its certificate when it serves HTTPS with one it made itself.
 */
async function orchestratorUrl(dataDir: string, values: Parsed['values']): Promise<{ url: string; certificate?: string }> {
  const given = publicUrl(values['public-url'] ?? process.env['OUTPOST_PUBLIC_URL']);
  if (given) return { url: given };
  const dev = await readFile(path.join(dataDir, 'dev.json'), 'utf8').then(
    (text) => JSON.parse(text) as { url: string; publicUrl?: string; selfSignedCertificate?: string },
    () => {
      throw new ConfigError(`no running \`outpost dev\` in ${dataDir} to take the orchestrator's URL from: start it, or give --public-url URL`);
    },
  );
  // Where `outpost dev --public-url` says other machines reach it, else where it listens.
  if (dev.publicUrl !== undefined) return { url: dev.publicUrl };
  return { url: dev.url, ...(dev.selfSignedCertificate === undefined ? {} : { certificate: dev.selfSignedCertificate }) };
}

async function removeAgent({ name, domain, values }: Parsed): Promise<void> {
  const dataDir = dataDirOf(values);
  const jid = `${name}@${domain ?? DEV_DOMAIN}`;
  const revoked = withAccounts(dataDir, (accounts, audit) => {
    if (!accounts.revoke(jid)) return false;
    audit.record(commandLineAction('agent.remove', jid));
    return true;
  });
  if (!revoked) throw new ConfigError(`no agent account ${jid} in ${dataDir}`);
  if (domain === undefined) await removeAccount(prosodyDir(dataDir), name, DEV_DOMAIN);
  process.stdout.write(`Agent account ${jid} revoked; its messages are refused from now on.\n`);
}
