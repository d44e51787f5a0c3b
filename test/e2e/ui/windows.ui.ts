/**
 * Two windows (two pages on one code-server, one browser profile: they share globalState) on one
 * workspace: a transfer has one writer. The second window shows the first one's download as
 * running elsewhere and does not fetch it; when both reload at once, exactly one continues it.
 * Checked on the server (bytes sent) and on disk (sha256).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { openWorkbench, reloadWindow, runCommand } from '../harness/ui';
import { assert, isRunningRow, percentOf, waitForRow } from './transfers-view';
import { startDownloadFromPalette, type UiTest } from './transfers.ui';

const MiB = 1024 * 1024;
const ELSEWHERE = /Running in another window/;

export function windowUiTests(): UiTest[] {
  return [
    {
      name: 'W1 two windows: the second shows the first one\'s download running elsewhere and never writes it, also when both reload at once',
      async run(ctx) {
        const { page: first, servers, workspace } = ctx;
        // Slow enough (about 1 MiB/s over the default 4 connections) to outlast opening a second window and two reloads.
        const file = servers.serve({ path: '/ui/two-windows.bin', size: 48 * MiB, seed: 301, rateBytesPerSec: 256 * 1024 });
        await startDownloadFromPalette(first, file.url);
        const running = await waitForRow(first, 'two-windows.bin', (l) => isRunningRow(l) && (percentOf(l) ?? 0) >= 5, 'running in the first window, 5% or more', 60_000);
        ctx.log(`first window: "${running}"`);

        const second: Page = await first.context().newPage();
        try {
          await openWorkbench(second, { baseUrl: new URL(first.url()).origin }, workspace, 120_000);
          const shown = await waitForRow(second, 'two-windows.bin', (l) => ELSEWHERE.test(l), 'shown as running in another window', 60_000);
          ctx.log(`second window: "${shown}"`);
          // Resume All in the second window must leave the first window's download alone.
          await runCommand(second, 'Transfers: Resume All', { timeoutMs: 30_000 });
          const progressed = await waitForRow(second, 'two-windows.bin', (l) => ELSEWHERE.test(l) && (percentOf(l) ?? 0) > (percentOf(shown) ?? 0), 'following the first window\'s progress', 30_000);
          ctx.log(`second window later: "${progressed}"`);

          // Both windows reload at once (as after a restart): exactly one may continue the download.
          ctx.log('reloading both windows at once');
          await Promise.all([reloadWindow(first), reloadWindow(second)]);
          const done = await Promise.any([
            waitForRow(first, 'two-windows.bin', (l) => /Completed/.test(l), 'completed (first window)', 120_000),
            waitForRow(second, 'two-windows.bin', (l) => /Completed/.test(l), 'completed (second window)', 120_000),
          ]);
          ctx.log(`row: "${done}"`);
        } finally {
          await second.close().catch(() => undefined);
        }
        const target = path.join(workspace, 'two-windows.bin');
        const actual = createHash('sha256').update(fs.readFileSync(target)).digest('hex');
        assert(actual === file.sha256, `sha256 of two-windows.bin is ${actual}, expected ${file.sha256}`);
        assert(!fs.existsSync(`${target}.part`), 'no part file left behind');
        const sent = servers.requests(file.path).reduce((sum, r) => sum + r.bodyBytesSent, 0);
        ctx.log(`bytes sent for ${file.size}: ${sent}`);
        // Two writers would each fetch what they lack: close to twice the file.
        assert(sent <= file.size * 1.3, `${sent} bytes sent for a ${file.size}-byte file: more than one window fetched it`);
      },
    },
  ];
}
