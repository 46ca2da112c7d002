import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ERROR_TYPES } from '../../src/errors.js';
import { openDatabase } from '../../src/store/database.js';
import { newUploadToken, UploadTokens } from '../../src/store/upload-tokens.js';
import { SqliteJobStore } from '../../src/store/sqlite-job-store.js';
import { tokenDigest } from '../../src/store/token-digest.js';
import { eventually } from '../helpers/cluster.js';
import { jobRecord, problemOf, spec, startHarness, type Harness } from '../helpers/http-harness.js';
import { openTempDatabase } from '../helpers/temp-database.js';

const AGENT = 'worker@example.org/a';
const LIMIT = 1024;
/** Text whose bytes are not UTF-8: a file output's media type must not claim they are. */
const LATIN1_NOTES = Buffer.from('café\n', 'latin1');
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Every file below `dir`, as paths relative to it. */
async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

/** A request sent exactly as written: fetch would normalise `..` and `%2E%2E` segments away. */
function rawRequest(base: string, method: string, target: string, headers: Record<string, string>, body = ''): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${base}/`, { method, path: target, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode!, body: text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

describe('HTTP uploads of output files', () => {
  let h: Harness;
  let token: string;
  let root: string;

  beforeEach(async () => {
    h = await startHarness([spec('convert', { outputs: { image: { type: 'file', mediaType: 'image/png' }, log: { type: 'string' }, notes: { type: 'file', mediaType: 'text/plain' } } })], { maxUploadBytes: LIMIT });
    root = path.dirname(h.results.root);
    h.jobs.create(jobRecord('j1', { processId: 'convert', status: 'running', agent: AGENT }));
    h.jobs.create(jobRecord('done', { processId: 'convert', status: 'successful', agent: AGENT }));
    h.jobs.create(jobRecord('gone', { processId: 'retired', status: 'running', agent: AGENT }));
    token = h.issueUploadToken('j1');
  });
  afterEach(() => h.close());

  const put = (target: string, body: string | Buffer, headers: Record<string, string> = { Authorization: `Bearer ${token}` }) =>
    fetch(`${h.url}${target}`, { method: 'PUT', headers: { 'Content-Type': 'image/png', ...headers }, body });

  it('streams the body to the job’s folder and answers where it is served, its size and SHA-256', async () => {
    const content = Buffer.from('\x89PNG fake image');
    const response = await put('/uploads/j1/image', content);
    expect(response.status).to.equal(201);
    expect(response.headers.get('location')).to.equal(`${h.url}/jobs/j1/results/image`);
    expect(await response.json()).to.deep.equal({ href: '/jobs/j1/results/image', size: content.length, sha256: sha256(content) });
    expect(await readFile(path.join(h.results.root, 'j1', 'image'))).to.deep.equal(content);
    expect(await filesBelow(h.results.root)).to.deep.equal(['j1/image']);
  });

  it('replaces an earlier upload of the same output (a retry after a lost answer)', async () => {
    expect((await put('/uploads/j1/image', 'first')).status).to.equal(201);
    expect((await put('/uploads/j1/image', 'second')).status).to.equal(201);
    expect(await readFile(path.join(h.results.root, 'j1', 'image'), 'utf8')).to.equal('second');
  });

  describe('refusals', () => {
    const cases: [string, () => [string, Record<string, string>], number, keyof typeof ERROR_TYPES, string][] = [
      ['no token', () => ['/uploads/j1/image', {}], 401, 'unauthorized', "an upload needs the header 'Authorization: Bearer <upload token>' given to the job's agent"],
      ['another scheme', () => ['/uploads/j1/image', { Authorization: `Basic ${token}` }], 401, 'unauthorized', "an upload needs the header 'Authorization: Bearer <upload token>' given to the job's agent"],
      ['a wrong token', () => ['/uploads/j1/image', { Authorization: 'Bearer guessed' }], 403, 'forbidden', "the upload token is not valid for job 'j1'"],
      ['the token of another job', () => ['/uploads/j1/image', { Authorization: `Bearer ${h.issueUploadToken('done')}` }], 403, 'forbidden', "the upload token is not valid for job 'j1'"],
      ['a token replaced by a new dispatch', () => [
        '/uploads/j1/image',
        { Authorization: `Bearer ${[token, h.issueUploadToken('j1')][0]}` },
      ], 403, 'forbidden', "the upload token is not valid for job 'j1'"],
      ['an unknown job, without telling that it does not exist', () => ['/uploads/nope/image', { Authorization: `Bearer ${token}` }], 403, 'forbidden', "the upload token is not valid for job 'nope'"],
      ['a finished job', () => ['/uploads/done/image', { Authorization: `Bearer ${h.issueUploadToken('done')}` }], 409, 'job-finished', "job 'done' is successful; it takes no more uploads"],
      ['an undeclared output', () => ['/uploads/j1/other', { Authorization: `Bearer ${token}` }], 404, 'not-found', "process 'convert' has no output 'other'; its outputs are: image, log, notes"],
      ['an inherited property as output', () => ['/uploads/j1/constructor', { Authorization: `Bearer ${token}` }], 404, 'not-found', "process 'convert' has no output 'constructor'; its outputs are: image, log, notes"],
      ['a process no agent offers', () => ['/uploads/gone/image', { Authorization: `Bearer ${h.issueUploadToken('gone')}` }], 503, 'unavailable', "process 'retired' is not offered right now, so its outputs are unknown; retry later"],
    ];
    for (const [what, request, status, code, detail] of cases) {
      it(`refuses ${what} with ${status}`, async () => {
        const [target, headers] = request();
        const response = await put(target, 'data', headers);
        expect(response.status).to.equal(status);
        const problem = await problemOf(response);
        expect(problem.type).to.equal(ERROR_TYPES[code]);
        expect(problem.detail).to.equal(detail);
        if (status === 401) expect(response.headers.get('www-authenticate')).to.equal('Bearer realm="outpost-uploads"');
        expect(await filesBelow(root).then((files) => files.filter((f) => f.startsWith('results')))).to.deep.equal([]);
      });
    }

    const crafted: [string, string][] = [
      ['..%2F..%2Fetc', '../../etc'],
      ['..%2Foutpost.db', '../outpost.db'],
      ['%2E%2E', '..'],
      ['..', '..'],
      ['.', '.'],
      // Shown escaped, so the detail stays one line of text.
      ['a%00b', 'a\\u0000b'],
      ['x'.repeat(101), 'x'.repeat(101)],
    ];
    for (const [sent, decoded] of crafted) {
      it(`refuses the output id ${sent.slice(0, 20)} and writes nothing`, async () => {
        const before = await filesBelow(root);
        const response = await rawRequest(h.url, 'PUT', `/uploads/j1/${sent}`, { Authorization: `Bearer ${token}` }, 'evil');
        expect(response.status).to.equal(400);
        expect((JSON.parse(response.body) as { detail: string }).detail).to.equal(
          `'${decoded}' is not an output id: it must match [A-Za-z0-9_.-]{1,100} and not be '.' or '..'`,
        );
        expect(await filesBelow(root)).to.deep.equal(before);
      });
    }

    it('refuses a body over the limit, announced or streamed, and keeps nothing of it', async () => {
      const announced = await put('/uploads/j1/image', Buffer.alloc(LIMIT + 1));
      expect(announced.status).to.equal(413);
      expect((await problemOf(announced)).detail).to.equal(`the file is larger than the upload limit of ${LIMIT} bytes`);
      const chunks = [Buffer.alloc(LIMIT), Buffer.alloc(1)];
      const streamed = await fetch(`${h.url}/uploads/j1/image`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${token}` },
        body: new ReadableStream({ pull: (controller) => (chunks.length ? controller.enqueue(chunks.shift()!) : controller.close()) }),
        duplex: 'half',
      } as RequestInit);
      expect(streamed.status).to.equal(413);
      expect(await filesBelow(h.results.root)).to.deep.equal([]);
    });

    it('drops the partial file of an upload cut off midway', async () => {
      const request = http.request(`${h.url}/uploads/j1/image`, { method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Length': 1000 } });
      request.on('error', () => undefined);
      request.write(Buffer.alloc(100));
      await eventually(async () => ((await filesBelow(h.results.root).catch(() => [])).length > 0 ? true : undefined), 2000, 'partial file');
      request.destroy();
      await eventually(async () => ((await filesBelow(h.results.root)).length === 0 ? true : undefined), 2000, 'partial file removed');
    });
  });

  describe('GET /jobs/{id}/results/{outputId}', () => {
    beforeEach(async () => {
      expect((await put('/uploads/j1/image', 'png-bytes')).status).to.equal(201);
      expect((await put('/uploads/j1/notes', LATIN1_NOTES)).status).to.equal(201);
      h.jobs.finish('j1', 0, {
        status: 'successful',
        results: {
          image: { href: '/jobs/j1/results/image', mediaType: 'image/png', size: 9, sha256: sha256('png-bytes') },
          log: { value: 'converted' },
          notes: { href: '/jobs/j1/results/notes', mediaType: 'text/plain', size: LATIN1_NOTES.length, sha256: sha256(LATIN1_NOTES) },
        },
      });
    });

    it('streams a stored file as an attachment with its media type and length', async () => {
      const response = await h.api(`${h.url}/jobs/j1/results/image`);
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.equal('image/png');
      expect(response.headers.get('content-length')).to.equal('9');
      expect(response.headers.get('content-disposition')).to.equal('attachment; filename="image.png"');
      expect(response.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(await response.text()).to.equal('png-bytes');
    });

    it("serves a stored file with the reference's media type as it is, adding no charset", async () => {
      const response = await h.api(`${h.url}/jobs/j1/results/notes`);
      expect(response.headers.get('content-type')).to.equal('text/plain');
      expect(Buffer.from(await response.arrayBuffer())).to.deep.equal(LATIN1_NOTES);
    });

    it('answers a value output with the value itself', async () => {
      const response = await h.api(`${h.url}/jobs/j1/results/log`);
      expect(response.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
      expect(await response.text()).to.equal('converted');
    });

    it('lists the file in the results document as an absolute link', async () => {
      const document = await (await h.api(`${h.url}/jobs/j1/results`)).json();
      expect(document).to.deep.equal({
        image: { href: `${h.url}/jobs/j1/results/image`, type: 'image/png', length: 9 },
        log: 'converted',
        notes: { href: `${h.url}/jobs/j1/results/notes`, type: 'text/plain', length: LATIN1_NOTES.length },
      });
    });

    for (const [what, target, type, detail] of [
      ['an unknown output', '/jobs/j1/results/other', 'not-found', "job 'j1' has no output 'other'"],
      ['an unfinished job', '/jobs/gone/results/image', 'result-not-ready', "job 'gone' is running; its results are not ready yet"],
    ] as const) {
      it(`answers 404 for ${what}`, async () => {
        const response = await h.api(`${h.url}${target}`);
        expect(response.status).to.equal(404);
        const problem = await problemOf(response);
        expect([problem.type, problem.detail]).to.deep.equal([ERROR_TYPES[type], detail]);
      });
    }

    it('answers 404 when the stored file is gone', async () => {
      await h.results.remove('j1');
      const response = await h.api(`${h.url}/jobs/j1/results/image`);
      expect(response.status).to.equal(404);
      expect((await problemOf(response)).detail).to.equal("the file of output 'image' of job 'j1' is no longer stored");
    });
  });

  describe('GET /inputs/{jobId}/{inputId}', () => {
    const fetchInput = (target: string, headers: Record<string, string> = { Authorization: `Bearer ${token}` }) => fetch(`${h.url}${target}`, { headers });

    it("gives the job's agent a file its client sent inline, with the job's token only", async () => {
      await h.inputs.write('j1', 'dem', Readable.from([Buffer.from('GeoTIFF bytes')]), LIMIT);
      const response = await fetchInput('/inputs/j1/dem');
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.equal('application/octet-stream');
      expect(await response.text()).to.equal('GeoTIFF bytes');
      const refused = await fetchInput('/inputs/j1/dem', { Authorization: `Bearer ${h.issueUploadToken('done')}` });
      expect(refused.status).to.equal(403);
      expect((await problemOf(refused)).detail).to.equal("the upload token is not valid for job 'j1'");
    });

    it('answers 404 for an input that was not sent inline', async () => {
      const response = await fetchInput('/inputs/j1/other');
      expect(response.status).to.equal(404);
      expect((await problemOf(response)).detail).to.equal("job 'j1' has no file input 'other' sent inline");
    });
  });
});

describe('UploadTokens', () => {
  it('keeps only a hash, written with the dispatch, which still matches after the database is opened again', async () => {
    const temp = await openTempDatabase();
    try {
      temp.db.exec(`INSERT INTO jobs (id, process_id, status, owner, inputs, execution, created, updated)
                    VALUES ('j1', 'p', 'accepted', 'o', '{}', '{}', 'now', 'now')`);
      const token = newUploadToken();
      await new SqliteJobStore(temp.db).assign('j1', AGENT, tokenDigest(token));
      expect(token).to.match(/^[A-Za-z0-9_-]{43}$/);
      const stored = temp.db.prepare('SELECT upload_token_hash FROM jobs').pluck().get() as Buffer;
      expect(stored.toString('hex')).to.equal(sha256(token));
      temp.db.close();
      const reopened = openDatabase(temp.file);
      const tokens = new UploadTokens(reopened);
      expect([tokens.matches('j1', token), tokens.matches('j1', `${token}x`), tokens.matches('j2', token)]).to.deep.equal([true, false, false]);
      reopened.close();
    } finally {
      await temp.dispose();
    }
  });
});
