import { expect } from 'chai';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnAgent, spawnAgentCommand, type AgentProcess } from '../helpers/agent-process.js';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';
import { examplesDir } from '../helpers/examples.js';
import { httpsRequest as request } from '../helpers/https-request.js';
import { networkNamespaceOrSkip, type NetworkNamespace } from '../helpers/netns.js';
import { fixture, repoRoot } from '../helpers/paths.js';
import { startTestProsody, type TestProsody } from '../helpers/prosody.js';
import { writeProperties } from '../helpers/temp-services.js';

const WRONG_PIN = 'ab'.repeat(32);
const colonHex = (hex: string) => hex.toUpperCase().match(/../g)!.join(':');

describe('TLS: STARTTLS to the embedded Prosody, HTTPS uploads, pinned certificates', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let servicesDir: string;
  let ca: string;
  const spawned: AgentProcess[] = [];

  before(async function () {
    cluster = await startCluster({ tls: true });
    ca = await readFile(cluster.tls!.certFile, 'utf8');
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    await writeProperties(servicesDir, 'image.properties', {
      service: 'image',
      executable: fixture('bin', 'write-file.sh'),
      outputs: JSON.stringify({ image: { type: 'file', from: 'file:out/a.tif', mediaType: 'image/tiff' } }),
    });
  });
  afterEach(async function () {
    await Promise.all(spawned.splice(0).map((agent) => agent.crash()));
  });
  after(async function () {
    await cluster?.stop();
    await rm(servicesDir, { recursive: true, force: true });
  });

  const spawnPinned = async (name: string, extraArgs: string[], server = cluster.server.prosody.clientService) => {
    const { jid, password } = await cluster.addAccount(name);
    const agent = spawnAgent({ server, jid: `${jid}/agent`, password, services: examplesDir, workDir: path.join(cluster.dataDir, name), logLevel: 'info', extraArgs });
    spawned.push(agent);
    return agent;
  };

  it('serves HTTPS, and an agent that pins the certificate logs in over STARTTLS, runs a job and uploads its file over HTTPS', async function () {
    expect(cluster.orchestrator.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    const started = performance.now();
    await cluster.addAgent('pinned', servicesDir);
    // Reported, not asserted: what TLS adds to an agent's start on this machine.
    process.stdout.write(`      (STARTTLS handshake, login and catalog of one agent: ${(performance.now() - started).toFixed(0)} ms)\n`);

    const submitted = await request(`${cluster.orchestrator.url}/processes/image/execution`, ca, cluster.userToken, {});
    expect(submitted.status, submitted.text).to.equal(201);
    const jobId = submitted.json['jobID'] as string;
    const status = await eventually(async () => {
      const info = (await request(`${cluster.orchestrator.url}/jobs/${jobId}`, ca, cluster.userToken)).json;
      return ['successful', 'failed'].includes(info['status'] as string) ? info : undefined;
    }, 20_000, 'job finished');
    expect(status['status'], JSON.stringify(status)).to.equal('successful');
    const image = await request(`${cluster.orchestrator.url}/jobs/${jobId}/results/image`, ca, cluster.userToken);
    expect(image.text).to.equal('tif-bytes');
  });

  it('accepts any of a comma-separated list of pins, the way a certificate is rotated', async function () {
    const agent = await spawnPinned('rotating', ['--server-fingerprint', `${WRONG_PIN},${cluster.tls!.fingerprint}`]);
    await eventually(() => (/"msg":"xmpp client online"/.test(agent.output()) ? true : undefined), 15_000, `online (output: ${agent.output()})`);
  });

  it('ends with one line and exit code 78 when the certificate is not the pinned one', async function () {
    const agent = await spawnPinned('wrongpin', ['--server-fingerprint', WRONG_PIN]);
    const [code] = await once(agent.child, 'exit');
    expect(code).to.equal(78);
    const lines = agent.output().split('\n').filter((line) => !line.startsWith('{'));
    expect(lines).to.deep.equal([`outpost-agent: the server's certificate has fingerprint ${cluster.tls!.fingerprint}, not the pinned ${colonHex(WRONG_PIN)}`, '']);
    expect(agent.output()).to.not.include('xmpp client online');
  });

  it('refuses a self-signed certificate without a pin (the system CAs do not vouch for it), in one line with exit code 78', async function () {
    const agent = await spawnPinned('unpinned', []);
    const [code] = await once(agent.child, 'exit');
    expect(code).to.equal(78);
    const lines = agent.output().split('\n').filter((line) => !line.startsWith('{'));
    expect(lines).to.have.length(2);
    expect(lines[0]).to.match(/^outpost-agent: the server's certificate is not trusted \(self[- ]signed certificate\); pin it with --server-fingerprint or name its CA with --ca-file$/);
  });

  it('trusts the certificate named as a CA with --ca-file', async function () {
    const agent = await spawnPinned('with-ca', ['--ca-file', cluster.tls!.certFile]);
    await eventually(() => (/"msg":"xmpp client online"/.test(agent.output()) ? true : undefined), 15_000, `online (output: ${agent.output()})`);
  });
});

describe('TLS: a server that offers no STARTTLS on an address other machines reach', function () {
  this.timeout(30_000);
  let ns: NetworkNamespace;
  let server: TestProsody;
  let workDir: string;
  let agent: AgentProcess | undefined;

  before(async function () {
    ns = await networkNamespaceOrSkip(this);
    server = await startTestProsody({ host: ns.hostAddress });
    workDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-plain-'));
  });
  afterEach(async () => agent?.crash());
  after(async function () {
    await server?.stop();
    await ns?.remove();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  /** An agent inside the namespace, which reaches the server only over the veth. */
  const start = async (name: string, extraArgs: string[] = []) => {
    const { jid, password } = await server.addAccount(name);
    const args = ['--server', server.prosody.clientService, '--jid', jid, '--services', examplesDir, '--work-dir', path.join(workDir, name), '--log-level', 'info', ...extraArgs];
    return (agent = spawnAgentCommand(`${ns.execPrefix} ${process.execPath} ${path.join(repoRoot, 'bin', 'outpost-agent.js')} ${args.join(' ')}`, { PATH: process.env['PATH'], OUTPOST_AGENT_PASSWORD: password }));
  };

  it('is refused with one line and exit code 78 before any login', async function () {
    const child = await start('plain');
    const [code] = await once(child.child, 'exit');
    expect(code).to.equal(78);
    expect(child.output().split('\n').filter((line) => !line.startsWith('{'))).to.deep.equal([
      `outpost-agent: the server offers no STARTTLS: the login and every job to ${ns.hostAddress} would travel in plain text; give the server TLS, or start the agent with --insecure to allow it`,
      '',
    ]);
  });

  it('is used when the agent is started with --insecure', async function () {
    const child = await start('insecure', ['--insecure']);
    await eventually(() => (/"msg":"xmpp client online"/.test(child.output()) ? true : undefined), 15_000, `online (output: ${child.output()})`);
  });
});
