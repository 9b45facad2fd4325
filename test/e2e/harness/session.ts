// One end-to-end session: code-server on a workspace, Chromium, and the workbench page, torn down
// in reverse order. Teardown runs every step even when one fails, then reports all failures.
import * as fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { closeChromium, launchChromium } from './browser';
import { startCodeServer, type CodeServer, type CodeServerOptions } from './code-server';
import { artifactsDir } from './paths';
import { Workbench } from './workbench';

export interface SessionOptions extends Omit<CodeServerOptions, 'logDir'> {
  /** Names the folder under test-artifacts/ for logs and screenshots. */
  readonly name: string;
}

export interface Session {
  readonly server: CodeServer;
  readonly browser: Browser;
  readonly workbench: Workbench;
  readonly artifacts: string;
  /**
   * Saves final.png, then closes the page, the browser and code-server; throws one error listing
   * whatever failed.
   */
  close(): Promise<void>;
}

async function runAll(steps: ReadonlyArray<readonly [string, () => Promise<void>]>): Promise<void> {
  const failures: string[] = [];
  for (const [what, run] of steps) {
    try {
      await run();
    } catch (error) {
      failures.push(`${what}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  if (failures.length > 0) throw new Error(`e2e harness: teardown failed: ${failures.join('; ')}`);
}

export async function startSession(options: SessionOptions): Promise<Session> {
  const artifacts = artifactsDir(options.name);
  const server = await startCodeServer({ ...options, logDir: artifacts });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const expectFiles = fs.readdirSync(options.workspace).length > 0;
    const workbench = await Workbench.open(browser, server.url, artifacts, { expectFiles });
    const openBrowser = browser;
    return {
      server,
      browser,
      workbench,
      artifacts,
      close: () =>
        runAll([
          // The last state of the page, for a person reading a failed run's artifacts.
          ['take the final screenshot', async () => void (await workbench.screenshot('final'))],
          ['close the page', () => workbench.close()],
          ['close Chromium', () => closeChromium(openBrowser)],
          ['stop code-server', () => server.stop()],
        ]),
    };
  } catch (error) {
    const started = browser;
    await runAll([
      ['close Chromium', async () => (started === undefined ? undefined : closeChromium(started))],
      ['stop code-server', () => server.stop()],
    ]).catch(() => undefined);
    throw new Error(`${(error as Error).message}\n(code-server log: ${server.logFile})`);
  }
}
