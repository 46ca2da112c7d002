import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { systemdUnit } from '../../agent/systemd-unit.js';
import { repoRoot } from '../helpers/paths.js';

const run = promisify(execFile);
const agentBin = path.join(repoRoot, 'bin', 'outpost-agent.js');
const REQUIRED = ['--server', 'xmpp://outpost.example.org:5222', '--jid', 'gpu1@outpost.example.org'];

/** `outpost-agent --print-systemd-unit …` run as an operator runs it, with only PATH and `env` set. */
const printUnit = (args: string[], env: NodeJS.ProcessEnv = {}, cwd = repoRoot) =>
  run(process.execPath, [agentBin, '--print-systemd-unit', ...args], { cwd, env: { PATH: process.env['PATH'], ...env } });

const directive = (unit: string, name: string) => unit.split('\n').filter((line) => line.startsWith(`${name}=`)).map((line) => line.slice(name.length + 1));

describe('outpost-agent --print-systemd-unit', function () {
  let dir: string;

  beforeEach(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-unit-'));
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the unit filled in from the flags given, the password left to its EnvironmentFile', async function () {
    const { stdout, stderr } = await printUnit([...REQUIRED, '--services', 'services.d', '--slots', '3', '--password', 'hunter2-flag'], { OUTPOST_AGENT_PASSWORD: 'hunter2-env' }, dir);
    expect(stderr).to.equal('');
    expect(directive(stdout, 'ExecStart')).to.deep.equal([
      `${process.execPath} ${agentBin} --server xmpp://outpost.example.org:5222 --jid gpu1@outpost.example.org --services ${path.join(dir, 'services.d')} --slots 3 --work-dir /var/lib/outpost-agent`,
    ]);
    expect(stdout).to.not.include('hunter2');
    expect(directive(stdout, 'EnvironmentFile')).to.deep.equal(['/etc/outpost-agent/agent.env']);
    expect(directive(stdout, 'StateDirectory')).to.deep.equal(['outpost-agent']);
    expect(directive(stdout, 'ReadWritePaths')).to.deep.equal([]);
    expect(directive(stdout, 'User')).to.deep.equal(['outpost-agent']);
    expect(directive(stdout, 'Restart')).to.deep.equal(['on-failure']);
    expect(directive(stdout, 'RestartPreventExitStatus')).to.deep.equal(['78']);
    expect(directive(stdout, 'KillMode')).to.deep.equal(['mixed']);
  });

  it('takes settings from OUTPOST_AGENT_* too, and lets a work dir outside /var/lib be written', async function () {
    const { stdout } = await printUnit(['--work-dir', '/srv/outpost work'], { OUTPOST_AGENT_SERVER: 'xmpp://10.0.0.5:5222', OUTPOST_AGENT_JID: 'cpu@lab', OUTPOST_AGENT_SERVICES: '/opt/services' });
    expect(directive(stdout, 'ExecStart')[0]).to.match(/ --server xmpp:\/\/10\.0\.0\.5:5222 --jid cpu@lab --services \/opt\/services --work-dir "\/srv\/outpost work"$/);
    expect(directive(stdout, 'ReadWritePaths')).to.deep.equal(['"/srv/outpost work"']);
  });

  it('refuses a missing --server with one line and exit code 78, printing no unit', async function () {
    const failure = await printUnit(['--jid', 'gpu1@outpost.example.org', '--services', '/opt/services']).catch((err: { code: number; stdout: string; stderr: string }) => err);
    expect(failure).to.include({ code: 78, stdout: '' });
    expect((failure as { stderr: string }).stderr.split('\n')[0]).to.equal('outpost-agent: --server must look like xmpp://host:5222 (got undefined)');
  });

  it('prints a unit that systemd-analyze verify accepts', async function () {
    const { stdout } = await printUnit([...REQUIRED, '--services', '/opt/services']);
    const file = path.join(dir, 'outpost-agent.service');
    await writeFile(file, stdout);
    const { stderr } = await run('systemd-analyze', ['verify', '--man=no', file]);
    expect(stderr).to.equal('');
  });

  it('ships packaging/outpost-agent.service as the unit of an example agent installed with npm install -g', async function () {
    const shipped = await readFile(path.join(repoRoot, 'packaging', 'outpost-agent.service'), 'utf8');
    expect(shipped).to.equal(systemdUnit({
      command: ['/usr/bin/node', '/usr/lib/node_modules/outpost-agent/bin/outpost-agent.js'],
      flags: ['--server', 'xmpp://outpost.example.org:5222', '--jid', 'gpu1@outpost.example.org', '--services', '/etc/outpost-agent/services.d', '--work-dir', '/var/lib/outpost-agent'],
      workDir: '/var/lib/outpost-agent',
      stopGraceSeconds: 30,
    }));
  });

  it('gives systemd time for the agent\'s own stop grace', function () {
    const unit = systemdUnit({ command: ['/usr/bin/node', '/a.js'], flags: ['--stop-grace', '60'], workDir: '/var/lib/outpost-agent', stopGraceSeconds: 60 });
    expect(unit).to.include('waits up to 60 s for its runs');
    expect(unit).to.include('\nTimeoutStopSec=75\n');
  });
});
