/**
 * UI tests for downloads that start from where the URL is: a "Copy as cURL" command pasted into
 * Download URL…, links dropped on the Transfers view, Download Link in the editor (context menu on
 * a selection, palette on the URL under the cursor), and Limit Speed… on a row.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { contextMenu, fillInput, notifications, runCommand, screenshot, waitFor } from '../harness/ui';
import type { ServedFile } from '../support/servers';
import type { UiContext, UiTest } from './transfers.ui';
import { assert, transferRow, waitForRow } from './transfers-view';

const MiB = 1024 * 1024;
const QUICK_INPUT = '.quick-input-widget';
const SECRET = 'session=e2e-cookie-value';

function checkFile(ctx: UiContext, file: ServedFile, name: string): void {
  const target = path.join(ctx.workspace, name);
  assert(fs.existsSync(target), `${name} exists in the workspace`);
  const actual = createHash('sha256').update(fs.readFileSync(target)).digest('hex');
  assert(actual === file.sha256, `sha256 of ${name} is ${actual}, expected ${file.sha256}`);
}

/** Quick Open (Ctrl+P): types the name and picks its row once the file search found it. */
async function openInEditor(page: Page, name: string): Promise<void> {
  await waitFor(async () => {
    await page.keyboard.press('Control+P');
    const input = page.locator(`${QUICK_INPUT} .quick-input-box input`);
    await input.waitFor({ state: 'visible', timeout: 5000 });
    await input.fill(name);
    const row = page.locator(`${QUICK_INPUT} .monaco-list-row`, { hasText: name }).first();
    const found = await row.waitFor({ state: 'visible', timeout: 3000 }).then(() => true, () => false);
    if (found) await row.click();
    else await page.keyboard.press('Escape');
    return found;
  }, `${name} in Quick Open`, 30000, 500);
  await page.locator(`.tab[aria-label^="${name}"]`).first().waitFor({ state: 'visible', timeout: 20000 });
}

