// Debian's Chromium driven by playwright-core (no browser download). The flags keep it off the
// network: on a machine without internet its background connections would fail, many at a time.
import { chromium, type Browser } from 'playwright-core';
import { assertE2eToolsInstalled, chromiumPath } from './paths';
import { withTimeout } from './wait';

export const chromiumFlags: readonly string[] = [
  '--no-sandbox', // CI runs as root
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export async function launchChromium(): Promise<Browser> {
  assertE2eToolsInstalled();
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [...chromiumFlags],
    timeout: 60_000,
  });
}

/** Closes the browser within `timeoutMs`; Chromium's processes end with it. */
export async function closeChromium(browser: Browser, timeoutMs = 15_000): Promise<void> {
  await withTimeout('Chromium to close', timeoutMs, browser.close());
}
