import { expect } from 'chai';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { EventStreamReader } from '../helpers/event-stream.js';
import { AddressAllowlist } from '../../net/address-guard.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { copyExamples } from '../helpers/examples.js';

const run = promisify(execFile);
const DEM_SIZE = 300;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Why the GDAL tests cannot run here, or undefined when they can. */
function gdalMissing(): string | undefined {
  const probe = spawnSync('gdalinfo', ['--version'], { encoding: 'utf8' });
  return probe.error ? `gdalinfo is not installed (sh prosody/ensure-gdal.sh installs gdal-bin): ${probe.error.message}` : undefined;
}

/** A small synthetic DEM: one round hill on a plain, as a GeoTIFF in UTM zone 33N. */
async function makeDem(dir: string): Promise<Buffer> {
  const rows: string[] = [];
  for (let y = 0; y < DEM_SIZE; y++) {
    const row: string[] = [];
    for (let x = 0; x < DEM_SIZE; x++) row.push((500 * Math.exp(-((x - 150) ** 2 + (y - 150) ** 2) / 5000)).toFixed(1));
    rows.push(row.join(' '));
  }
  const header = `ncols ${DEM_SIZE}\nnrows ${DEM_SIZE}\nxllcorner 500000\nyllcorner 5000000\ncellsize 30\nNODATA_value -9999\n`;
  await writeFile(path.join(dir, 'dem.asc'), `${header}${rows.join('\n')}\n`);
  await run('gdal_translate', ['-q', '-of', 'GTiff', '-a_srs', 'EPSG:32633', path.join(dir, 'dem.asc'), path.join(dir, 'dem.tif')]);
  return readFile(path.join(dir, 'dem.tif'));
}

describe('GDAL: the example services on files the client sends', function () {
  let cluster: Cluster;
  let dir: string;
  let dem: Buffer;
  let large: Buffer;
  let web: http.Server;
  let webUrl: string;

  before(async function () {
    this.timeout(60_000);
    const missing = gdalMissing();
    if (missing) {
      console.warn(`    GDAL tests skipped: ${missing}`);
      this.skip();
    }
    dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-gdal-'));
    dem = await makeDem(dir);
    // Large enough that gdalwarp reports its progress over a while, not all at once.
    await run('gdal_create', ['-q', '-of', 'GTiff', '-outsize', '5000', '5000', '-burn', '100', '-a_srs', 'EPSG:32633', '-a_ullr', '500000', '5150000', '650000', '5000000', path.join(dir, 'large.tif')]);
    large = await readFile(path.join(dir, 'large.tif'));
    web = http.createServer((request, response) => {
      const body = { '/dem.tif': dem, '/large.tif': large }[request.url ?? ''];
      response.writeHead(body ? 200 : 404, { 'content-type': 'image/tiff' }).end(body);
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    webUrl = `http://localhost:${(web.address() as AddressInfo).port}`;
    cluster = await startCluster({ maxUploadBytes: 100 * 1024 * 1024 });
    const services = path.join(dir, 'services.d');
    await run('mkdir', [services]);
    await copyExamples(services, 'gdalinfo', 'hillshade', 'contour', 'warp');
    const allow = new AddressAllowlist(['localhost'], 'file inputs', '--fetch-allow');
    await cluster.addAgent('gis', services, { fetchLimits: { allow, maxBytes: 100 * 1024 * 1024, timeoutMs: 10_000 } });
  });
  after(async function () {
    await cluster?.stop();
    if (web) await new Promise((resolve) => web.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const execute = (process: string, body: unknown, headers: Record<string, string> = {}) =>
    cluster.api(`${cluster.orchestrator.url}/processes/${process}/execution`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const inline = (bytes: Buffer) => ({ value: bytes.toString('base64'), mediaType: 'image/tiff', encoding: 'base64' });

  it('describes a GeoTIFF sent inline with gdalinfo', async function () {
    const response = await execute('gdalinfo', { inputs: { raster: inline(dem) } });
    expect(response.status).to.equal(200);
    const info = (await response.json()) as { driverShortName: string; size: number[]; coordinateSystem: { wkt: string } };
    expect(info.driverShortName).to.equal('GTiff');
    expect(info.size).to.deep.equal([DEM_SIZE, DEM_SIZE]);
    expect(info.coordinateSystem.wkt).to.include('UTM zone 33N');
  });

  it('shades a DEM given by href, the PNG coming back by reference', async function () {
    const response = await execute('hillshade', { inputs: { dem: { href: `${webUrl}/dem.tif` }, z: 2 }, outputs: { shade: { transmissionMode: 'reference' } }, response: 'document' });
    expect(response.status).to.equal(200);
    const { shade } = (await response.json()) as { shade: { href: string; type: string } };
    expect(shade.type).to.equal('image/png');
    const png = await cluster.api(shade.href);
    expect(png.headers.get('content-type')).to.equal('image/png');
    expect(Buffer.from(await png.arrayBuffer()).subarray(0, 8)).to.deep.equal(PNG_SIGNATURE);
  });

  // The file name of an output comes with the output-format work (the name is the output's id until then).
  it('serves the hillshade PNG with a .png filename', async function () {
    const response = await execute('hillshade', { inputs: { dem: { href: `${webUrl}/dem.tif` } }, outputs: { shade: { transmissionMode: 'reference' } }, response: 'document' });
    const { shade } = (await response.json()) as { shade: { href: string } };
    const png = await cluster.api(shade.href);
    expect(png.headers.get('content-disposition')).to.match(/filename="[^"]*\.png"/);
  });

  it('draws contour lines of a DEM sent inline as GeoJSON', async function () {
    const response = await execute('contour', { inputs: { dem: inline(dem), interval: 100 }, response: 'document' });
    expect(response.status).to.equal(200);
    const { contours: reference } = (await response.json()) as { contours: { href: string } };
    const contours = (await (await cluster.api(reference.href)).json()) as { type: string; features: { properties: { elev: number } }[] };
    expect(contours.type).to.equal('FeatureCollection');
    expect(new Set(contours.features.map((feature) => feature.properties.elev))).to.deep.equal(new Set([100, 200, 300, 400, 500]));
  });

  it('reprojects a raster with gdalwarp, its progress moving in at least five steps', async function () {
    this.timeout(120_000);
    const response = await execute('warp', { inputs: { raster: { href: `${webUrl}/large.tif` }, srs: 'EPSG:4326', resampling: 'lanczos' } }, { Prefer: 'respond-async' });
    expect(response.status).to.equal(201);
    const { jobID } = (await response.json()) as { jobID: string };
    // Every change the job goes through, from its event stream (polling could miss steps).
    const events = await new EventStreamReader(await cluster.api(`${cluster.orchestrator.url}/jobs/${jobID}/events`)).rest(100_000);
    const statuses = events.map((event) => JSON.parse(event.data) as { status: string; progress?: number });
    const seen = new Set(statuses.filter((info) => info.status === 'running').map((info) => info.progress ?? 0));
    expect(statuses.at(-1)?.status).to.equal('successful');
    expect([...seen].filter((progress) => progress > 0 && progress < 100).length, `progress seen: ${[...seen].join(', ')}`).to.be.at.least(5);
  });
});
