import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromiumOrSkip, SCREENSHOTS_DIR, watchConsole, type Browser } from '../helpers/browser.js';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.js';
import { copyExamples, examplesDir } from '../helpers/examples.js';
import { processesMentioning, waitUntilGone } from '../helpers/process-tree.js';
import { writeProperties, writeScript } from '../helpers/temp-services.js';

/** A 1×1 PNG, a text file and bytes of no known type: one output of each kind of preview. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const REPORT_SCRIPT = `mkdir -p out && echo '${PNG}' | base64 -d > out/chart.png && echo 'all went well' > out/notes.txt && head -c 2048 /dev/zero > out/data.bin`;
/** The little of the DOM that the checks run in the page use (the tests compile without the DOM's types). */
interface PageGlobals {
  document: { querySelector(css: string): { textContent: string | null; naturalWidth?: number } | null };
}

/** What Chromium logs for a response that asks for a token; expected only where a test makes a request without one. */
const unauthorized = (route: string) => `error: Failed to load resource: the server responded with a status of 401 (Unauthorized) (${route})`;
const fileOutput = (from: string, mediaType: string) => ({ type: 'file', from: `file:${from}`, mediaType });

describe('HTML pages in a real browser', function () {
  this.timeout(60_000);
  let browser: Browser;
  let cluster: Cluster;
  let servicesDir: string;
  let page: Page;
  let problems: string[];

  before(async function () {
    browser = await launchChromiumOrSkip(this);
    cluster = await startCluster();
    servicesDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-services-'));
    await copyExamples(servicesDir, 'slow', 'echo');
    await writeScript(servicesDir, 'bin/report.sh', REPORT_SCRIPT);
    await writeProperties(servicesDir, 'report.properties', {
      service: 'report',
      title: 'Report',
      executable: 'bin/report.sh',
      outputs: JSON.stringify({
        chart: fileOutput('out/chart.png', 'image/png'),
        notes: fileOutput('out/notes.txt', 'text/plain'),
        data: fileOutput('out/data.bin', 'application/octet-stream'),
      }),
    });
    await cluster.addAgent('pages', servicesDir);
  });
  after(async () => {
    await browser?.close();
    await cluster?.stop();
    if (servicesDir) await rm(servicesDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    page = await browser.context.newPage();
    problems = watchConsole(page);
  });
  afterEach(async () => {
    await page?.close();
    expect(problems, 'console errors and CSP violations').to.deep.equal([]);
  });

  const url = (route: string) => `${cluster.orchestrator.url}${route}`;
  const screenshot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS_DIR, `${name}.png`), fullPage: true });
  const signIn = async () => {
    await page.fill('#token-input', cluster.userToken);
    await page.click('#token-form button[type=submit]');
    await page.waitForSelector('#token-forget');
  };

  /** Waits until the element's text matches. */
  const waitForText = (selector: string, pattern: RegExp) =>
    page.waitForFunction(
      ([css, source]) => new RegExp(source!).test((globalThis as unknown as PageGlobals).document.querySelector(css!)?.textContent ?? ''),
      [selector, pattern.source],
      { timeout: 20_000, polling: 50 },
    );

  it('follows links from the landing page to a process and its form', async () => {
    await page.goto(url('/'));
    await screenshot('landing');
    await page.click('text=conformance classes implemented by this server');
    await page.waitForURL(url('/conformance'));
    expect(await page.textContent('main')).to.include('http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/html');
    await screenshot('conformance');
    await page.goBack();
    await page.click('text=processes offered');
    await page.waitForURL(url('/processes'));
    expect(await page.textContent('table')).to.include('Slow count');
    await screenshot('processes');
    await page.click('a.process:has-text("Slow count")');
    await page.waitForURL(url('/processes/slow'));
    expect(await page.textContent('h1')).to.equal('Slow count');
    expect(await page.inputValue('#input-steps')).to.equal('10');
    expect(await page.inputValue('#input-interval')).to.equal('0.5');
    await screenshot('process');
  });

  it('asks for a token to run a process, then runs it and shows its results', async () => {
    await page.goto(url('/processes/echo'));
    await page.fill('#input-echo', 'hello <b>browser</b>');
    await page.click('#execute-form button[type=submit]');
    await waitForText('#execute-message', /executing processes and the jobs API need a token/);
    expect(problems.splice(0), 'the refusal, as Chromium reports it').to.deep.equal([unauthorized('/processes/echo/execution')]);
    await signIn();
    await page.fill('#input-echo', 'hello <b>browser</b>');
    await page.click('#execute-form button[type=submit]');
    await page.waitForURL(/\/jobs\/[^/]+$/);
    await waitForText('#job-status', /^successful$/);
    await waitForText('section.output pre', /hello <b>browser<\/b>/);
    expect(await page.locator('section.output b').count()).to.equal(0);
    await screenshot('job-successful');
  });

  it('shows the progress of a slow job live, and dismissing it stops its process', async () => {
    await page.goto(url('/processes/slow'));
    await signIn();
    await page.fill('#input-steps', '40');
    await page.fill('#input-interval', '0.25');
    await page.click('#execute-form button[type=submit]');
    await page.waitForURL(/\/jobs\/[^/]+$/);
    await waitForText('#job-status', /^running$/);
    const progress = async () => Number(await page.getAttribute('#job-progress', 'value'));
    const first = await eventually(async () => ((await progress()) > 0 ? progress() : undefined), 15_000, 'progress shown');
    await eventually(async () => ((await progress()) > first ? true : undefined), 15_000, 'progress moving');
    expect(await page.textContent('#job-message')).to.match(/^step \d+ of 40$/);
    await screenshot('job-running');

    const script = path.join(examplesDir, 'bin', 'slow.sh');
    const running = await processesMentioning(script);
    expect(running).to.have.length.greaterThan(0);
    await page.click('#dismiss');
    await waitForText('#job-status', /^dismissed$/);
    for (const pid of running) expect(await waitUntilGone(pid, 10_000), `pid ${pid} still running`).to.equal(true);
    expect(await page.locator('#dismiss').count()).to.equal(0);
    await screenshot('job-dismissed');
  });

  it('previews image and text outputs and offers other files as downloads with their size', async () => {
    await page.goto(url('/processes/report'));
    await signIn();
    await page.click('#execute-form button[type=submit]');
    await page.waitForURL(/\/jobs\/[^/]+$/);
    await waitForText('#job-status', /^successful$/);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.querySelector('[data-output=chart] img')?.naturalWidth === 1);
    await waitForText('[data-output=notes] pre', /all went well/);
    expect(await page.textContent('[data-output=data] .download')).to.equal('Download (2048 bytes)');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-output=data] .download')]);
    expect(download.suggestedFilename()).to.equal('data');
    await screenshot('job-results');
  });

  it('lists jobs with their progress, filtered by process and status, page by page', async () => {
    await page.goto(url('/jobs'));
    await waitForText('main', /the jobs API need a token/);
    expect(problems.splice(0), 'the refusal, as Chromium reports it').to.deep.equal([unauthorized('/jobs')]);
    await screenshot('token-needed');
    await signIn();
    expect(await page.locator('table.jobs tbody tr').count()).to.equal(2);
    await page.fill('input[name=processID]', 'echo');
    await page.selectOption('select[name=status]', 'successful');
    await page.click('#job-filter button[type=submit]');
    await page.waitForURL(url('/jobs?processID=echo&status=successful'));
    await page.waitForSelector('#token-forget');
    expect(await page.locator('table.jobs tbody tr').count()).to.equal(1);
    expect(await page.textContent('table.jobs tbody')).to.include('successful');
    await screenshot('jobs');
    await page.fill('input[name=processID]', '');
    await page.selectOption('select[name=status]', '');
    await page.fill('input[name=limit]', '1');
    await page.click('#job-filter button[type=submit]');
    await page.waitForURL(url('/jobs?limit=1'));
    await page.click('a[rel=next]');
    await page.waitForURL(/offset=1/);
    await page.waitForSelector('a[rel=prev]');
  });
});