export function linkUiTests(): UiTest[] {
  return [
    {
      name: 'B7 a pasted "Copy as cURL" command downloads with its cookie and header; only header names are shown',
      async run(ctx) {
        const { page, servers } = ctx;
        const file = servers.serve({ path: '/ui/curl.bin', size: MiB, seed: 107 });
        const command = `curl '${file.url}' -H 'accept: */*' -H 'X-Token: e2e-token' -b '${SECRET}' -H 'accept-encoding: gzip, br' --compressed`;
        await runCommand(page, 'Transfers: Download URL…', { timeoutMs: 60000 });
        const input = page.locator(`${QUICK_INPUT} .quick-input-box input`);
        await input.waitFor({ state: 'visible', timeout: 20000 });
        await input.fill(command);
        const preview = await waitFor(async () => {
          const text = (await page.locator(`${QUICK_INPUT} .quick-input-message`).innerText().catch(() => '')).trim();
          return /Cookie/.test(text) ? text : undefined;
        }, 'the preview of the kept header names', 10000);
        ctx.log(`preview: "${preview}"`);
        assert(/accept, X-Token, Cookie/.test(preview), 'the preview names the kept headers');
        assert(!preview.includes('e2e-token') && !preview.includes('e2e-cookie-value'), 'the preview shows no header value');
        assert(!/accept-encoding/i.test(preview), 'Accept-Encoding is not kept');
        const origin = new URL(file.url).origin;
        assert(preview.includes(`for ${origin} `), `the preview names the origin the headers are kept for (${origin})`);
        await screenshot(page, ctx.shotsDir, '8-curl-preview');
        await input.press('Enter');
        await page.locator(QUICK_INPUT).waitFor({ state: 'hidden', timeout: 20000 });
        await waitForRow(page, 'curl.bin', (l) => /Completed/.test(l), 'completed', 60000);
        checkFile(ctx, file, 'curl.bin');
        const request = servers.requests(file.path)[0];
        assert(request?.cookie === SECRET, `the server got the cookie (saw ${request?.cookie})`);
        assert(request?.token === 'e2e-token', `the server got X-Token (saw ${request?.token})`);
        const messages = await notifications(page);
        const kept = messages.find((m) => m.startsWith('Headers kept in the keychain'));
        ctx.log(`notification: "${kept}"`);
        assert(kept && /accept, X-Token, Cookie/.test(kept), 'a notification confirms the kept header names');
        assert(kept.includes(origin), `and the origin they are kept for (${origin})`);
        assert(!messages.some((m) => m.includes('e2e-token') || m.includes('e2e-cookie-value')), 'no notification shows a header value');
      },
    },
    {
      name: 'B8 links dropped on the Transfers view become downloads',
      needs: 'B7',
      async run(ctx) {
        const { page, servers } = ctx;
        const a = servers.serve({ path: '/ui/dropped-a.bin', size: MiB, seed: 108 });
        const b = servers.serve({ path: '/ui/dropped-b.bin', size: MiB, seed: 109 });
        const row = transferRow(page, 'curl.bin');
        await row.waitFor({ state: 'visible', timeout: 20000 });
        // What a browser puts on a link drag: text/uri-list, and the same as plain text.
        const data = await page.evaluateHandle(
          ([first, second]) => {
            const { DataTransfer } = globalThis as unknown as { DataTransfer: new () => { setData(type: string, value: string): void } };
            const transfer = new DataTransfer();
            transfer.setData('text/uri-list', `# dragged links\r\n${first}\r\n${second}`);
            transfer.setData('text/plain', `${first}\n${second}`);
            return transfer;
          },
          [a.url, b.url],
        );
        for (const type of ['dragenter', 'dragover', 'drop']) await row.dispatchEvent(type, { dataTransfer: data });
        await waitForRow(page, 'dropped-a.bin', (l) => /Completed/.test(l), 'completed', 60000);
        await waitForRow(page, 'dropped-b.bin', (l) => /Completed/.test(l), 'completed', 60000);
        checkFile(ctx, a, 'dropped-a.bin');
        checkFile(ctx, b, 'dropped-b.bin');
      },
    },
    {
      name: 'B9 Download Link: the editor context menu on a selection downloads every link in it; the palette takes the one under the cursor',
      async run(ctx) {
        const { page, servers, workspace } = ctx;
        const one = servers.serve({ path: '/ui/linked-1.bin', size: MiB, seed: 110 });
        const two = servers.serve({ path: '/ui/linked-2.bin', size: MiB, seed: 111 });
        const three = servers.serve({ path: '/ui/linked-3.bin', size: MiB, seed: 112 });
        fs.writeFileSync(path.join(workspace, 'links.txt'), `Mirrors:\n- ${one.url} (fast)\n- <${two.url}>.\n\nLater: ${three.url}\n`);
        await openInEditor(page, 'links.txt');
        const editor = page.locator('.monaco-editor .view-lines').first();
        await editor.click();
        // Select the first three lines (two links), not the third link.
        await page.keyboard.press('Control+Home');
        await page.keyboard.press('Shift+ArrowDown');
        await page.keyboard.press('Shift+ArrowDown');
        await page.keyboard.press('Shift+End');
        await contextMenu(page, page.locator('.monaco-editor .view-line', { hasText: 'Mirrors' }).first(), 'Download Link');
        await waitForRow(page, 'linked-1.bin', (l) => /Completed/.test(l), 'completed', 60000);
        await waitForRow(page, 'linked-2.bin', (l) => /Completed/.test(l), 'completed', 60000);
        checkFile(ctx, one, 'linked-1.bin');
        checkFile(ctx, two, 'linked-2.bin');
        assert(servers.requests(three.path).length === 0, 'the link outside the selection was not downloaded');

        // The cursor inside the third link, no selection: the palette's Download Link takes that one.
        await openInEditor(page, 'links.txt');
        await page.locator('.monaco-editor .view-line', { hasText: 'Later' }).first().click({ position: { x: 120, y: 5 } });
        await runCommand(page, 'Transfers: Download Link');
        await waitForRow(page, 'linked-3.bin', (l) => /Completed/.test(l), 'completed', 60000);
        checkFile(ctx, three, 'linked-3.bin');
      },
    },
    {
      name: 'B10 Limit Speed… on a running row: the row shows the limit and the download slows to it; lifting it lets it finish',
      async run(ctx) {
        const { page, servers } = ctx;
        // Slow enough per connection (about 2 MiB/s over 4) that the download is still running
        // when the limit is set on a loaded machine, and fast enough that 256 KiB/s is clearly lower.
        const file = servers.serve({ path: '/ui/limited.bin', size: 24 * MiB, seed: 113, rateBytesPerSec: 512 * 1024 });
        await runCommand(page, 'Transfers: Download URL…', { timeoutMs: 60000 });
        await fillInput(page, file.url, { placeholder: 'https://example.com/' });
        await waitForRow(page, 'limited.bin', (l) => /\d+%/.test(l), 'running');
        await contextMenu(page, transferRow(page, 'limited.bin'), 'Limit Speed…');
        await fillInput(page, '256K', { placeholder: '4M' });
        const limited = await waitForRow(page, 'limited.bin', (l) => /limit 256 KiB\/s/.test(l), 'showing its limit');
        ctx.log(`row: "${limited}"`);
        await waitFor(async () => {
          const label = (await transferRow(page, 'limited.bin').getAttribute('aria-label')) ?? '';
          const speed = /([\d.]+) (KiB|MiB)\/s/.exec(label.replace(/limit [\d.]+ \w+\/s/, ''));
          return speed && speed[2] === 'KiB' && Number(speed[1]) < 400 ? label : undefined;
        }, 'the speed shown to fall under the limit', 15000, 500);
        await screenshot(page, ctx.shotsDir, '9-speed-limit');
        await contextMenu(page, transferRow(page, 'limited.bin'), 'Limit Speed…');
        await fillInput(page, '0', { placeholder: '4M' });
        await waitForRow(page, 'limited.bin', (l) => !/limit 256 KiB\/s/.test(l), 'no longer showing the limit');
        // The limit is gone; the server's own pace is not under test, so let it finish at full speed.
        servers.fault.setRate(file.path, undefined);
        await waitForRow(page, 'limited.bin', (l) => /Completed/.test(l), 'completed', 60000);
        checkFile(ctx, file, 'limited.bin');
      },
    },
  ];
}
