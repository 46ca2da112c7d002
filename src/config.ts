import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { Type, type Static, type TObject } from '@sinclair/typebox';
import { DEFAULT_JOB_DEADLINE_SECONDS } from './jobs/job-lifecycle-options.js';
import { DEFAULT_LIMITS } from './jobs/owner-limits.js';
import { ajv, describeAjvError, type AjvWording } from '../protocol/index.js';
import { AddressAllowlist } from '../net/address-guard.js';
import { DEFAULT_MAX_UPLOAD_BYTES } from './store/result-files.js';

const LogLevel = Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)));
const Port = Type.Integer({ minimum: 0, maximum: 65535 });
/** The URL agents on other machines (and clients behind a proxy) reach the orchestrator at. */
const PublicUrl = Type.Optional(Type.String({ minLength: 1 }));
/** Seconds from its submission by which a job must have ended, sent to the agent as its deadline; 0: none. */
const JobDeadline = Type.Optional(Type.Number({ minimum: 0 }));
/** Largest output file an agent may upload, in bytes. */
const MaxUploadBytes = Type.Integer({ minimum: 1 });
/** Seconds finished jobs (with their files) and audit entries are kept (docs/decisions.md, Retention and audit). */
const KeepJobs = Type.Number({ exclusiveMinimum: 0 });
/** A week, in seconds. */
export const DEFAULT_KEEP_JOBS_SECONDS = 7 * 24 * 3600;
/** Who may do what without a token, and how much each user may run and queue (docs/decisions.md, Users and access; docs/architecture.md, Placement). */
const AccessAndLimits = {
  anonymousRead: Type.Boolean(),
  anonymousExecute: Type.Boolean(),
  maxRunning: Type.Integer({ minimum: 1 }),
  maxWaiting: Type.Integer({ minimum: 0 }),
};
/** Who may read `/metrics`, and which Host headers may name the origin of links (docs/decisions.md, Security). */
const Exposure = {
  metricsOpen: Type.Optional(Type.Boolean()),
  publicHosts: Type.Optional(Type.String({ minLength: 1 })),
  /** Comma-separated hosts, addresses or networks (CIDR) callbacks may reach although private (docs/security.md). */
  callbackAllow: Type.Optional(Type.String({ minLength: 1 })),
};
/** PEM files of a certificate and its key: HTTPS, and in dev the embedded Prosody's STARTTLS (docs/security.md, the network). */
const TlsFiles = {
  tlsCert: Type.Optional(Type.String({ minLength: 1 })),
  tlsKey: Type.Optional(Type.String({ minLength: 1 })),
};

const OrchestratorTObject = Type.Object(
  {
    host: Type.String({ minLength: 1 }),
    httpPort: Port,
    dataDir: Type.String({ minLength: 1 }),
    logLevel: LogLevel,
    /** Seconds a lost agent's running jobs wait for it to come back before failing with `agent-lost`. */
    agentGrace: Type.Number({ minimum: 0 }),
    /** Seconds between the orchestrator's pings of each agent (XEP-0199). */
    pingInterval: Type.Number({ exclusiveMinimum: 0 }),
    jobDeadline: JobDeadline,
    publicUrl: PublicUrl,
    maxUploadBytes: MaxUploadBytes,
    keepJobs: KeepJobs,
    ...AccessAndLimits,
    ...Exposure,
    ...TlsFiles,
    /**
     * Comma-separated domains every account of which may act as an agent, besides the provisioned
     * accounts. Off by default: any account of a domain is not proof of being an agent (docs/security.md).
     */
    agentDomains: Type.Optional(Type.String({ minLength: 1 })),
    /** Comma-separated bare JIDs that may act as agents besides the provisioned accounts. */
    agentAllowlist: Type.Optional(Type.String({ minLength: 1 })),
    xmppServer: Type.String({ pattern: '^xmpps?://[^/:]+:\\d+$' }),
    componentJid: Type.String({ minLength: 1 }),
    componentSecret: Type.String({ minLength: 1 }),
    /** A PostgreSQL URL to keep jobs in; unset, they are kept in SQLite in the data directory (docs/decisions.md, Scale-out). */
    database: Type.Optional(Type.String({ minLength: 1 })),
    /** Where result files and inline inputs are kept; every orchestrator of a cluster must share it (docs/deploy.md). Default: the data directory. */
    filesDir: Type.Optional(Type.String({ minLength: 1 })),
    /** Seconds between a follower's attempts at the dispatcher lease, with --database (docs/scale-out.md §3). */
    leaseRetry: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** Seconds a dispatcher's XMPP link may stay down before it gives the lease up, with --database (docs/scale-out.md §5). */
    linkGrace: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false },
);
export type OrchestratorConfig = Omit<Static<typeof OrchestratorTObject>, 'agentDomains' | 'agentAllowlist' | 'maxUploadBytes' | 'keepJobs'> & {
  agentDomains?: string[];
  agentAllowlist?: string[];
  /** Default DEFAULT_MAX_UPLOAD_BYTES. */
  maxUploadBytes?: number;
  /** Default DEFAULT_KEEP_JOBS_SECONDS. */
  keepJobs?: number;
};

