import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { HostConnectionLimits, TransferError, type DownloadRecord, type Exchange, type TransferStore } from '../../src/core';
import { ThreadedDownloadTask } from '../../src/core/download/threaded';
import { randomBytesSeeded, sha256 } from '../support/fault-server';
import { assertBuilt } from '../support/cli';
import { fastRetry, pauseWhen } from '../support/engine';
import { eachTest, faultServer, harness } from '../support/each-test';
import { newDownloadRecord } from '../../src/core';

const WORKER = path.resolve(__dirname, '..', '..', 'dist', 'download-worker.js');
const MiB = 1024 * 1024;
const SIZE = 4 * MiB;

describe('download in a worker thread', function () {
  const ctx = eachTest({ server: faultServer, h: harness });
  const body = randomBytesSeeded(SIZE, 41);

  before(assertBuilt);

  const record = (name: string, extra: Partial<DownloadRecord> = {}) => ({
    ...newDownloadRecord({ id: name, url: ctx.server.url(`/${name}`), targetDir: ctx.h.dir, now: Date.now() }),
    ...extra,
  });

  function threaded(rec: DownloadRecord, extra: Partial<ConstructorParameters<typeof ThreadedDownloadTask>[1]> = {}) {
    return new ThreadedDownloadTask(rec, {
      workerPath: WORKER,
      store: ctx.h.store,
      settings: { retry: fastRetry(3) },
      ...extra,
    });
  }

  it('downloads with the byte path off this thread; saves, progress and headers come back as messages', async () => {
    ctx.server.route('/w.bin', { body, etag: '"w1"', dropAfter: { bytes: MiB, times: 1 } });
    const leases: number[] = [];
    // What a manager hands its runners: a store that stamps the lease on every save.
    const stamping: TransferStore = {
      list: () => ctx.h.store.list(),
      get: (id) => ctx.h.store.get(id),
      delete: (id) => ctx.h.store.delete(id),
      put: async (r) => {
        leases.push(1);
        await ctx.h.store.put({ ...r, lease: { owner: 'main', expiresAt: 1 } });
      },
    };
    const exchanges: Exchange[] = [];
    const task = threaded(record('w.bin'), {
      headers: async () => ({ Authorization: 'Bearer from-main-thread' }),
      store: stamping,
      onExchange: (exchange) => exchanges.push(exchange),
    });
    let progressEvents = 0;
    task.onProgress(() => progressEvents++);
    const done = await task.run(new AbortController().signal);
    assert.equal(done.state, 'completed');
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.equal(ctx.server.requests[1].headers.authorization, 'Bearer from-main-thread');
    assert.match(String(ctx.server.requests[1].headers.range), /^bytes=\d+-$/);
    const saved = (await ctx.h.store.get('w.bin')) as DownloadRecord;
    assert.equal(saved.state, 'completed');
    assert.equal(saved.lease?.owner, 'main', 'every save went through the owner, which added its lease');
    assert.ok(leases.length >= 2 && progressEvents >= 1);
    // The request log (details view) hears of every request the worker made, never a credential.
    assert.deepEqual(exchanges.map((e) => e.status), ctx.server.requests.map((r) => r.status));
    assert.equal(exchanges[1].request.range, ctx.server.requests[1].headers.range);
    assert.doesNotMatch(JSON.stringify(exchanges), /from-main-thread/);
  });

  it('pause is an abort: the worker saves the paused record, the caller gets an AbortError', async () => {
    ctx.server.route('/p.bin', { body, etag: '"p1"', rateBytesPerSec: 2 * MiB });
    const task = threaded(record('p.bin'));
    await pauseWhen(task, () => (task.record.segments[0]?.done ?? 0) > 0);
    const saved = (await ctx.h.store.get('p.bin')) as DownloadRecord;
    assert.equal(saved.state, 'paused');
    const done = await threaded(saved).run(new AbortController().signal);
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
  });

  it('failures keep their code across the thread boundary', async () => {
    ctx.server.route('/other', { body });
    await assert.rejects(threaded(record('missing')).run(new AbortController().signal), (e: unknown) => e instanceof TransferError && e.code === 'ERR_HTTP_STATUS' && e.status === 404);
    assert.equal(((await ctx.h.store.get('missing')) as DownloadRecord).state, 'failed');
  });

  it('host limits learned in the worker reach the shared object', async () => {
    ctx.server.route('/busy.bin', { body, etag: '"b1"', rateBytesPerSec: 2 * MiB });
    const limits = new HostConnectionLimits();
    const first = threaded(record('busy.bin', { connections: 4 }), { connectionLimits: limits, settings: { minSplitBytes: 256 * 1024 } });
    await pauseWhen(first, () => first.record.segments.length >= 2);
    // Requests of the paused run may still be on the wire: let them land before the 503 is armed.
    let seen = -1;
    while (seen !== ctx.server.requests.length) {
      seen = ctx.server.requests.length;
      await new Promise((r) => setTimeout(r, 200));
    }
    ctx.server.route('/busy.bin', { body, etag: '"b1"', failWith: { status: 503, retryAfter: '0', times: 1 } });
    const done = await threaded(first.record, { connectionLimits: limits, settings: { minSplitBytes: 256 * 1024, retry: fastRetry(3) } }).run(new AbortController().signal);
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.equal(limits.limitFor(ctx.server.url('/busy.bin'), 4), 2);
  });

  it('keeps this thread responsive: event-loop delay during a fast download (printed, not asserted)', async () => {
    const big = randomBytesSeeded(64 * MiB, 42);
    ctx.server.route('/big.bin', { body: big, etag: '"g1"' });
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    const done = await threaded(record('big.bin')).run(new AbortController().signal);
    histogram.disable();
    assert.equal(sha256(await readFile(done.target!)), sha256(big));
    console.log(`      main-thread event-loop delay: p99 ${(histogram.percentile(99) / 1e6).toFixed(1)} ms, max ${(histogram.max / 1e6).toFixed(1)} ms`);
  });
});
