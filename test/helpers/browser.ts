/**
 * Debian's Chromium, headless, driven by playwright-core (no browser download: the executable is
 * the one scripts/install-test-servers.sh installs). A missing Chromium fails the test that asks
 * for it, never skips it. Screenshots go to `test-artifacts/` (not committed).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env['ENTRASYNC_CHROMIUM'] ?? '/usr/bin/chromium';
export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');

/**
 * The flags a closed network needs: without the background-networking ones Chromium keeps
 * trying to reach Google's services, which this machine refuses.
 */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: run scripts/install-test-servers.sh (Debian's chromium package)`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/** A page that records every request it makes, the document's own included. */
export async function recordingPage(
  browser: Browser,
): Promise<{ page: Page; requests: Request[]; dialogs: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests: Request[] = [];
  const dialogs: string[] = [];
  page.on('request', (r) => requests.push(r));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return { page, requests, dialogs };
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
