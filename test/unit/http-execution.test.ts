import { expect } from 'chai';
import http from 'node:http';
import { ERROR_TYPES, OutpostError } from '../../src/errors.js';
import { prefersAsync } from '../../src/http/execution-routes.js';
import type { OutputValue } from '../../protocol/index.js';
import { problemOf, spec, startHarness, type Harness } from '../helpers/http-harness.js';
import { TEST_USER } from '../helpers/api.js';

const echo = spec('echo', {
  inputs: { message: { type: 'string' } },
  outputs: { message: { type: 'string' } },
});
const multi = spec('multi', {
  outputs: { text: { type: 'string' }, data: { type: 'json' }, report: { type: 'file', mediaType: 'text/csv' } },
});
const files = spec('files', { outputs: { report: { type: 'file', mediaType: 'text/csv' } } });
const structured = spec('structured', { outputs: { data: { type: 'json' } } });

const report = { href: '/jobs/job-1/outputs/report', mediaType: 'text/csv' };
const RESULTS: Record<string, Record<string, OutputValue>> = {
  multi: { text: { value: 'hello' }, data: { value: { n: 1 } }, report },
  files: { report },
  structured: { data: { value: [1, 2] } },
};

function post(h: Harness, processId: string, body: unknown, headers: Record<string, string> = {}) {
  return h.api(`${h.url}/processes/${processId}/execution`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('HTTP execution', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness([echo, multi, files, structured], { maxBodyBytes: 1000 });
    h.jobService.outcome = (job) => ({
      status: 'successful',
      results: RESULTS[job.processId] ?? { message: { value: job.inputs['message'] } },
    });
  });
  afterEach(() => h.close());

  describe('asynchronously', () => {
    for (const prefer of ['respond-async', 'Respond-Async ', 'wait=10, respond-async', 'handling=lenient,  RESPOND-ASYNC ;x=1']) {
      it(`creates a job and answers 201 for Prefer: ${prefer}`, async () => {
        const response = await post(h, 'echo', { inputs: { message: 'hi' } }, { Prefer: prefer });
        expect(response.status).to.equal(201);
        expect(response.headers.get('location')).to.equal(`${h.url}/jobs/job-1`);
        expect(response.headers.get('preference-applied')).to.equal('respond-async');
        const body = (await response.json()) as Record<string, unknown>;
        expect(body).to.include({ jobID: 'job-1', processID: 'echo', type: 'process', status: 'accepted', progress: 0 });
        expect(h.jobService.submitted).to.deep.equal([
          { processId: 'echo', inputs: { message: 'hi' }, execution: { response: 'raw' }, owner: TEST_USER },
        ]);
      });
    }

    it('reads only the respond-async token of Prefer', () => {
      expect(prefersAsync('')).to.equal(false);
      expect(prefersAsync('respond-asynchronously')).to.equal(false);
      expect(prefersAsync('return=minimal; respond-async')).to.equal(false);
    });
  });

  describe('synchronously', () => {
    it('answers the one value output raw by default, with a Location header', async () => {
      const response = await post(h, 'echo', { inputs: { message: 'hi there' } });
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
      expect(response.headers.get('location')).to.equal(`${h.url}/jobs/job-1`);
      expect(await response.text()).to.equal('hi there');
    });

    it('answers a JSON output raw as application/json', async () => {
      const response = await post(h, 'structured', {});
      expect(response.headers.get('content-type')).to.match(/^application\/json/);
      expect(await response.json()).to.deep.equal([1, 2]);
    });

    it('answers the results document for several outputs, files as links', async () => {
      const response = await post(h, 'multi', {});
      expect(response.status).to.equal(200);
      expect(h.jobService.submitted[0]!.execution).to.deep.equal({ response: 'document' });
      expect(await response.json()).to.deep.equal({
        text: 'hello',
        data: { n: 1 },
        report: { href: `${h.url}/jobs/job-1/outputs/report`, type: 'text/csv' },
      });
    });

    it('answers only the requested outputs', async () => {
      const response = await post(h, 'multi', { outputs: { data: {}, report: { transmissionMode: 'reference' } }, response: 'document' });
      expect(await response.json()).to.have.keys('data', 'report');
    });

    it('answers raw references with 204 and Link headers', async () => {
      const response = await post(h, 'files', { response: 'raw' });
      expect(response.status).to.equal(204);
      expect(response.headers.get('link')).to.equal(`<${h.url}/jobs/job-1/outputs/report>; rel="enclosure"; title="report"; type="text/csv"`);
    });

    it('answers a file output by default with the results document', async () => {
      const response = await post(h, 'files', {});
      expect(response.status).to.equal(200);
      expect(await response.json()).to.have.keys('report');
    });

    it('refuses raw with several outputs sent by value', async () => {
      const response = await post(h, 'multi', { response: 'raw' });
      expect(response.status).to.equal(400);
      expect((await problemOf(response)).detail).to.match(/^'response' 'raw' with several outputs \(text, data, report\) would need multipart\/related/);
      expect(h.jobService.submitted).to.deep.equal([]);
    });

    it('answers a failed run with the failure, as 500 job-failed', async () => {
      h.jobService.outcome = () => ({ status: 'failed', error: { code: 'exit', message: 'exited with code 3', exitCode: 3 } });
      const response = await post(h, 'echo', { inputs: { message: 'x' } });
      expect(response.status).to.equal(500);
      expect(response.headers.get('location')).to.equal(`${h.url}/jobs/job-1`);
      expect(await problemOf(response)).to.deep.equal({
        type: ERROR_TYPES['job-failed'],
        title: 'Job failed',
        status: 500,
        detail: "job 'job-1' failed (exit): exited with code 3",
        jobID: 'job-1',
        failure: { code: 'exit', exitCode: 3 },
      });
    });

    it('answers inputs the agent refused as 400 invalid-input', async () => {
      h.jobService.outcome = () => ({ status: 'failed', error: { code: 'invalid-inputs', message: "'message' is too long" } });
      const response = await post(h, 'echo', { inputs: { message: 'x' } });
      expect(response.status).to.equal(400);
      expect((await problemOf(response)).type).to.equal(ERROR_TYPES['invalid-input']);
    });

    it('answers a job dismissed while waiting with 410', async () => {
      h.jobService.outcome = () => ({ status: 'dismissed', dismissedBy: 'admin' });
      const response = await post(h, 'echo', { inputs: { message: 'x' } });
      expect(response.status).to.equal(410);
      expect(await problemOf(response)).to.include({ type: ERROR_TYPES['job-dismissed'], detail: "job 'job-1' was dismissed before it finished" });
    });

    it('stops waiting when the client goes away, leaving the job alone', async () => {
      h.jobService.outcome = () => undefined;
      const request = http.request(`${h.url}/processes/echo/execution`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${h.userToken}` },
      });
      request.on('error', () => {});
      request.end(JSON.stringify({ inputs: { message: 'x' } }));
      while (!h.jobs.get('job-1')) await new Promise((resolve) => setTimeout(resolve, 5));
      request.destroy();
      while (h.jobService.abandoned.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(h.jobService.abandoned).to.deep.equal(['job-1']);
      expect(h.jobs.get('job-1')!.status).to.equal('accepted');
      expect(h.logs).to.deep.equal([]);
    });
  });

  describe('errors', () => {
    async function expectProblem(response: Response, status: number, code: keyof typeof ERROR_TYPES, detail: string | RegExp) {
      expect(response.status).to.equal(status);
      const problem = await problemOf(response);
      expect(problem.type).to.equal(ERROR_TYPES[code]);
      if (typeof detail === 'string') expect(problem.detail).to.equal(detail);
      else expect(problem.detail).to.match(detail);
    }

    it('reports an unknown process before looking at the body', async () => {
      await expectProblem(await post(h, 'nope', '{oops'), 404, 'no-such-process', "process 'nope' is not offered by any agent");
    });

    it('refuses a body that is not JSON', async () => {
      await expectProblem(await post(h, 'echo', '{"inputs": '), 400, 'bad-request', /^request body is not valid JSON: /);
    });

    it('refuses a body nested deeper than the limit before using it', async () => {
      const body = `{"inputs": {"message": {"value": ${'['.repeat(40)}${']'.repeat(40)}}}}`;
      await expectProblem(await post(h, 'echo', body), 400, 'bad-request', 'request body nests objects and arrays deeper than 32 levels');
    });

    for (const [body, detail] of [
      ['[1, 2]', 'request body must be a JSON object (an OGC execute request), got an array'],
      ['"text"', 'request body must be a JSON object (an OGC execute request), got a string'],
      ['null', 'request body must be a JSON object (an OGC execute request), got null'],
      ['{"inputs": [1]}', "'inputs' must be a JSON object"],
      ['{"response": "pdf"}', "'response' must be one of 'document', 'raw'"],
      ['{"input": {}}', "the execute request has an unknown member 'input'; it may have inputs, outputs, response and subscriber"],
      ['{"outputs": {"message": {"transmissionMode": "smoke"}}}', "'outputs.message.transmissionMode' must be one of 'value', 'reference'"],
      ['{"outputs": {"nope": {}}}', "'outputs' names 'nope', which process 'echo' does not have; its outputs are: message"],
      ['{"subscriber": {"successUri": "not a uri"}}', "'subscriber.successUri' must be an absolute URI"],
    ]) {
      it(`refuses ${body}`, async () => {
        await expectProblem(await post(h, 'echo', body!), 400, 'bad-request', detail!);
        expect(h.jobService.submitted).to.deep.equal([]);
      });
    }

    it('passes the job service refusing inputs on to the client', async () => {
      h.jobService.submitError = new OutpostError('invalid-input', 400, "input 'message' is required");
      await expectProblem(await post(h, 'echo', {}), 400, 'invalid-input', "input 'message' is required");
    });

    it('takes a request without a body as an empty execute request', async () => {
      const response = await h.api(`${h.url}/processes/echo/execution`, { method: 'POST', headers: { Prefer: 'respond-async' } });
      expect(response.status).to.equal(201);
      expect(h.jobService.submitted[0]!.inputs).to.deep.equal({});
    });

    it('refuses an oversized body with 413', async () => {
      const big = JSON.stringify({ inputs: { message: 'x'.repeat(2000) } });
      await expectProblem(await post(h, 'echo', big), 413, 'payload-too-large', 'request body is larger than the limit of 1000 bytes');
    });

    it('refuses a body of another media type with 415', async () => {
      const response = await post(h, 'echo', 'message=hi', { 'Content-Type': 'application/x-www-form-urlencoded' });
      await expectProblem(response, 415, 'unsupported-media-type', 'request body must be application/json, got Content-Type application/x-www-form-urlencoded');
    });

    it('accepts +json media types', async () => {
      const response = await post(h, 'echo', { inputs: { message: 'x' } }, { 'Content-Type': 'application/vnd.ogc+json; charset=utf-8' });
      expect(response.status).to.equal(200);
    });

    it('hides unexpected errors behind a generic 500 and logs them', async () => {
      h.jobService.submitError = new Error('database exploded at /secret/path');
      const response = await post(h, 'echo', {});
      expect(response.status).to.equal(500);
      const problem = await problemOf(response);
      expect(problem).to.deep.equal({
        type: ERROR_TYPES.internal,
        title: 'Internal error',
        status: 500,
        detail: 'the server could not complete the request; the error has been logged',
      });
      expect(h.logs).to.have.length(1);
      expect(h.logs[0]).to.deep.include({ msg: 'request failed', method: 'POST', path: '/processes/echo/execution' });
      expect((h.logs[0]!['err'] as { message: string }).message).to.equal('database exploded at /secret/path');
    });
  });
});
