import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { spawnAgentCommand, type AgentProcess } from '../helpers/agent-process.js';
import { eventually } from '../helpers/cluster.js';
import { repoRoot } from '../helpers/paths.js';
import { killProcessesMentioning } from '../helpers/process-tree.js';

const run = promisify(execFile);
const outpost = path.join(repoRoot, 'bin', 'outpost.js');

/** GET `url` trusting `ca` only. */
function getJson(url: string, ca: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
      })
      .once('error', reject);
  });
}

describe('outpost dev with TLS: its own certificate, HTTPS, and an agent installed from the printed lines', function () {
  this.timeout(60_000);
  let dataDir: string;
  let child: ChildProcess | undefined;
  let second: AgentProcess | undefined;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-dev-tls-'));
  });
  afterEach(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await second?.crash();
    await killProcessesMentioning(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  });

  async function startDev(): Promise<{ url: string; fingerprint: string }> {
    await rm(path.join(dataDir, 'dev.json'), { force: true });
    child = spawn(process.execPath, [outpost, 'dev', '--https', 'true', '--http-port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { cwd: repoRoot, stdio: 'ignore' });
    await eventually(() => (existsSync(path.join(dataDir, 'dev.json')) ? true : undefined), 15_000, 'dev.json');
    const info = JSON.parse(await readFile(path.join(dataDir, 'dev.json'), 'utf8')) as { url: string; xmpp: { fingerprint: string } };
    return { url: info.url, fingerprint: info.xmpp.fingerprint };
  }
  async function stopDev(): Promise<void> {
    child!.kill('SIGINT');
    await once(child!, 'exit');
  }

  it('keeps its certificate across restarts, serves HTTPS with it, and agent add prints lines that install and pin it', async function () {
    const first = await startDev();
    await stopDev();
    const { url, fingerprint } = await startDev();
    expect(fingerprint).to.equal(first.fingerprint);
    expect(url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    const certificate = await readFile(path.join(dataDir, 'tls', 'cert.pem'), 'utf8');
    expect(((await getJson(`${url}/processes`, certificate))['processes'] as { id: string }[]).map((p) => p.id)).to.include('echo');

    const printed = (await run(process.execPath, [outpost, 'agent', 'add', 'second', '--data-dir', dataDir])).stdout;
    const [install, setup, start] = /^ {2}(mkdir -p ~\/outpost && printf .+)\n {2}(mkdir .+)\n {2}outpost-agent (.+)\n\n/m.exec(printed)?.slice(1) ?? [];
    expect(start, printed).to.be.a('string');
    expect(install).to.match(new RegExp(`&& npm install -g --cafile ~/outpost/server\\.pem ${url.replace(/\./g, '\\.')}/agent/outpost-agent\\.tgz$`));
    expect(start).to.match(new RegExp(` --server-fingerprint ${fingerprint}$`));

    const home = path.join(dataDir, 'second-home');
    await mkdir(home);
    const prefix = path.join(home, 'prefix');
    const env = { PATH: process.env['PATH'], HOME: home, npm_config_prefix: prefix, npm_config_cache: path.join(home, 'npm-cache') };
    await run('/bin/sh', ['-c', `${install!} --no-audit --no-fund && ${setup!}`], { env });
    expect(await readFile(path.join(home, 'outpost', 'server.pem'), 'utf8')).to.equal(certificate);
    await writeFile(path.join(home, 'outpost', 'services.d', 'hello.properties'), 'service = hello\nexecutable = /bin/echo\n');
    second = spawnAgentCommand(`'${path.join(prefix, 'bin', 'outpost-agent')}' ${start}`, env);
    await eventually(async () => {
      const ids = ((await getJson(`${url}/processes`, certificate))['processes'] as { id: string }[]).map((p) => p.id);
      return ids.includes('hello') ? true : undefined;
    }, 15_000, `the installed agent's process (agent output: ${second.output()})`);
    await stopDev();
  });
});
