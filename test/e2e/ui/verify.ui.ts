/**
 * UI tests for downloads that check themselves and names a server may not choose:
 *   V1 a SHA256SUMS published beside the file: the row's tooltip and the completion notification
 *      say "Verified (sha256 from SHA256SUMS)";
 *   V2 a SHA256SUMS that disagrees: the row and the notification name it, nothing gets the name;
 *   V3 a server that names its downloads `.npmrc` and `eslint.config.mjs`: they get safe names,
 *      and the notification shows both names.
 * Run in the window of transfers.ui.ts, after its tests; they need nothing from them.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { closeNotificationCenter, openNotificationCenter, waitFor } from '../harness/ui';
import type { ServedFile } from '../support/servers';
import { startDownloadFromPalette, type UiContext, type UiTest } from './transfers.ui';
import { assert, transferRow, waitForRow } from './transfers-view';

const MiB = 1024 * 1024;
const FOLDER = '/ui/sums';

function sha256Of(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Files in the workspace whose names start with `prefix` (the final file, its `.part`, `name (1)`). */
function filesStartingWith(ctx: UiContext, prefix: string): string[] {
  return fs.readdirSync(ctx.workspace).filter((name) => name.startsWith(prefix));
}

function checkFile(ctx: UiContext, file: ServedFile, name: string): void {
  const target = path.join(ctx.workspace, name);
  assert(fs.existsSync(target), `${name} exists in the workspace`);
  const actual = sha256Of(target);
  assert(actual === file.sha256, `sha256 of ${name} is ${actual}, expected ${file.sha256}`);
}

/** The row's tooltip as a person sees it: the mouse rests on the row until the hover shows. */
async function rowTooltip(page: Page, name: string, expected: RegExp): Promise<string> {
  const hover = page.locator('.workbench-hover, .monaco-hover').filter({ hasText: name }).first();
  try {
    return await waitFor(async () => {
      // Leave and come back: a hover shows when the mouse arrives, after the workbench's delay.
      await page.mouse.move(900, 600);
      await transferRow(page, name).hover({ timeout: 5000 });
      await hover.waitFor({ state: 'visible', timeout: 5000 });
      const text = (await hover.innerText()).trim();
      return expected.test(text) ? text : undefined;
    }, `the tooltip of ${name} to match ${expected}`, 30000, 250);
  } finally {
    await page.mouse.move(900, 600);
  }
}

/** Messages of the notification center that mention `name` (the center is closed again). */
async function notificationsAbout(page: Page, name: string): Promise<string[]> {
  const messages = await openNotificationCenter(page);
  await closeNotificationCenter(page);
  return messages.filter((m) => m.includes(name));
}

