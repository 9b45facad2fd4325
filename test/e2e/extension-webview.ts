// The MemLens timeline inside the workbench: VS Code hosts each webview in an iframe that loads
// the extension's page in a nested iframe; this finds that frame by what it shows.
import type { Frame, Page } from 'playwright-core';
import { waitUntil } from './harness/wait';

/** The frame whose document has `selector`, waited for. */
export async function webviewFrame(page: Page, selector: string, what: string, timeoutMs = 60_000): Promise<Frame> {
  return waitUntil(what, timeoutMs, async () => {
    for (const frame of page.frames()) {
      const found = await frame.$(selector).catch(() => null);
      if (found) return frame;
    }
    return undefined;
  }, 300);
}

export interface PeakMarker {
  x: number;
  y: number;
  index: number;
}

/** Where the chart drew the peak (the webview writes it on the canvas once drawn). */
export async function peakMarker(frame: Frame): Promise<PeakMarker> {
  const data = await frame.$eval('canvas#timeline', (el) => ({ ...(el as unknown as { dataset: Record<string, string> }).dataset }));
  return { x: Number(data.peakX), y: Number(data.peakY), index: Number(data.peakIndex) };
}

export interface LineFigure {
  /** The line's own text (without the figure). */
  text: string;
  figure: string;
}

/**
 * Figures MemLens draws after the ends of lines in the active editor, with their lines' text, top
 * to bottom. VS Code renders decoration `after` text as the CSS `::after` content of an empty
 * span; this reads them back from the computed styles.
 */
export async function inlineFigures(page: Page): Promise<LineFigure[]> {
  const script = `(() => {
    const out = [];
    const lines = Array.from(document.querySelectorAll('.part.editor .editor-group-container.active .monaco-editor .view-lines .view-line'))
      .sort((a, b) => (parseFloat(a.style.top) || 0) - (parseFloat(b.style.top) || 0));
    for (const line of lines) {
      for (const span of Array.from(line.querySelectorAll('span'))) {
        const content = getComputedStyle(span, '::after').content;
        if (content && content !== 'none' && content !== 'normal' && content !== '""') {
          out.push({ text: (line.textContent || '').replace(/\\u00a0/g, ' '), figure: JSON.parse(content) });
        }
      }
    }
    return out;
  })()`;
  return page.evaluate<LineFigure[]>(script);
}

export async function inlineFigureTexts(page: Page): Promise<string[]> {
  return (await inlineFigures(page)).map((f) => f.figure);
}

/**
 * Quick open (Ctrl+P) for a file that opens in a custom editor (no text editor to wait for):
 * waits for its tab to be the active one.
 */
export async function openCustomEditorFile(page: Page, relativePath: string, timeoutMs = 30_000): Promise<void> {
  const name = relativePath.split('/').pop()!;
  const box = '.quick-input-widget .quick-input-box input';
  // A webview that takes focus back as it finishes drawing (the ONNX summary) can swallow Ctrl+P or
  // close quick open as it opens: then it is opened again, at most three times.
  for (let attempt = 1; ; attempt++) {
    await page.locator('.monaco-workbench').focus().catch(() => undefined);
    await page.keyboard.press('Control+P');
    try {
      await page.waitForSelector(box, { state: 'visible', timeout: attempt < 3 ? 5_000 : timeoutMs });
      await page.fill(box, relativePath, { timeout: attempt < 3 ? 5_000 : timeoutMs });
      break;
    } catch (e) {
      if (attempt >= 3) throw e;
      await page.keyboard.press('Escape');
    }
  }
  await waitUntil(`quick open to offer ${relativePath}`, timeoutMs, async () => {
    const label = await page.getAttribute('.quick-input-widget .quick-input-list .monaco-list-row.focused', 'aria-label').catch(() => null);
    return label !== null && label.includes(name);
  });
  await page.keyboard.press('Enter');
  await page.waitForSelector(`.part.editor .editor-group-container.active .tab.active[data-resource-name="${name}"]`, { state: 'visible', timeout: timeoutMs });
}
