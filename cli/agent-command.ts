import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, publicUrl } from '../src/config.js';
import { DEV_DOMAIN, prosodyDir } from '../dev/dev-mode.js';
import { registerAccounts, removeAccount } from '../dev/prosody-accounts.js';
import { commandDatabase } from '../src/auth/token-command.js';
import { poolNameProblem } from '../src/store/agent-accounts.js';
import { commandLineAction } from '../src/store/audit-store.js';
import { openCommandRecords, type Records } from '../src/store/open-stores.js';
import { redactedUrl } from '../src/store/postgres/postgres-pool.js';

const NAME = /^[a-z0-9][a-z0-9._-]*$/i;

interface Parsed {
  name: string;
  /** Given for an account of an operator's own XMPP server; absent for the embedded Prosody. */
  domain: string | undefined;
  values: { pool?: string; host?: string; 'data-dir'?: string; 'public-url'?: string; count?: string; from?: string; credentials?: string; database?: string };
}

function parse(argv: string[], withName: boolean | 'add'): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        pool: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        'public-url': { type: 'string' },
        count: { type: 'string' },
        from: { type: 'string' },
        credentials: { type: 'string' },
        database: { type: 'string' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const bulkOnly = (['count', 'from', 'credentials'] as const).find((flag) => parsed.values[flag] !== undefined);
  if (withName !== 'add' && bulkOnly) throw new ConfigError(`--${bulkOnly} is only for agent add`);
  const [account, ...extra] = parsed.positionals;
  if (extra.length > 0) throw new ConfigError(`unexpected argument '${extra[0]}'`);
  if (!withName || (account === undefined && parsed.values.from !== undefined)) return { name: '', domain: undefined, values: parsed.values };
  if (!account) throw new ConfigError('an agent NAME (or NAME@DOMAIN) is required');
  return { ...splitAccount(account), values: parsed.values };
}

function splitAccount(account: string): { name: string; domain: string | undefined } {
  const [name = '', domain, ...rest] = account.split('@');
  if (!NAME.test(name) || rest.length > 0 || domain === '') {
    throw new ConfigError(`agent name '${account}' must be letters, digits, '.', '_' or '-', optionally followed by @DOMAIN`);
  }
  // The embedded Prosody's own domain, as `agent list` prints it, is an account to create there, not a record only.
  return { name, domain: domain === DEV_DOMAIN ? undefined : domain };
}

/**
 * The data directory's SQLite (WAL mode lets a running orchestrator share the file; it reads
 * accounts per stanza), or with --database (or OUTPOST_DATABASE) the PostgreSQL every orchestrator
 * of a cluster shares and hears changes of.
 */
async function withRecords<T>(values: Parsed['values'], use: (records: Records) => Promise<T>): Promise<T> {
  const records = await openCommandRecords(dataDirOf(values), commandDatabase(values.database, process.env));
  try {
    return await use(records);
  } finally {
    await records.close();
  }
}

/** Where the accounts are kept, for messages. */
function whereKept(values: Parsed['values']): string {
  const database = commandDatabase(values.database, process.env);
  return database === undefined ? dataDirOf(values) : redactedUrl(database);
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
    case 'add': {
      const parsed = parse(rest, 'add');
      if (parsed.values.count !== undefined || parsed.values.from !== undefined) return addAgents(parsed);
      if (parsed.values.credentials !== undefined) throw new ConfigError('--credentials goes with --count or --from');
      return addAgent(parsed);
    }
    case 'remove':
      return removeAgent(parse(rest, true));
    case 'list': {
      const accounts = await withRecords(parse(rest, false).values, async (records) => records.agentAccounts.list());
      for (const a of accounts) process.stdout.write(`${a.jid}\tpool ${a.pool}\tcreated ${a.created}${a.revoked ? `\trevoked ${a.revoked}` : ''}\n`);
      return;
    }
    default:
      throw new ConfigError(action ? `unknown agent command '${action}'` : 'an agent command is required');
  }
}

