import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process.js';
import { eventually } from '../helpers/cluster.js';
import { examplesDir } from '../helpers/examples.js';
import { startOrchestratorProcess, type OrchestratorProcess } from '../helpers/orchestrator-process.js';
import { repoRoot } from '../helpers/paths.js';
import { startTestProsody, type TestProsody } from '../helpers/prosody.js';

const run = promisify(execFile);
const outpost = path.join(repoRoot, 'bin', 'outpost.js');

describe('outpost serve against a running XMPP server, with a remote-style agent', function () {
  this.timeout(30_000);
  let server: TestProsody;
  let dataDir: string;
  let orchestrator: OrchestratorProcess | undefined;
  let agent: AgentProcess | undefined;

  before(async function () {
    server = await startTestProsody();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-serve-'));
  });
  after(async function () {
    await agent?.crash();
    await orchestrator?.crash();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses a missing setting with a one-line reason and exit code 2', async function () {
    const failure = await run(process.execPath, [outpost, 'serve', '--xmpp-server', 'xmpp://127.0.0.1:5347', '--component-jid', 'orchestrator.example.org'], { env: { PATH: process.env['PATH'] } }).catch((err: { code: number; stderr: string }) => err);
    expect(failure).to.include({ code: 2 });
    expect((failure as { stderr: string }).stderr.split('\n')[0]).to.equal('outpost: --component-secret (or OUTPOST_COMPONENT_SECRET) is required');
  });

  it('serves processes of an agent started with outpost-agent, runs a job, and stops on SIGTERM', async function () {
    const { prosody } = server;
    orchestrator = await startOrchestratorProcess(prosody, dataDir);
    const { url, output } = orchestrator;
    expect((await fetch(`${url}/readyz`)).status).to.equal(200);

    // An account that exists only on the XMPP server is not an agent: its presence is refused.
    const stranger = await server.addAccount('stranger');
    const strangerAgent = spawnAgent({ server: prosody.clientService, jid: `${stranger.jid}/agent`, password: stranger.password, services: examplesDir, workDir: path.join(dataDir, 'stranger') });
    const { jid, password } = await server.addAccount('remote');
    const { stdout: recorded } = await run(process.execPath, [outpost, 'agent', 'add', jid, '--pool', 'remotes', '--data-dir', dataDir]);
    expect(recorded).to.equal(`Agent account ${jid} recorded in pool remotes. Create the account on your XMPP server; Outpost accepts it as an agent from now on.\n`);
    agent = spawnAgent({ server: prosody.clientService, jid: `${jid}/agent`, password, services: examplesDir, workDir: path.join(dataDir, 'agent') });
    await eventually(async () => {
      const list = (await (await fetch(`${url}/processes`)).json()) as { processes: { id: string }[] };
      return list.processes.some((p) => p.id === 'echo') ? true : undefined;
    }, 10_000, 'echo offered');
    await eventually(() => (output().includes(`"from":"${stranger.jid}/agent"`) ? true : undefined), 10_000, 'stranger refused');
    const admin = (await run(process.execPath, [outpost, 'token', 'create', '--user', 'root', '--admin', '--data-dir', dataDir])).stdout.trim();
    const agents = (await (await fetch(`${url}/admin/agents`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { agents: { jid: string; pool: string }[] };
    expect(agents.agents.map((a) => [a.jid, a.pool])).to.deep.equal([[`${jid}/agent`, 'remotes']]);
    await strangerAgent.crash();

    const { stdout: token } = await run(process.execPath, [outpost, 'token', 'create', '--user', 'carol', '--data-dir', dataDir]);
    const response = await fetch(`${url}/processes/echo/execution`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token.trim()}` },
      body: JSON.stringify({ inputs: { echo: 'served' } }),
    });
    expect(response.status).to.equal(200);
    expect(await response.text()).to.equal('served');

    expect(await orchestrator.stop()).to.equal(0);
  });
});
