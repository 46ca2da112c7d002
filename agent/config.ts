import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ORCHESTRATOR_SUBDOMAIN } from '../protocol/index.js';
import { SYSTEMD_WORK_DIR } from './systemd-unit.js';
import { DEFAULT_PING_INTERVAL_MS } from './agent.js';
import { AddressAllowlist } from '../net/address-guard.js';
import { DEFAULT_FETCH_TIMEOUT_SECONDS, DEFAULT_MAX_FETCH_BYTES, type FetchLimits } from './jobs/fetch-inputs.js';
import { parseFingerprints, type ServerTrust } from '../xmpp/server-trust.js';

export interface AgentConfig {
  /** `xmpp://host:port` of each server the agent may log in on: the nodes of one cluster, tried in turn. */
  servers: string[];
  jid: string;
  password: string;
  services: string;
  slots: number;
  workDir: string;
  orchestrator: string;
  logLevel: string;
  killGraceMs: number;
  /** How often the orchestrator is pinged, and the server when the orchestrator does not answer. */
  pingIntervalMs?: number;
  /** How long SIGTERM (or a first Ctrl-C) lets the standalone agent's runs finish before they are killed. */
  stopGraceMs?: number;
  /** Given --print-systemd-unit: the flags the unit runs the agent with, the password left to its EnvironmentFile. */
  systemdUnitFlags?: string[];
  /** By default the system's CAs, and plain text to loopback only. */
  serverTrust?: ServerTrust;
  /** File inputs given by URL: which private hosts they may name, how large and how slow they may be. */
  fetchLimits?: FetchLimits;
}

export const DEFAULT_STOP_GRACE_SECONDS = 30;

export const AGENT_USAGE = `usage: outpost-agent --server xmpp://HOST:PORT[,xmpp://HOST:PORT…] --jid NAME@DOMAIN --services DIR
         [--password P | --password-file FILE] [--slots N] [--work-dir DIR] [--orchestrator JID]
         [--log-level LEVEL] [--kill-grace SECONDS] [--stop-grace SECONDS] [--ping-interval SECONDS]
         [--server-fingerprint SHA256[,SHA256] | --ca-file FILE] [--insecure]
         [--fetch-allow HOSTS] [--max-fetch-bytes N] [--fetch-timeout SECONDS]
       outpost-agent --print-systemd-unit --server xmpp://HOST:PORT --jid NAME@DOMAIN --services DIR [other flags]
       outpost-agent --help
--print-systemd-unit prints a systemd unit that runs the agent with these flags (the password goes
into its EnvironmentFile, never into the unit). Each flag can also be set by an environment variable:
  --server         OUTPOST_AGENT_SERVER (the nodes of an XMPP cluster comma-separated: the agent stays on
                   the one it reaches and tries the next when it loses it)
  --jid            OUTPOST_AGENT_JID
  --password       OUTPOST_AGENT_PASSWORD (better than the flag, which other users can see)
  --password-file  OUTPOST_AGENT_PASSWORD_FILE
  --services       OUTPOST_AGENT_SERVICES
  --slots          OUTPOST_AGENT_SLOTS (default: the number of cores)
  --work-dir       OUTPOST_AGENT_WORK_DIR (default: $XDG_STATE_HOME/outpost-agent/NAME)
  --orchestrator   OUTPOST_AGENT_ORCHESTRATOR (default: orchestrator.DOMAIN)
  --log-level      OUTPOST_AGENT_LOG_LEVEL (default: info)
  --kill-grace     OUTPOST_AGENT_KILL_GRACE (default: 5; SIGTERM to SIGKILL when a run is killed)
  --stop-grace     OUTPOST_AGENT_STOP_GRACE (default: 30; how long stopping lets runs finish)
  --ping-interval  OUTPOST_AGENT_PING_INTERVAL (default: 10; how often the orchestrator is pinged, and the server
                   when the orchestrator does not answer: a server silent for half of it is left for the next;
                   also how long a connection attempt may take)
  --server-fingerprint  OUTPOST_AGENT_SERVER_FINGERPRINT (SHA-256 of the server's certificate; a comma-separated list during a rotation)
  --ca-file        OUTPOST_AGENT_CA_FILE (trust this CA instead of the system's)
  --insecure       OUTPOST_AGENT_INSECURE (allow plain text to a host that is not this machine)
  --fetch-allow    OUTPOST_AGENT_FETCH_ALLOW (hosts, addresses or CIDR networks, comma-separated, that file inputs
                   given by URL may reach although loopback, private or link-local; default none)
  --max-fetch-bytes  OUTPOST_AGENT_MAX_FETCH_BYTES (default: ${DEFAULT_MAX_FETCH_BYTES}; largest file input fetched)
  --fetch-timeout  OUTPOST_AGENT_FETCH_TIMEOUT (default: ${DEFAULT_FETCH_TIMEOUT_SECONDS}; seconds a file input may take to arrive)`;

