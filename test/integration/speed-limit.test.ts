import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { BandwidthLimits, DownloadTask, MemoryTransferStore, TransferManager, downloadedBytes, newDownloadRecord, type DownloadRecord } from '../../src/core';
import { ThreadedDownloadTask } from '../../src/core/download/threaded';
import { randomBytesSeeded, sha256 } from '../support/fault-server';
import { FAST_RETRY, runToEnd } from '../support/engine';
import { startIetfServer } from '../support/ietf-server';
import { createUploadHarness } from '../support/upload-harness';
import { assertBuilt, runCli, waitFor } from '../support/cli';
import { eachTest, faultServer, harness } from '../support/each-test';

const WORKER = path.resolve(__dirname, '..', '..', 'dist', 'download-worker.js');
const MiB = 1024 * 1024;
const SIZE = 3 * MiB;

/**
 * Speed limits against a real loopback server. Bounds are generous (the machine is shared): the
 * point is that a limited download takes about as long as the limit says, not milliseconds.
 */
describe('speed limits', function () {
  this.timeout(30_000);
  const ctx = eachTest({ server: faultServer, h: harness });
  const body = randomBytesSeeded(SIZE, 77);

  before(assertBuilt);

  for (const connections of [1, 4]) {
    it(`a 1 MiB/s limit makes a 3 MiB download with ${connections} connection(s) take about 3 s, bytes intact`, async () => {
      ctx.server.route('/f.bin', { body, etag: '"l1"' });
      const limits = new BandwidthLimits(MiB);
      const task = ctx.h.task(ctx.server.url('/f.bin'), { bandwidth: limits.gateFor('t'), minSplitBytes: 256 * 1024, record: { connections } });
      const started = Date.now();
      const done = await runToEnd(task);
      const seconds = (Date.now() - started) / 1000;
      assert.equal(sha256(await readFile(done.target!)), sha256(body));
      // 3 MiB minus a quarter-second burst at 1 MiB/s is 2.75 s.
      assert.ok(seconds >= 2.2 && seconds < 8, `took ${seconds} s`);
      if (connections > 1) assert.ok(ctx.server.requests.length >= 2, 'several connections were used');
    });
  }

  it('a limit set while a worker-thread download runs slows it within a second; lifting it lets it finish', async () => {
    ctx.server.route('/w.bin', { body, etag: '"w1"', rateBytesPerSec: 2 * MiB });
    const limits = new BandwidthLimits(0);
    const store = ctx.h.store;
    const record: DownloadRecord = newDownloadRecord({ id: 'w', url: ctx.server.url('/w.bin'), targetDir: ctx.h.dir, now: Date.now() });
    const task = new ThreadedDownloadTask(record, { workerPath: WORKER, store, bandwidth: limits.gateFor('w'), settings: { progressIntervalMs: 50 } });
    let bytes = 0;
    task.onProgress((progress) => (bytes = progress.bytes));
    const running = task.run(new AbortController().signal);
    await waitFor(() => bytes > 0);
    limits.setTransferLimit('w', 256 * 1024);
    await new Promise((r) => setTimeout(r, 1000));
    const from = bytes;
    await new Promise((r) => setTimeout(r, 2000));
    const moved = bytes - from;
    // 2 s at 256 KiB/s is 512 KiB; unlimited the server would have sent 4 MiB (all of the rest).
    assert.ok(moved > 256 * 1024 && moved < 900 * 1024, `moved ${moved} bytes in 2 s under a 256 KiB/s limit`);
    limits.setTransferLimit('w', 0);
    const done = await running;
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.equal(downloadedBytes(done), SIZE);
  });

  it('Limit Speed on a running transfer (manager): its bytes slow down and the limit stays in every saved record', async () => {
    ctx.server.route('/m.bin', { body, etag: '"m1"', rateBytesPerSec: 2 * MiB });
    const store = new MemoryTransferStore();
    const manager = new TransferManager({
      store,
      bandwidth: new BandwidthLimits(0),
      createRunner: (record, context) =>
        new DownloadTask(record as DownloadRecord, { http: ctx.h.http, store: context.store, guard: context.guard, retry: FAST_RETRY, bandwidth: context.bandwidth }),
    });
    try {
      await manager.add(newDownloadRecord({ id: 'm', url: ctx.server.url('/m.bin'), targetDir: ctx.h.dir, now: Date.now() }));
      await waitFor(() => (manager.get('m')?.progress?.bytes ?? 0) > 0);
      await manager.setSpeedLimit('m', 512 * 1024);
      const from = manager.get('m')?.progress?.bytes ?? 0;
      const started = Date.now();
      await waitFor(() => manager.get('m')?.record.state === 'completed', 30_000);
      const seconds = (Date.now() - started) / 1000;
      // Unlimited the server's 2 MiB/s would need about a second and a half for the rest.
      const expected = (SIZE - from) / (512 * 1024);
      assert.ok(seconds > expected * 0.6, `took ${seconds} s for ${SIZE - from} bytes at 512 KiB/s`);
      const saved = (await store.get('m')) as DownloadRecord;
      assert.equal(saved.state, 'completed');
      assert.equal(saved.maxBytesPerSecond, 512 * 1024, "the runner's own saves kept the limit set while it ran");
      assert.equal(manager.get('m')?.record.maxBytesPerSecond, 512 * 1024, 'the row (the snapshot) still shows the limit after the runner reported its record');
      assert.equal(sha256(await readFile(saved.target!)), sha256(body));
    } finally {
      await manager.shutdown();
    }
  });

  it('an upload under a 1 MiB/s limit takes about as long as the limit says, bytes intact', async () => {
    const up = await createUploadHarness();
    const ietf = await startIetfServer();
    try {
      const { file, sha256: expected } = await up.file('up.bin', 3 * MiB);
      const started = Date.now();
      const done = await (await up.task(file, ietf.endpoint, { bandwidth: new BandwidthLimits(MiB).gateFor('u') })).run(new AbortController().signal);
      const seconds = (Date.now() - started) / 1000;
      assert.equal(done.state, 'completed');
      assert.equal(ietf.sha256([...ietf.uploads.values()][0].id), expected);
      assert.ok(seconds >= 2.2 && seconds < 10, `took ${seconds} s`);
    } finally {
      await ietf.close();
      await up.cleanup();
    }
  });

  it('CLI get --limit-rate 1M takes about as long as the limit says', async () => {
    ctx.server.route('/c.bin', { body, etag: '"c1"' });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rt-limit-'));
    try {
      const target = path.join(dir, 'c.bin');
      const started = Date.now();
      const result = await runCli(['get', ctx.server.url('/c.bin'), '-o', target, '--limit-rate', '1M']);
      const seconds = (Date.now() - started) / 1000;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(sha256(await readFile(target)), sha256(body));
      assert.ok(seconds >= 2.2 && seconds < 10, `took ${seconds} s`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
