import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot } from './paths.js';

/** Debian's Chromium, installed by scripts/ensure-chromium.sh. */
export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS_DIR = path.join(repoRoot, 'test-artifacts', 'screenshots');

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium headless on a new empty profile, or the reason it cannot run here. */
export async function launchChromium(): Promise<Browser | string> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is not installed (sh scripts/ensure-chromium.sh installs it)`;
  const profile = await mkdtemp(path.join(os.tmpdir(), 'outpost-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1200, height: 800 } });
    return {
      context,
      async close() {
        await context.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    return `${CHROMIUM} did not start: ${(error as Error).message.split('\n')[0]}`;
  }
}

/**
 * Chromium for a suite's `before`, with the screenshots folder ready; without a Chromium that
 * starts, the suite says why and is skipped, never passed.
 */
export async function launchChromiumOrSkip(suite: Mocha.Context): Promise<Browser> {
  const launched = await launchChromium();
  if (typeof launched === 'string') {
    console.warn(`    browser tests skipped: ${launched}`);
    suite.skip();
  }
  await mkdir(SCREENSHOTS_DIR, { recursive: true });
  return launched as Browser;
}

/** What a page said on its console at level error or warning, its uncaught errors, and CSP violations among them. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning' || /Content Security Policy/i.test(message.text())) {
      const where = message.location().url;
      problems.push(`${message.type()}: ${message.text()}${where ? ` (${where.replace(/^https?:\/\/[^/]+/, '')})` : ''}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  return problems;
}