export const OPTIONS = {
  server: { type: 'string' },
  jid: { type: 'string' },
  password: { type: 'string' },
  'password-file': { type: 'string' },
  services: { type: 'string' },
  slots: { type: 'string' },
  'work-dir': { type: 'string' },
  orchestrator: { type: 'string' },
  'log-level': { type: 'string' },
  'kill-grace': { type: 'string' },
  'stop-grace': { type: 'string' },
  'ping-interval': { type: 'string' },
  'fetch-allow': { type: 'string' },
  'max-fetch-bytes': { type: 'string' },
  'fetch-timeout': { type: 'string' },
  help: { type: 'boolean' },
  'print-systemd-unit': { type: 'boolean' },
  // How the server is verified (loadServerTrust).
  'server-fingerprint': { type: 'string' },
  'ca-file': { type: 'string' },
  insecure: { type: 'boolean' },
} as const;

/** Flags that take a value; `--insecure` is a switch of its own. */
type Flag = Exclude<keyof typeof OPTIONS, 'help' | 'print-systemd-unit' | 'insecure'>;
/** The flags a systemd unit runs the agent with: not the password, which the unit's EnvironmentFile gives (docs/decisions.md, Fabric). */
const UNIT_FLAGS = (Object.keys(OPTIONS) as (keyof typeof OPTIONS)[]).filter(
  (flag): flag is Flag => !['help', 'print-systemd-unit', 'insecure', 'password', 'password-file'].includes(flag),
);

function readPasswordFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    throw new Error(`--password-file ${file}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${message})`}`);
  }
}

function readCaFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`--ca-file ${file}: cannot be read (${(err as Error).message})`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`--ca-file ${file}: holds no PEM certificate`);
  return text;
}

/** `--server`: one XMPP server, or the nodes of one cluster in the order they are tried (docs/deploy.md). */
function parseServers(text: string | undefined): string[] {
  if (!text) throw new Error(`--server must look like xmpp://host:5222 (got ${JSON.stringify(text)})`);
  const servers = text.split(',').map((item) => item.trim());
  for (const server of servers) {
    if (server === '') throw new Error(`--server has an empty item in ${JSON.stringify(text)}; separate xmpp://host:port items by single commas`);
    if (!/^xmpps?:\/\/[^/:]+:\d+$/.test(server)) throw new Error(`--server must look like xmpp://host:5222, or several of those comma-separated (got ${JSON.stringify(server)})`);
  }
  const twice = servers.find((server, index) => servers.findIndex((other) => other.toLowerCase() === server.toLowerCase()) !== index);
  if (twice !== undefined) throw new Error(`--server names ${twice} twice`);
  return servers;
}

/** --server-fingerprint, --ca-file and --insecure (docs/security.md, the network), for every server of the list. */
function loadServerTrust(servers: string[], pick: (flag: 'server-fingerprint' | 'ca-file') => string | undefined, insecure: boolean): ServerTrust {
  const fingerprint = pick('server-fingerprint');
  const caFile = pick('ca-file');
  if (fingerprint !== undefined && caFile !== undefined) throw new Error('give --server-fingerprint or --ca-file, not both');
  // @xmpp/tls takes no TLS options of ours; STARTTLS on xmpp:// is verified by the agent itself.
  if (servers.some((server) => server.startsWith('xmpps:')) && (fingerprint !== undefined || caFile !== undefined)) throw new Error('--server-fingerprint and --ca-file apply to xmpp:// (STARTTLS); give --server xmpp://HOST:PORT');
  return {
    ...(fingerprint === undefined ? {} : { fingerprints: parseFingerprints(fingerprint) }),
    ...(caFile === undefined ? {} : { ca: readCaFile(caFile) }),
    insecure,
  };
}

/**
 * `$XDG_STATE_HOME/outpost-agent/NAME`, or `~/.local/state/outpost-agent/NAME` (XDG Base Directory
 * Specification): the user's own, not a predictable path in a shared /tmp, and not a tmpfs, since
 * unacknowledged results must survive a reboot. A relative XDG_STATE_HOME is ignored, as the
 * specification asks.
 */
export function defaultWorkDir(name: string, env: NodeJS.ProcessEnv): string {
  const xdgState = env['XDG_STATE_HOME'];
  const stateHome = xdgState && path.isAbsolute(xdgState) ? xdgState : path.join(env['HOME'] || os.homedir(), '.local', 'state');
  return path.join(stateHome, 'outpost-agent', name);
}

