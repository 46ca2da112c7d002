import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { eventually } from '../helpers/cluster.js';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process.js';

const run = promisify(execFile);

/** Pids of processes whose command line mentions `text`. */
async function processesMentioning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) pids.push(Number(entry));
  }
  return pids;
}

describe('outpost dev (what npm start runs)', function () {
  this.timeout(30_000);
  let dataDir: string;
  let child: ChildProcess | undefined;
  let second: AgentProcess | undefined;

  beforeEach(async function () {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-dev-'));
  });
  afterEach(async function () {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await second?.crash();
    // A dev process killed mid-test leaves its Prosody; the next start would reap it, this test does now.
    for (const pid of await processesMentioning(dataDir)) process.kill(pid, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('reaches ready with dev.json, serves the examples, adds a second agent, and leaves nothing behind on Ctrl-C', async function () {
    child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'outpost.js'), 'dev', '--http-port', '0', '--data-dir', dataDir, '--log-level', 'warn'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const devFile = path.join(dataDir, 'dev.json');
    await eventually(() => (existsSync(devFile) ? true : undefined), 15_000, `dev.json (output so far: ${output})`);
    expect((await stat(devFile)).mode & 0o777).to.equal(0o600);
    const info = JSON.parse(await readFile(devFile, 'utf8')) as { url: string; adminToken: string; userToken: string; xmpp: { host: string; port: number; domain: string } };
    expect(info.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info.xmpp).to.include({ host: '127.0.0.1', domain: 'outpost.localhost' });
    expect(output).to.include(`Outpost is ready at ${info.url}`);
    expect(output).to.include(`admin token: ${info.adminToken}\n`).and.include(`user token:  ${info.userToken}\n`);
    const asAdmin = await fetch(`${info.url}/admin/users/admin`, { headers: { Authorization: `Bearer ${info.adminToken}` } });
    expect(await asAdmin.json()).to.include({ name: 'admin', role: 'admin' });
    expect((await fetch(`${info.url}/admin/users`, { headers: { Authorization: `Bearer ${info.userToken}` } })).status).to.equal(403);

    const list = (await (await fetch(`${info.url}/processes`)).json()) as { processes: { id: string }[] };
    expect(list.processes.map((p) => p.id)).to.include.members(['echo', 'noop', 'slow', 'fail']);
    const echoed = await fetch(`${info.url}/processes/echo/execution`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', Authorization: `Bearer ${info.userToken}` },
      body: JSON.stringify({ inputs: { echo: 'from a fresh start' } }),
    });
    expect(await echoed.text()).to.equal('from a fresh start');

    // `outpost agent add` prints the command that starts a second agent elsewhere; run exactly that.
    const printed = await run(process.execPath, [path.join(repoRoot, 'bin', 'outpost.js'), 'agent', 'add', 'second', '--data-dir', dataDir]);
    const command = /OUTPOST_AGENT_PASSWORD='([^']+)' node bin\/outpost-agent\.js --server (\S+) --jid (\S+) --services/.exec(printed.stdout);
    expect(command, printed.stdout).to.not.equal(null);
    const services = path.join(dataDir, 'second-services');
    await mkdir(services);
    await writeFile(path.join(services, 'hello.properties'), 'service = hello\nexecutable = /bin/echo\n');
    second = spawnAgent({ server: command![2]!, jid: command![3]!, password: command![1]!, services, workDir: path.join(dataDir, 'second-work') });
    await eventually(async () => {
      const ids = ((await (await fetch(`${info.url}/processes`)).json()) as { processes: { id: string }[] }).processes.map((p) => p.id);
      return ids.includes('hello') ? true : undefined;
    }, 10_000, 'the second agent\'s process');
    await second.crash();
    const cli = (...args: string[]) => run(process.execPath, [path.join(repoRoot, 'bin', 'outpost.js'), 'agent', ...args, '--data-dir', dataDir]);
    expect((await cli('remove', 'second')).stdout).to.equal('Agent account second@outpost.localhost revoked; its messages are refused from now on.\n');
    expect((await cli('list')).stdout).to.match(/^local@outpost\.localhost\tpool local\tcreated \S+\nsecond@outpost\.localhost\tpool second\tcreated \S+\trevoked \S+\n$/);
    const again = await cli('remove', 'second').catch((err: { code: number; stderr: string }) => err);
    expect(again).to.include({ code: 2 });
    expect((again as { stderr: string }).stderr.split('\n')[0]).to.equal(`outpost: no agent account second@outpost.localhost in ${dataDir}`);
    // Besides the dev process itself, the private Prosody (its config lives in the data dir).
    expect((await processesMentioning(dataDir)).filter((pid) => pid !== child!.pid)).to.have.length(1);

    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).to.equal(0);
    expect(existsSync(devFile)).to.equal(false);
    expect(await processesMentioning(dataDir)).to.deep.equal([]);
  });
});
