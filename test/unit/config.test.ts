import { expect } from 'chai';
import path from 'node:path';
import { loadDevConfig, loadServeConfig } from '../../src/config.js';
import { agentPools } from '../../src/registry/agent-admission.js';
import { errorMessage } from '../helpers/temp-services.js';

const SERVE = ['--xmpp-server', 'xmpp://xmpp.example.org:5347', '--component-jid', 'orchestrator.example.org', '--component-secret', 's'];

describe('config: upload settings', () => {
  it('has no public URL and a 1 GiB upload limit by default', () => {
    const config = loadServeConfig(SERVE, {});
    expect([config.publicUrl, config.maxUploadBytes]).to.deep.equal([undefined, 1024 ** 3]);
  });

  it('takes them from flags before the environment, without a trailing slash', () => {
    const env = { OUTPOST_PUBLIC_URL: 'http://env.example.org', OUTPOST_MAX_UPLOAD_BYTES: '5' };
    const fromFlags = loadServeConfig([...SERVE, '--public-url', 'https://outpost.example.org/api/', '--max-upload-bytes', '1048576'], env);
    expect([fromFlags.publicUrl, fromFlags.maxUploadBytes]).to.deep.equal(['https://outpost.example.org/api', 1048576]);
    const dev = loadDevConfig([], env);
    expect([dev.publicUrl, dev.maxUploadBytes]).to.deep.equal(['http://env.example.org', 5]);
  });

  for (const [flag, value, message] of [
    ['--public-url', 'ftp://outpost.example.org', "--public-url (or OUTPOST_PUBLIC_URL): must be an http:// or https:// URL without query or fragment, e.g. https://outpost.example.org; got 'ftp://outpost.example.org'"],
    ['--public-url', 'https://outpost.example.org/?x=1', "--public-url (or OUTPOST_PUBLIC_URL): must be an http:// or https:// URL without query or fragment, e.g. https://outpost.example.org; got 'https://outpost.example.org/?x=1'"],
    ['--max-upload-bytes', '0', '--max-upload-bytes (or OUTPOST_MAX_UPLOAD_BYTES): must be >= 1'],
    ['--max-upload-bytes', '1GB', '--max-upload-bytes (or OUTPOST_MAX_UPLOAD_BYTES): must be integer'],
    ['--http-port', ' ', '--http-port (or OUTPOST_HTTP_PORT): must be integer'],
  ] as const) {
    it(`refuses ${flag} ${value}`, () => {
      expect(errorMessage(() => loadServeConfig([...SERVE, flag, value], {}))).to.equal(message);
    });
  }
});

describe('config: job deadline', () => {
  it('gives every job a day from its submission unless told otherwise, 0 for none', () => {
    expect(loadServeConfig(SERVE, {}).jobDeadline).to.equal(86_400);
    expect(loadServeConfig([...SERVE, '--job-deadline', '0'], { OUTPOST_JOB_DEADLINE: '60' }).jobDeadline).to.equal(0);
    expect(loadDevConfig([], { OUTPOST_JOB_DEADLINE: '2.5' }).jobDeadline).to.equal(2.5);
  });

  it('refuses --job-deadline=-1 and --job-deadline soon', () => {
    expect(errorMessage(() => loadServeConfig([...SERVE, '--job-deadline=-1'], {}))).to.equal('--job-deadline (or OUTPOST_JOB_DEADLINE): must be >= 0');
    expect(errorMessage(() => loadServeConfig([...SERVE, '--job-deadline', 'soon'], {}))).to.equal('--job-deadline (or OUTPOST_JOB_DEADLINE): must be number');
  });
});

