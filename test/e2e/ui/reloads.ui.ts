/**
 * The chaos soak's promise in the editor: a download and an upload run together while the window
 * reloads ("Developer: Reload Window") at several random moments; after each reload both continue
 * where their bytes were, never from the start, and both end byte-identical (sha256).
 *
 * The moments come from a seed (E2E_RELOAD_SEED, else the clock), printed in the test's name and
 * in a failure with the command that replays it. Both servers are slow while the window reloads,
 * so that every reload lands mid-transfer however long a reload takes on a busy machine (the old
 * extension host goes on for a moment during each), and fast after the last one, so that the test
 * does not wait for the rest. Runs after upload.ui.ts in the same window (its endpoint is
 * remembered by then; if not, the endpoint is entered anew).
 */
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { generateFile } from '../../support/nginx';
import { Rng } from '../../soak/random';
import { contextMenu, fillInput, pickQuickItem, reloadWindow, waitFor } from '../harness/ui';
import type { E2eTusServer, TusLoggedRequest } from '../support/servers';
import { checkFile, startDownloadFromPalette, type UiContext, type UiTest } from './transfers.ui';
import { GLOBAL_STATE_FLUSH_MS, assert, isRunningRow, percentOf, waitForRow } from './transfers-view';
import {
  HEADER_PLACEHOLDER,
  MENU_ENTRY,
  NEW_ENDPOINT,
  PROTOCOL_AUTO,
  PROTOCOL_PLACEHOLDER,
  URL_PLACEHOLDER,
  explorerRow,
  sha256File,
  waitForQuickInput,
} from './upload.ui';

const MiB = 1024 * 1024;
const RELOADS = 3;
/** The longest random wait, once both transfers run again, before the next reload. */
const MAX_DELAY_MS = 3000;

/** 32 MiB over the default 4 connections at 64 KiB/s each: about 2 minutes if it were never lifted. */
const DOWNLOAD_NAME = 'reloads.bin';
const DOWNLOAD_SIZE = 32 * MiB;
const DOWNLOAD_RATE_PER_CONNECTION = 64 * 1024;

/** 48 MiB on one connection at 256 KiB/s: over 3 minutes if it were never lifted. */
const UPLOAD_NAME = 'reloads-upload.bin';
const UPLOAD_SIZE = 48 * MiB;
const UPLOAD_RATE = 256 * 1024;

/** Bytes moved may exceed the file by what reloads legitimately cost (the soak's bound). */
const MAX_BYTES_FACTOR = 1.5;

const DONE = /Completed|Uploaded to/;

/** How long to wait, once both transfers run again, before each reload: seeded. */
export function reloadDelays(rng: Rng): number[] {
  return Array.from({ length: RELOADS }, () => rng.int(0, MAX_DELAY_MS));
}

/** A transfer under watch: its row, and its server's request log. */
interface Watched {
  name: string;
  /** Position in its server's request log now: later requests come after it. */
  seq(): number;
  /** Whether this window has taken the transfer up again since `seq` (what its server saw). */
  resumedSince(seq: number): boolean;
  /** Called just before each reload (e.g. to note what the server holds then). */
  beforeReload?(): Promise<void>;
}

/** One reload as it happened, for each watched transfer in order: the row just before, and where its server's log stood. */
type Reload = { label: string; seq: number }[];

const seconds = (since: number): string => `+${((Date.now() - since) / 1000).toFixed(1)} s`;

/**
 * Waits until every transfer's row runs (a percent and a speed or time left) and its server has
 * heard from it since `since`. Fails at once when a row shows it finished: the next reload could
 * no longer land mid-transfer.
 */