export function verifyUiTests(): UiTest[] {
  let sums: { good: ServedFile; corrupt: ServedFile } | undefined;
  /** Publishes verified.bin and corrupt.bin with one SHA256SUMS beside them (GNU format, one wrong line). */
  const publish = (ctx: UiContext) => {
    if (sums) return sums;
    const good = ctx.servers.serve({ path: `${FOLDER}/verified.bin`, size: 3 * MiB, seed: 120, rateBytesPerSec: 2 * MiB });
    const corrupt = ctx.servers.serve({ path: `${FOLDER}/corrupt.bin`, size: 3 * MiB, seed: 121, rateBytesPerSec: 2 * MiB });
    // corrupt.bin is listed with the sha256 of other bytes: what a mirror with a damaged copy serves.
    const wrong = createHash('sha256').update('not the bytes of corrupt.bin').digest('hex');
    const text = `${good.sha256}  verified.bin\n${wrong} *corrupt.bin\n${'0'.repeat(64)}  other.iso\n`;
    ctx.servers.fault.route(`${FOLDER}/SHA256SUMS`, { body: Buffer.from(text), contentType: 'text/plain' });
    sums = { good, corrupt };
    return sums;
  };

  return [
    {
      name: 'V1 a SHA256SUMS beside the download: the tooltip and the notification say "Verified (sha256 from SHA256SUMS)"',
      async run(ctx) {
        const { page, servers } = ctx;
        const { good } = publish(ctx);
        await startDownloadFromPalette(page, good.url);
        const done = await waitForRow(page, 'verified.bin', (l) => /Completed/.test(l), 'completed', 60000);
        ctx.log(`row: "${done}"`);
        checkFile(ctx, good, 'verified.bin');
        assert(servers.requests(`${FOLDER}/SHA256SUMS`).some((r) => r.status === 200), 'the extension fetched SHA256SUMS');
        const tooltip = await rowTooltip(page, 'verified.bin', /Verified/);
        ctx.log(`tooltip: ${JSON.stringify(tooltip)}`);
        assert(tooltip.includes('Verified (sha256 from SHA256SUMS)'), 'the tooltip says which checksum vouched for the file');
        const messages = await notificationsAbout(page, 'verified.bin');
        ctx.log(`notifications: ${JSON.stringify(messages)}`);
        assert(messages.some((m) => m.includes('Downloaded verified.bin.') && m.includes('Verified (sha256 from SHA256SUMS)')),
          'the completion notification says "Verified (sha256 from SHA256SUMS)"');
      },
    },
    {
      name: 'V2 a SHA256SUMS that disagrees: the row fails naming it, and nothing gets the final name',
      async run(ctx) {
        const { page } = ctx;
        const { corrupt } = publish(ctx);
        await startDownloadFromPalette(page, corrupt.url);
        // The mismatch deleted the bytes: the row must not go on showing the last progress (100%).
        const failed = await waitForRow(page, 'corrupt.bin', (l) => /Failed/.test(l) && !/%/.test(l), 'failed, with no percent of deleted bytes', 60000);
        ctx.log(`row: "${failed}"`);
        const expected = 'The downloaded file does not match the sha256 from SHA256SUMS.';
        assert(failed.includes(expected), `the row says "${expected}"`);
        const messages = await notificationsAbout(page, 'corrupt.bin');
        ctx.log(`notifications: ${JSON.stringify(messages)}`);
        assert(messages.some((m) => m.includes(`Download of corrupt.bin failed: ${expected}`)), 'the failure notification names SHA256SUMS');
        const left = filesStartingWith(ctx, 'corrupt');
        assert(left.length === 0, `nothing named corrupt… in the workspace (found ${left.join(', ')})`);
      },
    },
    {
      name: 'V3 names the server chose that tools load (.npmrc, eslint.config.mjs) get safe names; the notification shows both',
      async run(ctx) {
        const { page, servers, workspace } = ctx;
        const npmrc = servers.serve({ path: '/ui/named/npmrc', size: 256 * 1024, seed: 122, rateBytesPerSec: MiB, contentDisposition: 'attachment; filename=".npmrc"' });
        const eslint = servers.serve({
          path: '/ui/named/lint',
          size: 256 * 1024,
          seed: 123,
          rateBytesPerSec: MiB,
          contentDisposition: `attachment; filename*=UTF-8''eslint.config.mjs`,
        });
        // Both in one input, as a user pastes several links.
        await startDownloadFromPalette(page, `${npmrc.url} ${eslint.url}`);
        for (const [served, serverName] of [[npmrc, '.npmrc'], [eslint, 'eslint.config.mjs']] as const) {
          const safe = `_${serverName}`;
          const row = await waitForRow(page, safe, (l) => /Completed/.test(l), 'completed under the safe name', 60000);
          ctx.log(`row: "${row}"`);
          checkFile(ctx, served, safe);
          assert(!fs.existsSync(path.join(workspace, serverName)), `nothing named ${serverName} in the workspace`);
          const messages = await notificationsAbout(page, safe);
          ctx.log(`notifications: ${JSON.stringify(messages)}`);
          assert(messages.some((m) => m.includes(`Downloaded ${safe}.`) && m.includes(`The server named it ${serverName},`)),
            `the completion notification names both ${serverName} and ${safe}`);
        }
      },
    },
  ];
}
