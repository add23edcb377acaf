import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { makeTempDir } from './joinery-cli';

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it). */
export const CHROMIUM = process.env.JOINERY_CHROMIUM ?? '/usr/bin/chromium';

/** Where the console suites save their screenshots (gitignored; CI keeps them as artifacts). */
export const SCREENSHOT_DIR = path.resolve(__dirname, '../../artifacts/console');

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

export interface Browser {
  readonly context: BrowserContext;
  /** Every console message and page error of every page, and each request URL. */
  readonly consoleMessages: string[];
  readonly requestURLs: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Headless Chromium on a fresh profile, with nothing of its own on the network (no updates,
 * sync, QUIC or background requests): what it fetches is what the page asks for.
 */
export async function launchBrowser(): Promise<Browser> {
  const profile = await makeTempDir('chromium-profile');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: DESKTOP,
    acceptDownloads: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const consoleMessages: string[] = [];
  const requestURLs: string[] = [];
  const watch = (page: Page) => {
    page.on('console', (m: ConsoleMessage) => consoleMessages.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleMessages.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requestURLs.push(r.url()));
  };
  context.on('page', watch);
  for (const p of context.pages()) watch(p);
  return {
    context,
    consoleMessages,
    requestURLs,
    async newPage() {
      const existing = context.pages().find((p) => p.url() === 'about:blank');
      return existing ?? context.newPage();
    },
    async close() {
      await context.close();
      await fs.rm(profile, { recursive: true, force: true });
    },
  };
}

/** Saves `<name>-desktop.png` (1280x800) and `<name>-phone.png` (390x844), full page. */
export async function screenshots(page: Page, name: string): Promise<void> {
  await fs.mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
}

/** The API key a `joinery tenants add` or `api-keys create` printed. */
export function apiKeyIn(stdout: string): string {
  const m = /(jny_[0-9a-f]{16}_[A-Za-z0-9_-]{43})/.exec(stdout);
  if (!m) throw new Error(`no API key in: ${stdout}`);
  return m[1]!;
}

/** Signs in to the console at `adminURL` with an API key, and waits for the first page. */
export async function signIn(page: Page, adminURL: string, apiKey: string): Promise<void> {
  if (!page.url().startsWith(adminURL)) await page.goto(adminURL);
  await page.getByLabel('API key').fill(apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Devices' }).waitFor();
}
