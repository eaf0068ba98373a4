// Headless Chromium for browser tests and benchmarks: Debian's /usr/bin/chromium driven by
// playwright-core (never a downloaded browser), a fresh profile per launch, no background traffic,
// always closed and its profile removed, even when a test fails.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.KUBELITE_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-default-apps',
  '--disable-extensions',
  '--metrics-recording-only',
  '--no-default-browser-check',
];

export interface TestBrowser {
  context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** A browser with its own fresh --user-data-dir; `caPem` is not needed: the test server's CA is accepted for its address only through ignoreHTTPSErrors. */
export async function launchBrowser(opts: { viewport?: { width: number; height: number } } = {}): Promise<TestBrowser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (scripts/setup.sh and .ci/run do)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      ignoreHTTPSErrors: true,
      viewport: opts.viewport ?? { width: 1500, height: 900 },
    });
  } catch (err) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  let closed = false;
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      if (closed) return;
      closed = true;
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * page.goto, again when Chromium aborts it with ERR_NETWORK_CHANGED: on a machine where Docker and
 * other tests add and remove interfaces all the time, Chromium's network-change detection cancels
 * whatever navigation is in flight (a person would press reload).
 */
export async function gotoRetry(page: Page, url: string, attempts = 5): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await page.goto(url);
      return;
    } catch (err) {
      if (i >= attempts || !/ERR_NETWORK_CHANGED|ERR_NETWORK_IO_SUSPENDED/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * Opens the UI at `url` until its script runs (the login form, an error, or the live view shows):
 * a network change can also cancel the page's script or stylesheet after the document loaded.
 */
export async function openApp(page: Page, url: string, attempts = 4): Promise<void> {
  for (let i = 1; ; i++) {
    await gotoRetry(page, url);
    try {
      await page.waitForSelector('#token, #conn, #login-error', { timeout: 8000 });
      return;
    } catch (err) {
      if (i >= attempts) throw err;
      await page.goto('about:blank');
    }
  }
}

/** Logs a page in by pasting the token into the login form, as a person would. */
export async function loginWithToken(page: Page, baseUrl: string, token: string): Promise<void> {
  await openApp(page, `${baseUrl}/ui/`);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('#conn[data-conn=live]', { timeout: 20_000 });
}
