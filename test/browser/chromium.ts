// Headless Chromium for report tests: Debian's binary with every phone-home feature off, and pages
// that record console errors, page errors and requests so a test can assert nothing escaped.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';

/** Debian's `chromium` package; playwright's own browser download is not used, so CI stays offline. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/**
 * A browser and a private folder for a test file's pages, both gone when it ends; undefined after
 * skipping the file where Chromium is missing (never in CI: there it throws).
 */
export async function browserForFile(t: { plan(count: number, reason?: string): void; teardown(fn: () => Promise<void>): void }, prefix: string) {
  if (!chromiumInstalled()) {
    if (process.env.CI) throw new Error(`${CHROMIUM_PATH} does not exist: CI must install the Debian package chromium`);
    t.plan(0, 'no chromium');
    return undefined;
  }
  const browser = await launchChromium();
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  t.teardown(async () => {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { browser, dir };
}

export const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 900 } };
export const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 };

export interface WatchedPage {
  page: Page;
  /** Console messages of type error: CSP violations and failed loads show up here. */
  consoleErrors: string[];
  /** Uncaught exceptions: there is no script, so any would mean injected code ran. */
  pageErrors: string[];
  /** Every URL the page asked for, the page itself included. */
  requests: string[];
  close(): Promise<void>;
}

/** Opens a file in a fresh context, watching from before navigation so nothing is missed. */
export async function openFile(browser: Browser, file: string, options: BrowserContextOptions = DESKTOP): Promise<WatchedPage> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const watched: WatchedPage = { page, consoleErrors: [], pageErrors: [], requests: [], close: () => context.close() };
  page.on('console', (message) => {
    if (message.type() === 'error') watched.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => watched.pageErrors.push(error.message));
  page.on('request', (request) => watched.requests.push(request.url()));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return watched;
}
