import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { spawnAgentCommand, type AgentProcess } from '../helpers/agent-process.js';
import { eventually } from '../helpers/cluster.js';
import { httpsRequest } from '../helpers/https-request.js';
import { commandLineOf, networkNamespaceOrSkip, processGroupOf, type NetworkNamespace } from '../helpers/netns.js';
import { fixture, repoRoot } from '../helpers/paths.js';

const run = promisify(execFile);
const outpost = path.join(repoRoot, 'bin', 'outpost.js');
const WRONG_PIN = 'ab'.repeat(32);
const colonHex = (hex: string) => hex.toUpperCase().match(/../g)!.join(':');
/** An address as a regular expression matching it alone. */
const literal = (address: string) => address.replace(/\./g, '\\.');
const ms = (since: number) => `${(performance.now() - since).toFixed(0)} ms`;
/** Reported, not asserted: what a remote machine costs on this one. */
const report = (line: string) => process.stdout.write(`      (${line})\n`);
const isOnline = (agent: AgentProcess) => (/"msg":"xmpp client online"/.test(agent.output()) ? true : undefined);
/** What an agent printed besides its JSON log lines. */
const plainLines = (agent: AgentProcess) => agent.output().split('\n').filter((line) => !line.startsWith('{'));

interface DevInfo {
  url: string;
  adminToken: string;
  userToken: string;
  xmpp: { port: number; fingerprint: string };
}

/** The three lines `outpost agent add` prints for the remote machine: install, set up, start. */
interface Printed {
  install: string;
  setup: string;
  start: string;
}

/**
 * Another machine for real, as far as the network goes: `outpost dev` (its Prosody requiring
 * STARTTLS, its HTTPS) listens on this machine's end of a veth, and the agent is installed and run
 * inside a network namespace whose only way out is that veth.
 */
