/**
 * UI tests: the packaged extension in code-server, driven through the workbench as a person would
 * (palette, input box, Transfers view, inline row actions, status bar, notification center,
 * "Developer: Reload Window"), checked on screen and on disk and against the range server's log.
 * The tests run in order in one window and one browser profile (globalState lives there): later
 * tests build on the downloads of earlier ones.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import {
  clickRowAction,
  closeNotificationCenter,
  fillInput,
  openNotificationCenter,
  reloadWindow,
  runCommand,
  screenshot,
  statusBarText,
  waitFor,
} from '../harness/ui';
import type { E2eServers, LoggedRequest, ServedFile } from '../support/servers';
import { GLOBAL_STATE_FLUSH_MS, STATUS_ITEM, assert, isRunningRow, percentOf, transferRow, waitForRow } from './transfers-view';

export interface UiContext {
  page: Page;
  servers: E2eServers;
  /** The workspace folder open in the window (downloads land here). */
  workspace: string;
  /** Where screenshots go. */
  shotsDir: string;
  /** code-server's user-data dir (the extension's global storage is under it). */
  userDataDir: string;
  log(message: string): void;
}

export interface UiTest {
  name: string;
  /** Name of a test whose result this one builds on: when that failed, this one is not run. */
  needs?: string;
  run(ctx: UiContext): Promise<void>;
}

const MiB = 1024 * 1024;
const DOWNLOAD_COMMAND = 'Transfers: Download URL…';
const URL_PLACEHOLDER = 'https://example.com/';
/** globalState is written to the browser's storage lazily: documented wait before a reload (see the e2e recipe). */

function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
}


/** aria-labels of the Transfers view's title actions (e.g. "Pause All", "Resume All"). */
export async function startDownloadFromPalette(page: Page, url: string): Promise<void> {
  await runCommand(page, DOWNLOAD_COMMAND, { timeoutMs: 60000 });
  await fillInput(page, url, { placeholder: URL_PLACEHOLDER });
}

async function titleActions(page: Page): Promise<string[]> {
  return page.locator('.part.sidebar .title-actions .action-label').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
}

/** Screenshot with the mouse parked over the empty editor area, so that no hover or tooltip covers the view. */
export async function shot(ctx: UiContext, name: string): Promise<void> {
  await ctx.page.mouse.move(900, 600);
  // A tooltip opened by the last click (e.g. on the activity bar) goes away once the mouse has left.
  await ctx.page.locator('.workbench-hover').first().waitFor({ state: 'hidden', timeout: 3000 }).catch(() => undefined);
  await screenshot(ctx.page, ctx.shotsDir, name);
}

function rangeRequestsAfter(servers: E2eServers, file: ServedFile, seq: number): LoggedRequest[] {
  return servers.requests(file.path).filter((r) => r.seq >= seq && r.range !== undefined);
}

function nextSeq(servers: E2eServers): number {
  return servers.requests().length;
}

export function checkFile(ctx: UiContext, file: ServedFile, name: string): void {
  const target = path.join(ctx.workspace, name);
  assert(fs.existsSync(target), `${name} exists in the workspace`);
  assert(!fs.existsSync(`${target}.part`), `no ${name}.part left behind`);
  const actual = sha256File(target);
  assert(actual === file.sha256, `sha256 of ${name} is ${actual}, expected ${file.sha256}`);
}

