import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { eventually } from '../helpers/cluster.js';

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

  beforeEach(async function () {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-dev-'));
  });
  afterEach(async function () {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('reaches ready with dev.json, serves the example processes, and leaves nothing behind on Ctrl-C', async function () {
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
    const info = JSON.parse(await readFile(devFile, 'utf8')) as { url: string; xmpp: { host: string; port: number; domain: string } };
    expect(info.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info.xmpp).to.include({ host: '127.0.0.1', domain: 'outpost.localhost' });
    expect(output).to.include(`Outpost is ready at ${info.url}`);

    const list = (await (await fetch(`${info.url}/processes`)).json()) as { processes: { id: string }[] };
    expect(list.processes.map((p) => p.id)).to.include.members(['echo', 'noop', 'slow', 'fail']);
    const echoed = await fetch(`${info.url}/processes/echo/execution`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { echo: 'from a fresh start' } }),
    });
    expect(await echoed.text()).to.equal('from a fresh start');
    // Besides the dev process itself, the private Prosody (its config lives in the data dir).
    expect((await processesMentioning(dataDir)).filter((pid) => pid !== child!.pid)).to.have.length(1);

    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).to.equal(0);
    expect(existsSync(devFile)).to.equal(false);
    expect(await processesMentioning(dataDir)).to.deep.equal([]);
  });
});
