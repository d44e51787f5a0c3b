/**
 * Two windows (two pages on one code-server, one browser profile: they share globalState) on one
 * workspace: a transfer has one writer. The second window shows the first one's download as
 * running elsewhere and does not fetch it; when both press Resume at once on the row both show
 * paused, and when both reload at once, exactly one continues it. Checked on the server (no Range
 * asked twice, bytes sent) and on disk (sha256).
 *
 * Without the claim files, the record's lease alone lets both windows resume: each reads the row
 * as paused before the other's save reaches it (globalState travels between windows lazily).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { clickRowAction, openWorkbench, reloadWindow, runCommand, showViewContainer, waitFor } from '../harness/ui';
import type { LoggedRequest } from '../support/servers';
import { ACTIVITY_TITLE, CONTAINER, GLOBAL_STATE_FLUSH_MS, assert, isRunningRow, percentOf, transferRow, waitForRow } from './transfers-view';
import { startDownloadFromPalette, type UiTest } from './transfers.ui';

const MiB = 1024 * 1024;
const NAME = 'two-windows.bin';
const ELSEWHERE = /Running in another window/;

/**
 * Range headers asked more than once. One writer asks each piece it lacks once (it asks again only
 * after a failure without progress); two writers that resume one record both ask the same pieces.
 */