async function addAgent({ name, domain, values }: Parsed): Promise<void> {
  const pool = checkedPool(values.pool ?? name);
  const dataDir = dataDirOf(values);
  if (domain !== undefined) {
    await addAccounts(values, [{ jid: `${name}@${domain}`, pool }]);
    process.stdout.write(`Agent account ${name}@${domain} recorded in pool ${pool}. Create the account on your XMPP server; Outpost accepts it as an agent from now on.\n`);
    return;
  }
  const setup = await agentSetup(dataDir, values);
  const password = randomBytes(18).toString('base64url');
  await registerAccounts(prosodyDir(dataDir), DEV_DOMAIN, [{ username: name, password }]);
  await addAccounts(values, [{ jid: `${name}@${DEV_DOMAIN}`, pool }]);
  const passwordFile = `~/outpost/${name}.password`;
  process.stdout.write(
    `Agent account ${name}@${DEV_DOMAIN} created in pool ${pool}. On the machine that runs the programs (Node.js 20.10 or later; ` +
      `nothing is compiled), as the user that runs them:\n\n` +
      `  ${setup.install}\n` +
      `  mkdir -p ~/outpost/services.d && (umask 077 && printf '%s\\n' '${password}' > ${passwordFile})\n` +
      `  ${setup.run(name, passwordFile)}\n\n` +
      `The password is shown only now; its file is readable by that user alone (or set OUTPOST_AGENT_PASSWORD in an environment ` +
      `file of the same mode; never pass it on the command line). Put a .properties file per program into ~/outpost/services.d ` +
      `(Outpost's services.d/ has examples); the agent offers each as it appears.\n` +
      setup.hint,
  );
}

const MAX_BULK = 100_000;

/**
 * `agent add PREFIX --count N` and `agent add --from FILE`: many agents in one step (a fleet), each
 * with a password of its own written to a 0600 file, never printed. On the running embedded
 * Prosody all accounts are made over one admin connection (docs/decisions.md, Fleets).
 */
async function addAgents({ name, domain, values }: Parsed): Promise<void> {
  if (values.count !== undefined && values.from !== undefined) throw new ConfigError('give --count or --from, not both');
  const wanted = values.from !== undefined ? await namesFromFile(values.from, name, values.pool) : countedNames(name, domain, values.count!, values.pool);
  const dataDir = dataDirOf(values);
  const embedded = wanted.filter((agent) => agent.domain === undefined);
  const started = Date.now();
  if (embedded.length > 0) {
    const setup = await agentSetup(dataDir, values);
    const dir = path.resolve(values.credentials ?? path.join(dataDir, 'agent-credentials'));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const accounts = embedded.map((agent) => ({ username: agent.name, password: randomBytes(18).toString('base64url') }));
    for (const account of accounts) await writeFile(path.join(dir, `${account.username}.password`), `${account.password}\n`, { mode: 0o600 });
    await registerAccounts(prosodyDir(dataDir), DEV_DOMAIN, accounts);
    await addAccounts(values, embedded.map((agent) => ({ jid: `${agent.name}@${DEV_DOMAIN}`, pool: agent.pool })));
    const names = embedded.length === 1 ? `1 agent account (${embedded[0]!.name})` : `${embedded.length} agent accounts (${embedded[0]!.name} … ${embedded.at(-1)!.name})`;
    process.stdout.write(
      `Created ${names} in ${((Date.now() - started) / 1000).toFixed(1)} s. ` +
        `Each one's password is in ${dir}/NAME.password (mode 0600) and shown nowhere else. On each machine, as the user that runs ` +
        `the programs, copy its file to ~/outpost/NAME.password (mode 0600) and run, with its NAME:\n\n` +
        `  ${setup.install}\n  mkdir -p ~/outpost/services.d\n  ${setup.run('NAME', '~/outpost/NAME.password')}\n\n${setup.hint}`,
    );
  }
  const recorded = wanted.filter((agent) => agent.domain !== undefined);
  if (recorded.length > 0) {
    await addAccounts(values, recorded.map((agent) => ({ jid: `${agent.name}@${agent.domain}`, pool: agent.pool })));
    process.stdout.write(`Recorded ${recorded.length} agent account${recorded.length === 1 ? '' : 's'} of your own XMPP server; create ${recorded.length === 1 ? 'it' : 'them'} there, and Outpost accepts them as agents from now on.\n`);
  }
}

interface WantedAgent {
  name: string;
  domain: string | undefined;
  pool: string;
}

