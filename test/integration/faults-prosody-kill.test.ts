import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';
import { expectEachEchoedOnce, finalJobs, runsOf, submitCounted, writeCountedEcho } from '../helpers/counted-runs.js';

const BURST = 60;

/** The pid of the Prosody whose command line names its folder `dir`. */
async function prosodyPid(dir: string): Promise<number> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(`${dir}/`) && cmdline.includes('prosody')) return Number(entry);
  }
  throw new Error(`no Prosody runs from ${dir}`);
}

/**
 * Injects: SIGKILL of the XMPP server in the middle of a burst of 60 short jobs on two agents,
 * and a start of it 300 ms later; the orchestrator and the agents reconnect by themselves.
 */
describe('faults: the XMPP server killed with SIGKILL during a burst', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let servicesDir: string;
  let runsFile: string;

  before(async function () {
    cluster = await startCluster({ agentGrace: 10 });
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    runsFile = path.join(servicesDir, 'runs');
    await writeCountedEcho(servicesDir, runsFile);
    await Promise.all([cluster.addAgent('left', servicesDir, { slots: 4 }), cluster.addAgent('right', servicesDir, { slots: 4 })]);
  });
  after(async function () {
    await cluster.stop();
    await rm(servicesDir, { recursive: true, force: true });
  });

  it('ends every job of the burst successful, each run once', async function () {
    const { orchestrator, api } = cluster;
    const { prosody } = cluster.server;
    const pid = await prosodyPid(prosody.options.dir);
    const inputs = new Map<string, string>();
    await Promise.all(Array.from({ length: BURST }, async (_, n) => inputs.set(await submitCounted(api, orchestrator.url, `burst-${n}`, 0.1), `burst-${n}`)));
    await eventually(async () => ((await runsOf(runsFile)).size >= 12 ? true : undefined), 10_000, 'a fifth of the burst run');

    process.kill(pid, 'SIGKILL');
    const killedAfter = (await runsOf(runsFile)).size;
    await prosody.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const since = performance.now();
    await prosody.start();

    const jobs = await eventually(async () => {
      const final = await finalJobs(api, orchestrator.url, inputs.keys());
      return [...final.values()].every((job) => job.status !== 'accepted' && job.status !== 'running') ? final : undefined;
    }, 40_000, 'every job of the burst finished');
    process.stdout.write(`      (${killedAfter} of ${BURST} runs had started at the kill; all finished ${((performance.now() - since) / 1000).toFixed(1)} s after Prosody's start)\n`);
    expect(killedAfter).to.be.below(BURST);
    await expectEachEchoedOnce(jobs, inputs, runsFile);
  });
});