describe('config: access and per-user limits', () => {
  it('lets anyone read but only token holders execute, 16 running and 1000 waiting per user by default', () => {
    const config = loadServeConfig(SERVE, {});
    expect([config.anonymousRead, config.anonymousExecute, config.maxRunning, config.maxWaiting]).to.deep.equal([true, false, 16, 1000]);
  });

  it('takes them from flags before the environment', () => {
    const env = { OUTPOST_ANONYMOUS_READ: 'false', OUTPOST_ANONYMOUS_EXECUTE: 'true', OUTPOST_MAX_RUNNING: '3', OUTPOST_MAX_WAITING: '0' };
    const dev = loadDevConfig([], env);
    expect([dev.anonymousRead, dev.anonymousExecute, dev.maxRunning, dev.maxWaiting]).to.deep.equal([false, true, 3, 0]);
    const serve = loadServeConfig([...SERVE, '--anonymous-read', 'true', '--anonymous-execute=false', '--max-running', '8', '--max-waiting', '5'], env);
    expect([serve.anonymousRead, serve.anonymousExecute, serve.maxRunning, serve.maxWaiting]).to.deep.equal([true, false, 8, 5]);
  });

  for (const [flag, value, message] of [
    ['--anonymous-read', 'yes', '--anonymous-read (or OUTPOST_ANONYMOUS_READ): must be boolean'],
    ['--anonymous-execute', '1', '--anonymous-execute (or OUTPOST_ANONYMOUS_EXECUTE): must be boolean'],
    ['--max-running', '0', '--max-running (or OUTPOST_MAX_RUNNING): must be >= 1'],
    ['--max-waiting', '-1', '--max-waiting (or OUTPOST_MAX_WAITING): must be >= 0'],
  ] as const) {
    it(`refuses ${flag} ${value}`, () => {
      expect(errorMessage(() => loadServeConfig([...SERVE, `${flag}=${value}`], {}))).to.equal(message);
    });
  }
});

describe('config: which accounts may act as agents', () => {
  const serve = (...flags: string[]) => loadServeConfig([...SERVE, ...flags], {});
  const provisioned = { poolOf: (jid: string) => (jid === 'gpu@example.org' ? 'gpus' : undefined) };

  it('accepts only provisioned accounts by default, not every account of the domain', () => {
    const config = serve();
    expect(config.agentDomains).to.equal(undefined);
    const poolOf = agentPools(config, provisioned);
    expect(poolOf('gpu@example.org')).to.equal('gpus');
    expect(poolOf('rogue@example.org')).to.equal(undefined);
  });

  it('accepts listed accounts too, each alone in its own pool', () => {
    const config = serve('--agent-allowlist', 'tiles@example.org, maps@other.org');
    expect(config.agentAllowlist).to.deep.equal(['tiles@example.org', 'maps@other.org']);
    const poolOf = agentPools(config, provisioned);
    expect(poolOf('tiles@example.org')).to.equal('tiles@example.org');
    expect(poolOf('maps@other.org')).to.equal('maps@other.org');
    expect(poolOf('cpu@example.org')).to.equal(undefined);
  });

  it('accepts every account of a domain only when asked to', () => {
    const poolOf = agentPools(serve('--agent-domains', 'example.org'), provisioned);
    expect(poolOf('cpu@example.org')).to.equal('cpu@example.org');
    expect(poolOf('gpu@example.org')).to.equal('gpus');
    expect(poolOf('cpu@badexample.org')).to.equal(undefined);
  });
});

describe('config: metrics access and public hosts', () => {
  it('keeps /metrics closed and lists no public host by default', () => {
    const config = loadServeConfig(SERVE, {});
    expect([config.metricsOpen, config.publicHosts]).to.deep.equal([false, undefined]);
  });

  it('takes them from flags before the environment, lower-cased', () => {
    const env = { OUTPOST_METRICS_OPEN: 'true', OUTPOST_PUBLIC_HOSTS: 'Env.example.org' };
    const dev = loadDevConfig([], env);
    expect([dev.metricsOpen, dev.publicHosts]).to.deep.equal([true, 'env.example.org']);
    const serve = loadServeConfig([...SERVE, '--metrics-open', 'false', '--public-hosts', 'Outpost.example.org, 10.0.0.5:8080,[::1]:80'], env);
    expect([serve.metricsOpen, serve.publicHosts]).to.deep.equal([false, 'outpost.example.org,10.0.0.5:8080,[::1]:80']);
  });

  it('refuses a services folder that does not exist before anything starts', () => {
    expect(errorMessage(() => loadDevConfig(['--services', '/nonexistent/services.d'], {}))).to.equal("--services (or OUTPOST_SERVICES): '/nonexistent/services.d' is not a folder");
  });

  it('refuses a callback network with a typo, which could otherwise allow every address', () => {
    expect(errorMessage(() => loadDevConfig(['--callback-allow', 'hooks.internal,10.0.0.0/'], {}))).to.equal(
      "--callback-allow: '10.0.0.0/' is not a host name, an address or a network such as 10.1.0.0/16 (or OUTPOST_CALLBACK_ALLOW)",
    );
    expect(errorMessage(() => loadDevConfig(['--fetch-allow', 'http://files.internal'], {}))).to.equal(
      "--fetch-allow: 'http://files.internal' is not a host name, an address or a network such as 10.1.0.0/16 (or OUTPOST_FETCH_ALLOW)",
    );
  });

  it('refuses a public host with a scheme or path', () => {
    expect(errorMessage(() => loadServeConfig([...SERVE, '--public-hosts', 'ok.example.org,https://evil.example/'], {}))).to.equal(
      "--public-hosts (or OUTPOST_PUBLIC_HOSTS): a comma-separated list of host or host:port, e.g. outpost.example.org,10.0.0.5:8080; got 'https://evil.example/'",
    );
  });
});


