import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { EventStreamReader } from '../helpers/event-stream.js';
import { writeProperties, writeScript } from '../helpers/temp-services.js';

interface StatusInfo {
  jobID: string;
  status: string;
  progress?: number;
}

describe('outputs as the request asks, and progress from any stream shape', function () {
  let cluster: Cluster;
  let servicesDir: string;

  before(async function () {
    cluster = await startCluster();
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    const services: [string, string, Record<string, string>][] = [
      // GDAL's progress: no newline until the end, dots as it goes.
      ['gdalish', 'for p in 0 10 20 30 40; do printf "$p."; sleep 0.15; printf ".."; sleep 0.15; done; echo "100 - done."', { progress: '^(\\d+)\\.\\.\\.$' }],
    ];
    for (const [name, script, properties] of services) {
      await writeScript(servicesDir, `bin/${name}.sh`, script);
      await writeProperties(servicesDir, `${name}.properties`, { service: name, executable: `bin/${name}.sh`, ...properties });
    }
    await cluster.addAgent('outputs', servicesDir);
  });
  after(async function () {
    await cluster.stop();
    await rm(servicesDir, { recursive: true, force: true });
  });

  const url = (route: string) => `${cluster.orchestrator.url}${route}`;
  const submit = async (process: string, body: unknown = {}) => {
    const response = await cluster.api(url(`/processes/${process}/execution`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', Prefer: 'respond-async' },
      body: JSON.stringify(body),
    });
    expect(response.status).to.equal(201);
    return ((await response.json()) as StatusInfo).jobID;
  };

  it("moves a job's progress while its program prints GDAL's 0...10...20... with no newline", async function () {
    const jobId = await submit('gdalish');
    const events = await new EventStreamReader(await cluster.api(url(`/jobs/${jobId}/events`))).rest(15_000);
    const statuses = events.map((event) => JSON.parse(event.data) as StatusInfo);
    const whileRunning = statuses.filter((info) => info.status === 'running').map((info) => info.progress ?? 0);
    expect(new Set(whileRunning.filter((p) => p > 0)).size).to.be.at.least(3);
    expect(whileRunning).to.deep.equal([...whileRunning].sort((a, b) => a - b));
    expect(statuses.at(-1)).to.deep.include({ status: 'successful', progress: 100 });
  });
});
