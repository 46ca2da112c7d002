import { expect } from 'chai';
import { decodeAgentMessage } from '../../protocol/index.js';
import { jobRecord, spec, startHarness, type Harness } from '../helpers/http-harness.js';

describe('raw values made by programs', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness([
      spec('page', { outputs: { html: { type: 'string', mediaType: 'text/html' } } }),
      spec('echo', { outputs: { message: { type: 'string' } } }),
    ]);
  });
  afterEach(() => h.close());

  const seed = (id: string, processId: string, results: Record<string, { value: unknown }>) =>
    h.jobs.create(jobRecord(id, { processId, status: 'successful', execution: { response: 'raw' }, results }));

  it('sends HTML a program made as a sandboxed, unsniffed attachment, never as a page of this site', async () => {
    seed('p1', 'page', { html: { value: '<script>alert(1)</script>' } });
    for (const route of ['/jobs/p1/results', '/jobs/p1/results/html']) {
      const response = await h.api(`${h.url}${route}`);
      expect(response.status, route).to.equal(200);
      expect(response.headers.get('content-type'), route).to.match(/^text\/html/);
      expect(response.headers.get('content-disposition'), route).to.equal('attachment; filename="html.html"');
      expect(response.headers.get('content-security-policy'), route).to.equal('sandbox');
      expect(response.headers.get('x-content-type-options'), route).to.equal('nosniff');
    }
  });

  it('shows plain text inline, still sandboxed', async () => {
    seed('e1', 'echo', { message: { value: 'hello' } });
    const response = await h.api(`${h.url}/jobs/e1/results`);
    expect(await response.text()).to.equal('hello');
    expect(response.headers.get('content-disposition')).to.equal(null);
    expect(response.headers.get('content-security-policy')).to.equal('sandbox');
  });

  it('serves the outputs an agent reported, declared or not, and answers 404 for a declared one it left out', async () => {
    h.jobs.create(jobRecord('e2', { processId: 'echo', status: 'successful', execution: { response: 'document' }, results: { extra: { value: 'not declared' } } }));
    expect(await (await h.api(`${h.url}/jobs/e2/results`)).json()).to.deep.equal({ extra: 'not declared' });
    const extra = await h.api(`${h.url}/jobs/e2/results/extra`);
    expect([extra.headers.get('content-type'), await extra.text()]).to.deep.equal(['text/plain; charset=utf-8', 'not declared']);
    const missing = await h.api(`${h.url}/jobs/e2/results/message`);
    expect(missing.status).to.equal(404);
    expect(((await missing.json()) as { detail: string }).detail).to.equal("job 'e2' has no output 'message'");
  });

  it('refuses, on the wire, a media type that could break a header', () => {
    const body = (mediaType: string) => JSON.stringify({ v: 1, type: 'completed', job: 'j', seq: 2, outputs: { map: { href: '/jobs/j/results/map', mediaType } } });
    expect(decodeAgentMessage(body('image/tiff')).ok).to.equal(true);
    // The output value is a union (value or reference); a refused reference leaves no branch that fits.
    expect(decodeAgentMessage(body('text/html"; x="')).ok).to.equal(false);
    expect(decodeAgentMessage(body('a/b\r\nSet-Cookie: x=1')).ok).to.equal(false);
  });
});
