/**
 * UI test of an upload: the packaged extension in code-server, driven as a person would (Explorer
 * context menu "Upload to…", the endpoint quick pick and input boxes, the Transfers view, the status
 * bar, "Developer: Reload Window"), checked on screen, on the tus server's disk and against the tus
 * server's request log. A real @tus/server (with @tus/file-store) on 127.0.0.1 is reached through the
 * integration tests' TCP throttle proxy (test/e2e/support/servers.ts, startE2eTusServer), so that the
 * upload is still running when the window reloads. Runs after the download tests of transfers.ui.ts,
 * in the same window and browser profile.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { generateFile } from '../../support/nginx';
import { contextMenu, fillInput, pickQuickItem, reloadWindow, runCommand, screenshot, statusBarText, waitFor } from '../harness/ui';
import type { E2eTusServer, TusLoggedRequest } from '../support/servers';
import type { UiContext, UiTest } from './transfers.ui';
import { GLOBAL_STATE_FLUSH_MS, STATUS_ITEM, assert, isRunningRow, percentOf, waitForRow } from './transfers-view';

const MiB = 1024 * 1024;
/** 56 MiB at 5 MiB/s: about 11 s of sending, plus the reload in the middle. */
const FILE_SIZE = 56 * MiB;
const FILE_SEED = 201;
const FILE_NAME = 'upload-56MiB.bin';
/** Client → tus server rate of the throttle proxy. */
export const UPLOAD_RATE_BYTES_PER_SEC = 5 * MiB;
/** The rate while the window reloads: the old extension host cannot finish the upload meanwhile. */
const RELOAD_RATE_BYTES_PER_SEC = 256 * 1024;

/** Titles and placeholders of the upload prompts (src/vscode/upload.ts, package.nls.json). */
export const MENU_ENTRY = 'Upload to…';
export const NEW_ENDPOINT = 'New endpoint…';
export const URL_PLACEHOLDER = 'https://uploads.example.com/files/';
export const PROTOCOL_PLACEHOLDER = 'Detect automatically unless';
export const PROTOCOL_AUTO = 'Detect automatically';
export const HEADER_PLACEHOLDER = 'Authorization: Bearer';
/** globalState is written to the browser's storage lazily: documented wait before a reload (see the e2e README). */

const QUICK_INPUT = '.quick-input-widget';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}


/**
 * Shows the Explorer (its activity-bar icon) and returns the row of a file in it. A file created just
 * now normally shows up through the file watcher; when it is not there after a few seconds, the
 * Explorer is refreshed as a person would ("Refresh Explorer" in the palette), once.
 */
export async function explorerRow(ctx: UiContext, name: string, timeoutMs = 30000): Promise<Locator> {
  const { page } = ctx;
  const view = page.locator('[id="workbench.view.explorer"]');
  const icon = page.locator('.activitybar [aria-label^="Explorer"]').first();
  const row = view.locator(`.monaco-list-row[aria-label="${name}"]`).first();
  const started = Date.now();
  let refreshed = false;
  await waitFor(async () => {
    if (!(await view.isVisible())) {
      await icon.click({ timeout: 5000 });
      await view.waitFor({ state: 'visible', timeout: 3000 }).catch(() => undefined);
    }
    if (await row.isVisible()) return true;
    if (!refreshed && Date.now() - started > 5000) {
      refreshed = true;
      ctx.log(`${name} not in the Explorer after ${Date.now() - started} ms: Refresh Explorer`);
      await runCommand(page, 'Refresh Explorer');
    }
    return false;
  }, `${name} in the Explorer`, timeoutMs, 250);
  return row;
}

export async function waitForQuickInput(page: Page, placeholder: string, timeoutMs = 20000): Promise<void> {
  await page.locator(`${QUICK_INPUT} .quick-input-box input[placeholder^="${placeholder}"]`).waitFor({ state: 'visible', timeout: timeoutMs });
}

