import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { DownloadRecord, RecordedError } from '../../src/core';
import { describe as describeRow } from '../../src/vscode/presentation';
import { fastRetry, filesIn, runToEnd } from '../support/engine';
import { eachTest, faultServer, harness } from '../support/each-test';
import { randomBytesSeeded, sha256 } from '../support/fault-server';
import { english } from '../support/l10n';
import { freePort } from '../support/ports';
import { startTlsFront } from '../support/proxy-server';
import { transferErrorOf } from '../support/transfer-errors';

describe('download engine: what the user is told (real sockets)', function () {
  this.timeout(20_000);
  const ctx = eachTest({ server: faultServer, h: harness });

  describe('failures that say why', () => {
    it('an unreachable port: every retry is saved with its cause and time, the failure says "connection refused"', async () => {
      const port = await freePort();
      const task = ctx.h.task(`http://127.0.0.1:${port}/file.bin`, { retry: fastRetry(2) });
      const retries: RecordedError[] = [];
      task.onRecord((record) => {
        if (record.state === 'running' && record.lastError?.retry) retries.push(record.lastError);
      });
      const error = await transferErrorOf(runToEnd(task));
      assert.equal(error.code, 'ERR_RETRIES_EXHAUSTED');
      assert.deepEqual(
        retries.map((e) => [e.networkReason, e.retry?.attempt, e.retry?.of]),
        [
          ['connection-refused', 1, 2],
          ['connection-refused', 2, 2],
        ],
      );
      const saved = (await ctx.h.store.get(task.record.id)) as DownloadRecord;
      assert.equal(saved.lastError?.networkReason, 'connection-refused');
      // Nothing was downloaded: there is nothing to continue.
      assert.equal(describeRow({ record: saved }, english), 'Failed: Gave up after repeated failures: connection refused.');
    });

    it('a certificate nobody trusts: not retried, the row says so and where to add the authority', async () => {
      ctx.server.route('/file.bin', { body: randomBytesSeeded(1000, 3), etag: '"v1"' });
      const front = await startTlsFront(ctx.server.url('').replace(/\/$/, ''));
      try {
        const task = ctx.h.task(front.url('/file.bin'), { retry: fastRetry(1) });
        const error = await transferErrorOf(runToEnd(task));
        assert.equal(error.code, 'ERR_TLS_CERTIFICATE');
        const saved = (await ctx.h.store.get(task.record.id)) as DownloadRecord;
        assert.equal(saved.lastError?.networkReason, 'tls-untrusted');
        assert.match(describeRow({ record: saved }, english), /certificate is not trusted.*resumableTransfers\.caCertificates/);
      } finally {
        await front.close();
      }
    });

    it('a connection that breaks after some bytes, for good: the failure offers to continue, because bytes exist', async () => {
      const body = randomBytesSeeded(2 * 1024 * 1024, 4);
      ctx.server.route('/cut.bin', { body, etag: '"v1"', dropAfter: { bytes: 1024 * 1024, times: 1 } });
      const task = ctx.h.task(ctx.server.url('/cut.bin'), { retry: fastRetry(0) });
      await transferErrorOf(runToEnd(task));
      const saved = (await ctx.h.store.get(task.record.id)) as DownloadRecord;
      assert.match(describeRow({ record: saved }, english), /Retry to continue where it stopped\. · \d+%$/);
    });
  });

  describe('names are reserved when a download starts', () => {
    it('the same URL twice at once: two complete files, "name.bin" and "name (1).bin", no shared part file', async () => {
      const body = randomBytesSeeded(2 * 1024 * 1024, 5);
      ctx.server.route('/same/name.bin', { body, etag: '"v1"', rateBytesPerSec: 8 * 1024 * 1024 });
      const [a, b] = await Promise.all([runToEnd(ctx.h.task(ctx.server.url('/same/name.bin'))), runToEnd(ctx.h.task(ctx.server.url('/same/name.bin')))]);
      assert.deepEqual([a.state, b.state], ['completed', 'completed']);
      assert.deepEqual(await filesIn(ctx.h.dir), ['name (1).bin', 'name.bin']);
      assert.deepEqual([path.basename(a.target!), path.basename(b.target!)].sort(), ['name (1).bin', 'name.bin']);
      for (const file of ['name.bin', 'name (1).bin']) assert.equal(sha256(await readFile(path.join(ctx.h.dir, file))), sha256(body), file);
    });

    it('three downloads whose servers pick the same name (Content-Disposition) get three names', async () => {
      const bodies = [6, 7, 8].map((seed) => randomBytesSeeded(512 * 1024, seed));
      bodies.forEach((body, i) => ctx.server.route(`/r${i}`, { body, etag: `"v${i}"`, contentDisposition: 'attachment; filename="report.pdf"', rateBytesPerSec: 4 * 1024 * 1024 }));
      const done = await Promise.all(bodies.map((_, i) => runToEnd(ctx.h.task(ctx.server.url(`/r${i}`)))));
      assert.deepEqual(await filesIn(ctx.h.dir), ['report (1).pdf', 'report (2).pdf', 'report.pdf']);
      for (const [i, record] of done.entries()) assert.equal(sha256(await readFile(record.target!)), sha256(bodies[i]));
    });
  });
});
