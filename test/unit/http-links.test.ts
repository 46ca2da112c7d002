import { expect } from 'chai';
import http from 'node:http';
import { spec, startHarness, type Harness } from '../helpers/http-harness.js';

/** A request with a Host header of our choosing, which fetch does not let us set. */
function request(url: string, init: { method?: string; host: string; headers?: Record<string, string> }): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: { ...init.headers, Host: init.host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, ...(res.headers.location ? { location: res.headers.location } : {}), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP link origin', () => {
  let h: Harness;
  afterEach(() => h.close());

  const execute = (host: string) =>
    request(`${h.url}/processes/echo/execution`, { method: 'POST', host, headers: { Authorization: `Bearer ${h.userToken}`, Prefer: 'respond-async' } });
  const selfHref = async (host: string) => (JSON.parse((await request(`${h.url}/processes`, { host })).body) as { links: { rel: string; href: string }[] }).links.find((l) => l.rel === 'self')!.href;

  it('builds links on the listen address, whatever Host the client sends', async () => {
    h = await startHarness([spec('echo')]);
    const created = await execute('evil.example');
    expect(created.status).to.equal(201);
    expect(created.location).to.equal(`${h.url}/jobs/job-1`);
    expect(await selfHref('evil.example:8080')).to.equal(`${h.url}/processes`);
    expect(await selfHref('localhost')).to.equal(`${h.url}/processes`);
  });

  it('builds links on the request origin when its host is listed, with or without a listed port', async () => {
    h = await startHarness([spec('echo')], { publicHosts: ['outpost.example.org', '10.0.0.5:8080'] });
    expect((await execute('Outpost.Example.org:8443')).location).to.equal('http://outpost.example.org:8443/jobs/job-1');
    expect(await selfHref('outpost.example.org')).to.equal('http://outpost.example.org/processes');
    expect(await selfHref('10.0.0.5:8080')).to.equal('http://10.0.0.5:8080/processes');
    expect(await selfHref('10.0.0.5:9090')).to.equal(`${h.url}/processes`);
    expect(await selfHref('evil.outpost.example.org')).to.equal(`${h.url}/processes`);
  });

  it('prefers the configured public URL to both', async () => {
    h = await startHarness([spec('echo')], { baseUrl: 'https://outpost.example.org/api', publicHosts: ['10.0.0.5'] });
    expect(await selfHref('10.0.0.5')).to.equal('https://outpost.example.org/api/processes');
    expect((await execute('evil.example')).location).to.equal('https://outpost.example.org/api/jobs/job-1');
  });
});
