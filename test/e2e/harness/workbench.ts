// The VS Code workbench in a browser page, driven the way a person would: keyboard shortcuts,
// quick open, the command palette, and what the status bar and editor show.
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { TimeoutError, waitUntil, withTimeout } from './wait';

export interface CursorPosition {
  readonly line: number;
  readonly column: number;
}

/** Default bound for one UI wait: generous, since a loaded 2-core machine can stall the workbench. */
export const DEFAULT_UI_TIMEOUT_MS = 30_000;

const selectors = {
  workbench: '.monaco-workbench',
  explorer: '.explorer-folders-view',
  explorerRows: '.explorer-folders-view .monaco-list-row',
  quickInput: '.quick-input-widget',
  quickInputBox: '.quick-input-widget .quick-input-box input',
  focusedQuickPick: '.quick-input-widget .quick-input-list .monaco-list-row.focused',
  activeGroup: '.part.editor .editor-group-container.active',
  cursorStatus: '[id="status.editor.selection"]',
  statusBar: '.part.statusbar',
  notificationToasts: '.notifications-toasts .notification-toast',
} as const;

/** Parses the status bar's "Ln 12, Col 5" (a selection adds " (3 selected)"). */
export function parseCursorStatus(text: string): CursorPosition | undefined {
  const match = /Ln\s+(\d+),\s*Col\s+(\d+)/.exec(text);
  return match === null ? undefined : { line: Number(match[1]), column: Number(match[2]) };
}

