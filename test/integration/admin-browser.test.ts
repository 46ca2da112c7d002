import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromiumOrSkip, SCREENSHOTS_DIR, watchConsole, type Browser } from '../helpers/browser.js';
import { eventually, startCluster, type Cluster, type TestAgent } from '../helpers/cluster.js';
import { copyExamples, examplesDir } from '../helpers/examples.js';
import { processesMentioning, waitUntilGone } from '../helpers/process-tree.js';

/** The little of the DOM that the checks run in the page use (the tests compile without the DOM's types). */
interface PageGlobals {
  document: { querySelector(css: string): { textContent: string | null } | null };
}

/** A file name an agent reports as invalid: shown as these characters, never as an element. */
const MARKUP = '<img src=x onerror=alert(1)>';

describe('Admin console in a real browser', function () {
  this.timeout(90_000);
  let browser: Browser;
  let cluster: Cluster;
  let agent: TestAgent;
  let spare: string;
  let servicesDir: string;
  let page: Page;
  let problems: string[];
  /** Every request the page made to the admin API, as `METHOD path?query`. */
  let requests: string[];

  before(async function () {
    browser = await launchChromiumOrSkip(this);
    cluster = await startCluster();
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    await copyExamples(servicesDir, 'slow', 'fail');
    await writeFile(path.join(servicesDir, `${MARKUP}.properties`), 'service = broken\n');
    agent = await cluster.addAgent('console', servicesDir);
    spare = (await cluster.addAccount('spare')).jid;
  });
  after(async () => {
    await browser?.close();
    await cluster?.stop();
    if (servicesDir) await rm(servicesDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    page = await browser.context.newPage();
    problems = watchConsole(page);
    requests = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith('/admin/') && !url.pathname.startsWith('/admin/ui/')) requests.push(`${request.method()} ${url.pathname}${url.search}`);
    });
    page.on('dialog', (dialog) => void dialog.accept());
  });
  afterEach(async () => {
    await page?.close();
    expect(problems, 'console errors and CSP violations').to.deep.equal([]);
  });

  const url = (route: string) => `${cluster.orchestrator.url}${route}`;
  const screenshot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS_DIR, `${name}.png`), fullPage: true });
  const waitForText = (selector: string, pattern: RegExp) =>
    page.waitForFunction(
      ([css, source]) => new RegExp(source!).test((globalThis as unknown as PageGlobals).document.querySelector(css!)?.textContent ?? ''),
      [selector, pattern.source],
      { timeout: 20_000, polling: 50 },
    );
  const signIn = async () => {
    await page.goto(url('/admin/ui/'));
    await page.fill('#token', cluster.adminToken);
    await page.click('#token-form button[type=submit]');
  };
  const execute = async (processId: string, inputs: Record<string, unknown>) => {
    const response = await cluster.api(url(`/processes/${processId}/execution`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      body: JSON.stringify({ inputs }),
    });
    expect(response.status).to.equal(201);
    return ((await response.json()) as { jobID: string }).jobID;
  };

  it('shows the agent online with its load, processes and invalid files, the spare account offline, and the users', async () => {
    await signIn();
    const online = `#agents tr:has(code:text-is("${agent.jid}"))`;
    await page.waitForSelector(`${online} .badge.online`);
    expect(await page.locator(`${online} svg.sparkline polyline.load`).count()).to.equal(1);
    expect(await page.textContent(`${online} td.load`)).to.match(/^0 \/ \d+ slots/);
    const cells = await page.locator(`${online} td`).allTextContents();
    expect(cells[3]).to.include('fail').and.to.include('slow');
    expect(cells[4]).to.equal(`${MARKUP}.properties` + "missing required key 'executable'");
    expect(await page.locator('#agents img').count(), 'agent text is never markup').to.equal(0);
    const offline = `#agents tr:has(code:text-is("${spare}"))`;
    await page.waitForSelector(`${offline}:has-text("provisioned in pool spare; not connected")`);
    expect(await page.textContent(`${offline} .badge`)).to.equal('offline');
    await waitForText('#users', /alice\s*user/);
    expect(await page.textContent('#users')).to.match(/admin\s*admin/);
    await screenshot('admin-console');
  });

  it('moves a running job’s progress bar from events, kills it from the console and its process is gone', async () => {
    await signIn();
    await waitForText('#live', /No job is queued or running/);
    const jobId = await execute('slow', { steps: 40, interval: 0.25 });
    const row = `#live tr[data-job="${jobId}"]`;
    await page.waitForSelector(row);
    const progress = async () => Number(await page.getAttribute(`${row} progress`, 'value'));
    const first = await eventually(async () => ((await progress()) > 0 ? progress() : undefined), 15_000, 'progress shown');
    await eventually(async () => ((await progress()) > first ? true : undefined), 15_000, 'progress moving');
    expect(await page.textContent(`${row} td.message`)).to.match(/^step \d+ of 40$/);
    expect(requests.filter((r) => r.startsWith('GET /admin/jobs?status=accepted')), 'the live jobs are listed once, then followed').to.have.length(1);
    expect(requests).to.include('GET /admin/events');
    await screenshot('admin-console-running');

    const running = await processesMentioning(path.join(examplesDir, 'bin', 'slow.sh'));
    expect(running).to.have.length.greaterThan(0);
    await page.click(`${row} button`);
    await page.waitForSelector(row, { state: 'detached' });
    for (const pid of running) expect(await waitUntilGone(pid, 10_000), `pid ${pid} still running`).to.equal(true);
    expect(requests).to.include(`POST /admin/jobs/${jobId}/kill`);
    const job = (await (await cluster.adminApi(url(`/admin/jobs/${jobId}`))).json()) as { status: string; dismissedBy: string };
    expect(job).to.deep.include({ status: 'dismissed', dismissedBy: 'admin' });
    await waitForText('#status', new RegExp(`Job ${jobId} was killed`));
  });

  it('shows a failed job with the end of its stderr', async () => {
    await signIn();
    await waitForText('#failures', /No job has failed/);
    const jobId = await execute('fail', {});
    const row = `#failures tr:has(code:text-is("${jobId}"))`;
    await page.waitForSelector(row, { timeout: 20_000 });
    expect(await page.textContent(`${row} td.stderr pre`)).to.equal('reading input\nerror: input file is corrupt\n');
    await screenshot('admin-console-failure');
  });
});
