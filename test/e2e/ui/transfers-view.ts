/** What the UI tests know about the Transfers view and the status bar, in one place. */
import type { Locator, Page } from 'playwright-core';
import { showViewContainer, waitFor } from '../harness/ui';

export const CONTAINER = 'resumableTransfers';
export const ACTIVITY_TITLE = 'Transfers';
export const STATUS_ITEM = 'resumable-transfers.resumable-transfers.resumableTransfers.status';
/** globalState is flushed lazily: a reload sooner than this after a change may lose it. */
export const GLOBAL_STATE_FLUSH_MS = 1500;

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** The row of a transfer in the Transfers view (aria-label = file name + description). */
export function transferRow(page: Page, name: string): Locator {
  return page.locator(`[id="workbench.view.extension.${CONTAINER}"] .monaco-list-row[aria-label^="${name} "]`).first();
}

/** Opens the Transfers view if needed and waits until the row's aria-label passes `test`. Returns that label. */
export async function waitForRow(page: Page, name: string, test: (label: string) => boolean, what: string, timeoutMs = 30000): Promise<string> {
  let last = '(no row)';
  try {
    return await waitFor(async () => {
      await showViewContainer(page, CONTAINER, { activityTitle: ACTIVITY_TITLE, timeoutMs });
      const r = transferRow(page, name);
      if (!(await r.count())) {
        last = '(no row)';
        return undefined;
      }
      last = ((await r.getAttribute('aria-label', { timeout: 1000 })) ?? '').trim();
      return test(last) ? last : undefined;
    }, `row ${name}: ${what}`, timeoutMs, 200);
  } catch (error) {
    throw new Error(`${String(error instanceof Error ? error.message : error)}; last row label: ${last}`, { cause: error });
  }
}

export const percentOf = (label: string): number | undefined => {
  const m = /(\d+)%/.exec(label);
  return m ? Number(m[1]) : undefined;
};

export const isRunningRow = (label: string): boolean =>
  percentOf(label) !== undefined && /\bleft\b|\/s\b/.test(label) && !/Paused|Failed|Completed/.test(label);
