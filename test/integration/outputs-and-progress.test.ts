import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { postExecute } from '../helpers/api.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { EventStreamReader } from '../helpers/event-stream.js';
import { writeProperties, writeScript } from '../helpers/temp-services.js';

const SHADE = {
  shade: {
    type: 'file',
    formats: { 'image/png': { from: 'file:shade.png', args: ['shade.png', 'png-bytes'] }, 'image/tiff': { from: 'file:shade.tif', args: ['shade.tif', 'tif-bytes'] } },
  },
};

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
      ['gdalish', 'for p in 0 10 20 30 40 50 60 70 80 90; do printf "$p."; sleep 0.15; printf ".."; sleep 0.15; done; echo "100 - done."', { progress: '^(\\d+)\\.\\.\\.$' }],
      // Writes its second argument into the file named by its first, as a converter told its output would.
      ['shade', 'printf "%s" "$2" > "$1"', { outputs: JSON.stringify(SHADE) }],
      ['shapefile', 'mkdir -p out && echo shp > out/roads.shp && echo dbf > out/roads.dbf && echo xml > out/roads.shp.aux.xml', { outputs: '{"roads": {"type": "file", "from": "dir:out/"}}' }],
      ['stats', 'echo \'{"mean": 4.5}\'', { outputs: '{"stats": {"type": "json"}}' }],
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
  const execute = (process: string, body: unknown, headers: Record<string, string> = {}) => postExecute(cluster.api, cluster.orchestrator.url, process, body, headers);

  it("moves a job's progress while its program prints GDAL's 0...10...20... with no newline", async function () {
    const jobId = ((await (await execute('gdalish', {}, { Prefer: 'respond-async' })).json()) as StatusInfo).jobID;
    const events = await new EventStreamReader(await cluster.api(url(`/jobs/${jobId}/events`))).rest(15_000);
    const statuses = events.map((event) => JSON.parse(event.data) as StatusInfo);
    const whileRunning = statuses.filter((info) => info.status === 'running').map((info) => info.progress ?? 0);
    expect(new Set(whileRunning.filter((p) => p > 0)).size).to.be.at.least(3);
    expect(whileRunning).to.deep.equal([...whileRunning].sort((a, b) => a - b));
    expect(statuses.at(-1)).to.deep.include({ status: 'successful', progress: 100 });
  });

  it('produces the format asked for and serves it by reference under the name the program gave it', async function () {
    const response = await execute('shade', { outputs: { shade: { transmissionMode: 'reference', format: { mediaType: 'image/tiff' } } }, response: 'document' });
    expect(response.status).to.equal(200);
    const jobUrl = response.headers.get('location')!;
    const document = (await response.json()) as Record<string, { href: string }>;
    expect(document).to.deep.equal({ shade: { href: `${jobUrl}/results/shade`, type: 'image/tiff', length: 9 } });
    const download = await cluster.api(document['shade']!.href);
    expect(download.headers.get('content-type')).to.equal('image/tiff');
    expect(download.headers.get('content-disposition')).to.equal('attachment; filename="shade.tif"');
    expect(await download.text()).to.equal('tif-bytes');

    const standard = await execute('shade', { outputs: { shade: { transmissionMode: 'value' } } });
    expect(standard.headers.get('content-disposition')).to.equal('attachment; filename="shade.png"');
    expect(await standard.text()).to.equal('png-bytes');
  });

  it('serves a directory output as one zip archive', async function () {
    const response = await execute('shapefile', { response: 'raw', outputs: { roads: { transmissionMode: 'value' } } });
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('application/zip');
    expect(response.headers.get('content-disposition')).to.equal('attachment; filename="out.zip"');
    const archive = path.join(servicesDir, 'roads.zip');
    await writeFile(archive, Buffer.from(await response.arrayBuffer()));
    expect(execFileSync('zipinfo', ['-1', archive], { encoding: 'utf8' }).split('\n').filter(Boolean)).to.deep.equal(['roads.dbf', 'roads.shp', 'roads.shp.aux.xml']);
    expect(execFileSync('unzip', ['-p', archive, 'roads.shp.aux.xml'], { encoding: 'utf8' })).to.equal('xml\n');
  });

  it('links a JSON output asked for by reference, and gives its value at the link', async function () {
    const response = await execute('stats', { outputs: { stats: { transmissionMode: 'reference' } }, response: 'document' });
    const jobUrl = response.headers.get('location')!;
    expect(await response.json()).to.deep.equal({ stats: { href: `${jobUrl}/results/stats`, type: 'application/json', length: 12 } });
    expect(await (await cluster.api(`${jobUrl}/results/stats`)).json()).to.deep.equal({ mean: 4.5 });
  });
});
