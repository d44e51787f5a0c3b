/**
 * UI tests for Update Link…:
 *   U1 a download from a signed link fails part-way with S3's 403 "Request has expired"; Retry
 *      offers "Update Link…"; a fresh link to the same file continues with Range + If-Range and the
 *      file ends with the right sha256;
 *   U2 Update Link… from the row's context menu with a link to another file: the quick pick says
 *      what differs; "Start over" downloads the new file whole under the same name.
 * Run in the window of transfers.ui.ts, after its tests; they need nothing from them.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { randomBytesSeeded, sha256 } from '../../support/fault-server';
import { clickRowAction, contextMenu, fillInput, notifications, pickQuickItem, waitFor } from '../harness/ui';
import { shot, startDownloadFromPalette, type UiContext, type UiTest } from './transfers.ui';
import { assert, transferRow, waitForRow } from './transfers-view';

const MiB = 1024 * 1024;
const S3_EXPIRED = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>';
const LINK_PLACEHOLDER = 'https://example.com/file.zip';

function sha256OfFile(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/**
 * A file behind signed links on the range server: the link signed `first` serves its first
 * response until `cutAt` bytes and is expired from then on (S3's 403 body); every other signature works.
 */
function expiringFile(ctx: UiContext, file: string, size: number, seed: number, etag: string, cutAt: number): { body: Buffer; link(signature: string): string } {
  const body = randomBytesSeeded(size, seed);
  let asked = 0;
  ctx.servers.fault.route(file, {
    body,
    etag,
    rateBytesPerSec: 2 * MiB,
    dropAfter: { bytes: cutAt, times: 1 },
    refuse: (url) => (url.includes('X-Amz-Signature=first') && ++asked > 1 ? { status: 403, body: S3_EXPIRED, contentType: 'application/xml' } : undefined),
  });
  return { body, link: (signature) => ctx.servers.fault.url(`${file}?X-Amz-Expires=300&X-Amz-Signature=${signature}`) };
}

/** The title of the quick pick that opens once the new link answered (the link box before it has a title too). */
async function quickPickTitle(page: Page, expected: RegExp): Promise<string> {
  const title = page.locator('.quick-input-widget .quick-input-title');
  return waitFor(async () => {
    const text = (await title.innerText({ timeout: 1000 }).catch(() => '')).trim();
    return expected.test(text) ? text : undefined;
  }, `a quick pick titled ${expected}`, 20000, 200);
}

