import { expect } from 'chai';
import type { Link } from '../../src/http/links.js';
import { at, jobRecord, problemOf, spec, startHarness, type Harness } from '../helpers/http-harness.js';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const HOSTILE = '<script>alert("x")</script>';

const hostile = spec('hostile', {
  title: HOSTILE,
  description: `<img src=x onerror="alert(1)"> & more`,
  inputs: {
    mode: { type: 'string', enum: ['fast', 'slow'], default: 'slow', required: true, title: '<b>mode</b>' },
    count: { type: 'integer', minimum: 1, maximum: 9, default: 3 },
    name: { type: 'string' },
    loud: { type: 'boolean', required: false },
    bands: { type: 'integer', maxOccurs: 3, default: [1, 2], required: false },
    aoi: { type: 'bbox', required: true },
    dem: { type: 'file', mediaTypes: ['image/tiff', 'image/png'] },
  },
  outputs: { report: { type: 'file', mediaType: 'image/png' }, shade: { type: 'file', formats: ['image/png', 'image/tiff'] }, summary: { type: 'json' } },
});

const page = (h: Harness, path: string, headers: Record<string, string> = { Accept: BROWSER_ACCEPT }) => fetch(`${h.url}${path}`, { headers });

describe('HTML pages', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness([hostile]);
    h.jobs.create(
      jobRecord('j1', {
        processId: 'hostile',
        status: 'successful',
        created: at(0),
        started: at(1),
        finished: at(3),
        updated: at(3),
        progress: 100,
        results: { report: { href: '/jobs/j1/results/report', mediaType: 'image/png', size: 1234 } },
      }),
    );
    h.jobs.create(jobRecord('j2', { status: 'failed', created: at(5), updated: at(6), error: { code: 'exit', message: `exited with 3: ${HOSTILE}` } }));
  });
  afterEach(() => h.close());

  describe('content negotiation', () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      ['/', { Accept: BROWSER_ACCEPT }, /^text\/html/],
      ['/', { Accept: 'text/html' }, /^text\/html/],
      ['/', { Accept: '*/*' }, /^application\/json/],
      ['/', {}, /^application\/json/],
      ['/', { Accept: 'application/json' }, /^application\/json/],
      ['/?f=html', { Accept: 'application/json' }, /^text\/html/],
      ['/?f=json', { Accept: BROWSER_ACCEPT }, /^application\/json/],
      ['/conformance', { Accept: BROWSER_ACCEPT }, /^text\/html/],
      ['/processes', { Accept: BROWSER_ACCEPT }, /^text\/html/],
      ['/processes/hostile', { Accept: BROWSER_ACCEPT }, /^text\/html/],
      ['/api', { Accept: BROWSER_ACCEPT }, /^application\/vnd\.oai\.openapi\+json/],
    ];
    for (const [path, headers, type] of cases) {
      it(`answers ${path} with ${JSON.stringify(headers)} as ${type.source}`, async () => {
        const response = await page(h, path, headers);
        expect(response.status).to.equal(200);
        expect(response.headers.get('content-type')).to.match(type);
      });
    }

    it('serves the job pages to a request with a token', async () => {
      for (const path of ['/jobs', '/jobs/j1', '/jobs/j1/results']) {
        const response = await h.api(`${h.url}${path}`, { headers: { Accept: BROWSER_ACCEPT } });
        expect(response.status, path).to.equal(200);
        expect(response.headers.get('content-type'), path).to.match(/^text\/html/);
      }
    });

    it('refuses other formats in one line', async () => {
      const response = await page(h, '/processes?f=xml', {});
      expect(response.status).to.equal(400);
      expect((await problemOf(response)).detail).to.equal("query parameter 'f' must be 'json' or 'html', got 'xml'");
    });

    it('answers errors as a page to a browser and as JSON to others', async () => {
      const html = await page(h, '/jobs');
      expect(html.status).to.equal(401);
      expect(html.headers.get('content-type')).to.match(/^text\/html/);
      const text = await html.text();
      expect(text).to.include('executing processes and the jobs API need a token');
      expect(text).to.include('id="token-input"');
      const json = await page(h, '/jobs', {});
      expect((await problemOf(json)).status).to.equal(401);
    });
  });

  it('shows agent-supplied text as text, never as markup', async () => {
    for (const path of ['/processes', '/processes/hostile']) {
      const text = await (await page(h, path)).text();
      expect(text, path).to.include('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
      expect(text, path).not.to.include(HOSTILE);
      expect(text, path).not.to.include('<img src=x');
    }
    const failed = await (await h.api(`${h.url}/jobs/j2`, { headers: { Accept: BROWSER_ACCEPT } })).text();
    expect(failed).to.include('exited with 3: &lt;script&gt;');
    expect(failed).not.to.include(HOSTILE);
  });

  it('sends every page and its assets under a strict Content-Security-Policy, with no inline script or style', async () => {
    for (const path of ['/', '/conformance', '/processes', '/processes/hostile', '/jobs', '/nowhere']) {
      const response = await page(h, path);
      const policy = response.headers.get('content-security-policy') ?? '';
      expect(policy, path).to.include("default-src 'none'");
      expect(policy, path).to.include("script-src 'self'");
      expect(policy, path).to.include("style-src 'self'");
      expect(policy, path).to.include("connect-src 'self'");
      const text = await response.text();
      expect(text, path).not.to.match(/<script(?![^>]*\bsrc=)[^>]*>|<style|<[a-z][^>]*\s(style|on\w+)=/i);
    }
    for (const file of ['site.js', 'site.css', 'job-page.js', 'execute-form.js', 'job-list.js', 'favicon.svg']) {
      expect((await fetch(`${h.url}/assets/${file}`)).status, file).to.equal(200);
    }
    const missing = await fetch(`${h.url}/assets/..%2Fpackage.json`);
    expect((await problemOf(missing)).detail).to.equal("no such file of the HTML pages: '../package.json'");
  });

  it('names each page once in its title, the landing page as Outpost alone', async () => {
    const title = async (path: string) => /<title>([^<]*)<\/title>/.exec(await (await fetch(`${h.url}${path}?f=html`)).text())?.[1];
    expect(await title('/')).to.equal('Outpost');
    expect(await title('/conformance')).to.match(/^[^·]+ · Outpost$/);
  });

  it('links each JSON document to its page and each page to its JSON document', async () => {
    const alternates = async (path: string) => {
      const body = (await (await h.api(`${h.url}${path}`)).json()) as { links: Link[] };
      return body.links.filter((l) => l.rel === 'alternate');
    };
    expect(await alternates('/')).to.deep.equal([{ href: `${h.url}/?f=html`, rel: 'alternate', type: 'text/html', title: 'this document as HTML' }]);
    expect((await alternates('/conformance'))[0]?.href).to.equal(`${h.url}/conformance?f=html`);
    expect((await alternates('/processes?limit=5'))[0]?.href).to.equal(`${h.url}/processes?limit=5&f=html`);
    expect((await alternates('/processes/hostile'))[0]?.href).to.equal(`${h.url}/processes/hostile?f=html`);
    expect((await alternates('/jobs?status=failed'))[0]?.href).to.equal(`${h.url}/jobs?status=failed&f=html`);
    expect((await alternates('/jobs/j1'))[0]?.href).to.equal(`${h.url}/jobs/j1?f=html`);
    const results = await h.api(`${h.url}/jobs/j1/results`);
    expect(results.headers.get('link')).to.equal(`<${h.url}/jobs/j1/results?f=html>; rel="alternate"; type="text/html"`);

    const html = await (await page(h, '/processes?limit=5')).text();
    expect(html).to.include(`<link rel="alternate" type="application/json" href="${h.url}/processes?limit=5&amp;f=json">`);
  });

  it('documents f and the pages in the API definition', async () => {
    const api = (await (await fetch(`${h.url}/api`)).json()) as { paths: Record<string, any>; components: { parameters: Record<string, any> } };
    expect(api.components.parameters['f'].schema.enum).to.deep.equal(['json', 'html']);
    for (const path of ['/', '/conformance', '/processes', '/processes/{processId}', '/jobs', '/jobs/{jobId}', '/jobs/{jobId}/results']) {
      expect(api.paths[path].get.responses['200'].content, path).to.have.property('text/html');
    }
    expect(api.paths['/assets/{file}'].get.security).to.deep.equal([]);
  });

  it('declares the html conformance class', async () => {
    const body = (await (await fetch(`${h.url}/conformance`)).json()) as { conformsTo: string[] };
    expect(body.conformsTo).to.include('http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/html');
  });

  it('makes a form of the input schemas: enum as select, defaults filled in, required marked', async () => {
    const html = await (await page(h, '/processes/hostile')).text();
    expect(html).to.match(/<select id="input-mode" data-input="mode" data-type="string" required>/);
    expect(html).to.include('<option value="slow" selected>slow</option>');
    expect(html).to.include('&lt;b&gt;mode&lt;/b&gt; <span class="required" title="required">*</span>');
    expect(html).to.match(/<input type="number" id="input-count" data-input="count" data-type="integer" step="1" min="1" max="9" value="3">/);
    expect(html).to.match(/<input type="text" id="input-name" data-input="name" data-type="string" maxlength="16384" required>/);
    expect(html).to.match(/<select id="input-loud" data-input="loud" data-type="boolean">\s*<option value="">\(not set\)<\/option>/);
  });

  it('takes array and bounding box inputs as JSON text, with the default filled in', async () => {
    const html = await (await page(h, '/processes/hostile')).text();
    expect(html).to.include('<textarea id="input-bands" data-input="bands" data-type="json" rows="2" placeholder="a JSON array, e.g. [&quot;a&quot;, &quot;b&quot;]">[1,2]</textarea>');
    expect(html).to.include('<textarea id="input-aoi" data-input="aoi" data-type="json" rows="2" placeholder="{&quot;bbox&quot;: [minx, miny, maxx, maxy]}" required></textarea>');
    expect(html).to.include('<td>[1,2]</td>');
  });

  it('asks for a file input by URL, and lists the media types it accepts', async () => {
    const html = await (await page(h, '/processes/hostile')).text();
    expect(html).to.match(/<input type="url" id="input-dem" data-input="dem" data-type="file" placeholder="https:\/\/… \(where the agent fetches the file\)" required>/);
    expect(html).to.include('<td>file: image/tiff | image/png</td>');
  });

  it('names the media types of file outputs, each format of one that offers several', async () => {
    const html = await (await page(h, '/processes/hostile')).text();
    expect(html).to.include('<td><code>report</code></td><td>file: image/png</td>');
    expect(html).to.include('<td><code>shade</code></td><td>file: image/png | image/tiff</td>');
    expect(html).to.include('<td><code>summary</code></td><td>JSON</td>');
  });

  it('shows results with previews that the script loads with the token, and file sizes', async () => {
    const html = await (await h.api(`${h.url}/jobs/j1`, { headers: { Accept: BROWSER_ACCEPT } })).text();
    expect(html).to.include(`data-href="${h.url}/jobs/j1/results/report" data-type="image/png"`);
    expect(html).to.include('Download (1234 bytes)');
    expect(html).to.include('<dt>Ran for</dt><dd id="job-duration">2.0 s</dd>');
    expect(html).not.to.include('id="dismiss"');
  });

  it("shows a failed job's cause, and a dismiss button only while the job runs", async () => {
    const failed = await (await h.api(`${h.url}/jobs/j2`, { headers: { Accept: BROWSER_ACCEPT } })).text();
    expect(failed).to.match(/<dt>Failure<\/dt><dd id="job-message" class="problem">exited with 3: /);
    h.jobs.create(jobRecord('j3', { status: 'running', created: at(7), started: at(7), updated: at(8), progress: 40, message: 'step 4' }));
    const running = await (await h.api(`${h.url}/jobs/j3`, { headers: { Accept: BROWSER_ACCEPT } })).text();
    expect(running).to.include('<progress id="job-progress" max="100" value="40">');
    expect(running).to.include('<button type="button" id="dismiss" class="danger">Dismiss</button>');
    expect(running).to.include(`data-events="${h.url}/jobs/j3/events"`);
  });
});