describe('an agent on another machine, in a network namespace, reaching outpost dev over a veth', function () {
  this.timeout(60_000);
  let ns: NetworkNamespace;
  let dataDir: string;
  let dev: ChildProcess | undefined;
  let info: DevInfo;
  let ca: string;
  /** The remote machine's home folder, its npm prefix and cache. */
  let home: string;
  let env: NodeJS.ProcessEnv;
  let remote: AgentProcess | undefined;
  let remoteStarted = 0;
  let remotePrinted: Printed;
  const others: AgentProcess[] = [];

  async function startDev(): Promise<void> {
    dev = spawn(process.execPath, [outpost, 'dev', '--host', ns.hostAddress, '--http-port', '0', '--data-dir', dataDir, '--services', path.join(dataDir, 'no-services'), '--log-level', 'warn'], { cwd: repoRoot, stdio: 'ignore' });
    const devFile = path.join(dataDir, 'dev.json');
    await eventually(() => (existsSync(devFile) ? true : undefined), 20_000, 'dev.json');
    info = JSON.parse(await readFile(devFile, 'utf8')) as DevInfo;
  }
  async function stopDev(): Promise<void> {
    if (!dev || dev.exitCode !== null || dev.signalCode !== null) return;
    const exited = once(dev, 'exit');
    dev.kill('SIGINT');
    await exited;
  }

  /** `outpost agent add NAME` on the server, and the lines it prints for the remote machine. */
  async function addAgent(name: string): Promise<Printed> {
    const printed = (await run(process.execPath, [outpost, 'agent', 'add', name, '--data-dir', dataDir])).stdout;
    const [install, setup, start] = /^ {2}(mkdir -p ~\/outpost && printf .+)\n {2}(mkdir .+)\n {2}outpost-agent (.+)\n\n/m.exec(printed)?.slice(1) ?? [];
    expect(start, printed).to.be.a('string');
    return { install: install!, setup: setup!, start: start! };
  }

  /** The installed `outpost-agent`, started inside the namespace with `args`. */
  const startAgent = (args: string, keep = true) => {
    const agent = spawnAgentCommand(`${ns.execPrefix} '${path.join(home, 'prefix', 'bin', 'outpost-agent')}' ${args}`, env);
    if (keep) others.push(agent);
    return agent;
  };
  const get = (route: string) => httpsRequest(`${info.url}${route}`, ca, info.userToken);
  const jobStatus = async (jobId: string) => (await get(`/jobs/${jobId}`)).json['status'] as string;

  before(async function () {
    ns = await networkNamespaceOrSkip(this);
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-remote-server-'));
    await mkdir(path.join(dataDir, 'no-services'));
    home = await mkdtemp(path.join(os.tmpdir(), 'outpost-remote-home-'));
    // A fresh prefix and an empty npm cache: the package must bring everything it needs.
    env = { PATH: process.env['PATH'], HOME: home, npm_config_prefix: path.join(home, 'prefix'), npm_config_cache: path.join(home, 'npm-cache') };
    await startDev();
    ca = await readFile(path.join(dataDir, 'tls', 'cert.pem'), 'utf8');
  });
  after(async function () {
    await Promise.all([remote, ...others].map((agent) => agent?.crash()));
    await stopDev();
    await ns?.remove();
    await Promise.all([dataDir, home].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('installs the agent from the served package following what agent add prints, logs in over STARTTLS and runs a job', async function () {
    expect(info.url).to.match(new RegExp(`^https://${literal(ns.hostAddress)}:\\d+$`));
    remotePrinted = await addAgent('remote');
    const printedAt = performance.now();
    expect(remotePrinted.install).to.include(` npm install -g --cafile ~/outpost/server.pem ${info.url}/agent/outpost-agent.tgz`);

    // The namespace has no route but the veth: npm can fetch nothing from a registry there
    // (`--offline` would refuse the package's URL too, with ENOTCACHED).
    expect((await ns.run('ip', ['route'])).stdout).to.not.include('default');
    const installing = performance.now();
    await ns.run('/bin/sh', ['-c', `${remotePrinted.install} --no-audit --no-fund && ${remotePrinted.setup}`], { env });
    const installMs = ms(installing);
    const size = (await run('du', ['-sk', path.join(home, 'prefix')])).stdout.split('\t')[0];
    report(`install inside the namespace: ${installMs}; package ${(await stat(path.join(repoRoot, 'dist', 'outpost-agent.tgz'))).size} bytes, ${size} KiB installed`);
    await writeFile(path.join(home, 'outpost', 'services.d', 'greet.properties'), 'service = greet\nexecutable = /bin/echo\ncustomargs = from the namespace\noutputs = { "text": { "type": "string", "from": "stdout", "mediaType": "text/plain" } }\n');
    await writeFile(path.join(home, 'outpost', 'services.d', 'hold.properties'), `service = hold\nexecutable = ${fixture('bin', 'sleep-tree.sh')}\n`);

    remoteStarted = performance.now();
    remote = startAgent(remotePrinted.start, false);
    await eventually(() => isOnline(remote!), 15_000, `online (output: ${remote!.output()})`);
    report(`agent start to logged in over STARTTLS across the veth: ${ms(remoteStarted)}`);
    expect(await ns.pids()).to.include(remote.child.pid);
    const connections = (await ns.run('ss', ['-Htn', 'state', 'established'])).stdout;
    expect(connections).to.match(new RegExp(`${literal(ns.address)}:\\d+\\s+${literal(ns.hostAddress)}:${info.xmpp.port}\\s`));

    await eventually(async () => (((await get('/processes')).json['processes'] as { id: string }[]).some((p) => p.id === 'greet') ? true : undefined), 15_000, 'greet offered');
    const submitted = await httpsRequest(`${info.url}/processes/greet/execution`, ca, info.userToken, {});
    expect(submitted.status, submitted.text).to.equal(201);
    const jobId = submitted.json['jobID'] as string;
    await eventually(async () => ((await jobStatus(jobId)) === 'successful' ? true : undefined), 15_000, 'greet successful');
    report(`agent add printed to a job done on the namespace's agent: ${ms(printedAt)}`);
    expect((await get(`/jobs/${jobId}/results/text`)).text).to.equal('from the namespace');
  });

  it('kills a running job from the admin API: its process group is gone inside the namespace', async function () {
    const submitted = await httpsRequest(`${info.url}/processes/hold/execution`, ca, info.userToken, {});
    const jobId = submitted.json['jobID'] as string;
    const script = fixture('bin', 'sleep-tree.sh');
    // Both the script and its `sleep 60` are up: the group to kill is complete.
    const [group, members] = await eventually(async () => {
      const pids = await ns.pids();
      const shell = pids.find((pid) => commandLineOf(pid).endsWith(script));
      const group = shell && processGroupOf(shell);
      const members = pids.filter((pid) => group !== undefined && processGroupOf(pid) === group);
      return group !== undefined && members.some((pid) => commandLineOf(pid) === 'sleep 60') ? ([group, members] as const) : undefined;
    }, 15_000, 'the job running inside the namespace');
    expect(members).to.have.length(2);

    const killed = await httpsRequest(`${info.url}/admin/jobs/${jobId}/kill`, ca, info.adminToken, {});
    expect(killed.status, killed.text).to.equal(200);
    await eventually(async () => ((await jobStatus(jobId)) === 'dismissed' ? true : undefined), 15_000, 'job dismissed');
    await eventually(async () => ((await ns.pids()).every((pid) => processGroupOf(pid) !== group) ? true : undefined), 10_000, `process group ${group} gone`);
  });

  it('ends with one line and exit code 78 when the certificate is not the pinned one', async function () {
    const agent = startAgent(remotePrinted.start.replace(/--server-fingerprint \S+/, `--server-fingerprint ${WRONG_PIN}`));
    const [code] = await once(agent.child, 'exit');
    expect(code).to.equal(78);
    expect(plainLines(agent)).to.deep.equal([`outpost-agent: the server's certificate has fingerprint ${info.xmpp.fingerprint}, not the pinned ${colonHex(WRONG_PIN)}`, '']);
  });

  it('ends with one line and exit code 78 when the password is wrong', async function () {
    await writeFile(path.join(home, 'outpost', 'wrong.password'), 'not-the-password\n', { mode: 0o600 });
    const agent = startAgent(remotePrinted.start.replace(/--password-file \S+/, '--password-file ~/outpost/wrong.password'));
    const [code] = await once(agent.child, 'exit');
    expect(code).to.equal(78);
    expect(plainLines(agent)).to.deep.equal(['outpost-agent: remote@outpost.localhost: the server refused the login: not-authorized (check the password and that the account exists)', '']);
  });

  it('keeps trying while the server is down at its start, and connects once it is up', async function () {
    const printed = await addAgent('patient');
    await ns.run('/bin/sh', ['-c', printed.setup], { env });
    await stopDev();
    const agent = startAgent(printed.start);
    await eventually(() => (/cannot reach the server; next attempt in \d+\.\d s/.test(agent.output()) ? true : undefined), 10_000, `a retry logged (output: ${agent.output()})`);
    expect(agent.child.exitCode).to.equal(null);
    await startDev();
    await eventually(() => isOnline(agent), 20_000, `online (output: ${agent.output()})`);
    // The agent that ran the jobs lost the server too, and is back.
    await eventually(() => ((remote!.output().match(/"msg":"xmpp client online"/g) ?? []).length >= 2 ? true : undefined), 20_000, 'the first agent back online');
  });

  it('stays up while idle', async function () {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, remoteStarted + 30_000 - performance.now())));
    expect(remote!.child.exitCode).to.equal(null);
    const status = await readFile(`/proc/${remote!.child.pid}/status`, 'utf8');
    report(`idle RSS of the namespace's agent 30 s after its start: ${/VmRSS:\s+(\d+ kB)/.exec(status)?.[1]}`);
  });
});
