import { expect } from 'chai';
import { Readable } from 'node:stream';
import type { OutputValue } from '../../protocol/index.js';
import { problemOf, spec, startHarness, type Harness } from '../helpers/http-harness.js';

const PNG = Buffer.from('\x89PNG not really');
const BIG_TEXT = 'x'.repeat(70_000);

const processes = [
  spec('structured', { outputs: { data: { type: 'json' } } }),
  spec('echo', { outputs: { message: { type: 'string' } } }),
  spec('shade', { outputs: { shade: { type: 'file', mediaType: 'image/png', formats: ['image/png', 'image/tiff'] } } }),
];

function post(h: Harness, processId: string, body: unknown, headers: Record<string, string> = {}) {
  return h.api(`${h.url}/processes/${processId}/execution`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('HTTP outputs by value or by reference, in the format asked for', () => {
  let h: Harness;
  let shadeName: string;
  let shadeSize: number;

  beforeEach(async () => {
    h = await startHarness(processes);
    shadeName = 'shade.png';
    shadeSize = PNG.length;
    h.jobService.outcome = (job) => {
      const href = (output: string) => `/jobs/${job.id}/results/${output}`;
      const results: Record<string, Record<string, OutputValue>> = {
        structured: { data: { value: [1, 2] } },
        echo: { message: { href: href('message'), mediaType: 'text/plain; charset=utf-8', size: BIG_TEXT.length } },
        shade: { shade: { href: href('shade'), mediaType: 'image/png', size: shadeSize, filename: shadeName } },
      };
      return { status: 'successful', results: results[job.processId]! };
    };
    for (const job of ['job-1', 'job-2']) {
      await h.results.write(job, 'message', Readable.from([Buffer.from(BIG_TEXT)]), 1e6);
      await h.results.write(job, 'shade', Readable.from([PNG]), 1e6);
    }
  });
  afterEach(() => h.close());

  it('links a JSON output asked for by reference, and serves its value at the link', async () => {
    const response = await post(h, 'structured', { outputs: { data: { transmissionMode: 'reference' } }, response: 'document' });
    const link = { href: `${h.url}/jobs/job-1/results/data`, type: 'application/json', length: 5 };
    expect(await response.json()).to.deep.equal({ data: link });
    expect(await (await h.api(link.href)).json()).to.deep.equal([1, 2]);

    const raw = await post(h, 'structured', { outputs: { data: { transmissionMode: 'reference' } }, response: 'raw' });
    expect(raw.status).to.equal(204);
    expect(raw.headers.get('link')).to.equal(`<${h.url}/jobs/job-2/results/data>; rel="enclosure"; title="data"; type="application/json"`);
  });

  it('sends a file asked for by value as the raw body, named as the program named it', async () => {
    const response = await post(h, 'shade', { outputs: { shade: { transmissionMode: 'value' } } });
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('image/png');
    expect(response.headers.get('content-disposition')).to.equal('attachment; filename="shade.png"');
    expect(response.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(Buffer.from(await response.arrayBuffer())).to.deep.equal(PNG);
  });

  it('carries a file asked for by value in the results document as an OGC qualified value', async () => {
    const response = await post(h, 'shade', { outputs: { shade: { transmissionMode: 'value' } }, response: 'document' });
    expect(await response.json()).to.deep.equal({ shade: { value: PNG.toString('base64'), encoding: 'base64', mediaType: 'image/png' } });
  });

  it('refuses a results document that would carry a file over 16 MiB by value, saying how to fetch it', async () => {
    shadeSize = 16 * 1024 * 1024 + 1;
    const response = await post(h, 'shade', { outputs: { shade: { transmissionMode: 'value' } }, response: 'document' });
    expect(response.status).to.equal(406);
    expect((await problemOf(response)).detail).to.equal(
      "output 'shade' is 16777217 bytes, more than the 16777216 bytes a results document carries by value; " +
        "ask for it with 'transmissionMode' 'reference', or alone with 'response' 'raw', or fetch /jobs/job-1/results/shade",
    );
  });

  it('links a file by default, with its type and size', async () => {
    const response = await post(h, 'shade', {});
    expect(await response.json()).to.deep.equal({ shade: { href: `${h.url}/jobs/job-1/results/shade`, type: 'image/png', length: PNG.length } });
  });

  it('answers a text output that travelled as a file with its value, raw or in the document, never a redirect', async () => {
    const raw = await post(h, 'echo', {}, {});
    expect(raw.status).to.equal(200);
    expect(raw.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
    expect(await raw.text()).to.equal(BIG_TEXT);
    const document = await post(h, 'echo', { response: 'document' });
    expect(await document.json()).to.deep.equal({ message: BIG_TEXT });
  });

  it('names a download by its media type when the program gave no extension, and keeps any name header-safe', async () => {
    shadeName = 'relief';
    expect((await post(h, 'shade', { response: 'document' })).status).to.equal(200);
    const plain = await h.api(`${h.url}/jobs/job-1/results/shade`);
    expect(plain.headers.get('content-disposition')).to.equal('attachment; filename="relief.png"');

    shadeName = 'relief "ü".png';
    expect((await post(h, 'shade', { response: 'document' })).status).to.equal(200);
    const named = await h.api(`${h.url}/jobs/job-2/results/shade`);
    expect(named.headers.get('content-disposition')).to.equal(`attachment; filename="relief \\"_\\".png"; filename*=UTF-8''relief%20%22%C3%BC%22.png`);
  });

  it('takes a format the output offers and refuses one it does not, saying which it offers', async () => {
    const refused = await post(h, 'shade', { outputs: { shade: { format: { mediaType: 'image/gif' } } } });
    expect(refused.status).to.equal(400);
    expect((await problemOf(refused)).detail).to.equal("'outputs.shade.format.mediaType' 'image/gif' is not offered: output 'shade' is produced as image/png, image/tiff");
    expect(h.jobService.submitted).to.deep.equal([]);

    const taken = await post(h, 'shade', { outputs: { shade: { format: { mediaType: 'Image/TIFF' } } } }, { Prefer: 'respond-async' });
    expect(taken.status).to.equal(201);
    expect(h.jobService.submitted[0]!.execution.formats).to.deep.equal({ shade: 'image/tiff' });
  });

  it('describes each format of an output', async () => {
    const description = (await (await h.api(`${h.url}/processes/shade`)).json()) as { outputs: Record<string, { schema: unknown }> };
    expect(description.outputs['shade']!.schema).to.deep.equal({
      oneOf: [
        { type: 'string', contentMediaType: 'image/png', contentEncoding: 'binary' },
        { type: 'string', contentMediaType: 'image/tiff', contentEncoding: 'binary' },
      ],
    });
  });
});
