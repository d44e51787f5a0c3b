import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DownloadTask,
  acquireClaim,
  MemoryTransferStore,
  NodeFetchHttpClient,
  TransferManager,
  newDownloadRecord,
  partPathFor,
  salvageDownload,
  systemClock,
  type Clock,
  type DownloadRecord,
  type TransferChange,
  type TransferRecord,
  type TransferStore,
} from '../../src/core';
import { randomBytesSeeded, sha256, startFaultServer, type FaultServer } from '../support/fault-server';
import { waitFor } from '../support/cli';
import { FAST_RETRY } from '../support/engine';
import { english } from '../support/l10n';
import { describe as describeRow } from '../../src/vscode/presentation';

const SIZE = 2 * 1024 * 1024;

describe('transfer manager', function () {
  let server: FaultServer;
  let dir: string;
  let http: NodeFetchHttpClient;
  let store: MemoryTransferStore;
  const managers: TransferManager[] = [];
  const body = randomBytesSeeded(SIZE, 21);

  /** A view of the shared store that a "crashed" window stops writing through. */
  class FreezableStore extends MemoryTransferStore {
    frozen = false;
    override list = () => store.list();
    override get = (id: string) => store.get(id);
    override put = async (r: TransferRecord) => (this.frozen ? undefined : store.put(r));
    override delete = async (id: string) => (this.frozen ? undefined : store.delete(id));
  }

  interface WindowOptions {
    ownerId?: string;
    maxConcurrent?: number;
    leaseMs?: number;
    via?: TransferStore;
    /** Windows of one editor share a claim folder. */
    claimDir?: string;
    claimStaleMs?: number;
    clock?: Clock;
  }

  function createManager(options: WindowOptions = {}): TransferManager {
    const via = options.via ?? store;
    const manager = new TransferManager({
      store: via,
      maxConcurrent: options.maxConcurrent ?? 2,
      ownerId: options.ownerId,
      leaseMs: options.leaseMs,
      claimDir: options.claimDir,
      claimStaleMs: options.claimStaleMs,
      clock: options.clock,
      remoteRefreshMs: 100,
      createRunner: (record, context) =>
        new DownloadTask(record as DownloadRecord, { http, store: context.store, guard: context.guard, retry: FAST_RETRY, clock: options.clock }),
    });
    managers.push(manager);
    return manager;
  }

  const record = (name: string, extra: Partial<DownloadRecord> = {}): DownloadRecord => ({
    ...newDownloadRecord({ id: name, url: server.url(`/${name}`), targetDir: dir, now: Date.now() }),
    ...extra,
  });

  const stateOf = (manager: TransferManager, id: string) => manager.get(id)?.record.state;

  beforeEach(async () => {
    server = await startFaultServer();
    dir = await mkdtemp(path.join(os.tmpdir(), 'rt-mgr-'));
    http = new NodeFetchHttpClient();
    store = new MemoryTransferStore();
  });
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.shutdown()));
    http.dispose();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs at most maxConcurrent transfers and queues the rest', async () => {
    for (const name of ['a', 'b', 'c']) server.route(`/${name}`, { body, etag: `"${name}"`, rateBytesPerSec: 4 * 1024 * 1024 });
    const manager = createManager({ maxConcurrent: 2 });
    let peak = 0;
    manager.onDidChange(() => (peak = Math.max(peak, manager.list().filter((s) => s.record.state === 'running').length)));
    for (const name of ['a', 'b', 'c']) await manager.add(record(name));
    await waitFor(() => manager.list().every((s) => s.record.state === 'completed'), 30_000);
    assert.equal(peak, 2);
    for (const name of ['a', 'b', 'c']) assert.equal(sha256(await readFile(path.join(dir, name))), sha256(body));
  });

  it('pauses, resumes with Range, and reports every state change in order', async () => {
    server.route('/p', { body, etag: '"p"', rateBytesPerSec: 2 * 1024 * 1024 });
    const manager = createManager();
    const states: string[] = [];
    manager.onDidChange((c: TransferChange) => {
      const state = c.snapshot?.record.state;
      if (state && states[states.length - 1] !== state) states.push(state);
    });
    await manager.add(record('p'));
    await waitFor(() => (manager.get('p')?.progress?.bytes ?? 0) > 200_000);
    await manager.pause('p');
    assert.equal(stateOf(manager, 'p'), 'paused');
    assert.equal((await store.get('p'))?.state, 'paused');
    await manager.resume('p');
    await waitFor(() => stateOf(manager, 'p') === 'completed', 30_000);
    assert.deepEqual(states, ['queued', 'running', 'paused', 'queued', 'running', 'completed']);
    assert.equal(sha256(await readFile(path.join(dir, 'p'))), sha256(body));
    assert.ok(server.requests[1].headers.range);
  });

  it('a download whose checksum does not match shows no progress for the bytes it deleted', async () => {
    server.route('/m', { body, etag: '"m"', rateBytesPerSec: 4 * 1024 * 1024 });
    const manager = createManager();
    await manager.add(record('m', { sha256: sha256(Buffer.from('other bytes')) }));
    await waitFor(() => stateOf(manager, 'm') === 'failed', 30_000);
    assert.ok(!existsSync(partPathFor(path.join(dir, 'm'))) && !existsSync(path.join(dir, 'm')), 'nothing of m is left on disk');
    assert.equal(describeRow(manager.get('m')!, english), 'Failed: The downloaded file does not match the sha256 you gave.');
  });

  it('an older copy of a finished transfer handed back by the store neither runs it again nor stays', async () => {
    server.route('/s', { body, etag: '"s"' });
    const manager = createManager();
    await manager.add(record('s'));
    await waitFor(() => stateOf(manager, 's') === 'completed', 30_000);
    const done = (await store.get('s'))!;
    // What a shared, lazily flushed globalState can hand back: the save before the last.
    await store.put({ ...done, state: 'running', lease: undefined, updatedAt: done.updatedAt - 1 });
    const requests = server.requests.length;
    await waitFor(async () => (await store.get('s'))?.state === 'completed', 5_000);
    await new Promise((resolve) => setTimeout(resolve, 500)); // a few more refreshes (every 100 ms here)
    assert.equal(stateOf(manager, 's'), 'completed');
    assert.equal(server.requests.length, requests, 'no request after the download completed');
    assert.deepEqual(await readdir(dir), ['s']);
  });

  it('cancel deletes the partial data but keeps the row; remove forgets it', async () => {
    server.route('/c', { body, etag: '"c"', rateBytesPerSec: 1024 * 1024 });
    const manager = createManager();
    await manager.add(record('c'));
    await waitFor(() => existsSync(partPathFor(path.join(dir, 'c'))) && (manager.get('c')?.progress?.bytes ?? 0) > 0);
    await manager.cancel('c');
    assert.equal(stateOf(manager, 'c'), 'cancelled');
    assert.ok(!existsSync(partPathFor(path.join(dir, 'c'))));
    await manager.remove('c');
    assert.equal(manager.get('c'), undefined);
    assert.equal(await store.get('c'), undefined);
  });

  it('removing a transfer a crashed window ran leaves nothing beside where its part file was', async () => {
    const target = path.join(dir, 'crashed.bin');
    await writeFile(partPathFor(target), body.subarray(0, 1000));
    // The window died holding the claim an hour ago.
    await acquireClaim(partPathFor(target), { owner: 'crashed-window', now: () => Date.now() - 3_600_000 });
    await store.put(record('crashed.bin', { state: 'paused', target, length: SIZE, etag: '"c"', segments: [{ start: 0, end: SIZE, done: 1000 }] }));
    const manager = createManager();
    await manager.restore({ autoResume: false });
    await manager.remove('crashed.bin');
    assert.deepEqual(await readdir(dir), []);
  });

  it('restores unfinished transfers: resumes them with auto-resume, holds them paused without', async () => {
    server.route('/r', { body, etag: '"r"' });
    const target = path.join(dir, 'r');
    await writeFile(partPathFor(target), body.subarray(0, 500_000));
    const saved = record('r', { state: 'running', target, length: SIZE, etag: '"r"', segments: [{ start: 0, end: SIZE, done: 500_000 }] });
    await store.put(saved);

    const held = createManager();
    await held.restore({ autoResume: false });
    assert.equal(stateOf(held, 'r'), 'paused');
    assert.equal(held.get('r')?.held, 'auto-resume-off');
    await held.shutdown();

    const resumer = createManager();
    await resumer.restore({ autoResume: true });
    await waitFor(() => stateOf(resumer, 'r') === 'completed', 30_000);
    assert.equal(server.requests[0].headers.range, 'bytes=500000-');
    assert.equal(sha256(await readFile(target)), sha256(body));
  });

  it('leaves a transfer to the window that holds its lease, and takes over when the lease expires', async () => {
    server.route('/l', { body, etag: '"l"', rateBytesPerSec: 1024 * 1024 });
    const firstStore = new FreezableStore();
    const first = createManager({ ownerId: 'window-1', leaseMs: 1500, via: firstStore });
    await first.add(record('l'));
    // The first window has saved its lease, its file name and some progress.
    await waitFor(async () => {
      const saved = (await store.get('l')) as DownloadRecord | undefined;
      return saved?.lease?.owner === 'window-1' && saved.target !== undefined && saved.segments[0].done > 0;
    });

    const second = createManager({ ownerId: 'window-2', leaseMs: 1500 });
    await second.restore({ autoResume: true });
    assert.equal(second.get('l')?.held, 'running-elsewhere');
    assert.equal(server.requests.length, 1, 'the second window does not start its own request');

    // The first window dies without a goodbye: its lease must run out before anyone takes over.
    firstStore.frozen = true;
    await first.shutdown();
    assert.equal(((await store.get('l')) as DownloadRecord).lease?.owner, 'window-1');
    await waitFor(() => stateOf(second, 'l') === 'completed', 30_000);
    assert.equal(sha256(await readFile(path.join(dir, 'l'))), sha256(body));
  });

  it('gives up its lease on shutdown so the next start resumes at once', async () => {
    server.route('/s', { body, etag: '"s"', rateBytesPerSec: 1024 * 1024 });
    const first = createManager({ ownerId: 'old-session', leaseMs: 60_000 });
    await first.add(record('s'));
    await waitFor(() => (first.get('s')?.progress?.bytes ?? 0) > 100_000);
    await first.shutdown();
    const saved = (await store.get('s')) as TransferRecord;
    assert.equal(saved.lease, undefined);
    assert.equal(saved.state, 'running', 'shutdown is not a pause: the next start resumes');
    const next = createManager({ ownerId: 'new-session' });
    await next.restore({ autoResume: true });
    assert.equal(next.get('s')?.held, undefined);
    await waitFor(() => stateOf(next, 's') === 'completed', 30_000);
  });

  it('treats the lease of an owner that said goodbye as free', async () => {
    server.route('/g', { body, etag: '"g"' });
    await store.put(record('g', { state: 'running', lease: { owner: 'closed-window', expiresAt: Date.now() + 60_000 } }));
    const manager = new TransferManager({
      store,
      ownerId: 'new-window',
      isReleased: (owner) => owner === 'closed-window',
      createRunner: (r, context) => new DownloadTask(r as DownloadRecord, { http, store: context.store, retry: FAST_RETRY }),
    });
    managers.push(manager);
    await manager.restore({ autoResume: true });
    assert.equal(manager.get('g')?.held, undefined);
    await waitFor(() => stateOf(manager, 'g') === 'completed', 30_000);
  });

  it('salvages a record that fails validation as a paused fresh start', () => {
    const salvaged = salvageDownload('x', { kind: 'download', url: 'https://example.com/f', targetDir: dir, segments: 'garbage' }, 'segments missing', 5);
    assert.equal(salvaged?.state, 'paused');
    assert.equal(salvaged?.lastError?.code, 'ERR_RECORD_INVALID');
    assert.deepEqual(salvaged?.segments, [{ start: 0, end: undefined, done: 0 }]);
    assert.equal(salvageDownload('y', { kind: 'download', url: 'ftp://x' }, 'bad', 5), undefined);
  });

  it('a cancel racing the final rename leaves the download completed, and Retry does not fetch it again as "name (1)"', async () => {
    server.route('/done.bin', { body, etag: '"d"' });
    // The file is renamed into place, and its "completed" save takes a moment (globalState under
    // load): the user presses Cancel right then, while the row still says running.
    let renamed!: () => void;
    const inPlace = new Promise<void>((resolve) => (renamed = resolve));
    let letSaveFinish!: () => void;
    const saveMayFinish = new Promise<void>((resolve) => (letSaveFinish = resolve));
    const slowCompletedSave: TransferStore = {
      list: () => store.list(),
      get: (id) => store.get(id),
      delete: (id) => store.delete(id),
      put: async (r) => {
        if (r.state === 'completed') {
          renamed();
          await saveMayFinish;
        }
        await store.put(r);
      },
    };
    const manager = createManager({ via: slowCompletedSave });
    await manager.add(record('done.bin'));
    await inPlace;
    assert.equal(stateOf(manager, 'done.bin'), 'running');
    const cancelling = manager.cancel('done.bin');
    setTimeout(letSaveFinish, 50);
    await cancelling;
    assert.equal(stateOf(manager, 'done.bin'), 'completed');
    assert.equal((await store.get('done.bin'))?.state, 'completed');
    assert.equal(sha256(await readFile(path.join(dir, 'done.bin'))), sha256(body));
    await manager.retry('done.bin');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(server.requests.length, 1, 'not downloaded again');
    assert.deepEqual((await readdir(dir)).sort(), ['done.bin']);
  });

  describe('one writer per transfer, across windows', () => {
    const window = (ownerId: string, extra: WindowOptions = {}) => createManager({ ownerId, claimDir: path.join(dir, '.claims'), ...extra });
    const requestsFor = (name: string) => server.requests.filter((r) => r.path === `/${name}`).length;

    /** A download that ran before a restart: 11 % on disk, saved as running with a lease long expired. */
    async function interrupted(name: string): Promise<DownloadRecord> {
      const target = path.join(dir, name);
      const done = Math.floor(SIZE * 0.11);
      await writeFile(partPathFor(target), body.subarray(0, done));
      const saved = record(name, {
        state: 'running',
        target,
        length: SIZE,
        etag: `"${name}"`,
        segments: [{ start: 0, end: SIZE, done }],
        lease: { owner: 'window-before-restart', expiresAt: Date.now() - 600_000 },
      });
      await store.put(saved);
      return saved;
    }

    it('after a restart both windows restore at once: one runs the transfer, the other shows it running elsewhere', async () => {
      server.route('/r', { body, etag: '"r"', rateBytesPerSec: 4 * 1024 * 1024 });
      await interrupted('r');
      const [a, b] = [window('window-a'), window('window-b')];
      const shownElsewhere = new Set<TransferManager>();
      for (const m of [a, b]) m.onDidChange((c) => c.snapshot?.held === 'running-elsewhere' && shownElsewhere.add(m));
      await Promise.all([a.restore({ autoResume: true }), b.restore({ autoResume: true })]);
      await waitFor(() => [a, b].some((m) => m.get('r')?.record.state === 'completed'), 30_000);
      assert.equal(requestsFor('r'), 1, 'only one window fetched');
      assert.equal(shownElsewhere.size, 1, 'exactly one window showed it running elsewhere');
      assert.equal(sha256(await readFile(path.join(dir, 'r'))), sha256(body));
      // The other window's row follows to the end.
      await waitFor(() => [a, b].every((m) => m.get('r')?.record.state === 'completed'));
      assert.ok(server.totalBodyBytesSent('/r') <= SIZE);
    });

    it('window B resuming its stale paused row while A runs it does not start a second writer; B shows A running it', async () => {
      server.route('/p', { body, etag: '"p"', rateBytesPerSec: 1024 * 1024 });
      await store.put({ ...(await interrupted('p')), state: 'paused', lease: undefined });
      const b = window('window-b');
      await b.restore({ autoResume: true });
      assert.equal(b.get('p')?.record.state, 'paused');
      const a = window('window-a');
      await a.restore({ autoResume: true });
      await a.resume('p');
      await waitFor(() => (a.get('p')?.progress?.bytes ?? 0) > SIZE * 0.3);

      // B still shows its old row (or has just caught up); the user presses Resume there.
      await b.resume('p');
      assert.equal(b.get('p')?.held, 'running-elsewhere');
      await waitFor(() => a.get('p')?.record.state === 'completed', 30_000);
      assert.equal(requestsFor('p'), 1, 'B never fetched');
      assert.equal(sha256(await readFile(path.join(dir, 'p'))), sha256(body));
      // B's row follows A's transfer to its end without any action.
      await waitFor(() => b.get('p')?.record.state === 'completed');
    });

    it("B's rows of a transfer another window runs keep updating", async () => {
      server.route('/u', { body, etag: '"u"', rateBytesPerSec: 1024 * 1024 });
      await store.put({ ...(await interrupted('u')), state: 'paused', lease: undefined });
      const b = window('window-b');
      await b.restore({ autoResume: true });
      const a = window('window-a');
      await a.restore({ autoResume: true });
      await a.resume('u');
      await waitFor(() => b.get('u')?.held === 'running-elsewhere' && b.get('u')?.record.state === 'running');
      await waitFor(() => b.get('u')?.record.state === 'completed', 30_000);
    });

    it('a window whose heartbeat stopped (a laptop asleep) loses the transfer and stops before it writes again', async () => {
      server.route('/w', { body, etag: '"w"', rateBytesPerSec: 1024 * 1024 });
      await interrupted('w');
      // Window A's clock is a minute behind: its lease and claim heartbeats look a minute old to B.
      const asleep: Clock = { now: () => Date.now() - 60_000, sleep: systemClock.sleep };
      const a = window('window-a', { clock: asleep, claimStaleMs: 5_000 });
      await a.restore({ autoResume: true });
      await waitFor(() => (a.get('w')?.progress?.bytes ?? 0) > SIZE * 0.2);

      const b = window('window-b', { claimStaleMs: 5_000 });
      await b.restore({ autoResume: true });
      await waitFor(() => a.get('w')?.held === 'running-elsewhere', 10_000);
      const servedWhenAStopped = server.totalBodyBytesSent('/w');
      await waitFor(() => b.get('w')?.record.state === 'completed', 30_000);
      assert.equal(sha256(await readFile(path.join(dir, 'w'))), sha256(body));
      // A stopped for good: what was served after B took over is what B needed, not a second copy.
      assert.ok(server.totalBodyBytesSent('/w') - servedWhenAStopped <= SIZE, 'A kept downloading');
      assert.ok(server.totalBodyBytesSent('/w') < 1.5 * SIZE);
    });
  });
});
