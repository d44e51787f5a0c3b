/**
 * UI test of "Show Details": during a download over several connections, the panel (a webview)
 * shows the piece map with more than one connection in flight, the requests with their Range and
 * the server's 206, and the speed graph. Runs in the window of transfers.ui.ts, after its tests.
 */
import type { FrameLocator, Page } from 'playwright-core';
import { pickQuickItem, runCommand, waitFor } from '../harness/ui';
import { shot, startDownloadFromPalette, type UiTest } from './transfers.ui';
import { assert, isRunningRow, percentOf, waitForRow } from './transfers-view';

const MiB = 1024 * 1024;
const NAME = 'details.bin';

/** The document inside the webview panel (the workbench nests it in two iframes). */
function webview(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
}

export function detailsUiTests(): UiTest[] {
  return [
    {
      name: 'D1 Show Details during a segmented download: connections in flight, Range requests answered 206, a speed graph',
      async run(ctx) {
        const { page, servers } = ctx;
        // 4 connections (the default) of 1.5 MiB/s each: about 8 s, long enough to look at.
        const file = servers.serve({ path: `/ui/${NAME}`, size: 48 * MiB, seed: 106, rateBytesPerSec: 1.5 * MiB });
        await startDownloadFromPalette(page, file.url);
        await waitForRow(page, NAME, (l) => isRunningRow(l) && (percentOf(l) ?? 0) >= 2, 'running', 60000);
        await runCommand(page, 'Transfers: Show Details');
        try {
          await pickQuickItem(page, NAME, 20000, { filter: true });
          const doc = webview(page);
          await doc.locator('#pieces .bar').waitFor({ state: 'visible', timeout: 30000 });
          const colours = await waitFor(async () => {
            const classes = await doc.locator('.piece.flight').evaluateAll((els) => els.map((e) => e.className));
            const distinct = new Set(classes.map((c) => /\bc\d\b/.exec(c)?.[0]));
            return distinct.size >= 2 ? [...distinct] : undefined;
          }, 'two or more connections in flight on the piece map', 30000, 250);
          ctx.log(`connections in flight: ${colours.join(' ')}`);
          assert((await doc.locator('.piece.done').count()) >= 1, 'bytes done on the piece map');
          const requests = await waitFor(async () => {
            const rows = await doc.locator('#requests tbody tr').allInnerTexts();
            return rows.filter((r) => /range: bytes=\d+-\d+/.test(r) && /\b206\b/.test(r)).length >= 2 ? rows : undefined;
          }, 'two or more segment requests answered 206 in the story', 30000, 250);
          ctx.log(`requests: ${requests.length}, first: ${JSON.stringify(requests[0])}`);
          assert(requests.some((r) => /if-range: "/.test(r)), 'If-Range with the strong ETag');
          await doc.locator('#speed svg polyline.total').waitFor({ state: 'attached', timeout: 20000 });
          const lines = await waitFor(async () => {
            const count = await doc.locator('#speed svg polyline.connection').count();
            return count >= 2 ? count : undefined;
          }, 'a speed line per connection', 20000, 250);
          ctx.log(`speed lines per connection: ${lines}`);
          // A few seconds of graph for the screenshot (one point a second), if the download lasts that long.
          await waitFor(async () => {
            const points = (await doc.locator('#speed svg polyline.total').getAttribute('points')) ?? '';
            return points.trim().split(/\s+/).length >= 5 || undefined;
          }, 'five points on the speed graph', 8000, 250).catch(() => ctx.log('the graph has fewer than five points'));
          await shot(ctx, '8-details-view');
          await waitForRow(page, NAME, (l) => /Completed/.test(l), 'completed', 90000);
          const verified = await waitFor(async () => {
            const rows = await doc.locator('#requests tr.verify').allInnerTexts();
            return rows[0];
          }, 'how the file was verified, at the end of the story', 20000, 250);
          ctx.log(`verified: "${verified}"`);
        } finally {
          // An open panel must not weigh on the tests that follow.
          await runCommand(page, 'View: Close All Editors');
        }
      },
    },
  ];
}
