/**
 * UI tests M1 and M2: a transfer belongs to the machine that holds its bytes.
 *
 * Desktop VS Code keeps globalState on the machine it was started from and shares it with every
 * local and remote window, so a window sees records of transfers whose bytes are on another
 * machine. Under code-server globalState lives in the browser per origin, so this test puts such
 * records there itself: it leaves the workbench, writes them into the browser's state database
 * (as another machine's window would have saved them), and opens the workbench again: a reload.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { clickRowAction, fillInput, runCommand, screenshot, statusBarText, waitFor, waitForWorkbench } from '../harness/ui';
import type { UiContext, UiTest } from './transfers.ui';
import { GLOBAL_STATE_FLUSH_MS, STATUS_ITEM, assert, transferRow, waitForRow } from './transfers-view';

const MiB = 1024 * 1024;
const EXTENSION_ID = 'resumable-transfers.resumable-transfers';
const RECORD_PREFIX = 'resumableTransfers.v1.transfer.';
const OTHER = { id: 'e2e-other-machine-0001', label: 'build-box (SSH)' };

/** The id this machine's extension host keeps in its global storage (created at activation). */
function thisMachineId(userDataDir: string): string {
  const file = path.join(userDataDir, 'User', 'globalStorage', EXTENSION_ID, 'machine-id');
  assert(fs.existsSync(file), `the extension keeps this machine's id in ${file}`);
  return fs.readFileSync(file, 'utf8').trim();
}

/**
 * Adds records to the extension's globalState in the browser's storage while no workbench is
 * open (one would write its own copy back). VS Code web keeps each extension's globalState as one
 * JSON string under the extension id in the "ItemTable" of the "vscode-web-state-db-global" IndexedDB.
 */
async function seedGlobalState(page: Page, records: Record<string, unknown>): Promise<string[]> {
  // Runs in the browser (no DOM types in this project's TypeScript): plain JavaScript.
  const script = `(async (extensionId, entries) => {
    const done = (request) => new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const db = await done(indexedDB.open('vscode-web-state-db-global'));
    if (!db.objectStoreNames.contains('ItemTable')) {
      throw new Error('no ItemTable; databases: ' + (await indexedDB.databases()).map((d) => d.name).join(', '));
    }
    const tx = db.transaction('ItemTable', 'readwrite');
    const table = tx.objectStore('ItemTable');
    const current = await done(table.get(extensionId));
    if (typeof current !== 'string') {
      const keys = (await done(table.getAllKeys())).filter((k) => /resumable/i.test(String(k)));
      throw new Error('no globalState under ' + extensionId + '; keys: ' + keys.join(', '));
    }
    const state = JSON.parse(current);
    Object.assign(state, entries);
    table.put(JSON.stringify(state), extensionId);
    await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
    db.close();
    return Object.keys(state);
  })(${JSON.stringify(EXTENSION_ID)}, ${JSON.stringify(records)})`;
  return (await page.evaluate(script)) as string[];
}

/** aria-labels of the actions a row offers inline (on hover) and in its context menu. */
async function rowActions(page: Page, name: string): Promise<{ inline: string[]; menu: string[] }> {
  const row = transferRow(page, name);
  await row.hover();
  const inline = await row.locator('.actions-container .action-label').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  await row.click({ button: 'right' });
  const items = page.locator('.monaco-menu .action-menu-item');
  await items.first().waitFor({ state: 'visible', timeout: 10000 });
  const menu = (await items.allInnerTexts()).map((t) => t.trim()).filter(Boolean);
  await page.keyboard.press('Escape');
  return { inline, menu };
}

const sha256File = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

