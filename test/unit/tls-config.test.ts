import { expect } from 'chai';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadAgentConfig } from '../../agent/config.js';
import { certificateFingerprint, ensureDevCertificate, type TlsFiles } from '../../dev/tls-certificate.js';
import { loadDevConfig, loadServeConfig } from '../../src/config.js';
import { isLoopbackHost } from '../../xmpp/server-trust.js';
import { repoRoot } from '../helpers/paths.js';
import { errorMessage } from '../helpers/temp-services.js';

const SERVE = ['--xmpp-server', 'xmpp://xmpp.example.org:5347', '--component-jid', 'orchestrator.example.org', '--component-secret', 's'];
const AGENT = ['--server', 'xmpp://xmpp.example.org:5222', '--jid', 'a@example.org', '--password', 'p', '--services', '.'];
const PIN = 'AB'.repeat(32);

describe('config: TLS certificate of the orchestrator and the embedded Prosody', () => {
  let dir: string;
  let files: TlsFiles;
  let other: TlsFiles;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-tls-config-'));
    files = await ensureDevCertificate(path.join(dir, 'one'), ['outpost.localhost', 'localhost', '10.213.0.1']);
    other = await ensureDevCertificate(path.join(dir, 'two'), ['outpost.localhost']);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('makes a certificate once, with its key readable by the owner only, and keeps it', async () => {
    expect((await stat(files.keyFile)).mode & 0o777).to.equal(0o600);
    const fingerprint = certificateFingerprint(files.certFile);
    expect(await ensureDevCertificate(path.join(dir, 'one'), ['outpost.localhost'])).to.deep.equal(files);
    expect(certificateFingerprint(files.certFile)).to.equal(fingerprint);
  });

  it('takes --tls-cert and --tls-key, from flags or the environment, as absolute paths', () => {
    const config = loadServeConfig([...SERVE, '--tls-cert', files.certFile, '--tls-key', files.keyFile], {});
    expect([config.tlsCert, config.tlsKey]).to.deep.equal([files.certFile, files.keyFile]);
    const dev = loadDevConfig(['--https', 'true'], { OUTPOST_TLS_CERT: files.certFile, OUTPOST_TLS_KEY: files.keyFile });
    expect([dev.tlsCert, dev.tlsKey, dev.https]).to.deep.equal([files.certFile, files.keyFile, true]);
  });

  it('refuses one without the other, an unreadable file, and a key of another certificate', () => {
    expect(errorMessage(() => loadServeConfig([...SERVE, '--tls-cert', files.certFile], {}))).to.equal('--tls-cert and --tls-key (or OUTPOST_TLS_CERT and OUTPOST_TLS_KEY) go together');
    expect(errorMessage(() => loadDevConfig(['--tls-cert', path.join(dir, 'none.pem'), '--tls-key', files.keyFile], {}))).to.match(
      new RegExp(`^--tls-cert ${path.join(dir, 'none.pem')}: not a readable PEM file \\(ENOENT`),
    );
    expect(errorMessage(() => loadDevConfig(['--tls-cert', files.certFile, '--tls-key', other.keyFile], {}))).to.equal(
      `--tls-key ${other.keyFile} is not the key of the certificate in --tls-cert ${files.certFile}`,
    );
  });
});

describe('config: how an agent verifies its server', () => {
  it('trusts the system CAs, and allows plain text to loopback only, by default', () => {
    expect(loadAgentConfig(AGENT, {}).serverTrust).to.deep.equal({ insecure: false });
    expect(['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]'].every(isLoopbackHost)).to.equal(true);
    expect(['10.213.0.1', '192.0.2.2', 'outpost.example.org', '128.0.0.1', '::2'].some(isLoopbackHost)).to.equal(false);
  });

  it('pins fingerprints given in hex or colon-hex, comma-separated, from a flag or the environment', () => {
    const colon = PIN.toLowerCase().match(/../g)!.join(':');
    expect(loadAgentConfig([...AGENT, '--server-fingerprint', `${colon}, ${'cd'.repeat(32)}`, '--insecure'], {}).serverTrust).to.deep.equal({
      fingerprints: [PIN, 'CD'.repeat(32)],
      insecure: true,
    });
    expect(loadAgentConfig(AGENT, { OUTPOST_AGENT_SERVER_FINGERPRINT: PIN, OUTPOST_AGENT_INSECURE: 'true' }).serverTrust).to.deep.equal({ fingerprints: [PIN], insecure: true });
  });

  for (const [args, message] of [
    [['--server-fingerprint', 'abc'], "--server-fingerprint must be the certificate's SHA-256 in hex (64 digits, colons allowed), comma-separated; got 'abc'"],
    [['--server-fingerprint', PIN, '--ca-file', '/etc/hostname'], 'give --server-fingerprint or --ca-file, not both'],
    [['--ca-file', '/nonexistent/ca.pem'], "--ca-file /nonexistent/ca.pem: cannot be read (ENOENT: no such file or directory, open '/nonexistent/ca.pem')"],
    [['--ca-file', path.join(repoRoot, 'package.json')], `--ca-file ${path.join(repoRoot, 'package.json')}: holds no PEM certificate`],
    [['--server', 'xmpps://xmpp.example.org:5223', '--server-fingerprint', PIN], '--server-fingerprint and --ca-file apply to xmpp:// (STARTTLS); give --server xmpp://HOST:PORT'],
  ] as const) {
    it(`refuses ${args.join(' ')}`, () => {
      expect(errorMessage(() => loadAgentConfig([...AGENT, ...args], {}))).to.equal(message);
    });
  }
});
