import { expect } from 'chai';
import fc from 'fast-check';
import { HOSTILE_KEYS, expectOneLine, fuzzEdge, StoreWatch, watchUnhandledRejections, scaledTimeout } from '../helpers/fuzz.js';
import { TYPED_INPUTS, executeDocuments } from '../helpers/fuzz-inputs.js';
import { jobRecord, problemOf, spec, startHarness, type Harness } from '../helpers/http-harness.js';
import { TEST_USER } from '../helpers/api.js';

const PROCESSES = [spec('typed', { inputs: TYPED_INPUTS }), spec('bare')];

/** The GET routes that list or look up, each asked with generated query strings. */
const QUERY_ROUTES = [
  '/processes',
  '/processes/typed',
  '/jobs',
  '/jobs/seeded-1',
  '/jobs/seeded-1/results',
  '/jobs/seeded-1/results/result',
  '/admin/jobs',
  '/admin/jobs/seeded-1',
  '/admin/agents',
  '/admin/processes',
  '/admin/users',
  `/admin/users/${TEST_USER}/tokens`,
  `/admin/users/${TEST_USER}/limits`,
  '/admin/agent-accounts',
];
const QUERY_NAMES = ['limit', 'offset', 'status', 'processID', 'type', 'datetime', 'minDuration', 'maxDuration', 'owner', 'agent', 'pool', 'f', 'user', 'jid'];
const QUERY_VALUES = ['0', '-1', '1e3', '10000001', 'NaN', 'accepted', 'running,failed', 'html', 'json', '../..', '2024-05-01T12:00:00Z/..', '../2024-13-45', '%', '%E0%A4%A', '%00', '\u0000', '😀'];

/** A query string: known and hostile names, repeated names, values of every kind, broken escapes. */
function queryStrings(): fc.Arbitrary<string> {
  const name = fc.oneof(fc.constantFrom(...QUERY_NAMES), fc.constantFrom(...HOSTILE_KEYS, '__proto__[x]', 'a[]', 'limit[]'));
  const value = fc.oneof(fc.constantFrom(...QUERY_VALUES), fc.string({ unit: 'binary', maxLength: 12 }), fc.integer().map(String));
  const escape = (text: string) => encodeURIComponent(text.replace(/\p{Cs}/gu, '\ufffd'));
  const pair = fc.tuple(name, value, fc.boolean()).map(([n, v, raw]) => (raw ? `${n}=${v}` : `${escape(n)}=${escape(v)}`));
  // Whatever is left outside printable ASCII is sent as its UTF-8 bytes, escaped, as a browser would.
  const escapeBytes = (c: string) => [...Buffer.from(c)].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
  return fc.array(pair, { maxLength: 5 }).map((pairs) => pairs.join('&').replace(/[^\x21-\x7e]/gu, escapeBytes));
}

/**
 * What a client may send to an execution endpoint: the body (text, or bytes in base64 when
 * `binary`, so that a kept case stays JSON), and how it is labelled.
 */
function executeRequests() {
  const text = fc.oneof(
    { arbitrary: executeDocuments().map((document) => JSON.stringify(document) ?? ''), weight: 4 },
    fc.constantFrom('', '{', '{"inputs":', '[]', 'null', '1e999', '"\\ud800"', `{"inputs":{"string":"${'a'.repeat(200_000)}"}}`),
  );
  const bytes = fc.uint8Array({ maxLength: 64 }).map((raw) => Buffer.from(raw).toString('base64'));
  return fc.record({
    payload: fc.oneof({ arbitrary: text.map((body) => ({ binary: false, body })), weight: 5 }, bytes.map((body) => ({ binary: true, body }))),
    processId: fc.oneof({ arbitrary: fc.constantFrom('typed', 'bare'), weight: 9 }, fc.constantFrom('missing', '..', '%2e%2e', 'typed%00', '__proto__', 'a%2Fb')),
    contentType: fc.oneof(
      { arbitrary: fc.constant('application/json'), weight: 9 },
      fc.constantFrom('application/json; charset=utf-8', 'application/geo+json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', ''),
    ),
    prefer: fc.constantFrom('', 'respond-async', 'wait=1', 'respond-async, wait=1000000000'),
  });
}

describe('fuzz: HTTP edges', function () {
  this.timeout(scaledTimeout(20_000));
  const rejections = watchUnhandledRejections();
  let h: Harness;
  let store: StoreWatch;

  before(async () => {
    h = await startHarness(PROCESSES, { maxBodyBytes: 100_000 });
    h.jobs.create(jobRecord('seeded-1', { processId: 'typed', status: 'successful', results: { result: { value: 'x' } } }));
    h.jobs.create(jobRecord('seeded-2', { processId: 'bare', status: 'running', agent: 'worker@example.org/a' }));
    store = new StoreWatch(h.databaseFile);
  });
  after(async () => {
    store.close();
    await h.close();
  });
  afterEach(() => rejections.check());

  /** Fails on a 5xx, and on a refusal that is not an OGC exception with a one-line detail (or an HTML page, when asked for). */
  async function expectAnswered(response: Response, what: string): Promise<void> {
    if (response.status >= 500) throw new Error(`${what} answered ${response.status}: ${await response.text()}`);
    if (response.status < 400) return void (await response.arrayBuffer());
    if (!response.headers.get('content-type')?.startsWith('text/html')) return expectOneLine((await problemOf(response)).detail, `the detail of ${what}`);
    if ((await response.text()).includes('    at ')) throw new Error(`${what} answered a page with a stack trace`);
  }

  it('execute: answers every body without a 5xx; a refused one stores nothing', async () => {
    await fuzzEdge(
      'http-execute',
      { runs: 1500, timeMs: 6000 },
      fc.asyncProperty(executeRequests(), async ({ processId, payload: { binary, body }, contentType, prefer }) => {
        store.written();
        const headers: Record<string, string> = contentType ? { 'Content-Type': contentType } : {};
        if (prefer) headers['Prefer'] = prefer;
        const response = await h.api(`${h.url}/processes/${processId}/execution`, { method: 'POST', headers, body: binary ? Buffer.from(body, 'base64') : body });
        const status = response.status;
        await expectAnswered(response, 'the execute request');
        if (status >= 400 && store.written()) throw new Error(`a refused request (${status}) changed the store`);
      }),
    );
  });

  it('queries: every list and lookup answers any query string without a 5xx, changing nothing', async () => {
    const registry = JSON.stringify(h.registry.agents());
    const before = store.contents();
    store.written();
    await fuzzEdge(
      'http-query',
      { runs: 2000, timeMs: 4000 },
      fc.asyncProperty(fc.constantFrom(...QUERY_ROUTES), queryStrings(), fc.boolean(), async (route, query, asAdmin) => {
        const response = await (asAdmin ? h.adminApi : h.api)(`${h.url}${route}?${query}`);
        await expectAnswered(response, `GET ${route}?${query}`);
        if (store.written()) throw new Error(`GET ${route}?${query} changed the store`);
      }),
    );
    expect(store.contents()).to.deep.equal(before);
    expect(JSON.stringify(h.registry.agents())).to.equal(registry);
  });
});
