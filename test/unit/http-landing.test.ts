import { expect } from 'chai';
import type { Link } from '../../src/http/links.js';
import { ERROR_TYPES } from '../../src/errors.js';
import { routeClass } from '../../src/http/auth.js';
import { apiRouter } from '../../src/http/create-app.js';
import { problemOf, spec, startHarness, type Harness } from '../helpers/http-harness.js';

const CONF = 'http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf';

const echo = spec('echo', {
  title: 'Echo',
  inputs: {
    message: { type: 'string', description: 'what to echo', maxLength: 100 },
    pause: { type: 'number', minimum: 0, default: 0 },
  },
  outputs: { message: { type: 'string' }, report: { type: 'file', mediaType: 'text/csv' } },
});

describe('HTTP landing page, conformance, API definition and probes', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness([echo]);
  });
  afterEach(() => h.close());

  it('links the landing page to everything with the right relations and types', async () => {
    const response = await fetch(`${h.url}/`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^application\/json/);
    const body = (await response.json()) as { title: string; links: Link[] };
    expect(body.title).to.equal('Outpost');
    const byRel = Object.fromEntries(body.links.map((l) => [l.rel, l]));
    expect(byRel['self']).to.include({ href: `${h.url}/`, type: 'application/json' });
    expect(byRel['service-desc']).to.include({ href: `${h.url}/api`, type: 'application/vnd.oai.openapi+json;version=3.0' });
    expect(byRel['service-doc']).to.include({ href: `${h.url}/api.html`, type: 'text/html' });
    expect(byRel['http://www.opengis.net/def/rel/ogc/1.0/conformance']?.href).to.equal(`${h.url}/conformance`);
    expect(byRel['http://www.opengis.net/def/rel/ogc/1.0/processes']?.href).to.equal(`${h.url}/processes`);
    expect(byRel['http://www.opengis.net/def/rel/ogc/1.0/job-list']?.href).to.equal(`${h.url}/jobs`);
  });

  it('builds links from the configured base URL when there is one', async () => {
    await h.close();
    h = await startHarness([echo], { baseUrl: 'https://example.org/outpost/' });
    const body = (await (await fetch(`${h.url}/?f=json`)).json()) as { links: Link[] };
    expect(body.links.find((l) => l.rel === 'self')?.href).to.equal('https://example.org/outpost/?f=json');
    expect(body.links.find((l) => l.rel === 'service-desc')?.href).to.equal('https://example.org/outpost/api');
  });

  it('refuses formats other than JSON and HTML', async () => {
    const response = await fetch(`${h.url}/processes?f=xml`);
    expect(response.status).to.equal(400);
    const problem = await problemOf(response);
    expect(problem.type).to.equal(ERROR_TYPES['invalid-parameter']);
    expect(problem.detail).to.equal("query parameter 'f' must be 'json' or 'html', got 'xml'");
  });

  it('declares the conformance classes', async () => {
    const body = (await (await fetch(`${h.url}/conformance`)).json()) as { conformsTo: string[] };
    expect(body.conformsTo).to.have.members(
      ['core', 'ogc-process-description', 'json', 'html', 'oas30', 'job-list', 'dismiss', 'callback'].map((c) => `${CONF}/${c}`),
    );
  });

  it('answers the probes', async () => {
    const health = await fetch(`${h.url}/healthz`);
    expect(health.status).to.equal(200);
    expect(await health.json()).to.deep.equal({ status: 'ok' });
    expect((await fetch(`${h.url}/readyz`)).status).to.equal(200);
    h.ready = false;
    const notReady = await fetch(`${h.url}/readyz`);
    expect(notReady.status).to.equal(503);
    expect(await notReady.json()).to.deep.equal({ status: 'unavailable' });
  });

  it('serves an OpenAPI 3.0 definition covering the routes and each offered process', async () => {
    const response = await fetch(`${h.url}/api`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('application/vnd.oai.openapi+json;version=3.0');
    const api = (await response.json()) as {
      openapi: string;
      servers: { url: string }[];
      paths: Record<string, Record<string, any>>;
      security: Record<string, string[]>[];
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    };
    expect(api.openapi).to.equal('3.0.3');
    expect(api.servers[0]?.url).to.equal(h.url);
    expect(Object.keys(api.paths)).to.include.members([
      '/',
      '/conformance',
      '/api',
      '/processes',
      '/processes/{processId}',
      '/processes/{processId}/execution',
      '/jobs',
      '/jobs/{jobId}',
      '/jobs/{jobId}/results',
      '/jobs/{jobId}/results/{outputId}',
      '/jobs/{jobId}/events',
      '/processes/echo/execution',
    ]);
    expect(api.paths['/jobs/{jobId}']).to.have.keys('get', 'delete');
    expect(api.components.schemas).to.include.keys('statusInfo', 'jobList', 'exception', 'processList', 'execute', 'results');
    expect(api.security).to.deep.equal([{ bearer: [] }, {}]);
    expect(api.components.securitySchemes['bearer']).to.include({ type: 'http', scheme: 'bearer' });

    const execute = api.paths['/processes/echo/execution']!['post'];
    const inputs = execute.requestBody.content['application/json'].schema.properties.inputs;
    expect(inputs.properties.message).to.deep.equal({ type: 'string', maxLength: 100, description: 'what to echo' });
    expect(inputs.properties.pause).to.deep.equal({ type: 'number', minimum: 0, default: 0 });
    expect(inputs.required).to.deep.equal(['message']);
    const results = execute.responses['200'].content['application/json'].schema;
    const link = { $ref: '#/components/schemas/link' };
    expect(results.properties.message).to.deep.equal({ anyOf: [{ type: 'string' }, link] });
    expect(results.properties.report).to.deep.equal({ anyOf: [{ $ref: '#/components/schemas/qualifiedValue' }, link] });
  });

  it('resolves every $ref of the API definition', async () => {
    const api = (await (await fetch(`${h.url}/api`)).json()) as Record<string, any>;
    const refs = JSON.stringify(api).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const ref of new Set(refs)) {
      const [, section, name] = /#\/components\/(\w+)\/([\w-]+)"/.exec(ref)!;
      expect(api['components'][section!], ref).to.have.property(name!);
    }
  });

  it('documents every route of the router, with its path parameters and the access it needs', async () => {
    const api = (await (await fetch(`${h.url}/api`)).json()) as { paths: Record<string, Record<string, any>>; components: any };
    const resolve = (item: any) => (item.$ref ? api.components.parameters[item.$ref.split('/').pop()] : item);
    const routes = apiRouter(h.deps).stack.flatMap((layer) =>
      layer.methods.filter((m) => m !== 'HEAD').map((method) => [method.toLowerCase(), String(layer.path).replace(/:(\w+)/g, '{$1}')] as const),
    );
    expect(routes.length).to.be.greaterThan(30);
    for (const [method, path] of routes) {
      const operation = api.paths[path]?.[method];
      expect(operation, `${method.toUpperCase()} ${path}`).to.be.an('object');
      const named = (operation.parameters ?? []).map(resolve).filter((p: any) => p.in === 'path').map((p: any) => p.name);
      expect(named, `path parameters of ${method.toUpperCase()} ${path}`).to.have.members([...path.matchAll(/{(\w+)}/g)].map((m) => m[1]));
      const responses = Object.keys(operation.responses);
      switch (routeClass(path)) {
        case 'admin':
          expect(operation.security, path).to.deep.equal([{ bearer: [] }]);
          expect(responses, path).to.include.members(['401', '403']);
          break;
        case 'open':
          expect(operation.security, path).to.deep.equal(/^\/(uploads|inputs)\//.test(path) ? [{ uploadToken: [] }] : []);
          break;
        default:
          expect(operation.security, path).to.equal(undefined);
          expect(responses, path).to.include('401');
      }
    }
    const execute = api.paths['/processes/{processId}/execution']!['post'];
    expect(execute.responses['429']).to.deep.equal({ $ref: '#/components/responses/TooManyRequests' });
    expect(api.components.responses.TooManyRequests.headers).to.have.key('Retry-After');
    expect(api.paths['/processes/echo/execution']!['post'].responses).to.include.keys('401', '429');
    expect(api.components.securitySchemes).to.have.keys('bearer', 'uploadToken');
  });

  it('serves Swagger UI over /api from the installed package, and only its own assets', async () => {
    const page = await fetch(`${h.url}/api.html`);
    expect(page.headers.get('content-type')).to.equal('text/html; charset=utf-8');
    const html = await page.text();
    for (const asset of ['swagger-ui.css', 'swagger-ui-bundle.js', 'init.js']) {
      expect(html).to.include(`/api.html/assets/${asset}`);
      const response = await fetch(`${h.url}/api.html/assets/${asset}`);
      expect(response.status, asset).to.equal(200);
      expect((await response.text()).length, asset).to.be.greaterThan(10);
    }
    expect(await (await fetch(`${h.url}/api.html/assets/init.js`)).text()).to.include("url: '/api'");
    const outside = await fetch(`${h.url}/api.html/assets/package.json`);
    expect(outside.status).to.equal(404);
    expect(((await outside.json()) as { detail: string }).detail).to.equal("no such asset 'package.json'");
  });

  it('answers unknown routes and methods with OGC exceptions', async () => {
    const missing = await fetch(`${h.url}/nowhere`);
    expect(missing.status).to.equal(404);
    const problem = await problemOf(missing);
    expect(problem).to.include({ type: ERROR_TYPES['not-found'], title: 'Not found', detail: 'there is no resource at /nowhere' });

    const wrongMethod = await fetch(`${h.url}/processes`, { method: 'DELETE' });
    expect(wrongMethod.status).to.equal(405);
    expect(wrongMethod.headers.get('allow')).to.include('GET');
    expect((await problemOf(wrongMethod)).detail).to.match(/^method DELETE is not allowed on \/processes; allowed: .*GET/);
  });
});
