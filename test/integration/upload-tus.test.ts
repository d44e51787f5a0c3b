import assert from 'node:assert/strict';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { type UploadRecord } from '../../src/core';
import { assertBuilt, killCliWhen, runCli, waitFor } from '../support/cli';
import { generateFile } from '../support/nginx';
import { startThrottleProxy } from '../support/throttle-proxy';
import { startTusServer } from '../support/tus-server';
import { run, sha256, stopAt } from '../support/upload-harness';
import { eachTest, started, uploadHarness, closeAfterTest } from '../support/each-test';

const MiB = 1024 * 1024;

describe('upload: tus 1.0 against @tus/server', function () {
  const ctx = eachTest({ h: uploadHarness, server: started(startTusServer), closeAfter: closeAfterTest });

  it('CLI: killed (SIGKILL) mid-way through 64 MiB, the same command resumes with HEAD then PATCH from the server offset', async function () {
    assertBuilt();
    const size = 64 * MiB;
    const file = path.join(ctx.h.dir, 'big.bin');
    const expected = await generateFile(file, size, 7);
    const proxy = ctx.closeAfter(await startThrottleProxy(ctx.server.port, 16 * MiB));
    const endpoint = `${proxy.origin}/files/`;

    await killCliWhen(['put', file, endpoint], async () => ((await ctx.server.uploadFile())?.size ?? 0) >= 8 * MiB, 30_000);
    const atKill = (await ctx.server.uploadFile())?.size ?? 0;
    assert.ok(atKill > 0 && atKill < size, `killed mid-way (server had ${atKill})`);
    const storeFiles = (await readdir(ctx.h.dir)).filter((name) => name.endsWith('.transfer.json'));
    assert.equal(storeFiles.length, 1, 'the record was saved beside the file');

    // The server logs the dead PATCH once it noticed the closed connection.
    await waitFor(() => ctx.server.log.some((e) => e.method === 'PATCH'), 15_000);
    proxy.setRate(Number.POSITIVE_INFINITY);
    const logBefore = ctx.server.log.length;
    const second = await runCli(['put', file, endpoint]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout.trim(), /^http:\/\/127\.0\.0\.1:\d+\/files\/[0-9a-f]+$/);

    const resumed = ctx.server.log.slice(logBefore).filter((e) => e.method !== 'OPTIONS');
    assert.equal(resumed[0].method, 'HEAD');
    assert.equal(resumed[1].method, 'PATCH');
    assert.ok((resumed[1].uploadOffset ?? 0) > 0, 'PATCH continued from a non-zero offset');
    assert.equal(ctx.server.log.filter((e) => e.method === 'POST').length, 1, 'never created twice');
    assert.equal(await ctx.server.sha256Of(), expected);
    assert.ok(proxy.uploadedBytes() < 1.5 * size, `sent ${proxy.uploadedBytes()} bytes for ${size}`);
    assert.deepEqual((await readdir(ctx.h.dir)).filter((name) => name.endsWith('.transfer.json')), [], 'record removed after success');
  });

  it('CLI: a file changed between runs starts over, says so, and the server gets the new content', async function () {
    assertBuilt();
    const file = path.join(ctx.h.dir, 'changing.bin');
    await generateFile(file, 16 * MiB, 1);
    const proxy = ctx.closeAfter(await startThrottleProxy(ctx.server.port, 8 * MiB));
    const endpoint = `${proxy.origin}/files/`;
    await killCliWhen(['put', file, endpoint], async () => ((await ctx.server.uploadFile())?.size ?? 0) >= 2 * MiB, 30_000);

    const expected = await generateFile(file, 12 * MiB, 2);
    proxy.setRate(Number.POSITIVE_INFINITY);
    const second = await runCli(['put', file, endpoint]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /restarting the upload from byte 0: the file changed/);
    const id = second.stdout.trim().split('/').pop() ?? '';
    assert.equal(await ctx.server.sha256Of(id), expected);
    assert.equal(ctx.server.log.filter((e) => e.method === 'POST').length, 2, 'a new upload was created');
  });

  it('engine: pause, then resume from the saved record continues at the server offset', async () => {
    const { file, sha256: expected } = await ctx.h.file('paused.bin', 8 * MiB);
    const first = await ctx.h.task(file, ctx.server.endpoint, { chunkSize: 2 * MiB });
    await stopAt(first, 4 * MiB, 'pause');
    const saved = (await ctx.h.store.get(first.record.id)) as UploadRecord;
    assert.equal(saved.state, 'paused');
    assert.equal(saved.protocol, 'tus');
    const before = ctx.server.log.length;
    const done = await run(await ctx.h.task(file, ctx.server.endpoint, { record: saved }));
    assert.equal(done.state, 'completed');
    assert.equal(await ctx.server.sha256Of(), expected);
    const again = ctx.server.log.slice(before).filter((e) => e.method !== 'OPTIONS');
    assert.equal(again[0].method, 'HEAD');
    assert.equal(again[1].uploadOffset, saved.offset);
  });

  it('engine: an upload deleted on the server (404) is created again and the restart is recorded', async () => {
    const { file, sha256: expected } = await ctx.h.file('gone.bin', 4 * MiB);
    const first = await ctx.h.task(file, ctx.server.endpoint, { chunkSize: MiB });
    await stopAt(first, MiB, 'pause');
    const saved = (await ctx.h.store.get(first.record.id)) as UploadRecord;
    const deleted = await fetch(saved.uploadUrl ?? '', { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' } });
    assert.equal(deleted.status, 204);
    const done = await run(await ctx.h.task(file, ctx.server.endpoint, { record: saved }));
    assert.equal(done.state, 'completed');
    assert.equal(done.restartCode, 'ERR_UPLOAD_GONE');
    assert.notEqual(done.uploadUrl, saved.uploadUrl);
    assert.equal(await ctx.server.sha256Of(done.uploadUrl?.split('/').pop()), expected);
  });

  it('engine: a file changed while paused restarts from byte 0 and reports ERR_FILE_CHANGED', async () => {
    const { file } = await ctx.h.file('edit.bin', 4 * MiB);
    const first = await ctx.h.task(file, ctx.server.endpoint, { chunkSize: MiB });
    await stopAt(first, MiB, 'pause');
    const saved = (await ctx.h.store.get(first.record.id)) as UploadRecord;
    const edited = randomBytes(4 * MiB);
    await writeFile(file, edited);
    await utimes(file, new Date(), new Date(Date.now() + 5_000));
    const done = await run(await ctx.h.task(file, ctx.server.endpoint, { record: saved }));
    assert.equal(done.state, 'completed');
    assert.equal(done.restartCode, 'ERR_FILE_CHANGED');
    assert.match(done.restartReason ?? '', /the file changed/);
    assert.equal(await ctx.server.sha256Of(done.uploadUrl?.split('/').pop()), sha256(edited));
    assert.ok(ctx.server.log.some((e) => e.method === 'DELETE'), 'the stale upload was terminated');
  });

  it('engine: with onFileChanged "fail" a changed file is ERR_FILE_CHANGED and the record stays', async () => {
    const { file } = await ctx.h.file('strict.bin', 2 * MiB);
    const first = await ctx.h.task(file, ctx.server.endpoint, { chunkSize: MiB });
    await stopAt(first, MiB, 'pause');
    const saved = (await ctx.h.store.get(first.record.id)) as UploadRecord;
    await writeFile(file, randomBytes(3 * MiB));
    const task = await ctx.h.task(file, ctx.server.endpoint, { record: saved, onFileChanged: 'fail' });
    await assert.rejects(run(task), { code: 'ERR_FILE_CHANGED' });
    const kept = (await ctx.h.store.get(saved.id)) as UploadRecord;
    assert.equal(kept.state, 'failed');
    assert.equal(kept.uploadUrl, saved.uploadUrl, 'nothing lost');
  });

  it('engine: cancel sends DELETE (termination) and forgets the upload URL', async () => {
    const { file } = await ctx.h.file('cancel.bin', 4 * MiB);
    const task = await ctx.h.task(file, ctx.server.endpoint, { chunkSize: MiB });
    await stopAt(task, MiB, 'cancel');
    assert.equal(task.record.state, 'cancelled');
    assert.equal(task.record.uploadUrl, undefined);
    assert.ok(ctx.server.log.some((e) => e.method === 'DELETE' && e.status === 204));
  });
});