export function updateLinkUiTests(): UiTest[] {
  return [
    {
      name: 'U1 an expired signed link fails with 403; Retry → Update Link… with a fresh link continues with Range and ends with the right sha256',
      async run(ctx) {
        const { page, servers, workspace } = ctx;
        const file = '/ui/signed/u1.bin';
        const size = 12 * MiB;
        const { body, link } = expiringFile(ctx, file, size, 301, '"u1-etag"', 3 * MiB);
        await startDownloadFromPalette(page, link('first'));
        const failed = await waitForRow(page, 'u1.bin', (l) => /Failed/.test(l), 'failed: the link expired', 60000);
        ctx.log(`row: "${failed}"`);
        assert(failed.includes('The link has expired'), 'the row says the link expired');
        const onDisk = fs.statSync(path.join(workspace, 'u1.bin.part')).size;
        assert(onDisk > 0 && onDisk < size, `u1.bin.part keeps part of the file (${onDisk} bytes)`);

        await clickRowAction(transferRow(page, 'u1.bin'), 'Retry');
        await pickQuickItem(page, 'Update Link…');
        await fillInput(page, link('second'), { placeholder: LINK_PLACEHOLDER });
        const done = await waitForRow(page, 'u1.bin', (l) => /Completed/.test(l), 'completed from the new link', 60000);
        ctx.log(`row: "${done}"`);
        const target = path.join(workspace, 'u1.bin');
        assert(sha256OfFile(target) === sha256(body), 'u1.bin has the sha256 of the file on the server');
        assert(!fs.existsSync(path.join(workspace, 'u1 (1).bin')), 'no second download beside it');

        const fresh = servers.fault.requests.filter((r) => r.path === file && r.url.includes('X-Amz-Signature=second'));
        ctx.log(`requests with the new link: ${JSON.stringify(fresh.map((r) => ({ range: r.headers.range, ifRange: r.headers['if-range'], status: r.status, bytes: r.bodyBytesSent })))}`);
        // The editor downloads over several connections: every request after the one-byte probe asks
        // for bytes that were missing, under the old validator, and none starts the file again.
        const resumed = fresh.filter((r) => r.headers.range !== 'bytes=0-0');
        assert(resumed.length > 0, 'the download asked the new link for the missing bytes');
        for (const r of resumed) {
          const start = Number(/^bytes=(\d+)-/.exec(String(r.headers.range))?.[1] ?? 0);
          assert(start > 0 && r.status === 206, `continued with Range (${String(r.headers.range)} → ${r.status})`);
          assert(r.headers['if-range'] === '"u1-etag"', `with If-Range (${String(r.headers['if-range'])})`);
        }
        const moved = servers.fault.totalBodyBytesSent(file);
        assert(moved < 1.5 * size, `${moved} bytes moved for ${size}`);
        const messages = await notifications(page);
        ctx.log(`notifications: ${JSON.stringify(messages.filter((m) => m.includes('new link')))}`);
        assert(messages.some((m) => m.includes('The new link serves the same file')), 'a notification says the new link serves the same file');
        await shot(ctx, 'u1-update-link-continued');
      },
    },
    {
      name: 'U2 Update Link… with a link to another file says what differs; Start over downloads the new file whole',
      async run(ctx) {
        const { page, servers, workspace } = ctx;
        const file = '/ui/signed/u2.bin';
        expiringFile(ctx, file, 8 * MiB, 302, '"u2-etag"', 2 * MiB);
        const other = servers.serve({ path: '/ui/other/u2.bin', size: 5 * MiB, seed: 303, rateBytesPerSec: 4 * MiB });
        await startDownloadFromPalette(page, servers.fault.url(`${file}?X-Amz-Signature=first`));
        const failed = await waitForRow(page, 'u2.bin', (l) => /Failed/.test(l), 'failed: the link expired', 60000);
        ctx.log(`row: "${failed}"`);
        const partBefore = fs.readFileSync(path.join(workspace, 'u2.bin.part'));

        await contextMenu(page, transferRow(page, 'u2.bin'), 'Update Link…');
        await fillInput(page, other.url, { placeholder: LINK_PLACEHOLDER, waitClosed: false });
        const title = await quickPickTitle(page, /another file/);
        ctx.log(`quick pick: "${title}"`);
        assert(/another file: different size \(5\.0 MiB, not 8\.0 MiB\)/.test(title), 'the quick pick says the size differs, with both sizes');
        await shot(ctx, 'u2-update-link-differs');
        assert(Buffer.compare(fs.readFileSync(path.join(workspace, 'u2.bin.part')), partBefore) === 0, 'nothing was written while the user chooses');
        await pickQuickItem(page, 'Start over');

        const done = await waitForRow(page, 'u2.bin', (l) => /Completed/.test(l), 'completed with the new file', 60000);
        ctx.log(`row: "${done}"`);
        const target = path.join(workspace, 'u2.bin');
        assert(sha256OfFile(target) === other.sha256, 'u2.bin is the new file, whole');
        // After the one-byte probe, the first request is a plain GET: the file starts over (further
        // connections then ask for segments of the new file).
        const asked = servers.requests(other.path).filter((r) => r.range !== 'bytes=0-0');
        ctx.log(`requests with the new link: ${JSON.stringify(asked.map((r) => r.range ?? 'GET'))}`);
        assert(asked[0]?.range === undefined && asked[0]?.status === 200, 'the new link was asked for the whole file first, not for the old bytes');
        await waitFor(() => !fs.existsSync(`${target}.part`), 'no u2.bin.part left', 5000);
      },
    },
  ];
}