const DevTObject = Type.Object(
  {
    host: Type.String({ minLength: 1 }),
    httpPort: Port,
    dataDir: Type.String({ minLength: 1 }),
    services: Type.String({ minLength: 1 }),
    logLevel: LogLevel,
    slots: Type.Integer({ minimum: 1, maximum: 1024 }),
    agentGrace: Type.Number({ minimum: 0 }),
    pingInterval: Type.Number({ exclusiveMinimum: 0 }),
    jobDeadline: JobDeadline,
    publicUrl: PublicUrl,
    maxUploadBytes: MaxUploadBytes,
    keepJobs: KeepJobs,
    ...AccessAndLimits,
    ...Exposure,
    ...TlsFiles,
    /** HTTPS with the Prosody's certificate; unset, on when --host is not loopback. */
    https: Type.Optional(Type.Boolean()),
    /** The local agent's `--fetch-allow`: where file inputs given by URL may come from although private. */
    fetchAllow: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
export type DevConfig = Static<typeof DevTObject>;

/** Flag name (kebab-case) → config key, with the environment variable that can also set it. */
interface Setting {
  key: string;
  flag: string;
  env: string;
  default?: string;
}

const setting = (key: string, flag: string, defaultValue?: string): Setting => ({
  key,
  flag,
  env: `OUTPOST_${flag.replace(/-/g, '_').toUpperCase()}`,
  ...(defaultValue === undefined ? {} : { default: defaultValue }),
});

const COMMON: Setting[] = [
  setting('host', 'host', '127.0.0.1'),
  setting('httpPort', 'http-port', '8080'),
  setting('dataDir', 'data-dir', './.outpost'),
  setting('logLevel', 'log-level', 'info'),
  setting('agentGrace', 'agent-grace', '30'),
  setting('pingInterval', 'ping-interval', '15'),
  setting('jobDeadline', 'job-deadline', String(DEFAULT_JOB_DEADLINE_SECONDS)),
  setting('publicUrl', 'public-url'),
  setting('maxUploadBytes', 'max-upload-bytes', String(DEFAULT_MAX_UPLOAD_BYTES)),
  setting('keepJobs', 'keep-jobs', String(DEFAULT_KEEP_JOBS_SECONDS)),
  setting('anonymousRead', 'anonymous-read', 'true'),
  setting('anonymousExecute', 'anonymous-execute', 'false'),
  setting('maxRunning', 'max-running', String(DEFAULT_LIMITS.maxRunning)),
  setting('maxWaiting', 'max-waiting', String(DEFAULT_LIMITS.maxWaiting)),
  setting('metricsOpen', 'metrics-open', 'false'),
  setting('publicHosts', 'public-hosts'),
  setting('callbackAllow', 'callback-allow'),
  setting('tlsCert', 'tls-cert'),
  setting('tlsKey', 'tls-key'),
];

const SERVE: Setting[] = [
  ...COMMON,
  setting('xmppServer', 'xmpp-server'),
  setting('componentJid', 'component-jid'),
  setting('componentSecret', 'component-secret'),
  setting('agentDomains', 'agent-domains'),
  setting('agentAllowlist', 'agent-allowlist'),
  setting('database', 'database'),
  setting('filesDir', 'files-dir'),
  setting('leaseRetry', 'lease-retry', '1'),
  setting('linkGrace', 'link-grace', '10'),
];

const DEV: Setting[] = [...COMMON, setting('services', 'services', './services.d'), setting('slots', 'slots', '4'), setting('https', 'https'), setting('fetchAllow', 'fetch-allow')];

export class ConfigError extends Error {}

/** Flags, then OUTPOST_* environment variables, then defaults; validated as a whole. */
function load<T>(settings: Setting[], schema: TObject, argv: string[], env: NodeJS.ProcessEnv): T {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: Object.fromEntries(settings.map((s) => [s.flag, { type: 'string' as const }])), strict: true, allowPositionals: false }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const raw: Record<string, unknown> = {};
  for (const s of settings) {
    const value = values[s.flag] ?? env[s.env] ?? s.default;
    if (value !== undefined) raw[s.key] = value;
  }
  const validate = ajv.compile<T>(schema);
  const typed = coerceToDeclaredTypes(raw, schema);
  if (!validate(typed)) throw new ConfigError(describeAjvError(validate.errors, settingsWording(settings)));
  return typed;
}

/** Settings are named as people give them: by flag and environment variable. */
function settingsWording(settings: Setting[]): AjvWording {
  const member = (pointer: string) => {
    const s = settings.find((x) => x.key === pointer.slice(1));
    return s ? `--${s.flag} (or ${s.env})` : pointer.slice(1);
  };
  return { root: 'the configuration', member, templates: { required: '{propertyName} is required', default: '{name}: {message}' } };
}

/**
 * Flags and environment variables are text: a number or boolean setting is read from it here, by
 * the type the schema declares and as ajv's `coerceTypes` would, so that the program's one ajv
 * need not coerce (docs/decisions.md, Fabric). Text that does not read as one is left as it is,
 * for the schema to refuse.
 */
function coerceToDeclaredTypes(raw: Record<string, unknown>, schema: TObject): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(raw).map(([key, value]) => {
      const type = (schema.properties[key] as { type?: unknown } | undefined)?.type;
      if (typeof value !== 'string') return [key, value];
      if ((type === 'number' || type === 'integer') && value.trim() !== '' && !Number.isNaN(Number(value))) return [key, Number(value)];
      if (type === 'boolean' && (value === 'true' || value === 'false')) return [key, value === 'true'];
      return [key, value];
    }),
  );
}