export function machineUiTests(): UiTest[] {
  return [
    {
      name: "M1 seeded records: after a reload only this machine's runs; another machine's row shows its label, offers only Remove, gets no file or folder",
      async run(ctx: UiContext) {
        const { page, servers, workspace } = ctx;
        // Slow enough (per connection) to read the status bar while it runs.
        const mine = servers.serve({ path: '/ui/machines/mine.bin', size: 16 * MiB, seed: 601, rateBytesPerSec: MiB / 2 });
        const theirs = servers.serve({ path: '/ui/machines/theirs.bin', size: 12 * MiB, seed: 602 });
        const theirUpload = servers.fault.url('/ui/machines/uploads/');
        const theirDir = path.join(workspace, 'on-build-box');
        const unknownDir = path.join(workspace, 'saved-before-machines');
        const here = thisMachineId(ctx.userDataDir);
        ctx.log(`this machine: ${here}`);

        const now = Date.now();
        const base = { schemaVersion: 1, createdAt: now, updatedAt: now, lease: { owner: 'a-window-that-is-gone', expiresAt: now - 60_000 } };
        const records = {
          [`${RECORD_PREFIX}e2e-mine`]: {
            ...base, id: 'e2e-mine', kind: 'download', state: 'running', machine: { id: here, label: 'this one' },
            url: mine.url, targetDir: workspace, target: path.join(workspace, 'mine.bin'), segments: [{ start: 0, done: 0 }],
          },
          [`${RECORD_PREFIX}e2e-theirs`]: {
            ...base, id: 'e2e-theirs', kind: 'download', state: 'running', machine: OTHER,
            url: theirs.url, targetDir: theirDir, target: path.join(theirDir, 'theirs.bin'), length: theirs.size,
            etag: theirs.etag, segments: [{ start: 0, end: theirs.size, done: 3 * MiB }],
          },
          [`${RECORD_PREFIX}e2e-their-upload`]: {
            ...base, id: 'e2e-their-upload', kind: 'upload', state: 'running', machine: OTHER,
            url: theirUpload, uploadUrl: `${theirUpload}abc`, protocol: 'tus', source: path.join(theirDir, 'video.mp4'),
            fingerprint: { path: path.join(theirDir, 'video.mp4'), size: 10 * MiB, mtimeMs: 1 }, offset: 2 * MiB, length: 10 * MiB,
          },
          [`${RECORD_PREFIX}e2e-unknown`]: {
            ...base, id: 'e2e-unknown', kind: 'download', state: 'paused',
            url: servers.fault.url('/ui/machines/unknown.bin'), targetDir: unknownDir, segments: [{ start: 0, done: 0 }],
          },
        };

        // Leave the workbench (it saves its state as it goes), seed, and come back: a reload.
        await page.waitForTimeout(GLOBAL_STATE_FLUSH_MS);
        const workbench = page.url();
        const origin = new URL(workbench).origin;
        await page.goto(`${origin}/healthz`);
        const keys = await seedGlobalState(page, records);
        ctx.log(`globalState keys now: ${keys.filter((k) => k.startsWith(RECORD_PREFIX)).length} transfer records`);
        const seq = servers.requests().length;
        await page.goto(workbench);
        await waitForWorkbench(page, 60000);

        const theirRow = await waitForRow(page, 'theirs.bin', (l) => /on build-box \(SSH\)/.test(l), 'shown on build-box (SSH)', 60000);
        ctx.log(`their row: "${theirRow}"`);
        const uploadRow = await waitForRow(page, 'video.mp4', (l) => /on build-box \(SSH\)/.test(l), 'upload shown on build-box (SSH)');
        ctx.log(`their upload: "${uploadRow}"`);
        const unknownRow = await waitForRow(page, 'unknown.bin', (l) => /machine unknown/.test(l), 'shown as machine unknown');
        ctx.log(`saved before machines: "${unknownRow}"`);

        const status = await waitFor(async () => {
          const text = await statusBarText(page, STATUS_ITEM, 30000);
          return /\d+ (running|queued)/.test(text) ? text : undefined;
        }, 'the status bar counting running or queued transfers', 30000);
        ctx.log(`status bar: "${status}"`);
        assert(/\b1 (running|queued)\b/.test(status) && !/\b[2-9] (running|queued)\b/.test(status), `the status bar counts only this machine's transfer (saw "${status}")`);

        const theirActions = await rowActions(page, 'theirs.bin');
        ctx.log(`their row offers: ${JSON.stringify(theirActions)}`);
        assert(JSON.stringify(theirActions.inline) === '["Remove from List"]', `inline: only Remove from List (saw ${JSON.stringify(theirActions.inline)})`);
        assert(JSON.stringify(theirActions.menu) === '["Remove from List"]', `context menu: only Remove from List (saw ${JSON.stringify(theirActions.menu)})`);
        await page.mouse.move(900, 600);
        await screenshot(page, ctx.shotsDir, 'm1-another-machines-rows');

        const done = await waitForRow(page, 'mine.bin', (l) => /Completed/.test(l), "this machine's transfer completed", 90000);
        ctx.log(`my row: "${done}"`);
        assert(sha256File(path.join(workspace, 'mine.bin')) === mine.sha256, 'mine.bin has the served content');
        const after = servers.requests().filter((r) => r.seq >= seq);
        ctx.log(`requests after the reload: ${JSON.stringify(after.map((r) => [r.path, r.range, r.status]))}`);
        assert(after.some((r) => r.path === mine.path), "this machine's transfer ran");
        const notMine = (r: { path: string }) => r.path === theirs.path || r.path.startsWith('/ui/machines/uploads/') || r.path === '/ui/machines/unknown.bin';
        assert(!after.some(notMine), "no request for another machine's or an unknown machine's transfer");
        assert(!fs.existsSync(theirDir), `no folder created for another machine's transfers (${theirDir})`);
        assert(!fs.existsSync(unknownDir), `no folder created for a transfer of an unknown machine (${unknownDir})`);

        await clickRowAction(transferRow(page, 'theirs.bin'), 'Remove from List');
        const dialog = page.locator('.monaco-dialog-box');
        await dialog.waitFor({ state: 'visible', timeout: 10000 });
        const question = (await dialog.innerText()).replace(/\s+/g, ' ');
        ctx.log(`asks: "${question}"`);
        assert(/build-box \(SSH\)/.test(question), 'the question says the data stays on build-box (SSH)');
        await dialog.locator('.monaco-button', { hasText: 'Remove from List' }).first().click();
        await waitFor(async () => (await transferRow(page, 'theirs.bin').count()) === 0, 'their row to go away', 10000);
        assert(!fs.existsSync(theirDir), 'still no folder after Remove');
        assert(!servers.requests().some((r) => r.seq >= seq && notMine(r)), 'Remove sent nothing to a server for it');
      },
    },
    {
      name: 'M2 "Download URL" in a window with no folder asks for a folder on the machine the extension runs on, and saves there',
      async run(ctx: UiContext) {
        const { page, servers, workspace } = ctx;
        const file = servers.serve({ path: '/ui/machines/no-folder.bin', size: 2 * MiB, seed: 701 });
        const picked = path.join(workspace, 'picked-in-the-dialog');
        fs.mkdirSync(picked, { recursive: true });
        const workbench = page.url();
        // An empty window: no folder open (code-server's "ew" = empty window).
        await page.goto(`${new URL(workbench).origin}/?ew=true`);
        await waitForWorkbench(page, 60000);
        try {
          await runCommand(page, 'Transfers: Download URL…', { timeoutMs: 60000 });
          await fillInput(page, file.url, { placeholder: 'https://example.com/', waitClosed: false });
          // VS Code's own folder dialog on the remote (code-server: the simple dialog in a quick input).
          const box = page.locator('.quick-input-widget .quick-input-box input');
          await waitFor(async () => {
            const title = await page.locator('.quick-input-widget .quick-input-title').innerText().catch(() => '');
            return /Folder for the download/.test(title);
          }, 'the folder dialog', 20000);
          // The dialog fills in its folder once it has read it.
          let start = '';
          await waitFor(async () => (start = await box.inputValue()).startsWith(os.homedir()), 'the dialog to show the home folder', 5000).catch(() => undefined);
          ctx.log(`the dialog shows "${start}"`);
          await screenshot(page, ctx.shotsDir, 'm2-folder-dialog-without-a-folder-open');
          assert(start.startsWith(os.homedir()), `it opens in the home folder of the machine the extension runs on (${os.homedir()}), saw "${start}"`);
          await box.fill(`${picked}/`);
          await page.waitForTimeout(500);
          await page.locator('.quick-input-widget .monaco-button', { hasText: 'Download Here' }).first().click();
          await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10000 });
          const target = path.join(picked, 'no-folder.bin');
          await waitFor(() => fs.existsSync(target) && sha256File(target) === file.sha256, `${target} with the served content`, 30000);
          ctx.log(`saved as ${target}`);
        } finally {
          await page.goto(workbench);
          await waitForWorkbench(page, 60000);
        }
      },
    },
  ];
}
