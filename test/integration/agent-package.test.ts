import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { spawnAgentCommand, type AgentProcess } from '../helpers/agent-process.js';
import { postExecute } from '../helpers/api.js';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';
import { writeProperties, writeScript } from '../helpers/temp-services.js';

const run = promisify(execFile);

/** Every path under `dir`, relative to it. */
const allFiles = async (dir: string) => readdir(dir, { recursive: true, encoding: 'utf8' });

describe('the agent package, installed from the orchestrator on a machine with no registry', function () {
  this.timeout(90_000);
  let cluster: Cluster;
  let machine: string;
  let agent: AgentProcess | undefined;

  beforeEach(async () => {
    cluster = await startCluster();
    machine = await mkdtemp(path.join(os.tmpdir(), 'outpost-remote-machine-'));
  });
  afterEach(async () => {
    await agent?.crash();
    await cluster.stop();
    await rm(machine, { recursive: true, force: true });
  });

  it('downloads over HTTP, installs offline as one bundled file with nothing compiled, starts runs with its launcher and runs jobs', async () => {
    const response = await fetch(`${cluster.orchestrator.url}/agent/outpost-agent.tgz`);
    expect([response.status, response.headers.get('content-type')]).to.deep.equal([200, 'application/gzip']);
    const tarball = path.join(machine, 'outpost-agent.tgz');
    await writeFile(tarball, Buffer.from(await response.arrayBuffer()));

    // An empty cache and --offline: any dependency npm had to fetch would fail the install (ENOTCACHED).
    const prefix = path.join(machine, 'prefix');
    await run('npm', ['install', '-g', '--prefix', prefix, '--offline', '--cache', path.join(machine, 'npm-cache'), '--no-audit', '--no-fund', tarball]);
    const installed = await allFiles(prefix);
    expect(installed).to.include(path.join('bin', 'outpost-agent'));
    expect(installed.filter((file) => file.split(path.sep).includes('better-sqlite3') || file.endsWith('.node'))).to.deep.equal([]);
    expect(installed.filter((file) => file.endsWith('.map') || file.split(path.sep).includes('test'))).to.deep.equal([]);
    // One bundled file in place of the compiled rooms and their dependencies (docs/decisions.md, Performance).
    const packageDir = path.join(prefix, 'lib', 'node_modules', 'outpost-agent');
    expect((await allFiles(packageDir)).sort()).to.deep.equal(
      ['THIRD-PARTY-LICENSES', 'bin', path.join('bin', 'outpost-agent.js'), 'outpost-agent.mjs', 'package.json', 'prebuilt', path.join('prebuilt', 'linux-x64'), path.join('prebuilt', 'linux-x64', 'outpost-launcher')].sort(),
    );
    const licenses = await readFile(path.join(packageDir, 'THIRD-PARTY-LICENSES'), 'utf8');
    expect(licenses.match(/^(@xmpp\/client|ajv|pino)@(?=\d)/gm)).to.have.members(['@xmpp/client@', 'ajv@', 'pino@']);

    const { jid, password } = await cluster.addAccount('remote');
    const home = path.join(machine, 'home');
    const servicesDir = path.join(home, 'outpost', 'services.d');
    await mkdir(servicesDir, { recursive: true });
    await writeFile(path.join(home, 'outpost', 'remote.password'), `${password}\n`, { mode: 0o600 });
    await writeFile(path.join(servicesDir, 'greet.properties'), 'service = greet\nexecutable = /bin/echo\ncustomargs = installed agent\n');
    // A folder output is zipped by a package the bundle loads only when it is needed.
    await writeScript(servicesDir, 'bin/shapefile.sh', 'mkdir out && echo shp > out/roads.shp');
    await writeProperties(servicesDir, 'shapefile.properties', { service: 'shapefile', executable: 'bin/shapefile.sh', outputs: '{"roads": {"type": "file", "from": "dir:out/"}}' });
    const { prosody } = cluster.server;
    agent = spawnAgentCommand(
      `'${path.join(prefix, 'bin', 'outpost-agent')}' --server ${prosody.clientService} --jid ${jid} --orchestrator ${prosody.componentDomain} ` +
        '--password-file ~/outpost/remote.password --services ~/outpost/services.d',
      { PATH: process.env['PATH'], HOME: home },
    );
    await eventually(async () => {
      const ids = ((await (await cluster.api(`${cluster.orchestrator.url}/processes`)).json()) as { processes: { id: string }[] }).processes.map((p) => p.id);
      return ids.includes('greet') && ids.includes('shapefile') ? true : undefined;
    }, 15_000, `the installed agent's process (agent output: ${agent.output()})`);

    const executed = await cluster.api(`${cluster.orchestrator.url}/processes/greet/execution`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect([executed.status, await executed.text()]).to.deep.equal([200, 'installed agent']);
    const zipped = await postExecute(cluster.api, cluster.orchestrator.url, 'shapefile', { response: 'raw', outputs: { roads: { transmissionMode: 'value' } } });
    expect([zipped.status, zipped.headers.get('content-type')]).to.deep.equal([200, 'application/zip']);
    const archive = path.join(machine, 'roads.zip');
    await writeFile(archive, Buffer.from(await zipped.arrayBuffer()));
    expect((await run('unzip', ['-p', archive, 'roads.shp'])).stdout).to.equal('shp\n');
    // The launcher found inside the installed package, not Node's spawn.
    const spawnLines = agent.output().split('\n').filter((line) => line.includes('"runs are started"'));
    expect(spawnLines.map((line) => (JSON.parse(line) as { spawn: string }).spawn)).to.deep.equal(['launcher']);
  });
});