/** Paths are appended to the public URL, so it has no query, fragment or trailing slash. */
export function publicUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(value)) {
    throw new ConfigError(`--public-url (or OUTPOST_PUBLIC_URL): must be an http:// or https:// URL without query or fragment, e.g. https://outpost.example.org; got '${value}'`);
  }
  return value.replace(/\/+$/, '');
}

/** Only PostgreSQL stands beside the embedded SQLite; its URL is checked before anything connects. */
export function databaseUrl(value: string): string {
  if (!/^postgres(ql)?:\/\/[^\s]*$/.test(value)) {
    throw new ConfigError(`--database (or OUTPOST_DATABASE): must be a postgres:// URL, e.g. postgres://outpost@db.example.org/outpost; got '${value}'`);
  }
  return value;
}

/** `host[:port]` names, lower-cased, as `Host` headers carry them; IPv6 addresses in brackets. */
function publicHosts(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const hosts = value.split(',').map((host) => host.trim().toLowerCase());
  const bad = hosts.find((host) => !/^([a-z0-9.-]+|\[[0-9a-f:.]+\])(:\d{1,5})?$/.test(host));
  if (bad !== undefined) throw new ConfigError(`--public-hosts (or OUTPOST_PUBLIC_HOSTS): a comma-separated list of host or host:port, e.g. outpost.example.org,10.0.0.5:8080; got '${bad}'`);
  return hosts.join(',');
}