/** Screenshot with the mouse parked over the empty editor area, so that no hover or tooltip covers the view. */
async function shot(ctx: UiContext, name: string): Promise<void> {
  await ctx.page.mouse.move(900, 600);
  await ctx.page.locator('.workbench-hover').first().waitFor({ state: 'hidden', timeout: 3000 }).catch(() => undefined);
  await screenshot(ctx.page, ctx.shotsDir, name);
}

const describeRequests = (requests: TusLoggedRequest[]): string =>
  JSON.stringify(requests.map((r) => [r.method, r.url, r.uploadOffset, r.status]));

/** The upload tests, in the form of transfers.ui.ts (same runner, window and profile); `tus` is where they upload to. */
export function uploadUiTests(tus: E2eTusServer): UiTest[] {
  return [
    {
      name: 'B5 upload from the Explorer context menu to a tus server continues by itself after "Developer: Reload Window"',
      async run(ctx) {
        const { page, workspace } = ctx;
        const file = path.join(workspace, FILE_NAME);
        const expected = await generateFile(file, FILE_SIZE, FILE_SEED);
        tus.setRate(UPLOAD_RATE_BYTES_PER_SEC);
        assert((await tus.uploads()).length === 0, 'the tus server holds no upload yet');

        // Explorer → right-click the file → Upload to… → New endpoint… → URL → Detect automatically → no header.
        const row = await explorerRow(ctx, FILE_NAME);
        await contextMenu(page, row, MENU_ENTRY);
        await pickQuickItem(page, NEW_ENDPOINT);
        await fillInput(page, tus.endpoint, { placeholder: URL_PLACEHOLDER, waitClosed: false });
        await waitForQuickInput(page, PROTOCOL_PLACEHOLDER);
        await pickQuickItem(page, PROTOCOL_AUTO);
        await fillInput(page, '', { placeholder: HEADER_PLACEHOLDER });
        const started = Date.now();

        const running = await waitForRow(page, FILE_NAME, isRunningRow, 'running with a percent');
        ctx.log(`row: "${running}"`);
        const statusSeen: string[] = [];
        const status = await waitFor(async () => {
          const text = (await statusBarText(page, STATUS_ITEM, 30000)).replace(/\s+/g, ' ');
          if (statusSeen.at(-1) !== text) statusSeen.push(text);
          return (percentOf(text) ?? 0) > 0 ? text : undefined;
        }, 'status bar item with a percent above 0', 30000, 100).catch((error: unknown) => {
          throw new Error(`${String(error)}; status bar texts seen: ${JSON.stringify(statusSeen)}`);
        });
        ctx.log(`status bar: "${status}" (seen: ${JSON.stringify(statusSeen)})`);
        await shot(ctx, '6-uploading');

        // Mid-way: the server holds more than 10 % of the file; then reload the window.
        const before = await waitFor(async () => {
          const [upload] = await tus.uploads();
          return upload && upload.size > FILE_SIZE / 10 ? upload : undefined;
        }, 'the tus server to hold more than 10% of the file', 60000, 100);
        await page.waitForTimeout(GLOBAL_STATE_FLUSH_MS);
        const seq = tus.requests().length;
        const atReload = (await tus.uploads())[0]?.size ?? 0;
        assert(atReload < FILE_SIZE, `still running at the reload (the server holds ${atReload} of ${FILE_SIZE} bytes)`);
        ctx.log(`server holds ${before.size} bytes; reloading at ${atReload} bytes (${Math.round((100 * atReload) / FILE_SIZE)}%)`);
        // The old extension host goes on for a moment during the reload, which takes up to 19 s on a
        // busy machine: at 5 MiB/s it could send the rest before the new window came, and B5 then
        // waited in vain for the row to run again. Slow until the new window asks where to go on.
        tus.setRate(RELOAD_RATE_BYTES_PER_SEC);
        await reloadWindow(page);
        const t = Date.now();
        // Only a new window asks the server's offset: from here the old one is gone or going.
        await waitFor(() => tus.requests().some((r) => r.seq >= seq && r.method === 'HEAD'), 'a HEAD from the new window', 60000, 100);
        tus.setRate(UPLOAD_RATE_BYTES_PER_SEC);

        const after = await waitForRow(page, FILE_NAME, (l) => isRunningRow(l) && (percentOf(l) ?? 0) > 0, 'running again after the reload', 60000);
        ctx.log(`after reload (${Date.now() - t} ms): "${after}"`);
        // It continues by itself: this window's PATCH (the old window's may have gone on a moment during the
        // reload) and the server's copy growing past the offset it continues from.
        const firstPatch = await waitFor(() => tus.requests().find((r) => r.seq >= seq && r.method === 'PATCH'), 'a PATCH after the reload', 60000, 100);
        const resumedAt = firstPatch.uploadOffset ?? 0;
        assert(resumedAt > 0, `the PATCH after the reload continues from a non-zero Upload-Offset (saw ${firstPatch.uploadOffset})`);
        await waitFor(async () => ((await tus.uploads())[0]?.size ?? 0) > resumedAt, `the server to receive bytes past ${resumedAt} after the reload`, 60000, 100);
        const resumedPercent = Math.floor((100 * resumedAt) / FILE_SIZE);
        ctx.log(`continued from byte ${resumedAt} (${resumedPercent}%)`);
        // The status bar item (refreshed twice a second) moves on as well.
        const statusAfter = await waitFor(async () => {
          const text = (await statusBarText(page, STATUS_ITEM, 30000)).replace(/\s+/g, ' ');
          return (percentOf(text) ?? 0) > resumedPercent ? text : undefined;
        }, `status bar item above ${resumedPercent}% after the reload`, 30000, 100);
        ctx.log(`status bar after the reload: "${statusAfter}"`);
        await shot(ctx, '7-upload-resumed-after-reload');

        const done = await waitForRow(page, FILE_NAME, (l) => /Uploaded to 127\.0\.0\.1:\d+/.test(l), 'completed, saying where it went', 120000);
        ctx.log(`row: "${done}" (${Date.now() - t} ms after the reload, ${((Date.now() - started) / 1000).toFixed(1)} s in all)`);

        // On the server's disk: one upload, the same bytes as the local file.
        const uploads = await tus.uploads();
        assert(uploads.length === 1, `one upload on the server, found ${uploads.length}`);
        assert(uploads[0].size === FILE_SIZE, `the server holds ${uploads[0].size} bytes, expected ${FILE_SIZE}`);
        const stored = await tus.sha256Of(uploads[0]);
        assert(stored === expected, `sha256 on the server ${stored}, expected ${expected}`);
        assert((await sha256File(file)) === expected, 'the local file is unchanged');

        // In the server's log: one creation; after the reload a HEAD for that upload, then a PATCH from a non-zero offset.
        const all = tus.requests();
        const posts = all.filter((r) => r.method === 'POST');
        assert(posts.length === 1, `one POST (upload created once), saw ${posts.length}: ${describeRequests(all)}`);
        const uploadPath = `/files/${uploads[0].id}`;
        const resumed = all.filter((r) => r.seq >= seq && r.method !== 'OPTIONS');
        ctx.log(`requests after the reload: ${describeRequests(all.filter((r) => r.seq >= seq))}`);
        // The old window may still have started one more PATCH just before it went away; the new
        // window's first word is a HEAD to learn the server's offset, then it continues from there.
        const head = resumed.findIndex((r) => r.method === 'HEAD' && r.url === uploadPath);
        assert(head >= 0, `a HEAD ${uploadPath} after the reload, saw ${describeRequests(resumed)}`);
        assert(resumed[head].status === 200, `the HEAD answered 200 (saw ${resumed[head].status})`);
        const patch = resumed.slice(head + 1).find((r) => r.method === 'PATCH');
        assert(patch && patch.url === uploadPath, `then a PATCH ${uploadPath}, saw ${describeRequests(resumed)}`);
        assert((patch.uploadOffset ?? 0) > 0, `the PATCH continued from a non-zero Upload-Offset (saw ${patch.uploadOffset})`);
        assert(resumed.every((r) => r.method !== 'POST'), 'no new upload after the reload');
        assert(fs.existsSync(file), 'the local file is still there');
      },
    },
  ];
}
