import { expect } from 'chai';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process.js';
import { eventually } from '../helpers/cluster.js';
import { examplesDir } from '../helpers/examples.js';
import { startTestProsody, type TestProsody } from '../helpers/prosody.js';

/** `outpost-agent` as a daemon: what it does when the server is away or refuses it. */
describe('outpost-agent as a daemon', function () {
  this.timeout(30_000);
  let server: TestProsody;
  let workDir: string;
  let agent: AgentProcess | undefined;

  before(async function () {
    server = await startTestProsody();
    workDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-daemon-'));
  });
  afterEach(async function () {
    await agent?.crash();
    agent = undefined;
  });
  after(async function () {
    await server.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  const start = (jid: string, password: string) =>
    (agent = spawnAgent({ server: server.prosody.clientService, jid, password, services: examplesDir, workDir: path.join(workDir, jid), logLevel: 'info' }));

  it('ends a refused login with one line and exit code 78 (EX_CONFIG)', async function () {
    const { jid } = await server.addAccount('wrongpass');
    const child = start(jid, 'not-the-password');
    const [code] = await once(child.child, 'exit');
    expect(code).to.equal(78);
    expect(child.output().split('\n').filter((line) => !line.startsWith('{'))).to.deep.equal([`outpost-agent: ${jid}: the server refused the login: not-authorized (check the password and that the account exists)`, '']);
    expect(child.output()).to.not.match(/SASLError|<failure|\n\s+at /);
  });

  it('ends with one line and exit code 78 when its services folder or password file is missing', async function () {
    const { jid } = await server.addAccount('misconfigured');
    const missing = path.join(workDir, 'missing');
    for (const [extraArgs, line] of [
      [['--services', missing], `outpost-agent: services folder '${missing}' does not exist`],
      [['--password-file', missing], `outpost-agent: --password-file ${missing}: no such file`],
    ] as const) {
      const child = spawnAgent({ server: server.prosody.clientService, jid, password: 'unused', services: examplesDir, workDir: path.join(workDir, jid), extraArgs: [...extraArgs] });
      const [code] = await once(child.child, 'exit');
      expect([code, child.output().split('\n')[0]]).to.deep.equal([78, line]);
      expect(child.output()).to.not.match(/\n\s+at /);
    }
  });

  it('keeps trying while the server is down at start, saying when the next attempt comes, and connects once it is up', async function () {
    const { jid, password } = await server.addAccount('patient');
    await server.prosody.stop();
    const child = start(jid, password);
    await eventually(() => ((child.output().match(/cannot reach the server; next attempt in \d+\.\d s/g) ?? []).length >= 2 ? true : undefined), 10_000, 'two retries logged');
    expect(child.child.exitCode).to.equal(null);
    await server.prosody.start();
    await eventually(() => (/"msg":"xmpp client online"/.test(child.output()) ? true : undefined), 15_000, `online (output: ${child.output()})`);
    expect(child.child.exitCode).to.equal(null);
  });
});
