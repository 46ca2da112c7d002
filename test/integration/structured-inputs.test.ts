import { expect } from 'chai';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { inputExecutor } from '../helpers/execute-inputs.js';
import { fixture } from '../helpers/paths.js';
import { writeProperties } from '../helpers/temp-services.js';

describe('array, bounding box and JSON object inputs, end to end through HTTP and a real agent', function () {
  let cluster: Cluster;
  let root: string;

  before(async function () {
    cluster = await startCluster();
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-structured-'));
    await writeProperties(root, 'translate.properties', {
      service: 'translate',
      executable: fixture('bin', 'print-args.sh'),
      customargs: 'translate {src} out.tif',
      inputs: JSON.stringify({
        src: { type: 'string' },
        bands: { type: 'integer', minOccurs: 1, maxOccurs: 3, minimum: 1, arg: '-b {value}' },
        aoi: { type: 'bbox', required: false, arg: '-projwin {minx} {maxy} {maxx} {miny}' },
        list: { type: 'integer', maxOccurs: 3, required: false, arg: '--list={value}', separator: ',' },
      }),
    });
    await writeProperties(root, 'json-file.properties', {
      service: 'json-file',
      executable: '/bin/cat',
      inputs: JSON.stringify({ doc: { type: 'object', arg: '{value}' } }),
    });
    await writeProperties(root, 'json-stdin.properties', {
      service: 'json-stdin',
      executable: '/bin/cat',
      inputs: JSON.stringify({ doc: { type: 'object', stdin: true } }),
    });
    // Written by hand: the pattern has one backslash, as a user types it.
    await fs.writeFile(
      path.join(root, 'digits.properties'),
      `service = digits\nexecutable = ${fixture('bin', 'print-args.sh')}\ninputs = {"code": {"type": "string", "pattern": "^\\d+$", "arg": "{value}"}}\n`,
    );
    await cluster.addAgent('worker', root);
  });
  after(async function () {
    await cluster.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  const { execute, expectRefusedBeforeDispatch: expectRefused } = inputExecutor(() => cluster);
  const args = (text: string) => text.split('\0').slice(0, -1);

  it('describes the array and the bounding box as OGC does', async function () {
    const description = (await (await cluster.api(`${cluster.orchestrator.url}/processes/translate`)).json()) as {
      inputs: Record<string, { schema: Record<string, unknown>; minOccurs: number; maxOccurs: number }>;
    };
    expect(description.inputs['bands']).to.deep.include({ minOccurs: 1, maxOccurs: 3 });
    expect(description.inputs['bands']?.schema).to.deep.include({ type: 'array', items: { type: 'integer', minimum: 1 } });
    expect(description.inputs['aoi']?.schema).to.deep.include({ type: 'object', format: 'ogc-bbox', required: ['bbox'] });
  });

  it('runs with an array repeated per value, a bounding box as four words in the order the program wants, and a joined array', async function () {
    const response = await execute('translate', { src: 'dem.tif', bands: [1, 3], aoi: { bbox: [-122.5, 37.5, -122, 38] }, list: [4, 5] });
    expect(response.status).to.equal(200);
    expect(args(await response.text())).to.deep.equal([
      'translate', 'dem.tif', 'out.tif', '-b', '1', '-b', '3', '-projwin', '-122.5', '38', '-122', '37.5', '--list=4,5',
    ]);
  });

  it('leaves out an optional input entirely, without an empty argument', async function () {
    const response = await execute('translate', { src: 'dem.tif', bands: 2 });
    expect(args(await response.text())).to.deep.equal(['translate', 'dem.tif', 'out.tif', '-b', '2']);
  });

  it('refuses an array or a bounding box that does not fit with a 400 naming the input, before anything runs', async function () {
    await expectRefused('translate', { src: 'a', bands: [1, 2, 3, 4] }, "input 'bands' must have at most 3 values");
    await expectRefused('translate', { src: 'a', bands: [0] }, "input 'bands' at /0 must be >= 1");
    await expectRefused('translate', { src: 'a', bands: [1], aoi: { bbox: [1, 2, 3] } }, "input 'aoi' at /bbox must have at least 4 values");
    await expectRefused('translate', { src: 'a', bands: [1], aoi: [1, 2, 3, 4] }, "input 'aoi' must be object");
  });

  it('gives a JSON object as a file named on the command line, or on stdin', async function () {
    const doc = { a: [1, 'two'], b: { c: null } };
    for (const process of ['json-file', 'json-stdin']) {
      const response = await execute(process, { doc });
      expect(response.status, process).to.equal(200);
      expect(JSON.parse(await response.text()), process).to.deep.equal(doc);
    }
    await expectRefused('json-file', { doc: 'text' }, "input 'doc' must be object");
  });

  it('applies a pattern written with one backslash in the service file', async function () {
    await expectRefused('digits', { code: '12a' }, `input 'code' must match pattern "^\\d+$"`);
    expect(args(await (await execute('digits', { code: '123' })).text())).to.deep.equal(['123']);
  });
});