async function waitUntilRunning(ctx: UiContext, watched: Watched[], since: Reload | undefined, what: string): Promise<void> {
  const started = Date.now();
  const seen = new Map<string, string>();
  let finished: string | undefined;
  await waitFor(
    async () => {
      for (const [i, transfer] of watched.entries()) {
        const label = await waitForRow(ctx.page, transfer.name, () => true, 'shown', 10_000).catch(() => '(no row)');
        seen.set(transfer.name, label);
        if (DONE.test(label)) finished ??= label;
        if (finished) return true;
        if (!isRunningRow(label) || (since !== undefined && !transfer.resumedSince(since[i].seq))) return false;
      }
      return true;
    },
    `${watched.map((t) => t.name).join(' and ')} running ${what}`,
    120_000,
    100,
  ).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}; rows seen last: ${JSON.stringify([...seen.values()])}`, { cause: error });
  });
  assert(!finished, `a transfer finished ${what}: "${finished}"`);
  const ms = Date.now() - started;
  if (ms > 20_000) ctx.log(`(${(ms / 1000).toFixed(1)} s until both ran ${what}: ${JSON.stringify([...seen.values()])})`);
}

/**
 * Reloads the window once per delay: when every transfer runs again (after the previous reload),
 * waits the delay, reads each row (it must still be under way: the reload lands mid-transfer) and
 * runs "Developer: Reload Window". The first reload also waits until globalState had time to reach
 * the browser's storage once (code-server writes it lazily), so that the transfers are known after it.
 */
async function reloadAtRandomMoments(ctx: UiContext, watched: Watched[], delays: number[]): Promise<Reload[]> {
  const { page } = ctx;
  const started = Date.now();
  const reloads: Reload[] = [];
  for (const delayMs of delays) {
    await waitUntilRunning(ctx, watched, reloads.at(-1), `before reload ${reloads.length + 1}`);
    await page.waitForTimeout(Math.max(delayMs, GLOBAL_STATE_FLUSH_MS - (Date.now() - started)));
    const reload: Reload = [];
    for (const transfer of watched) {
      const seq = transfer.seq();
      const label = await waitForRow(page, transfer.name, () => true, 'shown', 60_000);
      // What the user sees as the reload begins: still under way, so this reload lands mid-transfer.
      assert(!DONE.test(label) && (percentOf(label) ?? 100) < 100, `reload ${reloads.length + 1} would not land mid-transfer: the row shows "${label}"`);
      reload.push({ label, seq });
      await transfer.beforeReload?.();
    }
    reloads.push(reload);
    ctx.log(`${seconds(started)} reload ${reloads.length} (${delayMs} ms after both ran) at ${reload.map((r) => `"${r.label}"`).join(' and ')}`);
    await reloadWindow(page);
    ctx.log(`${seconds(started)} window reloaded`);
  }
  await waitUntilRunning(ctx, watched, reloads.at(-1), `after reload ${reloads.length}`);
  ctx.log(`${seconds(started)} both run again after the last reload`);
  return reloads;
}

/** Explorer → right-click → Upload to… → the remembered endpoint, or a new one if there is none. */
async function uploadFromExplorer(ctx: UiContext, page: Page, name: string, endpoint: string): Promise<void> {
  const row = await explorerRow(ctx, name);
  await contextMenu(page, row, MENU_ENTRY);
  const remembered = page.locator('.quick-input-widget .monaco-list-row', { hasText: endpoint }).first();
  if (await remembered.waitFor({ state: 'visible', timeout: 3000 }).then(() => true, () => false)) {
    await remembered.click();
    return;
  }
  await pickQuickItem(page, NEW_ENDPOINT);
  await fillInput(page, endpoint, { placeholder: URL_PLACEHOLDER, waitClosed: false });
  await waitForQuickInput(page, PROTOCOL_PLACEHOLDER);
  await pickQuickItem(page, PROTOCOL_AUTO);
  await fillInput(page, '', { placeholder: HEADER_PLACEHOLDER });
}

const describeTus = (requests: TusLoggedRequest[]): string =>
  JSON.stringify(requests.map((r) => [r.method, r.url.replace(/^\/files\/\w+$/, '/files/<id>'), r.uploadOffset, r.status, r.at - (requests[0]?.at ?? 0)]));

export function reloadUiTests(tus: E2eTusServer): UiTest[] {
  const seed = Number(process.env.E2E_RELOAD_SEED ?? Date.now() % 1_000_000);
  const delays = reloadDelays(new Rng(seed));
  const replay = `E2E_RELOAD_SEED=${seed} E2E_ONLY=ui E2E_UI_GREP='^R1 ' npm run test:e2e`;
  return [
    {
      name: `R1 a download and an upload survive "Developer: Reload Window" at ${RELOADS} random moments, resume where their bytes were and end byte-identical (seed ${seed})`,
      async run(ctx) {
        try {
          await reloadsDuringTransfers(ctx, tus, delays, seed);
        } catch (error) {
          // Whatever still runs finishes at full speed, so that the tests after this one find no
          // transfer of it running (M1 counts the running ones).
          ctx.servers.fault.setRate(`/ui/${DOWNLOAD_NAME}`, undefined);
          tus.setRate(Number.POSITIVE_INFINITY);
          await Promise.all([DOWNLOAD_NAME, UPLOAD_NAME].map((name) => waitForRow(ctx.page, name, (l) => !isRunningRow(l), 'no longer running', 30_000).catch(() => undefined)));
          throw new Error(`${error instanceof Error ? error.message : String(error)}\n  replay: ${replay}`, { cause: error });
        }
      },
    },
  ];
}

async function reloadsDuringTransfers(ctx: UiContext, tus: E2eTusServer, delays: number[], seed: number): Promise<void> {
  const { page, servers, workspace } = ctx;
  ctx.log(`E2E_RELOAD_SEED=${seed}: reloads ${JSON.stringify(delays)} ms after both transfers run again`);

  // The download, from the palette.
  const file = servers.serve({ path: `/ui/${DOWNLOAD_NAME}`, size: DOWNLOAD_SIZE, seed: 107, rateBytesPerSec: DOWNLOAD_RATE_PER_CONNECTION });
  const requests = () => servers.requests(file.path);
  await startDownloadFromPalette(page, file.url);

  // The upload, from the Explorer.
  const local = path.join(workspace, UPLOAD_NAME);
  const expected = await generateFile(local, UPLOAD_SIZE, 208);
  tus.setRate(UPLOAD_RATE);
  const before = new Set((await tus.uploads()).map((u) => u.id));
  const firstTus = tus.requests().length;
  await uploadFromExplorer(ctx, page, UPLOAD_NAME, tus.endpoint);
  const ours = async () => (await tus.uploads()).find((u) => !before.has(u.id));
  /** What the tus server held as each reload began: it keeps every byte it received, so it reports at least this after. */
  const heldAtReload: number[] = [];

  const reloads = await reloadAtRandomMoments(ctx, [
    {
      name: DOWNLOAD_NAME,
      seq: () => servers.requests().length,
      resumedSince: (seq) => requests().some((r) => r.seq >= seq),
    },
    {
      name: UPLOAD_NAME,
      seq: () => tus.requests().length,
      // The new window first asks the server's offset (HEAD), then sends from there (PATCH).
      resumedSince: (seq) => {
        const after = tus.requests().filter((r) => r.seq >= seq);
        const head = after.findIndex((r) => r.method === 'HEAD');
        return head >= 0 && after.slice(head + 1).some((r) => r.method === 'PATCH');
      },
      beforeReload: async () => {
        heldAtReload.push((await ours())?.size ?? 0);
      },
    },
  ], delays);

  // Both run again in the window after the last reload: no need to wait for the rest at a crawl.
  servers.fault.setRate(file.path, undefined);
  tus.setRate(Number.POSITIVE_INFINITY);
  const downloaded = await waitForRow(page, DOWNLOAD_NAME, (l) => /Completed/.test(l), 'completed', 120_000);
  const uploaded = await waitForRow(page, UPLOAD_NAME, (l) => DONE.test(l), 'uploaded', 120_000);
  ctx.log(`rows: "${downloaded}" and "${uploaded}" after ${reloads.length} reloads`);
  assert(reloads.length === RELOADS, `${RELOADS} reloads landed mid-transfer (${reloads.length})`);

  // The download: the file's bytes, and after every reload a resume from where its bytes were (a
  // Range past the start of the file, checked with If-Range, answered 206), never from byte 0.
  checkFile(ctx, file, DOWNLOAD_NAME);
  reloads.forEach((reload, i) => {
    const next = reloads[i + 1]?.[0].seq ?? Infinity;
    const after = requests().filter((r) => r.seq >= reload[0].seq && r.seq < next);
    ctx.log(`download requests after reload ${i + 1}: ${JSON.stringify(after.map((r) => [r.range, r.status, r.bodyBytesSent]))}`);
    assert(after.length >= 1, `the download was asked for again after reload ${i + 1}`);
  });
  for (const r of requests().filter((r) => r.seq >= reloads[0][0].seq)) {
    assert(r.range !== undefined && !/^bytes=0-/.test(r.range), `a Range that does not start over after a reload (saw ${r.range ?? 'no Range'})`);
    assert(r.ifRange === file.etag, `If-Range ${file.etag} after a reload (saw ${r.ifRange})`);
    assert(r.status === 206, `206 after a reload (saw ${r.status} for ${r.range})`);
  }
  const sent = servers.fault.totalBodyBytesSent(file.path);
  ctx.log(`the range server sent ${sent} bytes for ${DOWNLOAD_SIZE} (${(sent / DOWNLOAD_SIZE).toFixed(2)}×)`);
  assert(sent <= DOWNLOAD_SIZE * MAX_BYTES_FACTOR, `${sent} bytes sent for a ${DOWNLOAD_SIZE}-byte file: more than ${MAX_BYTES_FACTOR}×`);

  // The upload: where the row says it went, the server's copy of the local file, one upload
  // resource, and after every reload a HEAD of it and then a PATCH from at least what the server
  // held as the reload began (nothing sent again from the start).
  assert(/Uploaded to 127\.0\.0\.1:\d+/.test(uploaded), `the upload's row says where it went (row: "${uploaded}")`);
  const upload = await ours();
  assert(upload, 'the tus server holds the upload');
  assert(upload.size === UPLOAD_SIZE, `the server holds ${upload.size} bytes, expected ${UPLOAD_SIZE}`);
  const stored = await tus.sha256Of(upload);
  assert(stored === expected, `sha256 on the server ${stored}, expected ${expected}`);
  assert((await sha256File(local)) === expected, 'the local file is unchanged');
  const all = tus.requests().filter((r) => r.seq >= firstTus);
  ctx.log(`tus requests: ${describeTus(all)}`);
  const posts = all.filter((r) => r.method === 'POST');
  assert(posts.length === 1, `one upload created across all reloads, saw ${posts.length} POSTs`);
  const uploadPath = `/files/${upload.id}`;
  reloads.forEach((reload, i) => {
    const next = reloads[i + 1]?.[1].seq ?? Infinity;
    const after = all.filter((r) => r.seq >= reload[1].seq && r.seq < next && r.method !== 'OPTIONS');
    const head = after.findIndex((r) => r.method === 'HEAD' && r.url === uploadPath);
    assert(head >= 0, `a HEAD ${uploadPath} after reload ${i + 1}, saw ${describeTus(after)}`);
    const patch = after.slice(head + 1).find((r) => r.method === 'PATCH');
    assert(patch && patch.url === uploadPath, `then a PATCH ${uploadPath} after reload ${i + 1}, saw ${describeTus(after)}`);
    const offset = patch.uploadOffset ?? 0;
    ctx.log(`upload reload ${i + 1}: the server held ${heldAtReload[i]} bytes, the next PATCH went on from ${offset}`);
    assert(offset > 0 && offset >= heldAtReload[i], `the PATCH after reload ${i + 1} went on from Upload-Offset ${offset}, the server held ${heldAtReload[i]}`);
  });
  const offsets = all.filter((r) => r.method === 'PATCH').map((r) => r.uploadOffset ?? 0);
  assert(offsets.every((o, i) => i === 0 || o >= offsets[i - 1]), `PATCH offsets never go back: ${JSON.stringify(offsets)}`);
}
