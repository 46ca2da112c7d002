import { expect } from 'chai';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnAgentCommand, type AgentProcess } from '../helpers/agent-process.js';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';
import { finalJobs, runsOf, submitCounted, writeCountedEcho } from '../helpers/counted-runs.js';
import { commandLineOf, networkNamespaceOrSkip, type NetworkNamespace } from '../helpers/netns.js';
import { repoRoot } from '../helpers/paths.js';

/**
 * Orchestrator's pings every 0.5 s, two missed make an agent lost; then 6 s of grace, which leaves
 * room for TCP's retransmission backoff to notice a link that is back.
 */
const PING_INTERVAL_S = 0.5;
const GRACE_S = 6;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Injects: the network of an agent on another machine (a network namespace joined by a veth)
 * cut by setting its link down, once for less than the grace period and once for more.
 */
describe('faults: an agent’s network cut, for less and for more than the grace period', function () {
  this.timeout(60_000);
  let ns: NetworkNamespace | undefined;
  let cluster: Cluster | undefined;
  let servicesDir: string;
  let workDir: string;
  let runsFile: string;
  let agent: AgentProcess | undefined;
  let jid: string;

  before(async function () {
    ns = await networkNamespaceOrSkip(this);
    cluster = await startCluster({ prosodyHost: ns.hostAddress, agentGrace: GRACE_S, pingInterval: PING_INTERVAL_S });
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    workDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-work-'));
    runsFile = path.join(servicesDir, 'runs');
    await writeCountedEcho(servicesDir, runsFile);
    const account = await cluster.addAccount('remote');
    jid = `${account.jid}/agent`;
    const { prosody } = cluster.server;
    const flags = `--server xmpp://${ns.hostAddress}:${prosody.c2sPort} --jid ${jid} --services ${servicesDir} --work-dir ${workDir} --insecure --log-level info`;
    agent = spawnAgentCommand(`${ns.execPrefix} '${process.execPath}' '${path.join(repoRoot, 'bin', 'outpost-agent.js')}' ${flags}`, { PATH: process.env['PATH'], OUTPOST_AGENT_PASSWORD: account.password });
    await eventually(() => cluster!.orchestrator.registry.process('counted'), 20_000, 'counted offered by the agent in the namespace');
  });
  after(async function () {
    await ns?.setLink(true).catch(() => undefined);
    await agent?.crash();
    await cluster?.stop();
    await ns?.remove();
    if (servicesDir) await Promise.all([servicesDir, workDir].map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const status = async (id: string) => (await (await cluster!.api(`${cluster!.orchestrator.url}/jobs/${id}`)).json()) as { status: string; message?: string };
  /** The pids in the namespace running the job whose input is `echo`. */
  const runOf = async (echo: string) => (await ns!.pids()).filter((pid) => commandLineOf(pid).includes(`counted.sh ${echo} `));

  it('cut for 2 s, less than the grace: the agent is lost meanwhile, and its running job still completes', async function () {
    const { url } = cluster!.orchestrator;
    const id = await submitCounted(cluster!.api, url, 'short', 5);
    await eventually(async () => ((await status(id)).status === 'running' ? true : undefined), 10_000, 'running');

    await ns!.setLink(false);
    const lost = await eventually(async () => {
      const { message } = await status(id);
      return message?.startsWith(`agent ${jid} lost at `) ? message : undefined;
    }, 5000, 'agent lost');
    expect(lost).to.match(/the job fails at \S+Z unless it comes back$/);
    await sleep(2000);
    await ns!.setLink(true);

    const since = performance.now();
    const final = await eventually(async () => ((await status(id)).status === 'running' ? undefined : finalJobs(cluster!.api, url, [id])), 15_000, 'job ended');
    process.stdout.write(`      (the job ended ${((performance.now() - since) / 1000).toFixed(1)} s after the link came back)\n`);
    expect(final.get(id)).to.deep.equal({ status: 'successful', echo: 'short' });
    expect((await runsOf(runsFile)).get('short')).to.equal(1);
  });

  it('cut for 9 s, more than the grace: the job fails as agent-lost; once back, the agent is told to kill the run, whose result is never taken', async function () {
    const { url } = cluster!.orchestrator;
    await eventually(() => cluster!.orchestrator.registry.process('counted'), 10_000, 'the agent back in service');
    const id = await submitCounted(cluster!.api, url, 'long', 30);
    await eventually(async () => ((await status(id)).status === 'running' ? true : undefined), 10_000, 'running');
    await eventually(async () => ((await runOf('long')).length > 0 ? true : undefined), 5000, 'run started');

    await ns!.setLink(false);
    await sleep(9000);
    const lost = { status: 'failed', error: { code: 'agent-lost', message: `agent ${jid} was lost while running the job` } };
    expect(cluster!.orchestrator.jobStore.get(id)).to.deep.include(lost);
    // The agent has not noticed anything: its run goes on behind the cut.
    expect(await runOf('long')).to.not.be.empty;

    const back = performance.now();
    await ns!.setLink(true);
    await eventually(async () => ((await runOf('long')).length === 0 ? true : undefined), 10_000, 'run killed');
    process.stdout.write(`      (the orphaned run was killed ${((performance.now() - back) / 1000).toFixed(1)} s after the link came back)\n`);
    // Its `killed` event is acknowledged (nothing is left to resend) and changes nothing.
    await eventually(async () => ((await readdir(path.join(workDir, 'outbox')).catch(() => [])).length === 0 ? true : undefined), 5000, 'outbox empty');
    expect(cluster!.orchestrator.jobStore.get(id)).to.deep.include(lost);
    expect((await runsOf(runsFile)).get('long')).to.equal(1);

    // The agent is back in service.
    const after = await submitCounted(cluster!.api, url, 'after', 0);
    const final = await eventually(async () => ((await status(after)).status === 'successful' ? finalJobs(cluster!.api, url, [after]) : undefined), 15_000, 'a new job on the agent');
    expect(final.get(after)).to.deep.equal({ status: 'successful', echo: 'after' });
  });
});
