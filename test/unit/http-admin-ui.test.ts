import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ERROR_TYPES } from '../../src/errors.js';
import { ADMIN_UI_CSP } from '../../src/http/admin-ui-routes.js';
import { jobRecord, problemOf, spec, startHarness, type Harness } from '../helpers/http-harness.js';
import { repoRoot } from '../helpers/paths.js';

const UI_DIR = path.join(repoRoot, 'src', 'http', 'admin-ui');

describe('HTTP admin web page', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness([spec('echo')]);
    h.jobs.create(jobRecord('job-secret-1', { agent: 'worker@example.org/a', status: 'running' }));
  });
  afterEach(() => h.close());

  for (const [file, type] of [
    ['', 'text/html; charset=utf-8'],
    ['index.html', 'text/html; charset=utf-8'],
    ['admin.js', 'text/javascript; charset=utf-8'],
    ['dom.js', 'text/javascript; charset=utf-8'],
    ['live-jobs.js', 'text/javascript; charset=utf-8'],
    ['sparkline.js', 'text/javascript; charset=utf-8'],
    ['admin.css', 'text/css; charset=utf-8'],
    ['favicon.svg', 'image/svg+xml'],
  ] as const) {
    it(`serves /admin/ui/${file} without a token, as ${type} under a strict policy`, async () => {
      const response = await fetch(`${h.url}/admin/ui/${file}`);
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.equal(type);
      expect(response.headers.get('content-security-policy')).to.equal(ADMIN_UI_CSP);
      expect(response.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(await response.text()).to.equal(await readFile(path.join(UI_DIR, file || 'index.html'), 'utf8'));
    });
  }

  it('allows only its own scripts, styles and connections', () => {
    expect(ADMIN_UI_CSP.split('; ')).to.include.members([
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ]);
    expect(ADMIN_UI_CSP).not.to.include('unsafe');
  });

  it('holds no data: no agent, job or token in the page, and nothing inline to run', async () => {
    const page = await (await fetch(`${h.url}/admin/ui/`)).text();
    for (const secret of ['worker@example.org', 'job-secret-1', h.adminToken, h.userToken]) expect(page).not.to.include(secret);
    const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map(([, attributes, body]) => [attributes, body])).to.deep.equal([[' type="module" src="admin.js"', '']]);
    expect(page).not.to.match(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('builds no markup from data in its scripts, and follows jobs with the token header rather than EventSource', async () => {
    for (const file of ['admin.js', 'dom.js', 'live-jobs.js', 'sparkline.js']) {
      const script = await readFile(path.join(UI_DIR, file), 'utf8');
      expect(script, file).not.to.match(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function|EventSource|document\.cookie/);
    }
  });

  it('redirects /admin/ui to /admin/ui/, where the relative links of the page work', async () => {
    const response = await fetch(`${h.url}/admin/ui`, { redirect: 'manual' });
    expect(response.status).to.equal(301);
    expect(response.headers.get('location')).to.equal('ui/');
  });

  for (const file of ['secret.txt', '..%2Fadmin-ui-routes.ts', 'admin.JS']) {
    it(`answers 404 for an unknown file (${file})`, async () => {
      const response = await fetch(`${h.url}/admin/ui/${file}`);
      expect(response.status).to.equal(404);
      expect(await problemOf(response)).to.include({
        type: ERROR_TYPES['not-found'],
        detail: `no such file of the admin page: '${decodeURIComponent(file)}'`,
      });
    });
  }

  it('keeps the data routes guarded', async () => {
    const response = await fetch(`${h.url}/admin/agents`);
    expect(response.status).to.equal(401);
    expect((await fetch(`${h.url}/admin/uix`)).status).to.equal(401);
  });
});
