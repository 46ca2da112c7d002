import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { spawnAgentCommand, type AgentProcess } from '../helpers/agent-process.js';
import { eventually } from '../helpers/cluster.js';
import { repoRoot } from '../helpers/paths.js';
import { killProcessesMentioning } from '../helpers/process-tree.js';

const run = promisify(execFile);
const OUTPOST = path.join(repoRoot, 'bin', 'outpost.js');

describe('provisioning a fleet of agents on the embedded Prosody', function () {
  this.timeout(60_000);
  let dataDir: string;
  let dev: ChildProcess;
  let agent: AgentProcess | undefined;
  let info: { url: string; adminToken: string };
  const cli = (...args: string[]) => run(process.execPath, [OUTPOST, 'agent', ...args, '--data-dir', dataDir]);
  const refusal = (args: string[]) =>
    cli(...args).then(
      () => expect.fail(`agent ${args.join(' ')} succeeded`),
      (err: { code: number; stderr: string }) => [err.code, err.stderr.split('\n')[0]],
    );
  const listed = async () => (await cli('list')).stdout.trim().split('\n');
  const onlineAgents = async () =>
    ((await (await fetch(`${info.url}/admin/agents`, { headers: { Authorization: `Bearer ${info.adminToken}` } })).json()) as { agents: { jid: string }[] }).agents.map((a) => a.jid.split('/')[0]);

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-fleet-'));
    dev = spawn(process.execPath, [OUTPOST, 'dev', '--http-port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { cwd: repoRoot, stdio: 'ignore' });
    const devFile = path.join(dataDir, 'dev.json');
    await eventually(() => (existsSync(devFile) ? true : undefined), 20_000, 'dev.json');
    info = JSON.parse(await readFile(devFile, 'utf8')) as typeof info;
  });
  after(async () => {
    await agent?.crash();
    dev.kill('SIGKILL');
    await killProcessesMentioning(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('adds N agents in one step, each with a password of its own in a 0600 file, and one of them connects', async () => {
    const credentials = path.join(dataDir, 'creds');
    const { stdout } = await cli('add', 'edge', '--count', '120', '--credentials', credentials);
    expect(stdout).to.match(/^Created 120 agent accounts \(edge-001 … edge-120\) in \d+\.\d s\. Each one's password is in /);
    const files = await readdir(credentials);
    expect(files).to.have.length(120).and.include('edge-042.password');
    expect((await stat(credentials)).mode & 0o777).to.equal(0o700);
    expect((await stat(path.join(credentials, 'edge-042.password'))).mode & 0o777).to.equal(0o600);
    const passwords = await Promise.all(files.map((file) => readFile(path.join(credentials, file), 'utf8')));
    expect(new Set(passwords).size, 'no password is shared').to.equal(120);
    expect((await listed()).filter((line) => /^edge-\d{3}@outpost\.localhost\tpool edge\t/.test(line))).to.have.length(120);

    // The printed run line, with the agent's NAME, as an operator would paste it on that machine.
    const runLine = /^ {2}outpost-agent (.+)$/m.exec(stdout)?.[1];
    expect(runLine, stdout).to.include('--jid NAME@outpost.localhost --password-file ~/outpost/NAME.password');
    const home = path.join(dataDir, 'home');
    await mkdir(path.join(home, 'outpost', 'services.d'), { recursive: true });
    await writeFile(path.join(home, 'outpost', 'edge-042.password'), await readFile(path.join(credentials, 'edge-042.password')), { mode: 0o600 });
    agent = spawnAgentCommand(`'${process.execPath}' '${path.join(repoRoot, 'bin', 'outpost-agent.js')}' ${runLine!.replaceAll('NAME', 'edge-042')}`, {
      PATH: process.env['PATH'],
      HOME: home,
    });
    await eventually(async () => ((await onlineAgents()).includes('edge-042@outpost.localhost') ? true : undefined), 15_000, "edge-042's announce");
  });

  it('revokes one agent with one admin call: the record, its XMPP account and its connection are gone', async () => {
    const jid = 'edge-042@outpost.localhost';
    const revoke = () => fetch(`${info.url}/admin/agent-accounts/${jid}`, { method: 'DELETE', headers: { Authorization: `Bearer ${info.adminToken}` } });
    const revoked = await revoke();
    expect(revoked.status).to.equal(200);
    expect(await revoked.json()).to.deep.include({ jid, revoked: true, xmppAccountRemoved: true });
    expect(await onlineAgents()).to.not.include(jid);
    expect((await listed()).find((line) => line.startsWith(`${jid}\t`))).to.match(/\trevoked \S+$/);
    // Prosody closed the session when the account was deleted, and the agent cannot log in again.
    await eventually(() => (/not-authorized|Account deleted/i.test(agent!.output()) ? true : undefined), 10_000, `the agent's login refusal (output: ${agent!.output()})`);
    // It stops as with a wrong password, so that a service manager does not keep a dead agent running.
    await eventually(() => agent!.child.exitCode ?? undefined, 10_000, `the revoked agent's exit (output: ${agent!.output()})`);
    expect(agent!.child.exitCode).to.equal(78);
    expect(agent!.output()).to.include(`outpost-agent: ${jid}: the server refused the login: not-authorized`);
    const again = await revoke();
    expect([again.status, ((await again.json()) as { detail: string }).detail]).to.deep.equal([404, `no active agent account '${jid}'`]);
    const bad = await fetch(`${info.url}/admin/agent-accounts/not-a-jid`, { method: 'DELETE', headers: { Authorization: `Bearer ${info.adminToken}` } });
    expect([bad.status, ((await bad.json()) as { detail: string }).detail]).to.deep.equal([400, "'not-a-jid' is not a bare JID (NAME@DOMAIN)"]);
  });

  it('adds the agents a file lists, with their pools, and refuses a bad file with its line, adding nothing', async () => {
    const before = await listed();
    const bad = path.join(dataDir, 'bad.txt');
    await writeFile(bad, 'gpu-1 gpus\n# a comment\nbad name here\n');
    expect(await refusal(['add', '--from', bad])).to.deep.equal([2, `outpost: ${bad}:3: expected NAME[@DOMAIN] [POOL], got 'bad name here'`]);
    await writeFile(bad, 'gpu-1 gpus\ngpu-1\n');
    expect(await refusal(['add', '--from', bad])).to.deep.equal([2, `outpost: ${bad}:2: 'gpu-1' is listed twice`]);
    await writeFile(bad, 'gpu-1 gpus\ngpu-1@outpost.localhost\n');
    expect(await refusal(['add', '--from', bad])).to.deep.equal([2, `outpost: ${bad}:2: 'gpu-1@outpost.localhost' is listed twice`]);
    expect(await refusal(['add', 'edge', '--count', '0'])).to.deep.equal([2, "outpost: --count must be a whole number from 1 to 100000; got '0'"]);
    expect(await refusal(['add', 'edge', '--count', '2', '--from', bad])).to.deep.equal([2, 'outpost: give --count or --from, not both']);
    expect(await refusal(['list', '--count', '2'])).to.deep.equal([2, 'outpost: --count is only for agent add']);
    expect(await listed()).to.deep.equal(before);

    const good = path.join(dataDir, 'good.txt');
    await writeFile(good, 'gpu-1 gpus\ngpu-2 gpus\n\ncpu-1\nremote-1@example.org far\n');
    const { stdout } = await cli('add', '--from', good, '--credentials', path.join(dataDir, 'creds2'));
    expect(stdout).to.match(/^Created 3 agent accounts \(gpu-1 … cpu-1\)/).and.include('Recorded 1 agent account of your own XMPP server; create it there');
    const lines = await listed();
    for (const [jid, pool] of [['gpu-1@outpost.localhost', 'gpus'], ['gpu-2@outpost.localhost', 'gpus'], ['cpu-1@outpost.localhost', 'cpu-1'], ['remote-1@example.org', 'far']]) {
      expect(lines.find((line) => line.startsWith(`${jid}\t`))).to.match(new RegExp(`\\tpool ${pool}\\t`));
    }
  });

  it('creates and removes the embedded account when the agent is named with the embedded domain, as agent list prints it', async () => {
    const jid = 'solo@outpost.localhost';
    const { stdout } = await cli('add', jid);
    expect(stdout).to.match(/^Agent account solo@outpost\.localhost created in pool solo\. /);
    const home = path.join(dataDir, 'solo-home');
    await mkdir(home);
    const [, install, setup, runLine] = /^ {2}(.+)\n {2}(.+)\n {2}outpost-agent (.+)$/m.exec(stdout) ?? [];
    expect(install, stdout).to.match(/^npm install -g /);
    await run('/bin/sh', ['-c', setup!], { env: { PATH: process.env['PATH'], HOME: home } });
    const solo = spawnAgentCommand(`'${process.execPath}' '${path.join(repoRoot, 'bin', 'outpost-agent.js')}' ${runLine!}`, { PATH: process.env['PATH'], HOME: home });
    try {
      await eventually(async () => ((await onlineAgents()).includes(jid) ? true : undefined), 15_000, "solo's announce");
      expect((await cli('remove', jid)).stdout).to.equal(`Agent account ${jid} revoked; its messages are refused from now on.\n`);
      // Its XMPP account is deleted too, so the agent is disconnected and cannot log in again.
      await eventually(() => solo.child.exitCode ?? undefined, 15_000, `solo's exit (output: ${solo.output()})`);
      expect(solo.child.exitCode).to.equal(78);
    } finally {
      await solo.crash();
    }
  });
});