/** Flags, then OUTPOST_AGENT_* environment variables, then defaults; a bad value stops the agent with a message. */
export function loadAgentConfig(argv: string[], env: NodeJS.ProcessEnv): AgentConfig {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  const pick = (flag: Flag) => values[flag] ?? env[`OUTPOST_AGENT_${flag.replace(/-/g, '_').toUpperCase()}`];
  const printUnit = values['print-systemd-unit'] === true;
  const servers = parseServers(pick('server'));
  const jid = pick('jid');
  if (!jid || !/^[^@/]+@[^@/]+(\/.+)?$/.test(jid)) throw new Error(`--jid must look like name@domain (got ${JSON.stringify(jid)})`);
  const passwordFile = pick('password-file');
  const password = passwordFile ? readPasswordFile(passwordFile) : pick('password');
  if (!password && !printUnit) throw new Error('a password is required: --password, --password-file or OUTPOST_AGENT_PASSWORD');
  const services = pick('services');
  if (!services) throw new Error('--services DIR is required');
  const slots = Number(pick('slots') ?? os.availableParallelism());
  if (!Number.isInteger(slots) || slots < 1) throw new Error(`--slots must be a positive integer (got ${pick('slots')})`);
  const serverTrust = loadServerTrust(servers, pick, values.insecure ?? env['OUTPOST_AGENT_INSECURE'] === 'true');
  const killGrace = Number(pick('kill-grace') ?? 5);
  if (!Number.isFinite(killGrace) || killGrace < 0) throw new Error(`--kill-grace must be a number of seconds (got ${pick('kill-grace')})`);
  const stopGrace = Number(pick('stop-grace') ?? DEFAULT_STOP_GRACE_SECONDS);
  if (!Number.isFinite(stopGrace) || stopGrace < 0) throw new Error(`--stop-grace must be a number of seconds (got ${pick('stop-grace')})`);
  const pingInterval = Number(pick('ping-interval') ?? DEFAULT_PING_INTERVAL_MS / 1000);
  if (!Number.isFinite(pingInterval) || pingInterval <= 0) throw new Error(`--ping-interval must be a positive number of seconds (got ${pick('ping-interval')})`);
  const maxFetchBytes = Number(pick('max-fetch-bytes') ?? DEFAULT_MAX_FETCH_BYTES);
  if (!Number.isInteger(maxFetchBytes) || maxFetchBytes < 1) throw new Error(`--max-fetch-bytes must be a positive whole number of bytes (got ${pick('max-fetch-bytes')})`);
  const fetchTimeout = Number(pick('fetch-timeout') ?? DEFAULT_FETCH_TIMEOUT_SECONDS);
  if (!Number.isFinite(fetchTimeout) || fetchTimeout <= 0) throw new Error(`--fetch-timeout must be a positive number of seconds (got ${pick('fetch-timeout')})`);
  const fetchLimits = { allow: AddressAllowlist.parse(pick('fetch-allow'), 'file inputs', '--fetch-allow'), maxBytes: maxFetchBytes, timeoutMs: fetchTimeout * 1000 };
  const domain = jid.split('@')[1]!.split('/')[0]!;
  const name = jid.split('@')[0]!;
  const resolved: Partial<Record<Flag, string>> = {
    server: servers.join(','),
    services: path.resolve(services),
    'work-dir': path.resolve(pick('work-dir') ?? (printUnit ? SYSTEMD_WORK_DIR : defaultWorkDir(name, env))),
    ...(pick('ca-file') === undefined ? {} : { 'ca-file': path.resolve(pick('ca-file')!) }),
  };
  const unitFlags = UNIT_FLAGS.flatMap((flag) => {
    const value = resolved[flag] ?? pick(flag);
    return value === undefined ? [] : [`--${flag}`, value];
  });
  if (serverTrust.insecure) unitFlags.push('--insecure');
  return {
    servers,
    jid,
    password: password ?? '',
    services: resolved.services!,
    slots,
    workDir: resolved['work-dir']!,
    orchestrator: pick('orchestrator') ?? `${ORCHESTRATOR_SUBDOMAIN}.${domain}`,
    logLevel: pick('log-level') ?? 'info',
    killGraceMs: killGrace * 1000,
    stopGraceMs: stopGrace * 1000,
    pingIntervalMs: pingInterval * 1000,
    ...(printUnit ? { systemdUnitFlags: unitFlags } : {}),
    serverTrust,
    fetchLimits,
  };
}
