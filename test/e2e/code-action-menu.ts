// The code action menu (Ctrl+.) in the workbench: opened on a line until it lists the action
// looked for, and a row focused by its label.
import type { Workbench } from './harness/workbench';
import { waitUntil } from './harness/wait';

/**
 * Opens the code action menu (Ctrl+.) on `line` and returns the texts of its rows. The first ask
 * after a profile may come before the suggestions are ready: the menu is opened again until it
 * lists a row matching `expect`.
 */
export async function openActionMenu(workbench: Workbench, line: number, expect: RegExp): Promise<string[]> {
  await workbench.goToLine(line);
  return waitUntil(`the code actions on line ${line}`, 120_000, async () => {
    await workbench.page.keyboard.press('Control+.');
    const rows = await waitUntil('the code action menu', 10_000, async () => {
      const r = await workbench.page.locator('.action-widget .monaco-list-row').allTextContents();
      return r.some((x) => expect.test(x)) ? r : undefined;
    }, 250).catch(() => undefined);
    if (!rows) await workbench.page.keyboard.press('Escape');
    return rows;
  }, 1_000);
}

/** Moves the menu's focus down to the row whose label starts with `label`. */
export async function focusActionRow(workbench: Workbench, label: string): Promise<void> {
  const focused = '.action-widget .monaco-list-row.focused';
  await waitUntil(`the "${label}" row to be focused`, 15_000, async () => {
    const now = await workbench.page.getAttribute(focused, 'aria-label').catch(() => null);
    if (now?.startsWith(label)) return true;
    await workbench.page.keyboard.press('ArrowDown');
    return undefined;
  }, 150);
}
