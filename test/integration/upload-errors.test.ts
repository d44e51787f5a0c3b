import assert from 'node:assert/strict';
import * as path from 'node:path';
import { TransferError, type UploadRecord } from '../../src/core';
import { assertBuilt, runCli } from '../support/cli';
import { startPlainPutServer, startStatusServer } from '../support/ietf-server';
import { freePort } from '../support/nginx';
import { run, sha256 } from '../support/upload-harness';
import { eachTest, uploadHarness, closeAfterTest } from '../support/each-test';

const MiB = 1024 * 1024;

describe('upload: errors and the non-resumable fallback', function () {
  const ctx = eachTest({ h: uploadHarness, closeAfter: closeAfterTest });

  it('a dead endpoint (connection refused) fails with ERR_RETRIES_EXHAUSTED (cause: connection refused) after the retries, record kept', async () => {
    const port = await freePort();
    const { file } = await ctx.h.file('a.bin', 1000);
    const task = await ctx.h.task(file, `http://127.0.0.1:${port}/files/`);
    const retries: number[] = [];
    task.onRetry((event) => retries.push(event.attempt));
    await assert.rejects(run(task), (e: TransferError) => {
      assert.equal(e.code, 'ERR_RETRIES_EXHAUSTED');
      assert.equal(e.networkReason, 'connection-refused');
      assert.match(e.message, /ECONNREFUSED/);
      assert.match(e.message, /gave up after 4 retries/);
      return true;
    });
    assert.deepEqual(retries, [1, 2, 3, 4]);
    const saved = (await ctx.h.store.get(task.record.id)) as UploadRecord;
    assert.equal(saved.state, 'failed');
    assert.equal(saved.lastError?.code, 'ERR_RETRIES_EXHAUSTED');
    assert.equal(saved.lastError?.networkReason, 'connection-refused');
  });

  it('403 is ERR_HTTP_STATUS at once, without a retry', async () => {
    const forbidden = ctx.closeAfter(await startStatusServer(403));
    const { file } = await ctx.h.file('b.bin', 1000);
    const task = await ctx.h.task(file, `${forbidden.origin}/files/`);
    await assert.rejects(run(task), (e: TransferError) => e.code === 'ERR_HTTP_STATUS' && e.status === 403);
    assert.equal(forbidden.requests(), 1);
    assert.equal(task.record.state, 'failed');
  });

  it('403 on a forced protocol (tus POST) is ERR_HTTP_STATUS without a retry too', async () => {
    const forbidden = ctx.closeAfter(await startStatusServer(403));
    const { file } = await ctx.h.file('c.bin', 1000);
    const task = await ctx.h.task(file, `${forbidden.origin}/files/`, { protocol: 'tus' });
    await assert.rejects(run(task), (e: TransferError) => e.code === 'ERR_HTTP_STATUS' && e.status === 403);
    assert.equal(forbidden.requests(), 2, 'OPTIONS for the extensions, then the refused POST');
  });

  it('a server that only takes a plain PUT: the upload works and is marked not resumable', async () => {
    const plain = ctx.closeAfter(await startPlainPutServer());
    const { file, data } = await ctx.h.file('plain.bin', 2 * MiB);
    const task = await ctx.h.task(file, plain.url('plain.bin'));
    const done = await run(task);
    assert.equal(done.state, 'completed');
    assert.equal(done.protocol, 'put');
    assert.equal(done.resumable, false);
    assert.equal(sha256(plain.files.get('/plain.bin') ?? Buffer.alloc(0)), sha256(data));
    assert.ok(ctx.h.logs.some((l) => /cannot resume uploads/.test(l)));
  });

  it('requireResumable refuses a plain-PUT-only endpoint with ERR_UPLOAD_NOT_RESUMABLE', async () => {
    const plain = ctx.closeAfter(await startPlainPutServer());
    const { file } = await ctx.h.file('strict.bin', 1000);
    const task = await ctx.h.task(file, plain.url('strict.bin'), { requireResumable: true });
    await assert.rejects(run(task), { code: 'ERR_UPLOAD_NOT_RESUMABLE' });
    assert.equal(plain.files.size, 0);
    assert.equal(task.record.resumable, undefined);
  });

  it('put-range forced on a server that refuses Content-Range is ERR_UPLOAD_NOT_RESUMABLE', async () => {
    const plain = ctx.closeAfter(await startPlainPutServer());
    const { file } = await ctx.h.file('ranged.bin', 3 * MiB);
    const task = await ctx.h.task(file, plain.url('ranged.bin'), { protocol: 'put-range', chunkSize: MiB });
    await assert.rejects(run(task), { code: 'ERR_UPLOAD_NOT_RESUMABLE' });
  });

  describe('CLI', () => {
    before(assertBuilt);

    it('dead endpoint: exit 1 and one line "error ERR_RETRIES_EXHAUSTED: ..." naming the cause', async () => {
      const port = await freePort();
      const { file } = await ctx.h.file('d.bin', 100);
      const result = await runCli(['put', file, `http://127.0.0.1:${port}/up`, '--retries', '1']);
      assert.equal(result.code, 1);
      const errors = result.stderr.split('\n').filter((l) => l.startsWith('error '));
      assert.equal(errors.length, 1);
      assert.match(errors[0], /^error ERR_RETRIES_EXHAUSTED: gave up after 1 retry: network error for http:\/\/127\.0\.0\.1:\d+\/up: ECONNREFUSED/);
    });

    it('403: exit 1 with ERR_HTTP_STATUS', async () => {
      const forbidden = ctx.closeAfter(await startStatusServer(403));
      const { file } = await ctx.h.file('e.bin', 100);
      const result = await runCli(['put', file, `${forbidden.origin}/up`]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^error ERR_HTTP_STATUS: server answered 403/m);
    });

    it('plain PUT server: exit 0, warns that it cannot resume', async () => {
      const plain = ctx.closeAfter(await startPlainPutServer());
      const { file, data } = await ctx.h.file('f.bin', 100_000);
      const result = await runCli(['put', file, plain.url('f.bin')]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /cannot resume uploads/);
      assert.deepEqual(plain.files.get('/f.bin'), data);
    });

    it('usage errors exit 2; a missing file exits 1 with ERR_FILE_SYSTEM', async () => {
      const bad = await runCli(['put', 'x.bin', 'http://127.0.0.1:1/', '--protocol', 'ftp']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--protocol must be one of/);
      const missing = await runCli(['put', path.join(ctx.h.dir, 'nope.bin'), 'http://127.0.0.1:1/']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^error ERR_FILE_SYSTEM: the file to upload is missing/m);
    });
  });
});