function askedTwice(requests: LoggedRequest[]): string[] {
  const seen = new Map<string, number>();
  for (const r of requests) if (r.range) seen.set(r.range, (seen.get(r.range) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([range]) => range);
}

/**
 * Both windows press a row's inline action at the same moment, as two people (or one quick one)
 * would: each row is hovered first, while it holds still, then both buttons are clicked together.
 * (The page in the background draws no frames: once the first click changes the row there, it
 * would never be "stable" for a click that waits for it.)
 */
async function pressTogether(pages: Page[], action: string): Promise<void> {
  const buttons = [];
  for (const page of pages) {
    const row = transferRow(page, NAME);
    await row.hover({ timeout: 20_000 });
    const button = row.locator(`.actions-container .action-label[aria-label="${action}"]`).first();
    await button.waitFor({ state: 'visible', timeout: 20_000 });
    buttons.push(button);
  }
  await Promise.all(buttons.map((button) => button.click({ force: true, timeout: 5000 })));
}

export function windowUiTests(): UiTest[] {
  return [
    {
      name: 'W1 two windows: the second shows the first one\'s download running elsewhere and never writes it, also when both press Resume or reload at once',
      async run(ctx) {
        const { page: first, servers, workspace } = ctx;
        // Slow enough (512 KiB/s over the default 4 connections) to outlast opening a second window, a
        // pause and two reloads; faster once a window runs it after the reloads.
        const file = servers.serve({ path: `/ui/${NAME}`, size: 48 * MiB, seed: 301, rateBytesPerSec: 128 * 1024 });
        // The view first, while no transfer runs: the activity-bar badge of a running one lies over the
        // icon and takes the click (when W1 runs alone, on a fresh profile).
        await showViewContainer(first, CONTAINER, { activityTitle: ACTIVITY_TITLE });
        await startDownloadFromPalette(first, file.url);
        const running = await waitForRow(first, NAME, (l) => isRunningRow(l) && (percentOf(l) ?? 0) >= 3, 'running in the first window, 3% or more', 60_000);
        ctx.log(`first window: "${running}"`);

        const second: Page = await first.context().newPage();
        try {
          await openWorkbench(second, { baseUrl: new URL(first.url()).origin }, workspace, 120_000);
          const shown = await waitForRow(second, NAME, (l) => ELSEWHERE.test(l), 'shown as running in another window', 60_000);
          ctx.log(`second window: "${shown}"`);
          // Resume All in the second window must leave the first window's download alone.
          await runCommand(second, 'Transfers: Resume All', { timeoutMs: 30_000 });
          const progressed = await waitForRow(second, NAME, (l) => ELSEWHERE.test(l) && (percentOf(l) ?? 0) > (percentOf(shown) ?? 0), 'following the first window\'s progress', 30_000);
          ctx.log(`second window later: "${progressed}"`);

          // Paused in the first window, the row reads Paused in both; then both press Resume at once.
          // (A page in the background draws no frames: a row that changes twice a second is never
          // "stable" there for a click. The paused rows hold still in both.)
          await first.bringToFront();
          await clickRowAction(transferRow(first, NAME), 'Pause');
          await waitForRow(first, NAME, (l) => /Paused/.test(l), 'paused in the first window');
          const pausedThere = await waitForRow(second, NAME, (l) => /Paused/.test(l), 'paused in the second window too', 30_000);
          ctx.log(`second window: "${pausedThere}"; both press Resume`);
          await first.waitForTimeout(GLOBAL_STATE_FLUSH_MS);
          const resumeSeq = servers.requests().length;
          await pressTogether([first, second], 'Resume');
          // One window runs it, the other shows it running there.
          const labels = await waitFor(async () => {
            const both = [await waitForRow(first, NAME, () => true, 'shown'), await waitForRow(second, NAME, () => true, 'shown')];
            return both.filter(isRunningRow).length === 1 && both.filter((l) => ELSEWHERE.test(l)).length === 1 ? both : undefined;
          }, 'one window running it and the other showing it running elsewhere', 30_000, 200);
          ctx.log(`after both pressed Resume: "${labels[0]}" / "${labels[1]}"`);
          // Give a second writer time to ask for what it lacks, then read the server's log.
          await first.waitForTimeout(3000);
          const afterResume = servers.requests(file.path).filter((r) => r.seq >= resumeSeq);
          ctx.log(`requests after both pressed Resume: ${JSON.stringify(afterResume.map((r) => [r.range, r.status]))}`);
          assert(afterResume.length > 0, 'the download was asked for again after Resume');
          const twice = askedTwice(afterResume);
          assert(twice.length === 0, `exactly one window writes after both pressed Resume, but ${JSON.stringify(twice)} were asked for twice`);

          // Both windows reload at once (as after a restart): exactly one may continue the download.
          ctx.log('reloading both windows at once');
          await Promise.all([reloadWindow(first), reloadWindow(second)]);
          await Promise.any([
            waitForRow(first, NAME, (l) => isRunningRow(l) || /Completed/.test(l), 'running or completed (first window)', 60_000),
            waitForRow(second, NAME, (l) => isRunningRow(l) || /Completed/.test(l), 'running or completed (second window)', 60_000),
          ]);
          // Faster from here, but not unlimited: an old extension host that lingers for a moment after
          // its reload would otherwise fill its sockets with megabytes that count as sent.
          servers.fault.setRate(file.path, 1024 * 1024);
          const done = await Promise.any([
            waitForRow(first, NAME, (l) => /Completed/.test(l), 'completed (first window)', 120_000),
            waitForRow(second, NAME, (l) => /Completed/.test(l), 'completed (second window)', 120_000),
          ]);
          ctx.log(`row: "${done}"`);
        } finally {
          await second.close().catch(() => undefined);
        }
        const target = path.join(workspace, NAME);
        const actual = createHash('sha256').update(fs.readFileSync(target)).digest('hex');
        assert(actual === file.sha256, `sha256 of ${NAME} is ${actual}, expected ${file.sha256}`);
        assert(!fs.existsSync(`${target}.part`), 'no part file left behind');
        const sent = servers.requests(file.path).reduce((sum, r) => sum + r.bodyBytesSent, 0);
        ctx.log(`bytes sent for ${file.size}: ${sent}`);
        // Two writers would each fetch what they lack: close to twice the file.
        assert(sent <= file.size * 1.3, `${sent} bytes sent for a ${file.size}-byte file: more than one window fetched it`);
      },
    },
  ];
}
