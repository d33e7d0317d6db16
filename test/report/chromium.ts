/**
 * Headless Chromium driven by puppeteer-core: the system's browser (the Debian package `chromium`), never a
 * downloaded one. Opening a page records everything the report promises not to do: console errors, page
 * errors, Content-Security-Policy violations, and any request besides the page's own file.
 */
import { access, constants } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** `CHROMIUM_PATH`, else the usual install paths; undefined when there is no browser on this machine. */
export async function findChromium(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const candidates = [
    env.CHROMIUM_PATH,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
  ];
  for (const path of candidates) {
    if (path === undefined || path === '') continue;
    if (
      await access(path, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return path;
  }
  return undefined;
}

export async function launch(executablePath: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath,
    headless: true,
    // Chromium refuses to start its sandbox as root (CI runs as root); a container's /dev/shm is often tiny.
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-dev-shm-usage'],
  });
}

export interface OpenedPage {
  page: Page;
  /** Every URL the page requested, the page's own file first. */
  requests: string[];
  /** Console errors, uncaught exceptions, failed requests and CSP violations, as text. */
  problems: string[];
}

/** Opens an HTML file at the given viewport width and waits for it to load. */
export async function openFile(browser: Browser, file: string, width = 1280): Promise<OpenedPage> {
  const page = await browser.newPage();
  await page.setViewport({ width, height: 900, deviceScaleFactor: 1 });
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
  page.on('pageerror', (err) => problems.push(`page error: ${String(err)}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warn')
      problems.push(`console ${message.type()}: ${message.text()}`);
  });
  await page.exposeFunction('reportViolation', (text: string) => problems.push(`CSP violation: ${text}`));
  // A string, not a function: this file is compiled without the DOM's types.
  await page.evaluateOnNewDocument(
    `document.addEventListener('securitypolicyviolation', (e) => reportViolation(e.violatedDirective + ' blocked ' + e.blockedURI));`,
  );
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, requests, problems };
}