/** Both files or neither, each readable, the key that of the certificate; paths made absolute. */
function tlsFiles(cert: string | undefined, key: string | undefined): { tlsCert?: string; tlsKey?: string } {
  if (cert === undefined && key === undefined) return {};
  if (cert === undefined || key === undefined) throw new ConfigError('--tls-cert and --tls-key (or OUTPOST_TLS_CERT and OUTPOST_TLS_KEY) go together');
  const read = <T>(flag: string, file: string, parse: (pem: Buffer) => T): T => {
    try {
      return parse(readFileSync(file));
    } catch (err) {
      throw new ConfigError(`--${flag} ${file}: not a readable PEM file (${(err as Error).message})`);
    }
  };
  const certificate = read('tls-cert', cert, (pem) => new X509Certificate(pem));
  const privateKey = read('tls-key', key, (pem) => createPrivateKey(pem));
  if (!certificate.checkPrivateKey(privateKey)) throw new ConfigError(`--tls-key ${key} is not the key of the certificate in --tls-cert ${cert}`);
  return { tlsCert: path.resolve(cert), tlsKey: path.resolve(key) };
}

/** The settings dev and serve share, checked and made absolute where they name files or URLs. */
function commonPaths(config: { dataDir: string; publicUrl?: string; publicHosts?: string; callbackAllow?: string; tlsCert?: string; tlsKey?: string }) {
  try {
    AddressAllowlist.parse(config.callbackAllow);
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (or OUTPOST_CALLBACK_ALLOW)`);
  }
  return {
    dataDir: path.resolve(config.dataDir),
    publicUrl: publicUrl(config.publicUrl),
    publicHosts: publicHosts(config.publicHosts),
    ...tlsFiles(config.tlsCert, config.tlsKey),
  };
}

export function loadServeConfig(argv: string[], env: NodeJS.ProcessEnv): OrchestratorConfig {
  const config = load<Static<typeof OrchestratorTObject>>(SERVE, OrchestratorTObject, argv, env);
  const list = (value: string) => value.split(',').map((item) => item.trim()).filter(Boolean);
  const { agentAllowlist, agentDomains, ...rest } = config;
  return {
    ...rest,
    ...commonPaths(config),
    ...(config.database === undefined ? {} : { database: databaseUrl(config.database) }),
    ...(config.filesDir === undefined ? {} : { filesDir: path.resolve(config.filesDir) }),
    ...(agentDomains === undefined ? {} : { agentDomains: list(agentDomains) }),
    ...(agentAllowlist === undefined ? {} : { agentAllowlist: list(agentAllowlist) }),
  };
}

export function loadDevConfig(argv: string[], env: NodeJS.ProcessEnv): DevConfig {
  const config = load<DevConfig>(DEV, DevTObject, argv, env);
  try {
    AddressAllowlist.parse(config.fetchAllow, 'file inputs', '--fetch-allow');
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (or OUTPOST_FETCH_ALLOW)`);
  }
  const services = path.resolve(config.services);
  // Checked before Prosody starts, so that a typo is one line rather than a stack trace from the agent.
  if (!statSync(services, { throwIfNoEntry: false })?.isDirectory()) throw new ConfigError(`--services (or OUTPOST_SERVICES): '${services}' is not a folder`);
  return { ...config, ...commonPaths(config), services };
}

/** The settings `outpost serve` and `outpost dev` take, each a flag with its environment variable. */
export const COMMAND_SETTINGS: Readonly<Record<'serve' | 'dev', readonly Pick<Setting, 'flag' | 'env'>[]>> = { serve: SERVE, dev: DEV };
