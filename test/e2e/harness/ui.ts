/**
 * Small Playwright helpers for driving the VS Code web workbench (code-server) as a person would.
 * Wait on selectors, never on fixed sleeps: the first start with a fresh user-data dir is slow.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Locator, Page } from 'playwright-core';
import { workbenchUrl, type CodeServer } from './codeServer';

const QUICK_INPUT = '.quick-input-widget';
const QUICK_INPUT_BOX = `${QUICK_INPUT} .quick-input-box input`;

/** Value for a CSS attribute selector inside double quotes. */
function cssString(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/** Polls fn until it returns a truthy value; throws after ms. */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, ms = 20000, everyMs = 100): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) { lastError = e; }
    if (Date.now() > end) throw new Error(`timeout after ${ms} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until the workbench DOM is there. */
export async function waitForWorkbench(page: Page, timeoutMs = 60000): Promise<void> {
  await page.waitForSelector('.monaco-workbench', { timeout: timeoutMs });
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: timeoutMs });
}

/** Opens the workbench on a folder and waits for it. */
export async function openWorkbench(page: Page, cs: Pick<CodeServer, 'baseUrl'>, folder: string, timeoutMs = 60000): Promise<void> {
  await page.goto(workbenchUrl(cs, folder));
  await waitForWorkbench(page, timeoutMs);
}

/**
 * Runs a command from the palette: F1, types '>' + title (without a trailing ellipsis), clicks the row whose
 * aria-label starts with title (exact title preferred over longer titles with the same prefix).
 * title = "<Category>: <Title>", e.g. "Transfers: Download URL…".
 * The palette lists the commands known when it opens: an extension's commands are missing while the
 * workbench is still starting. So when the row does not show within a few seconds, the palette is closed
 * and opened again, until timeoutMs.
 */
export async function runCommand(page: Page, title: string, opts: { key?: string; timeoutMs?: number } = {}): Promise<void> {
  const timeout = opts.timeoutMs ?? 20000;
  const end = Date.now() + timeout;
  const input = page.locator(QUICK_INPUT_BOX);
  const rows = page.locator(`${QUICK_INPUT} .monaco-list-row[aria-label^="${cssString(title)}"]`);
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press(opts.key ?? 'F1');
    await input.waitFor({ state: 'visible', timeout: Math.max(1000, end - Date.now()) });
    // The palette's fuzzy filter finds nothing for a trailing ellipsis ("Download URL…"): type the title without it.
    await input.fill('>' + title.replace(/\s*(…|\.\.\.)$/, ''));
    const left = end - Date.now();
    try {
      await rows.first().waitFor({ state: 'visible', timeout: Math.max(1000, Math.min(left, 3000 * attempt)) });
      break;
    } catch (error) {
      if (Date.now() >= end) throw new Error(`command "${title}" not found in the palette within ${timeout} ms`, { cause: error });
      await page.keyboard.press('Escape');
      await page.locator(QUICK_INPUT).waitFor({ state: 'hidden', timeout: 5000 }).catch(() => undefined);
    }
  }
  const labels = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  const exact = labels.findIndex((l) => l === title || /^[,\s]/.test(l.slice(title.length)));
  await rows.nth(exact >= 0 ? exact : 0).click();
}

/**
 * Clicks the row of the open quick pick whose label contains `label`. filter: type it first, so a
 * row below the visible part of a long list comes into view.
 */
export async function pickQuickItem(page: Page, label: string, timeoutMs = 20000, opts: { filter?: boolean } = {}): Promise<void> {
  if (opts.filter) await page.locator(QUICK_INPUT_BOX).fill(label, { timeout: timeoutMs });
  const item = page.locator(`${QUICK_INPUT} .monaco-list-row`, { hasText: label }).first();
  await item.waitFor({ state: 'visible', timeout: timeoutMs });
  await item.click({ timeout: timeoutMs });
}

/**
 * Types text into the open quick input (input box or quick pick) and presses Enter.
 * placeholder: only use an input whose placeholder starts with it. waitClosed (default true): wait until the
 * widget is hidden (set false for multi-step inputs that stay open).
 */
export async function fillInput(page: Page, text: string, opts: { placeholder?: string; waitClosed?: boolean; timeoutMs?: number } = {}): Promise<void> {
  const timeout = opts.timeoutMs ?? 20000;
  const sel = opts.placeholder ? `${QUICK_INPUT_BOX}[placeholder^="${cssString(opts.placeholder)}"]` : QUICK_INPUT_BOX;
  const input = page.locator(sel);
  await input.waitFor({ state: 'visible', timeout });
  await input.fill(text);
  await input.press('Enter');
  if (opts.waitClosed ?? true) await page.locator(QUICK_INPUT).waitFor({ state: 'hidden', timeout });
}

/** Developer: Reload Window, then waits for the navigation and the workbench. */
export async function reloadWindow(page: Page, timeoutMs = 60000): Promise<void> {
  const nav = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: timeoutMs });
  await runCommand(page, 'Developer: Reload Window');
  await nav;
  await waitForWorkbench(page, timeoutMs);
}

/**
 * Text of a status bar item (innerText, trimmed; codicons render as empty text). id = "<publisher>.<name>.<itemId>",
 * itemId being the id given to window.createStatusBarItem. Waits until it is visible (= extension activated).
 */
export async function statusBarText(page: Page, id: string, timeoutMs = 60000): Promise<string> {
  const el = page.locator(`[id="${cssString(id)}"]`);
  await el.waitFor({ state: 'visible', timeout: timeoutMs });
  return (await el.innerText()).trim();
}

/** The view container contributed by an extension (contributes.viewsContainers.activitybar[].id). */
export function viewContainer(page: Page, containerId: string): Locator {
  return page.locator(`[id="workbench.view.extension.${cssString(containerId)}"]`);
}

/**
 * Makes sure a view container is shown: if it is not, clicks its activity-bar icon (found by activityTitle,
 * the container's title; default: containerId). Right after a (re)load the workbench restores an open
 * container by itself a moment later, and a click then would close it again: so the click is only repeated
 * when the container still is not shown a few seconds later.
 */
export async function showViewContainer(page: Page, containerId: string, opts: { activityTitle?: string; timeoutMs?: number } = {}): Promise<Locator> {
  const timeout = opts.timeoutMs ?? 20000;
  const end = Date.now() + timeout;
  const container = viewContainer(page, containerId);
  const icon = page.locator(`.activitybar [aria-label^="${cssString(opts.activityTitle ?? containerId)}"]`).first();
  while (!(await container.isVisible())) {
    if (Date.now() > end) throw new Error(`view container ${containerId} not shown within ${timeout} ms`);
    await icon.click({ timeout: Math.max(1000, end - Date.now()) });
    await container.waitFor({ state: 'visible', timeout: Math.max(1000, Math.min(3000, end - Date.now())) }).catch(() => undefined);
  }
  return container;
}

/**
 * aria-labels (label + description, trimmed) of the rows shown in a view container contributed by an
 * extension (see showViewContainer). Returns [] while the tree has no rows: poll with waitFor for expected content.
 */
export async function viewRows(page: Page, containerId: string, opts: { activityTitle?: string; timeoutMs?: number } = {}): Promise<string[]> {
  const container = await showViewContainer(page, containerId, opts);
  return container.locator('.monaco-list-row').evaluateAll((els) => els.map((e) => (e.getAttribute('aria-label') ?? '').trim()));
}

/**
 * Clicks one of a tree row's inline actions (the icons shown on hover), as a person would: hovers the row,
 * then clicks the action whose aria-label (the command title) is actionLabel, e.g. "Pause".
 */
export async function clickRowAction(row: Locator, actionLabel: string, timeoutMs = 20000): Promise<void> {
  await row.hover({ timeout: timeoutMs });
  const action = row.locator(`.actions-container .action-label[aria-label="${cssString(actionLabel)}"]`).first();
  await action.waitFor({ state: 'visible', timeout: timeoutMs });
  await action.click({ timeout: timeoutMs });
}

/**
 * Right-clicks a row and clicks an entry of the context menu that opens. The workbench's menu items
 * ignore mouse-ups during their first 100 ms (so that the right-click's own mouse-up does not pick an
 * entry): move onto the entry, as a person does, and click a moment later; click again while the menu
 * is still open.
 */
export async function contextMenu(page: Page, row: Locator, entry: string, timeoutMs = 20000): Promise<void> {
  await row.click({ button: 'right', timeout: timeoutMs });
  // The context menu lives in an open shadow root, which Playwright's CSS engine pierces.
  const menu = page.locator('.context-view .monaco-menu').first();
  const item = menu.locator('.action-item [role="menuitem"]', { hasText: entry }).first();
  await item.waitFor({ state: 'visible', timeout: timeoutMs });
  await item.hover({ timeout: timeoutMs });
  for (let attempt = 1; ; attempt++) {
    await page.waitForTimeout(250);
    await item.click({ timeout: timeoutMs });
    const closed = await menu.waitFor({ state: 'hidden', timeout: 2000 }).then(() => true, () => false);
    if (closed) return;
    if (attempt === 3) throw new Error(`the context menu stayed open after ${attempt} clicks on "${entry}"`);
  }
}

/** Opens the notification center ("Notifications: Show Notifications") and returns its messages; it stays open. */
export async function openNotificationCenter(page: Page, timeoutMs = 20000): Promise<string[]> {
  await runCommand(page, 'Notifications: Show Notifications', { timeoutMs });
  const center = page.locator('.notifications-center');
  await center.waitFor({ state: 'visible', timeout: timeoutMs });
  await page.locator(QUICK_INPUT).waitFor({ state: 'hidden', timeout: timeoutMs });
  return (await center.locator('.notification-list-item-message').allInnerTexts()).map((m) => m.trim());
}

/** Hides the notification center again. */
export async function closeNotificationCenter(page: Page, timeoutMs = 20000): Promise<void> {
  await runCommand(page, 'Notifications: Hide Notifications', { timeoutMs });
  await page.locator('.notifications-center').waitFor({ state: 'hidden', timeout: timeoutMs });
}

/**
 * Messages in the notification center (opens it with "Notifications: Show Notifications", reads, hides it).
 * Toasts are not shown when code-server runs with enable-smoke-test-driver, so read them here.
 */
export async function notifications(page: Page, timeoutMs = 20000): Promise<string[]> {
  const messages = await openNotificationCenter(page, timeoutMs);
  await closeNotificationCenter(page, timeoutMs);
  return messages;
}

/** Screenshot of the page into dir/name.png (dir created). Returns the file path. */
export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name.replace(/[^\w.-]+/g, '_')}.png`);
  await page.screenshot({ path: file });
  return file;
}