export function uiTests(): UiTest[] {
  let first: ServedFile | undefined;

  return [
    {
      name: 'B1 download from the palette shows progress in the status bar and the Transfers view',
      async run(ctx) {
        const { page, servers } = ctx;
        first = servers.serve({ path: '/ui/first.bin', size: 20 * MiB, seed: 101, rateBytesPerSec: 2 * MiB });
        await startDownloadFromPalette(page, first.url);
        const status = await waitFor(async () => {
          const text = await statusBarText(page, STATUS_ITEM, 30000);
          return /\d+%/.test(text) ? text : undefined;
        }, 'status bar item with a percent', 30000);
        ctx.log(`status bar: "${status}"`);
        const label = await waitForRow(page, 'first.bin', isRunningRow, 'running with a percent');
        ctx.log(`row: "${label}"`);
        await shot(ctx, '1-downloading');
      },
    },
    {
      name: 'B2 pause from the row survives a reload; resume from the row completes with Range + If-Range',
      needs: 'B1',
      async run(ctx) {
        const { page, servers, workspace } = ctx;
        assert(first, 'first download defined');
        await clickRowAction(transferRow(page, 'first.bin'), 'Pause');
        const paused = await waitForRow(page, 'first.bin', (l) => /Paused/.test(l), 'paused');
        ctx.log(`row: "${paused}"`);
        const actions = await waitFor(async () => {
          const a = await titleActions(page);
          return a.includes('Resume All') && !a.includes('Pause All') ? a : undefined;
        }, 'the view title to offer Resume All instead of Pause All', 10000);
        ctx.log(`view title actions: ${JSON.stringify(actions)}`);
        const partSize = sizeOf(path.join(workspace, 'first.bin.part'));
        assert(partSize > 0 && partSize <= first.size && (percentOf(paused) ?? 100) < 100, `first.bin.part holds part of the file (${partSize} bytes)`);

        await page.waitForTimeout(GLOBAL_STATE_FLUSH_MS);
        const seq = nextSeq(servers);
        await reloadWindow(page);
        const restored = await waitForRow(page, 'first.bin', (l) => /Paused/.test(l), 'restored as paused after the reload', 60000);
        ctx.log(`after reload: "${restored}"`);
        assert(percentOf(restored) === percentOf(paused), `the same percent as before the reload (${restored} vs ${paused})`);
        await shot(ctx, '2-paused-after-reload');
        assert(!(await page.locator(`[id="${STATUS_ITEM}"]`).isVisible()), 'the status bar item is hidden while nothing runs');
        assert(rangeRequestsAfter(servers, first, seq).length === 0 && servers.requests(first.path).filter((r) => r.seq >= seq).length === 0,
          'a paused transfer does not start by itself after the reload');
        assert(sizeOf(path.join(workspace, 'first.bin.part')) === partSize, '.part file unchanged by the reload');

        await clickRowAction(transferRow(page, 'first.bin'), 'Resume');
        const done = await waitForRow(page, 'first.bin', (l) => /Completed/.test(l), 'completed', 60000);
        ctx.log(`row: "${done}"`);
        checkFile(ctx, first, 'first.bin');
        const resumed = servers.requests(first.path).filter((r) => r.seq >= seq);
        ctx.log(`requests after the reload: ${JSON.stringify(resumed.map((r) => [r.range, r.ifRange, r.status]))}`);
        // One request per unfinished segment (the default uses several connections), each a 206
        // to a Range with If-Range, and together no more than what was missing (plus what a
        // split connection may have had in flight), never the whole file again.
        assert(resumed.length >= 1, 'at least one request after the reload');
        for (const r of resumed) {
          assert(r.range !== undefined && !/^bytes=0-/.test(r.range), `a Range that does not start over (saw ${r.range})`);
          assert(r.ifRange === first.etag, `If-Range ${first.etag} (saw ${r.ifRange})`);
          assert(r.status === 206, `206 (saw ${r.status})`);
        }
        const sent = resumed.reduce((sum, r) => sum + r.bodyBytesSent, 0);
        const missing = first.size * (1 - (percentOf(paused) ?? 0) / 100);
        assert(sent <= missing + first.size * 0.1, `${sent} bytes sent after the reload, about ${Math.round(missing)} were missing`);
        await shot(ctx, '3-completed-after-resume');
      },
    },
    {
      name: 'B3 a download running during "Developer: Reload Window" continues by itself and completes',
      async run(ctx) {
        const { page, servers } = ctx;
        const second = servers.serve({ path: '/ui/second.bin', size: 24 * MiB, seed: 102, rateBytesPerSec: 0.5 * MiB });
        await startDownloadFromPalette(page, second.url);
        const before = await waitForRow(page, 'second.bin', (l) => isRunningRow(l) && (percentOf(l) ?? 0) >= 10, 'running, at least 10%');
        ctx.log(`before reload: "${before}"`);
        const seq = nextSeq(servers);
        // The old extension host goes on for a moment during the reload, which takes 19 s on a busy
        // machine: at 2 MiB/s it used to finish the file before the new window came. Slow until this one runs it.
        servers.fault.setRate(second.path, 64 * 1024);
        await reloadWindow(page);
        const t = Date.now();
        const shown = await waitForRow(page, 'second.bin', () => true, 'shown after the reload', 60000);
        ctx.log(`first seen after the reload (${Date.now() - t} ms): "${shown}"`);
        const after = await waitForRow(page, 'second.bin', (l) => isRunningRow(l) && (percentOf(l) ?? 0) > 0, 'running again after the reload', 60000);
        ctx.log(`after reload (${Date.now() - t} ms): "${after}"`);
        await shot(ctx, '4-running-after-reload');
        // This window runs it: the rest need not crawl.
        servers.fault.setRate(second.path, undefined);
        const done = await waitForRow(page, 'second.bin', (l) => /Completed/.test(l), 'completed', 90000);
        ctx.log(`row: "${done}"`);
        checkFile(ctx, second, 'second.bin');
        const ranged = rangeRequestsAfter(servers, second, seq);
        ctx.log(`requests after the reload: ${JSON.stringify(servers.requests(second.path).filter((r) => r.seq >= seq).map((r) => [r.range, r.ifRange, r.status]))}`);
        assert(ranged.length >= 1, 'a Range request after the reload');
        assert(ranged.every((r) => r.status === 206 && r.ifRange === second.etag), 'every request after the reload: 206 with If-Range');
        assert(servers.requests(second.path).filter((r) => r.seq >= seq && r.range === undefined).length === 0, 'no restart from byte 0 after the reload');
      },
    },
    {
      name: 'B4 a 404 shows a failed row and an error notification',
      async run(ctx) {
        const { page, servers } = ctx;
        const url = servers.fault.url('/ui/missing.bin');
        await startDownloadFromPalette(page, url);
        const failed = await waitForRow(page, 'missing.bin', (l) => /Failed/.test(l), 'failed');
        ctx.log(`row: "${failed}"`);
        assert(/404/.test(failed), 'the row names the HTTP status');
        const messages = await openNotificationCenter(page);
        ctx.log(`notifications: ${JSON.stringify(messages)}`);
        const message = messages.find((m) => m.includes('missing.bin') && /fail/i.test(m));
        assert(message, 'an error notification about missing.bin');
        assert(/404/.test(message), 'the notification names the HTTP status');
        const item = page.locator('.notifications-center .notification-list-item', { hasText: 'missing.bin' }).first();
        assert(await item.locator('.codicon-error').count(), 'the notification is an error');
        await shot(ctx, '5-failed-with-notification');
        await closeNotificationCenter(page);
        assert(!fs.existsSync(path.join(ctx.workspace, 'missing.bin')), 'no file for the 404');
      },
    },
  ];
}