export class Workbench {
  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    private readonly screenshotDir: string,
  ) {}

  /**
   * Opens the workbench at `url` in a fresh browser context and waits for the explorer, and for
   * its first row when the workspace has files (`expectFiles`).
   */
  static async open(
    browser: Browser,
    url: string,
    screenshotDir: string,
    options: { readonly expectFiles: boolean; readonly timeoutMs?: number },
  ): Promise<Workbench> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(DEFAULT_UI_TIMEOUT_MS);
    const workbench = new Workbench(context, page, screenshotDir);
    try {
      await page.goto(url, { timeout: timeoutMs });
      await workbench.waitForSelector(selectors.workbench, { what: 'the VS Code workbench', timeoutMs });
      await workbench.waitForSelector(selectors.explorer, { what: 'the explorer', timeoutMs });
      if (options.expectFiles) {
        await workbench.waitForSelector(selectors.explorerRows, { what: 'the explorer to list the workspace', timeoutMs });
      }
    } catch (error) {
      await workbench.screenshot('open-failed').catch(() => undefined);
      await context.close().catch(() => undefined);
      throw error;
    }
    return workbench;
  }

  /** Waits for a visible element; the error names `what` and the selector. */
  async waitForSelector(
    selector: string,
    options: { readonly what?: string; readonly timeoutMs?: number; readonly state?: 'visible' | 'attached' | 'hidden' | 'detached' } = {},
  ): Promise<void> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_UI_TIMEOUT_MS;
    try {
      await this.page.waitForSelector(selector, { state: options.state ?? 'visible', timeout: timeoutMs });
    } catch {
      const what = options.what ?? selector;
      throw new TimeoutError(`timed out after ${timeoutMs} ms waiting for ${what} (selector ${selector}, state ${options.state ?? 'visible'})`);
    }
  }

  /** Text of the first element matching `selector`, or undefined when none is attached. */
  async textOf(selector: string): Promise<string | undefined> {
    const element = await this.page.$(selector);
    return element === null ? undefined : ((await element.textContent()) ?? '');
  }

  /** Waits until some element matching `selector` has text matching `pattern`, and returns that text. */
  async waitForText(selector: string, pattern: RegExp, what: string, timeoutMs = DEFAULT_UI_TIMEOUT_MS): Promise<string> {
    return waitUntil(what, timeoutMs, async () => {
      for (const text of await this.page.locator(selector).allTextContents()) {
        if (pattern.test(text)) return text;
      }
      return undefined;
    });
  }

  private async openQuickInput(shortcut: string, what: string): Promise<void> {
    // Keyboard shortcuts reach the workbench only when the page has focus somewhere inside it.
    await this.page.locator(selectors.workbench).focus().catch(() => undefined);
    await this.page.keyboard.press(shortcut);
    await this.waitForSelector(selectors.quickInputBox, { what });
  }

  /**
   * Opens the command palette and types `text`. A webview that takes focus back just after a click
   * (the ONNX summary does when it finishes drawing) closes the palette as it opens; then it is
   * opened again, at most three times.
   */
  private async openPaletteWith(text: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await this.openQuickInput('F1', 'the command palette');
      try {
        await this.page.fill(selectors.quickInputBox, text, { timeout: attempt < 3 ? 5_000 : DEFAULT_UI_TIMEOUT_MS });
        return;
      } catch (e) {
        if (attempt >= 3) throw e;
        await this.page.keyboard.press('Escape');
      }
    }
  }

  private async closeQuickInput(): Promise<void> {
    await this.waitForSelector(selectors.quickInput, { what: 'the quick input to close', state: 'hidden' });
  }

  /** Quick open (Ctrl+P): types a workspace-relative path and opens it; waits for its editor tab. */
  async openFile(relativePath: string, timeoutMs = DEFAULT_UI_TIMEOUT_MS): Promise<void> {
    const name = path.basename(relativePath);
    const folder = path.dirname(relativePath);
    await this.openQuickInput('Control+P', 'quick open');
    await this.page.fill(selectors.quickInputBox, relativePath);
    await waitUntil(`quick open to offer ${relativePath}`, timeoutMs, async () => {
      // File entries read "name, folder" (the folder is left out at the workspace root).
      const label = await this.page.getAttribute(selectors.focusedQuickPick, 'aria-label').catch(() => null);
      return label !== null && label.startsWith(name) && (folder === '.' || label.includes(folder));
    });
    await this.page.keyboard.press('Enter');
    await this.closeQuickInput();
    await this.waitForSelector(`${selectors.activeGroup} .tab.active[data-resource-name="${name}"]`, {
      what: `the editor tab of ${relativePath}`,
      timeoutMs,
    });
    await this.waitForSelector(`${selectors.activeGroup} .monaco-editor .view-lines`, { what: `the text of ${relativePath}`, timeoutMs });
  }

  /**
   * Runs a command from the command palette by its title as shown there ("Category: Title").
   * Waits for the focused entry to match exactly, so a near match never runs instead.
   */
  async runCommand(title: string, timeoutMs = DEFAULT_UI_TIMEOUT_MS): Promise<void> {
    await this.openPaletteWith(`>${title}`);
    await waitUntil(`the command palette to offer "${title}"`, timeoutMs, async () => {
      const label = await this.page.getAttribute(selectors.focusedQuickPick, 'aria-label').catch(() => null);
      return label !== null && (label === title || label.startsWith(`${title},`));
    });
    await this.page.keyboard.press('Enter');
    await this.closeQuickInput();
  }

  /** Moves the cursor of the active editor with Go to Line (Ctrl+G). */
  async goToLine(line: number, column?: number): Promise<void> {
    await this.openQuickInput('Control+G', 'go to line');
    await this.page.fill(selectors.quickInputBox, column === undefined ? `:${line}` : `:${line}:${column}`);
    await this.page.keyboard.press('Enter');
    await this.closeQuickInput();
  }

  /** The active editor's cursor as the status bar shows it ("Ln X, Col Y"). */
  async cursorPosition(timeoutMs = DEFAULT_UI_TIMEOUT_MS): Promise<CursorPosition> {
    return waitUntil('the status bar cursor position (Ln X, Col Y)', timeoutMs, async () => {
      const text = await this.textOf(selectors.cursorStatus);
      return text === undefined ? undefined : parseCursorStatus(text);
    });
  }

  /** Waits until the status bar shows the cursor on `line`. */
  async waitForCursorLine(line: number, timeoutMs = DEFAULT_UI_TIMEOUT_MS): Promise<CursorPosition> {
    let last: CursorPosition | undefined;
    try {
      return await waitUntil(`the cursor to reach line ${line}`, timeoutMs, async () => {
        const text = await this.textOf(selectors.cursorStatus);
        last = text === undefined ? undefined : parseCursorStatus(text);
        return last !== undefined && last.line === line ? last : undefined;
      });
    } catch (error) {
      const seen = last === undefined ? 'no cursor position' : `Ln ${last.line}, Col ${last.column}`;
      throw new TimeoutError(`${(error as Error).message}; the status bar shows ${seen}`);
    }
  }

  /**
   * The lines the active editor renders, top to bottom. Monaco renders only the visible lines and
   * reuses line elements out of order, so they are sorted by their position.
   */
  async visibleEditorLines(): Promise<string[]> {
    const script = `(() => {
      const lines = Array.from(document.querySelectorAll(${JSON.stringify(`${selectors.activeGroup} .monaco-editor .view-lines .view-line`)}));
      return lines
        .map((el) => ({ top: parseFloat(el.style.top) || 0, text: (el.textContent || '').replace(/\\u00a0/g, ' ') }))
        .sort((a, b) => a.top - b.top)
        .map((l) => l.text);
    })()`;
    return this.page.evaluate<string[]>(script);
  }

  /** Waits until a status bar item's text matches `pattern` (an extension shows one once active). */
  async waitForStatusBarItem(pattern: RegExp, what: string, timeoutMs = 30_000): Promise<string> {
    const text = await this.waitForText(`${selectors.statusBar} .statusbar-item`, pattern, what, timeoutMs);
    return text.trim();
  }

  /** Waits until a notification toast's text matches `pattern`. */
  async waitForNotification(pattern: RegExp, what: string, timeoutMs = DEFAULT_UI_TIMEOUT_MS): Promise<string> {
    const text = await this.waitForText(selectors.notificationToasts, pattern, what, timeoutMs);
    return text.trim();
  }

  /** Texts of the status bar items, left to right. */
  async statusBarTexts(): Promise<string[]> {
    const texts = await this.page.locator(`${selectors.statusBar} .statusbar-item`).allTextContents();
    return texts.map((t) => t.trim()).filter((t) => t.length > 0);
  }

  /** Texts of the notification toasts on screen. */
  async notifications(): Promise<string[]> {
    return this.page.locator(selectors.notificationToasts).allTextContents();
  }

  /** Saves a PNG of the page under the session's artifacts folder and returns its path. */
  async screenshot(name: string): Promise<string> {
    const file = path.join(this.screenshotDir, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
    await this.page.screenshot({ path: file, timeout: 15_000 });
    return file;
  }

  async close(timeoutMs = 10_000): Promise<void> {
    await withTimeout('the browser page to close', timeoutMs, this.context.close());
  }
}