describe('config: how long finished jobs are kept', () => {
  it('keeps them a week by default, in seconds', () => {
    expect([loadServeConfig(SERVE, {}).keepJobs, loadDevConfig([], {}).keepJobs]).to.deep.equal([604800, 604800]);
  });

  it('takes --keep-jobs before OUTPOST_KEEP_JOBS', () => {
    expect(loadServeConfig([...SERVE, '--keep-jobs', '2.5'], { OUTPOST_KEEP_JOBS: '86400' }).keepJobs).to.equal(2.5);
    expect(loadDevConfig([], { OUTPOST_KEEP_JOBS: '86400' }).keepJobs).to.equal(86400);
  });

  for (const value of ['0', '-5', '7d']) {
    it(`refuses --keep-jobs ${value}`, () => {
      const problem = value === '7d' ? 'must be number' : 'must be > 0';
      expect(errorMessage(() => loadServeConfig([...SERVE, `--keep-jobs=${value}`], {}))).to.equal(`--keep-jobs (or OUTPOST_KEEP_JOBS): ${problem}`);
    });
  }
});

describe('config: where jobs are kept', () => {
  it('keeps them in SQLite in the data directory unless a PostgreSQL URL is given, by flag before the environment', () => {
    expect(loadServeConfig(SERVE, {}).database).to.equal(undefined);
    const env = { OUTPOST_DATABASE: 'postgresql://env.example.org/outpost' };
    expect(loadServeConfig(SERVE, env).database).to.equal('postgresql://env.example.org/outpost');
    expect(loadServeConfig([...SERVE, '--database', 'postgres://outpost:pw@db.example.org:5433/jobs'], env).database).to.equal('postgres://outpost:pw@db.example.org:5433/jobs');
  });

  for (const value of ['mysql://db.example.org/outpost', '/var/lib/outpost/jobs.db']) {
    it(`refuses --database ${value}`, () => {
      expect(errorMessage(() => loadServeConfig([...SERVE, '--database', value], {}))).to.equal(
        `--database (or OUTPOST_DATABASE): must be a postgres:// URL, e.g. postgres://outpost@db.example.org/outpost; got '${value}'`,
      );
    });
  }
});

describe('config: several orchestrators on one database', () => {
  it('keeps files in the data directory unless --files-dir names a shared one, made absolute', () => {
    expect(loadServeConfig(SERVE, {}).filesDir).to.equal(undefined);
    expect(loadServeConfig([...SERVE, '--files-dir', 'shared/files'], {}).filesDir).to.equal(path.resolve('shared/files'));
    expect(loadServeConfig(SERVE, { OUTPOST_FILES_DIR: '/srv/outpost-files' }).filesDir).to.equal('/srv/outpost-files');
  });

  it('tries the dispatcher lease every second unless told otherwise', () => {
    expect(loadServeConfig(SERVE, {}).leaseRetry).to.equal(1);
    expect(loadServeConfig([...SERVE, '--lease-retry', '0.25'], { OUTPOST_LEASE_RETRY: '3' }).leaseRetry).to.equal(0.25);
  });

  it('gives a dispatcher’s XMPP link 10 s to come back unless told otherwise', () => {
    expect(loadServeConfig(SERVE, {}).linkGrace).to.equal(10);
    expect(loadServeConfig([...SERVE, '--link-grace', '2.5'], {}).linkGrace).to.equal(2.5);
    expect(errorMessage(() => loadServeConfig([...SERVE, '--link-grace=0'], {}))).to.equal('--link-grace (or OUTPOST_LINK_GRACE): must be > 0');
  });

  for (const [value, problem] of [['0', 'must be > 0'], ['soon', 'must be number']]) {
    it(`refuses --lease-retry ${value}`, () => {
      expect(errorMessage(() => loadServeConfig([...SERVE, `--lease-retry=${value}`], {}))).to.equal(`--lease-retry (or OUTPOST_LEASE_RETRY): ${problem}`);
    });
  }
});
