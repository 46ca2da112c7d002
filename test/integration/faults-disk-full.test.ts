import BetterSqlite3 from 'better-sqlite3';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process.js';
import { eventually, startCluster, TEST_POOL, type Cluster } from '../helpers/cluster.js';
import { TEST_USER } from '../helpers/api.js';
import { capturingLogger } from '../helpers/logger.js';
import { writeProperties, writeScript } from '../helpers/temp-services.js';
import { expectEachEchoedOnce, finalJobs, holdRuns, runsOf, submitCounted, writeCountedEcho } from '../helpers/counted-runs.js';

const run = promisify(execFile);
const FILE_SIZE = 4 * 1024 * 1024;
/** Short, so that a lost agent's grace ends while the disk is full. */
const GRACE_S = 1;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const DISK_FULL = "the server's disk is full, so it cannot store anything now; nothing was changed, retry later";

/** Writes zeros into `file` until the file system has no byte left. */
async function fillDisk(file: string): Promise<void> {
  const handle = await open(file, 'w');
  try {
    for (let chunk = 1024 * 1024; chunk >= 512; ) {
      await handle.write(Buffer.alloc(chunk)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOSPC') throw err;
        chunk /= 2;
      });
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Injects: the orchestrator's data directory (a 16 MiB tmpfs) filled to its last byte, then the
 * space freed again: once while an agent uploads an output file, once while one job runs and one waits.
 */
describe('faults: the orchestrator’s disk fills up, then space returns', function () {
  this.timeout(30_000);
  let mount = '';
  let cluster: Cluster | undefined;
  let servicesDir: string;
  let runsFile: string;
  const { logger, lines } = capturingLogger();
  const crashable: AgentProcess[] = [];

  before(async function () {
    if (process.getuid?.() !== 0) {
      process.stdout.write('      (skipped: mounting a small tmpfs for the data directory needs root)\n');
      this.skip();
    }
    mount = await mkdtemp(path.join(os.tmpdir(), 'outpost-small-disk-'));
    await run('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'outpost-test', mount]);
    cluster = await startCluster({ dataDir: path.join(mount, 'data'), agentGrace: GRACE_S, logger });
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    runsFile = path.join(servicesDir, 'runs');
    await writeCountedEcho(servicesDir, runsFile);
    // Its 4 MiB output waits for the test's go, then is uploaded (docs/protocol.md §5.8).
    const script = await writeScript(servicesDir, 'filed.sh', `while [ ! -e '${servicesDir}/go' ]; do sleep 0.05; done\nhead -c ${FILE_SIZE} /dev/zero > out.bin`);
    await writeProperties(servicesDir, 'filed.properties', {
      service: 'filed',
      executable: script,
      outputs: JSON.stringify({ data: { type: 'file', from: 'file:out.bin', mediaType: 'application/octet-stream' } }),
    });
    await cluster.addAgent('steady', servicesDir, { slots: 1 });
  });
  after(async function () {
    await Promise.all(crashable.map((agent) => agent.crash()));
    await cluster?.stop();
    if (mount) await run('umount', [mount]).catch(() => undefined);
    if (mount) await rm(mount, { recursive: true, force: true });
    if (servicesDir) await rm(servicesDir, { recursive: true, force: true });
  });

  it('refuses an output upload with 503 while the disk is full; the agent retries and it lands once space is freed', async function () {
    const { orchestrator } = cluster!;
    const { id } = await orchestrator.lifecycle.submit({ processId: 'filed', inputs: {}, execution: { response: 'document' }, owner: TEST_USER });
    await eventually(() => (orchestrator.jobStore.get(id)?.status === 'running' ? true : undefined), 10_000, 'running');
    const filler = path.join(mount, 'filler');
    await fillDisk(filler);
    await writeFile(path.join(servicesDir, 'go'), '');
    // The agent's first attempts (at 0, 1 and 3 s) meet the full disk; a refused part is not kept.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(orchestrator.jobStore.get(id)?.status).to.equal('running');
    expect((await readdir(path.join(cluster!.dataDir, 'results', id)).catch(() => [])).filter((file) => file.endsWith('.part'))).to.deep.equal([]);
    const refusals = lines.filter((line) => line['path'] === `/uploads/${id}/data`);
    expect(refusals[0]).to.include({ level: 50, code: 'ENOSPC', method: 'PUT', msg: 'request refused: the data directory cannot be written' });

    await rm(filler);
    await eventually(() => (orchestrator.jobStore.get(id)?.status === 'successful' ? true : undefined), 15_000, 'job successful');
    const served = await cluster!.api(`${orchestrator.url}/jobs/${id}/results/data`);
    expect(served.status).to.equal(200);
    expect((await served.arrayBuffer()).byteLength).to.equal(FILE_SIZE);
    await rm(path.join(cluster!.dataDir, 'results', id), { recursive: true });
  });

  it('answers 503 with one line, changes nothing, keeps the database whole, and works again once space is freed', async function () {
    const { orchestrator, api } = cluster!;
    const { url } = orchestrator;
    const running = await submitCounted(api, url, 'running', 1.5);
    const waiting = await submitCounted(api, url, 'waiting', 0);
    await eventually(() => (orchestrator.jobStore.get(running)?.status === 'running' ? true : undefined), 10_000, 'first job running');
    expect(orchestrator.jobStore.get(waiting)?.status).to.equal('accepted');

    const filler = path.join(mount, 'filler');
    await fillDisk(filler);
    // SQLite may still reuse pages it already has; a few writes use them up.
    let refused: Response | undefined;
    for (let attempt = 0; attempt < 50 && !refused; attempt += 1) {
      const response = await api(`${url}/processes/counted/execution`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', prefer: 'respond-async' },
        body: JSON.stringify({ inputs: { echo: `refused-${attempt}`, pause: 0 } }),
      });
      if (response.status !== 201) refused = response;
    }
    expect(refused?.status).to.equal(503);
    expect(refused!.headers.get('retry-after')).to.equal('30');
    expect(await refused!.json()).to.deep.equal({ type: 'urn:outpost:error:unavailable', title: 'Service unavailable', status: 503, detail: DISK_FULL });
    // Reading needs no space.
    expect((await api(`${url}/jobs/${running}`)).status).to.equal(200);

    // The run ends on the agent; its completion cannot be stored, so it is not acknowledged and the job stays as it was.
    await eventually(async () => ((await runsOf(runsFile)).has('running') ? true : undefined), 5000, 'first run started');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(orchestrator.jobStore.get(running)?.status).to.equal('running');
    expect(orchestrator.jobStore.get(waiting)?.status).to.equal('accepted');

    await rm(filler);
    const finished = (id: string) => eventually(() => {
      const job = orchestrator.jobStore.get(id);
      return job?.status === 'successful' || job?.status === 'failed' ? job : undefined;
    }, 15_000, `job ${id} finished`);
    for (const id of [running, waiting]) await finished(id);
    const after = await submitCounted(api, url, 'after', 0);
    await finished(after);
    const accepted = new Map([[running, 'running'], [waiting, 'waiting'], [after, 'after']]);
    await expectEachEchoedOnce(await finalJobs(api, url, accepted.keys()), accepted, runsFile);
    // The refused submissions left no job behind.
    const listed = (await (await api(`${url}/jobs?processID=counted&limit=100`)).json()) as { jobs: { jobID: string }[] };
    expect(listed.jobs.map((job) => job.jobID).sort()).to.deep.equal([...accepted.keys()].sort());

    const db = new BetterSqlite3(path.join(cluster!.dataDir, 'outpost.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).to.equal('ok');
    } finally {
      db.close();
    }
  });

  it('fails the job of an agent lost while the disk is full once space is freed, and places a waiting job on an agent that came meanwhile', async function () {
    const { orchestrator, api } = cluster!;
    const { url } = orchestrator;
    const { jid: account, password } = await cluster!.addAccount('mortal', TEST_POOL);
    const jid = `${account}/agent`;
    const workDir = path.join(servicesDir, 'mortal');
    const start = async () => {
      const agent = spawnAgent({ server: cluster!.server.prosody.clientService, jid, password, services: servicesDir, workDir, slots: 1 });
      crashable.push(agent);
      await eventually(() => {
        const entry = orchestrator.registry.agent(jid);
        return entry && entry.catalogHash === entry.load.catalog ? true : undefined;
      }, 20_000, 'mortal online');
      return agent;
    };
    const mortal = await start();
    const release = await holdRuns(runsFile);
    const busy = [await submitCounted(api, url, 'on-steady-or-mortal-1', 0), await submitCounted(api, url, 'on-steady-or-mortal-2', 0)];
    await eventually(async () => ((await runsOf(runsFile)).has('on-steady-or-mortal-2') ? true : undefined), 10_000, 'both agents busy');
    const lost = busy.find((id) => orchestrator.jobStore.get(id)?.agent === jid)!;
    const kept = busy.find((id) => id !== lost)!;
    // Two more go before it: to the places agents keep for a waiting job (docs/protocol.md §2.1,
    // queue), or, behind runs known to be long, to the orchestrator's queue (docs/decisions.md).
    const held = [await submitCounted(api, url, 'on-steady-or-mortal-3', 0), await submitCounted(api, url, 'on-steady-or-mortal-4', 0)];
    const waiting = await submitCounted(api, url, 'waiting-for-room', 0);
    expect(orchestrator.jobStore.get(waiting), 'the job submitted last, before the crash').to.deep.include({ status: 'accepted', agent: null });
    // Both runs reported running (after the agents' quiet start) while the disk still had room.
    await eventually(() => (busy.every((id) => orchestrator.jobStore.get(id)?.status === 'running') ? true : undefined), 5000, 'both jobs running');

    const filler = path.join(mount, 'filler');
    await fillDisk(filler);
    await mortal.crash();
    // Its grace ends while the disk is full: the failure cannot be stored, and the grace starts again.
    await sleep(GRACE_S * 2000);
    expect(orchestrator.jobStore.get(lost)?.status).to.equal('running');
    // Back, with room for the waiting job, whose placement the store refuses: it stays queued.
    await start();
    await sleep(1500);
    expect(orchestrator.jobStore.get(waiting)).to.deep.include({ status: 'accepted', agent: null });

    await rm(filler);
    await release();
    const ended = await eventually(async () => {
      const jobs = await finalJobs(api, url, [lost, kept, ...held, waiting]);
      return [...jobs.values()].every((job) => job.status !== 'accepted' && job.status !== 'running') ? jobs : undefined;
    }, 15_000, 'every job ended');
    expect(ended.get(lost)).to.deep.equal({ status: 'failed' });
    expect(orchestrator.jobStore.get(lost)?.error).to.deep.equal({ code: 'agent-lost', message: `agent ${jid} was lost while running the job` });
    expect(ended.get(waiting)).to.deep.equal({ status: 'successful', echo: 'waiting-for-room' });
    expect(ended.get(kept)?.status).to.equal('successful');
    // The one that waited on the lost agent never started there: it ran once, elsewhere or on the agent back.
    expect(held.map((id) => ended.get(id)?.status)).to.deep.equal(['successful', 'successful']);
    expect([...(await runsOf(runsFile))].filter(([echo]) => echo.startsWith('on-') || echo === 'waiting-for-room').sort()).to.deep.equal([
      ['on-steady-or-mortal-1', 1],
      ['on-steady-or-mortal-2', 1],
      ['on-steady-or-mortal-3', 1],
      ['on-steady-or-mortal-4', 1],
      ['waiting-for-room', 1],
    ]);
  });
});
