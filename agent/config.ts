import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ORCHESTRATOR_SUBDOMAIN } from '../protocol/index.js';
import { parseFingerprints, type ServerTrust } from '../xmpp/server-trust.js';

export interface AgentConfig {
  server: string;
  jid: string;
  password: string;
  services: string;
  slots: number;
  workDir: string;
  orchestrator: string;
  logLevel: string;
  killGraceMs: number;
  /** By default the system's CAs, and plain text to loopback only. */
  serverTrust?: ServerTrust;
}

export const AGENT_USAGE = `usage: outpost-agent --server xmpp://HOST:PORT --jid NAME@DOMAIN --services DIR
         [--password P | --password-file FILE | env OUTPOST_AGENT_PASSWORD]
         [--slots N] [--work-dir DIR] [--orchestrator JID] [--log-level LEVEL] [--kill-grace SECONDS]
         [--server-fingerprint SHA256[,SHA256] | --ca-file FILE] [--insecure]`;

const OPTIONS = {
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
  help: { type: 'boolean' },
  // How the server is verified (loadServerTrust).
  'server-fingerprint': { type: 'string' },
  'ca-file': { type: 'string' },
  insecure: { type: 'boolean' },
} as const;

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

/** --server-fingerprint, --ca-file and --insecure (docs/security.md, the network). */
function loadServerTrust(server: string, pick: (flag: 'server-fingerprint' | 'ca-file') => string | undefined, insecure: boolean): ServerTrust {
  const fingerprint = pick('server-fingerprint');
  const caFile = pick('ca-file');
  if (fingerprint !== undefined && caFile !== undefined) throw new Error('give --server-fingerprint or --ca-file, not both');
  // @xmpp/tls takes no TLS options of ours; STARTTLS on xmpp:// is verified by the agent itself.
  if (server.startsWith('xmpps:') && (fingerprint !== undefined || caFile !== undefined)) throw new Error('--server-fingerprint and --ca-file apply to xmpp:// (STARTTLS); give --server xmpp://HOST:PORT');
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
  const pick = (flag: Exclude<keyof typeof OPTIONS, 'help' | 'insecure'>) => values[flag] ?? env[`OUTPOST_AGENT_${flag.replace(/-/g, '_').toUpperCase()}`];
  const server = pick('server');
  if (!server || !/^xmpps?:\/\/[^/:]+:\d+$/.test(server)) throw new Error(`--server must look like xmpp://host:5222 (got ${JSON.stringify(server)})`);
  const jid = pick('jid');
  if (!jid || !/^[^@/]+@[^@/]+(\/.+)?$/.test(jid)) throw new Error(`--jid must look like name@domain (got ${JSON.stringify(jid)})`);
  const passwordFile = pick('password-file');
  const password = passwordFile ? readFileSync(passwordFile, 'utf8').trim() : pick('password');
  if (!password) throw new Error('a password is required: --password, --password-file or OUTPOST_AGENT_PASSWORD');
  const services = pick('services');
  if (!services) throw new Error('--services DIR is required');
  const slots = Number(pick('slots') ?? os.availableParallelism());
  if (!Number.isInteger(slots) || slots < 1) throw new Error(`--slots must be a positive integer (got ${pick('slots')})`);
  const serverTrust = loadServerTrust(server, pick, values.insecure ?? env['OUTPOST_AGENT_INSECURE'] === 'true');
  const killGrace = Number(pick('kill-grace') ?? 5);
  if (!Number.isFinite(killGrace) || killGrace < 0) throw new Error(`--kill-grace must be a number of seconds (got ${pick('kill-grace')})`);
  const domain = jid.split('@')[1]!.split('/')[0]!;
  const name = jid.split('@')[0]!;
  return {
    server,
    jid,
    password,
    services: path.resolve(services),
    slots,
    workDir: path.resolve(pick('work-dir') ?? defaultWorkDir(name, env)),
    orchestrator: pick('orchestrator') ?? `${ORCHESTRATOR_SUBDOMAIN}.${domain}`,
    logLevel: pick('log-level') ?? 'info',
    killGraceMs: killGrace * 1000,
    serverTrust,
  };
}
