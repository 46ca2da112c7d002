import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import os from 'node:os';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { killProcessesMentioning, processesMentioning } from '../helpers/process-tree.js';
import { eventually } from '../helpers/cluster.js';
import { spawnAgentCommand, type AgentProcess } from '../helpers/agent-process.js';
import { openDatabase } from '../../src/store/database.js';
import { JobStore } from '../../src/store/job-store.js';

const run = promisify(execFile);

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
    await killProcessesMentioning(dataDir);
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

    // `outpost agent add` prints the lines that install and start a second agent elsewhere; run exactly
    // those, in a home of its own, with this repository's agent standing in for the installed one.
    const printed = await run(process.execPath, [path.join(repoRoot, 'bin', 'outpost.js'), 'agent', 'add', 'second', '--data-dir', dataDir]);
    const [install, setup, start] = /^ {2}npm install -g (\S+)\n {2}(mkdir .+)\n {2}outpost-agent (.+)\n\n/m.exec(printed.stdout)?.slice(1) ?? [];
    expect(start, printed.stdout).to.be.a('string');
    expect(install).to.equal(`${info.url}/agent/outpost-agent.tgz`);
    const tarball = await fetch(install!, { method: 'HEAD' });
    expect([tarball.status, tarball.headers.get('content-type')]).to.deep.equal([200, 'application/gzip']);
    expect(start).to.match(/^--server xmpp:\/\/127\.0\.0\.1:\d+ --jid second@outpost\.localhost --password-file ~\/outpost\/second\.password --services ~\/outpost\/services\.d --server-fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const home = path.join(dataDir, 'second-home');
    await mkdir(home);
    const env = { PATH: process.env['PATH'], HOME: home };
    await run('/bin/sh', ['-c', setup!], { env });
    expect((await stat(path.join(home, 'outpost', 'second.password'))).mode & 0o777).to.equal(0o600);
    await writeFile(path.join(home, 'outpost', 'services.d', 'hello.properties'), 'service = hello\nexecutable = /bin/echo\n');
    second = spawnAgentCommand(`'${process.execPath}' '${path.join(repoRoot, 'bin', 'outpost-agent.js')}' ${start}`, env);
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

  it('lets a job finish during the grace after a terminal Ctrl-C, records it, and stops Prosody last', async function () {
    // A terminal sends SIGINT to the whole foreground process group, children included.
    child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'outpost.js'), 'dev', '--http-port', '0', '--data-dir', dataDir, '--log-level', 'warn'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const devFile = path.join(dataDir, 'dev.json');
    await eventually(() => (existsSync(devFile) ? true : undefined), 15_000, 'dev.json');
    const info = JSON.parse(await readFile(devFile, 'utf8')) as { url: string; userToken: string };
    const submitted = await fetch(`${info.url}/processes/slow/execution`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', Authorization: `Bearer ${info.userToken}`, Prefer: 'respond-async' },
      body: JSON.stringify({ inputs: { steps: 4, interval: 0.3 } }),
    });
    const { jobID } = (await submitted.json()) as { jobID: string };
    await eventually(async () => {
      const status = (await (await fetch(`${info.url}/jobs/${jobID}`, { headers: { Authorization: `Bearer ${info.userToken}` } })).json()) as { progress?: number };
      // Past its first step: a signal sent while a child is being forked, before it has a process
      // group of its own, would reach it too.
      return (status.progress ?? 0) > 0 ? true : undefined;
    }, 5000, 'job past its first step');
    const interrupted = new Date();
    process.kill(-child.pid!, 'SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).to.equal(0);
    const db = openDatabase(path.join(dataDir, 'outpost.db'));
    try {
      const job = new JobStore(db).get(jobID)!;
      expect(job.status, JSON.stringify(job.error)).to.equal('successful');
      expect(new Date(job.finished!).getTime()).to.be.above(interrupted.getTime());
    } finally {
      db.close();
    }
    expect(await processesMentioning(dataDir)).to.deep.equal([]);
  });

  it('lets its local agent fetch file inputs from the addresses --fetch-allow lists, such as a server on this machine', async function () {
    const services = path.join(dataDir, 'services.d');
    await mkdir(services);
    await writeFile(
      path.join(services, 'cat.properties'),
      'service = cat\nexecutable = /bin/cat\nargformat = positional\ninputs = { "text": { "type": "file", "mediaTypes": ["text/plain"] } }\noutputs = { "text": { "type": "string", "from": "stdout" } }\n',
    );
    const files = http.createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end('from this machine\n'));
    files.listen(0, '127.0.0.1');
    await once(files, 'listening');
    try {
      const href = `http://127.0.0.1:${(files.address() as net.AddressInfo).port}/note.txt`;
      child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'outpost.js'), 'dev', '--http-port', '0', '--data-dir', dataDir, '--services', services, '--fetch-allow', '127.0.0.1', '--log-level', 'warn'], {
        cwd: repoRoot,
        stdio: 'ignore',
      });
      const devFile = path.join(dataDir, 'dev.json');
      await eventually(() => (existsSync(devFile) ? true : undefined), 15_000, 'dev.json');
      const info = JSON.parse(await readFile(devFile, 'utf8')) as { url: string; userToken: string };
      const answer = await fetch(`${info.url}/processes/cat/execution`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', Authorization: `Bearer ${info.userToken}` },
        body: JSON.stringify({ inputs: { text: { href } } }),
      });
      expect([answer.status, await answer.text()]).to.deep.equal([200, 'from this machine']);
    } finally {
      files.close();
    }
  });

  it('refuses agent add without a URL to download the agent from, or with a bad one, and creates no account', async function () {
    await mkdir(path.join(dataDir, 'prosody'));
    await writeFile(path.join(dataDir, 'prosody', 'ports.json'), JSON.stringify({ c2s: 5222 }));
    const cli = (...args: string[]) => run(process.execPath, [path.join(repoRoot, 'bin', 'outpost.js'), 'agent', ...args, '--data-dir', dataDir]);
    const failure = (args: string[]) => cli(...args).then(
      () => 'succeeded',
      (err: { code: number; stderr: string }) => `${err.code} ${err.stderr.split('\n')[0]}`,
    );
    expect(await failure(['add', 'third'])).to.equal(
      `2 outpost: no running \`outpost dev\` in ${dataDir} to take the orchestrator's URL from: start it, or give --public-url URL`,
    );
    expect(await failure(['add', 'third', '--public-url', 'ftp://outpost.example.org'])).to.equal(
      "2 outpost: --public-url (or OUTPOST_PUBLIC_URL): must be an http:// or https:// URL without query or fragment, e.g. https://outpost.example.org; got 'ftp://outpost.example.org'",
    );
    expect((await cli('list')).stdout).to.equal('');
  });

  it('keeps the component port on loopback while agents use --host, and agent add prints that address', async function () {
    const devArgs = ['dev', '--host', '127.0.0.2', '--http-port', '0', '--public-url', 'https://dev.example.org', '--data-dir', dataDir, '--log-level', 'warn'];
    child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'outpost.js'), ...devArgs], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await eventually(() => (existsSync(path.join(dataDir, 'dev.json')) ? true : undefined), 15_000, 'dev.json');
    const ports = JSON.parse(await readFile(path.join(dataDir, 'prosody', 'ports.json'), 'utf8')) as { c2s: number; component: number };
    const reachable = (host: string, port: number) =>
      new Promise<boolean>((resolve) => {
        const socket = net.connect(port, host, () => resolve(true));
        socket.on('error', () => resolve(false));
        socket.on('connect', () => socket.destroy());
      });
    expect(await reachable('127.0.0.2', ports.c2s)).to.equal(true);
    expect(await reachable('127.0.0.1', ports.component)).to.equal(true);
    expect(await reachable('127.0.0.2', ports.component)).to.equal(false);
    const printed = await run(process.execPath, [path.join(repoRoot, 'bin', 'outpost.js'), 'agent', 'add', 'remote', '--data-dir', dataDir], {
      env: { ...process.env, OUTPOST_PUBLIC_URL: 'https://outpost.example.org/base/' },
    });
    expect(printed.stdout).to.include(`--server xmpp://127.0.0.2:${ports.c2s} --jid remote@outpost.localhost`);
    expect(printed.stdout).to.include('\n  npm install -g https://outpost.example.org/base/agent/outpost-agent.tgz\n');
    expect(printed.stdout).to.include('\nThe embedded Prosody listens on 127.0.0.2 only; start `npm start -- --host ADDRESS` to reach it from other machines.\n');
    // Without a URL of its own, agent add takes the one `outpost dev --public-url` was given.
    const { OUTPOST_PUBLIC_URL: _unset, ...env } = process.env;
    const fromDev = await run(process.execPath, [path.join(repoRoot, 'bin', 'outpost.js'), 'agent', 'add', 'other', '--data-dir', dataDir], { env });
    expect(fromDev.stdout).to.include('\n  npm install -g https://dev.example.org/agent/outpost-agent.tgz\n');
    child.kill('SIGINT');
    await once(child, 'exit');
  });
});
