import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadServeConfig } from '../../src/config.js';
import { repoRoot } from '../helpers/paths.js';

const run = promisify(execFile);
const UNIT = path.join(repoRoot, 'packaging', 'outpost-orchestrator.service');

describe("packaging/outpost-orchestrator.service, the one machine's orchestrator unit (docs/deploy.md)", function () {
  this.timeout(20_000);

  it('is accepted by systemd-analyze verify', async function () {
    const { stderr } = await run('systemd-analyze', ['verify', '--man=no', UNIT]);
    expect(stderr).to.equal('');
  });

  it('runs outpost serve with flags it accepts, the component secret coming from its EnvironmentFile', async function () {
    const unit = await readFile(UNIT, 'utf8');
    const execStart = unit.split('\n').find((line) => line.startsWith('ExecStart='))!.slice('ExecStart='.length).split(' ');
    expect(execStart.slice(0, 3)).to.deep.equal(['/usr/bin/node', '/opt/outpost/bin/outpost.js', 'serve']);
    expect(unit).to.include('EnvironmentFile=/etc/outpost/orchestrator.env');
    const config = loadServeConfig(execStart.slice(3), { OUTPOST_COMPONENT_SECRET: 'from-the-environment-file' });
    expect(config).to.include({ xmppServer: 'xmpp://127.0.0.1:5347', componentSecret: 'from-the-environment-file', dataDir: '/var/lib/outpost' });
    expect(() => loadServeConfig(execStart.slice(3), {})).to.throw('--component-secret (or OUTPOST_COMPONENT_SECRET) is required');
  });
});