function countedNames(prefix: string, domain: string | undefined, countText: string, pool: string | undefined): WantedAgent[] {
  const count = Number(countText);
  if (!/^\d+$/.test(countText) || count < 1 || count > MAX_BULK) throw new ConfigError(`--count must be a whole number from 1 to ${MAX_BULK}; got '${countText}'`);
  const width = String(count).length;
  const chosenPool = checkedPool(pool ?? prefix);
  return Array.from({ length: count }, (_, i) => ({ name: `${prefix}-${String(i + 1).padStart(width, '0')}`, domain, pool: chosenPool }));
}

/** One agent a line: `NAME[@DOMAIN] [POOL]`; blank lines and `#` comments are skipped. */
async function namesFromFile(file: string, extra: string, pool: string | undefined): Promise<WantedAgent[]> {
  if (extra !== '') throw new ConfigError(`--from takes the names from ${file}; unexpected argument '${extra}'`);
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new ConfigError(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  const agents: WantedAgent[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const where = `${file}:${index + 1}`;
    const [account = '', linePool, ...rest] = line.split(/\s+/);
    if (rest.length > 0) throw new ConfigError(`${where}: expected NAME[@DOMAIN] [POOL], got '${line}'`);
    const agent = atLine(where, () => ({ ...splitAccount(account), pool: checkedPool(linePool ?? pool ?? account.split('@')[0]!) }));
    const jid = `${agent.name}@${agent.domain ?? DEV_DOMAIN}`;
    if (seen.has(jid)) throw new ConfigError(`${where}: '${account}' is listed twice`);
    seen.add(jid);
    agents.push(agent);
  });
  if (agents.length === 0) throw new ConfigError(`${file} names no agent`);
  if (agents.length > MAX_BULK) throw new ConfigError(`${file} names ${agents.length} agents; at most ${MAX_BULK} at once`);
  return agents;
}

function atLine<T>(where: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw err instanceof ConfigError ? new ConfigError(`${where}: ${err.message}`) : err;
  }
}

function checkedPool(pool: string): string {
  const problem = poolNameProblem(pool);
  if (problem) throw new ConfigError(problem);
  return pool;
}

/** What an agent of the embedded Prosody installs and runs, and what may keep it from connecting. */
async function agentSetup(dataDir: string, values: Parsed['values']): Promise<{ install: string; run: (name: string, passwordFile: string) => string; hint: string }> {
  const ports = await readFile(path.join(prosodyDir(dataDir), 'ports.json'), 'utf8').then(
    (text) => JSON.parse(text) as { c2s: number; host?: string; fingerprint?: string },
    () => {
      throw new ConfigError(`no embedded Prosody in ${dataDir}: run \`npm start\` (outpost dev) once first, or name an account of your own server as NAME@DOMAIN`);
    },
  );
  const { url, certificate } = await orchestratorUrl(dataDir, values);
  // The address `outpost dev --host` gave the embedded Prosody, unless told another (e.g. behind NAT).
  const host = values.host ?? ports.host ?? process.env['OUTPOST_HOST'] ?? '127.0.0.1';
  // The agent pins the embedded Prosody's certificate (docs/security.md, the network); rotation adds the next one, comma-separated.
  const pin = ports.fingerprint ? ` --server-fingerprint ${ports.fingerprint}` : '';
  return {
    install: installCommand(`${url}/agent/outpost-agent.tgz`, certificate),
    run: (name, passwordFile) =>
      `outpost-agent --server xmpp://${host}:${ports.c2s} --jid ${name}@${DEV_DOMAIN} --password-file ${passwordFile} --services ~/outpost/services.d${pin}`,
    hint: reachabilityHint(host, url),
  };
}

/** Records accounts as agents in one transaction, then an audit entry for each. */
function addAccounts(values: Parsed['values'], added: readonly { jid: string; pool: string }[]): Promise<void> {
  return withRecords(values, async ({ agentAccounts, audit }) => {
    await agentAccounts.addMany(added);
    for (const { jid, pool } of added) await audit.record(commandLineAction('agent.add', jid, { pool }));
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
  const revoked = await withRecords(values, async ({ agentAccounts, audit }) => {
    if (!(await agentAccounts.revoke(jid))) return false;
    await audit.record(commandLineAction('agent.remove', jid));
    return true;
  });
  if (!revoked) throw new ConfigError(`no agent account ${jid} in ${whereKept(values)}`);
  if (domain === undefined) await removeAccount(prosodyDir(dataDir), name, DEV_DOMAIN);
  process.stdout.write(`Agent account ${jid} revoked; its messages are refused from now on.\n`);
}
