import { expect } from 'chai';
import { DEFAULT_MAX_INPUT_LENGTH } from '../../src/jobs/input-schema.js';
import type { Link } from '../../src/http/links.js';
import { ERROR_TYPES } from '../../src/errors.js';
import { problemOf, spec, startHarness, type Harness } from '../helpers/http-harness.js';

interface ProcessList {
  processes: { id: string; links: Link[] }[];
  links: Link[];
}

const echo = spec('echo', {
  title: 'Echo',
  description: 'Says it back',
  keywords: ['demo'],
  version: '2.1.0',
  inputs: { message: { type: 'string', title: 'Message' }, pause: { type: 'number', default: 0 } },
  outputs: {
    message: { type: 'string', title: 'Echoed', description: 'the message again' },
    data: { type: 'json' },
    report: { type: 'file', mediaType: 'text/csv' },
  },
});
const others = ['alpha', 'beta', 'gamma', 'ns:delta'].map((id) => spec(id));

describe('HTTP process list and descriptions', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness([echo, ...others]);
  });
  after(() => h.close());

  it('lists process summaries with links to their descriptions', async () => {
    const response = await fetch(`${h.url}/processes`);
    expect(response.status).to.equal(200);
    const body = (await response.json()) as ProcessList;
    expect(body.processes.map((p) => p.id)).to.deep.equal(['alpha', 'beta', 'echo', 'gamma', 'ns:delta']);
    const summary = body.processes.find((p) => p.id === 'echo');
    expect(summary).to.deep.include({
      id: 'echo',
      title: 'Echo',
      description: 'Says it back',
      keywords: ['demo'],
      version: '2.1.0',
      jobControlOptions: ['sync-execute', 'async-execute', 'dismiss'],
      outputTransmission: ['value', 'reference'],
    });
    expect(summary!.links).to.deep.include({ href: `${h.url}/processes/echo`, rel: 'self', type: 'application/json', title: 'process description' });
    expect(body.links.map((l) => l.rel)).to.deep.equal(['self', 'alternate']);
  });

  it('pages with limit and offset, linking next and previous pages', async () => {
    const first = (await (await fetch(`${h.url}/processes?limit=2`)).json()) as ProcessList;
    expect(first.processes.map((p) => p.id)).to.deep.equal(['alpha', 'beta']);
    const next = first.links.find((l) => l.rel === 'next')!;
    expect(next.href).to.equal(`${h.url}/processes?limit=2&offset=2`);
    expect(first.links.find((l) => l.rel === 'prev')).to.equal(undefined);

    const second = (await (await fetch(next.href)).json()) as ProcessList;
    expect(second.processes.map((p) => p.id)).to.deep.equal(['echo', 'gamma']);
    expect(second.links.find((l) => l.rel === 'prev')?.href).to.equal(`${h.url}/processes?limit=2&offset=0`);

    const last = (await (await fetch(second.links.find((l) => l.rel === 'next')!.href)).json()) as ProcessList;
    expect(last.processes.map((p) => p.id)).to.deep.equal(['ns:delta']);
    expect(last.links.find((l) => l.rel === 'next')).to.equal(undefined);
  });

  for (const [query, detail] of [
    ['limit=0', "query parameter 'limit' must be an integer from 1 to 1000, got '0'"],
    ['limit=1001', "query parameter 'limit' must be an integer from 1 to 1000, got '1001'"],
    ['limit=ten', "query parameter 'limit' must be an integer from 1 to 1000, got 'ten'"],
    ['limit=1.5', "query parameter 'limit' must be an integer from 1 to 1000, got '1.5'"],
    ['limit=2&limit=3', "query parameter 'limit' must be given at most once"],
    ['offset=-1', "query parameter 'offset' must be an integer of at least 0, got '-1'"],
  ]) {
    it(`refuses ${query}`, async () => {
      const response = await fetch(`${h.url}/processes?${query}`);
      expect(response.status).to.equal(400);
      const problem = await problemOf(response);
      expect(problem).to.include({ type: ERROR_TYPES['invalid-parameter'], title: 'Invalid parameter', detail });
    });
  }

  it('describes a process with its inputs and outputs', async () => {
    const response = await fetch(`${h.url}/processes/echo`);
    expect(response.status).to.equal(200);
    const body = (await response.json()) as Record<string, any>;
    expect(body).to.include({ id: 'echo', title: 'Echo', version: '2.1.0' });
    expect(body['jobControlOptions']).to.deep.equal(['sync-execute', 'async-execute', 'dismiss']);
    expect(body['inputs']).to.deep.equal({
      message: { title: 'Message', schema: { type: 'string', maxLength: DEFAULT_MAX_INPUT_LENGTH }, minOccurs: 1, maxOccurs: 1 },
      pause: { title: 'pause', schema: { type: 'number', default: 0 }, minOccurs: 0, maxOccurs: 1 },
    });
    expect(body['outputs']).to.deep.equal({
      message: { title: 'Echoed', description: 'the message again', schema: { type: 'string' } },
      data: { title: 'data', schema: {} },
      report: { title: 'report', schema: { type: 'string', contentMediaType: 'text/csv', contentEncoding: 'binary' } },
    });
    expect(body['links']).to.deep.include({
      href: `${h.url}/processes/echo/execution`,
      rel: 'http://www.opengis.net/def/rel/ogc/1.0/execute',
      type: 'application/json',
      title: 'execute the process',
    });
  });

  it('describes namespaced processes', async () => {
    const body = (await (await fetch(`${h.url}/processes/ns:delta`)).json()) as { id: string };
    expect(body.id).to.equal('ns:delta');
  });

  it('answers an unknown process with no-such-process', async () => {
    const response = await fetch(`${h.url}/processes/nope`);
    expect(response.status).to.equal(404);
    const problem = await problemOf(response);
    expect(problem).to.deep.equal({
      type: 'http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-process',
      title: 'No such process',
      status: 404,
      detail: "process 'nope' is not offered by any agent",
    });
  });
});
