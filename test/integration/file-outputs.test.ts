import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eventually, startCluster, type Cluster, type TestAgent } from '../helpers/cluster.js';
import { fixture } from '../helpers/paths.js';
import { writeProperties, writeScript } from '../helpers/temp-services.js';

const BIG = 50 * 1024 * 1024;
const LIMIT = 60 * 1024 * 1024;

interface StatusInfo {
  jobID: string;
  status: string;
  message?: string;
}
type Reference = { href: string; type?: string; length?: number };

/** Output declarations as a properties file holds them: name → [path in the work directory, media type]. */
const fileOutputs = (files: Record<string, [string, string?]>) =>
  JSON.stringify(Object.fromEntries(Object.entries(files).map(([name, [from, mediaType]]) => [name, { type: 'file', from: `file:${from}`, mediaType }])));

async function sha256Of(response: Response): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex') };
}

describe('file outputs: uploaded by the agent over HTTP, served by the orchestrator', function () {
  let cluster: Cluster;
  let agent: TestAgent;
  let servicesDir: string;

  before(async function () {
    cluster = await startCluster({ maxUploadBytes: LIMIT });
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    const services: [string, string, Record<string, string>][] = [
      ['bigfile', `mkdir -p out && head -c ${BIG} /dev/urandom > out/data.bin`, { outputs: fileOutputs({ data: ['out/data.bin', 'application/octet-stream'] }) }],
      [
        'toolarge',
        `mkdir -p out && echo small > out/small.txt && head -c ${LIMIT + 1} /dev/zero > out/data.bin`,
        { outputs: fileOutputs({ small: ['out/small.txt'], data: ['out/data.bin'] }) },
      ],
      ['bigtext', `head -c 100000 /dev/zero | tr '\\0' x`, {}],
      ['waiter', 'sleep 30', { outputs: fileOutputs({ data: ['out/data.bin'] }) }],
      ['escape', 'exit 0', { outputs: fileOutputs({ data: ['../outside.bin'] }) }],
    ];
    for (const [name, script, properties] of services) {
      await writeScript(servicesDir, `bin/${name}.sh`, script);
      await writeProperties(servicesDir, `${name}.properties`, { service: name, executable: `bin/${name}.sh`, ...properties });
    }
    await writeProperties(servicesDir, 'image.properties', {
      service: 'image',
      executable: fixture('bin', 'write-file.sh'),
      outputs: fileOutputs({ image: ['out/a.tif', 'image/tiff'] }),
    });
    agent = await cluster.addAgent('files', servicesDir);
  });
  after(async function () {
    await cluster.stop();
    await rm(servicesDir, { recursive: true, force: true });
  });

  const url = (route: string) => `${cluster.orchestrator.url}${route}`;
  const json = async <T>(response: Response) => (await response.json()) as T;
  const submit = async (process: string, body: unknown = {}) => {
    const response = await cluster.api(url(`/processes/${process}/execution`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', Prefer: 'respond-async' },
      body: JSON.stringify(body),
    });
    expect(response.status).to.equal(201);
    return (await json<StatusInfo>(response)).jobID;
  };
  const finished = (jobId: string, timeoutMs = 30_000) =>
    eventually(async () => {
      const info = await json<StatusInfo>(await cluster.api(url(`/jobs/${jobId}`)));
      return ['successful', 'failed', 'dismissed'].includes(info.status) ? info : undefined;
    }, timeoutMs, `job ${jobId} finished`);
  const storedFolder = (jobId: string) => path.join(cluster.dataDir, 'results', jobId);

  it('delivers a 50 MiB file byte for byte, then removes the work directory', async function () {
    this.timeout(60_000);
    const jobId = await submit('bigfile');
    expect((await finished(jobId)).status).to.equal('successful');

    const document = await json<Record<string, Reference>>(await cluster.api(url(`/jobs/${jobId}/results`)));
    expect(document).to.deep.equal({ data: { href: url(`/jobs/${jobId}/results/data`), type: 'application/octet-stream', length: BIG } });
    const reported = cluster.orchestrator.jobStore.get(jobId)!.results!['data'] as { size: number; sha256: string };
    expect(reported.size).to.equal(BIG);

    const download = await cluster.api(document['data']!.href);
    expect(download.status).to.equal(200);
    expect(download.headers.get('content-length')).to.equal(String(BIG));
    expect(download.headers.get('content-type')).to.equal('application/octet-stream');
    expect(download.headers.get('content-disposition')).to.equal('attachment; filename="data.bin"');
    expect(await sha256Of(download)).to.deep.equal({ size: BIG, sha256: reported.sha256 });
    await eventually(() => (existsSync(path.join(agent.workDir, 'jobs', jobId)) ? undefined : true), 2000, 'work directory removed');
  });

  it('answers a raw request for one file output with 204 and a Link to it', async function () {
    const response = await cluster.api(url('/processes/image/execution'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response: 'raw' }),
    });
    expect(response.status).to.equal(204);
    const jobUrl = response.headers.get('location')!;
    expect(response.headers.get('link')).to.equal(`<${jobUrl}/results/image>; rel="enclosure"; title="image"; type="image/tiff"`);
    const image = await cluster.api(`${jobUrl}/results/image`);
    expect(image.headers.get('content-type')).to.equal('image/tiff');
    expect(await image.text()).to.equal('tif-bytes');
  });

  it('uploads a value too large for a message body, yet answers it as a value: inline in the document, the body when raw', async function () {
    const text = 'x'.repeat(100_000);
    const asDocument = await submit('bigtext', { response: 'document' });
    expect((await finished(asDocument)).status).to.equal('successful');
    expect(cluster.orchestrator.jobStore.get(asDocument)!.results!['result']).to.have.property('href');
    const document = await json<Record<string, unknown>>(await cluster.api(url(`/jobs/${asDocument}/results`)));
    expect(document).to.deep.equal({ result: text });

    const raw = await cluster.api(url('/processes/bigtext/execution'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', redirect: 'manual' });
    expect(raw.status).to.equal(200);
    expect(raw.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
    expect(await raw.text()).to.equal(text);
  });

  it('fails a job with code output when a file is over the upload limit, and drops the files it did upload', async function () {
    this.timeout(30_000);
    const jobId = await submit('toolarge');
    const info = await finished(jobId);
    expect(info.status).to.equal('failed');
    expect(cluster.orchestrator.jobStore.get(jobId)!.error).to.deep.include({ code: 'output' });
    expect(info.message).to.equal(
      `output 'data' could not be uploaded to ${url(`/uploads/${jobId}/data`)}: HTTP 413: the file is larger than the upload limit of ${LIMIT} bytes`,
    );
    await eventually(() => (existsSync(storedFolder(jobId)) ? undefined : true), 2000, 'stored files removed');
  });

  it('refuses an output path that leaves the work directory when the properties file is read', async function () {
    const { agents } = await json<{ agents: { jid: string; invalid: { file: string; reason: string }[] }[] }>(await cluster.adminApi(url('/admin/agents')));
    const invalid = agents.find((a) => a.jid === agent.jid)!.invalid;
    expect(invalid).to.deep.include({ file: 'escape.properties', reason: "output 'data': path must stay inside the work directory" });
    expect(cluster.orchestrator.registry.process('escape')).to.equal(undefined);
  });

  it('refuses uploads without the job’s token', async function () {
    const jobId = await submit('waiter');
    await eventually(async () => ((await json<StatusInfo>(await cluster.api(url(`/jobs/${jobId}`)))).status === 'running' ? true : undefined), 5000, 'running');
    const put = (headers: Record<string, string>) => fetch(url(`/uploads/${jobId}/data`), { method: 'PUT', headers, body: 'forged' });

    const missing = await put({});
    expect(missing.status).to.equal(401);
    expect((await json<{ detail: string }>(missing)).detail).to.equal("an upload needs the header 'Authorization: Bearer <upload token>' given to the job's agent");
    const wrong = await put({ Authorization: 'Bearer not-the-token' });
    expect(wrong.status).to.equal(403);
    expect((await json<{ detail: string }>(wrong)).detail).to.equal(`the upload token is not valid for job '${jobId}'`);
    expect(existsSync(storedFolder(jobId))).to.equal(false);
    expect((await cluster.api(url(`/jobs/${jobId}`), { method: 'DELETE' })).status).to.equal(200);
  });

  it('removes the stored files when the job is dismissed', async function () {
    const jobId = await submit('image');
    expect((await finished(jobId)).status).to.equal('successful');
    expect(await readdir(storedFolder(jobId))).to.deep.equal(['image']);
    expect((await cluster.api(url(`/jobs/${jobId}`), { method: 'DELETE' })).status).to.equal(200);
    expect(existsSync(storedFolder(jobId))).to.equal(false);
    expect((await cluster.api(url(`/jobs/${jobId}/results/image`))).status).to.equal(404);
  });
});
