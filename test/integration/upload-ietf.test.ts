import assert from 'node:assert/strict';
import { TransferError, type UploadRecord } from '../../src/core';
import { onlyUpload, startIetfServer } from '../support/ietf-server';
import { run, stopAt } from '../support/upload-harness';
import { eachTest, uploadHarness, closeAfterTest } from '../support/each-test';

const MiB = 1024 * 1024;

describe('upload: IETF resumable upload draft (interop 9) against the test server', function () {
  const ctx = eachTest({ h: uploadHarness, closeAfter: closeAfterTest });

  it('detects the draft, creates optimistically in one POST and learns the URL from a 104', async () => {
    const server = ctx.closeAfter(await startIetfServer());
    const { file, sha256: expected } = await ctx.h.file('doc.bin', 3 * MiB + 11);
    const done = await run(await ctx.h.task(file, server.endpoint));
    assert.equal(done.state, 'completed');
    assert.equal(done.protocol, 'ietf');
    assert.equal(done.resumable, true);
    const upload = onlyUpload(server);
    assert.equal(server.sha256(upload.id), expected);
    assert.equal(done.uploadUrl, `${server.origin}/uploads/${upload.id}`);
    const post = server.log.find((e) => e.method === 'POST');
    assert.ok(post?.sent104);
    assert.equal(post.uploadComplete, '?1');
    assert.equal(post.interopVersion, '9');
    assert.deepEqual(server.log.map((e) => e.method), ['OPTIONS', 'POST']);
  });

  it('resumes an interrupted creation: HEAD for the offset, then PATCH application/partial-upload from there', async () => {
    const server = ctx.closeAfter(await startIetfServer({ dropAfterBytes: 2 * MiB + 5 }));
    const { file, sha256: expected } = await ctx.h.file('big.bin', 6 * MiB);
    const done = await run(await ctx.h.task(file, server.endpoint));
    assert.equal(done.state, 'completed');
    const upload = onlyUpload(server);
    assert.equal(server.sha256(upload.id), expected);
    const methods = server.log.map((e) => e.method);
    assert.deepEqual(methods, ['OPTIONS', 'POST', 'HEAD', 'PATCH']);
    const patch = server.log[3];
    assert.equal(patch.uploadOffset, 2 * MiB + 5);
    assert.equal(patch.contentType, 'application/partial-upload');
    assert.equal(patch.uploadComplete, '?1');
    const received = server.log.reduce((sum, e) => sum + e.received, 0);
    assert.equal(received, 6 * MiB, 'no byte was sent twice');
  });

  it('a server that stops reading is noticed by the stall watchdog (ERR_STALLED) and the upload resumes', async () => {
    const server = ctx.closeAfter(await startIetfServer({ stallAfterBytes: MiB }));
    // Larger than what the socket buffers of both ends can hold, so sending really stalls.
    const { file, sha256: expected } = await ctx.h.file('stall.bin', 48 * MiB);
    const task = await ctx.h.task(file, server.endpoint, { stallTimeoutMs: 500 });
    const codes: string[] = [];
    task.onRetry((event) => codes.push(event.error.code));
    const done = await run(task);
    assert.equal(done.state, 'completed');
    assert.deepEqual(codes, ['ERR_STALLED']);
    assert.equal(server.sha256(onlyUpload(server).id), expected);
    assert.deepEqual(server.log.map((e) => e.method), ['OPTIONS', 'POST', 'HEAD', 'PATCH']);
    assert.ok((server.log[3].uploadOffset ?? 0) >= MiB);
  });

  it('honours Upload-Limit max-append-size: POST and PATCHes never exceed it', async () => {
    const server = ctx.closeAfter(await startIetfServer({ limits: { maxAppendSize: MiB, maxSize: 100 * MiB, maxAge: 3600 } }));
    const { file, sha256: expected } = await ctx.h.file('limited.bin', 3 * MiB + 100);
    const done = await run(await ctx.h.task(file, server.endpoint));
    assert.equal(done.state, 'completed');
    assert.equal(server.sha256(onlyUpload(server).id), expected);
    const bodies = server.log.filter((e) => e.method === 'POST' || e.method === 'PATCH');
    assert.deepEqual(bodies.map((e) => e.received), [MiB, MiB, MiB, 100]);
    assert.deepEqual(bodies.map((e) => e.uploadComplete), ['?0', '?0', '?0', '?1']);
    assert.ok(bodies.every((e) => e.status < 300), 'no 413');
  });

  it('a server that answers 204 to an append without keeping it is retried under the budget, then ERR_RETRIES_EXHAUSTED (cause ERR_NO_PROGRESS)', async () => {
    const server = ctx.closeAfter(await startIetfServer({ limits: { maxAppendSize: MiB }, keepNothing: () => true }));
    const { file } = await ctx.h.file('kept-nothing.bin', 3 * MiB);
    const task = await ctx.h.task(file, server.endpoint);
    await assert.rejects(
      run(task),
      (e: TransferError) => e.code === 'ERR_RETRIES_EXHAUSTED' && e.cause instanceof TransferError && e.cause.code === 'ERR_NO_PROGRESS' && /gave up after/.test(e.message),
    );
    const patches = server.log.filter((e) => e.method === 'PATCH').length;
    assert.ok(patches >= 2 && patches <= 10, `${patches} PATCHes: bounded by the retry budget`);
    assert.equal(task.record.state, 'failed');
  });

  it('a server that keeps nothing of two appends and then keeps them finishes with the right bytes', async () => {
    let forgetful = 2;
    const server = ctx.closeAfter(await startIetfServer({ limits: { maxAppendSize: MiB }, keepNothing: () => forgetful-- > 0 }));
    const { file, sha256: expected } = await ctx.h.file('forgetful.bin', 3 * MiB);
    const done = await run(await ctx.h.task(file, server.endpoint));
    assert.equal(done.state, 'completed');
    assert.equal(server.sha256(onlyUpload(server).id), expected);
  });

  it('refuses a file larger than max-size without sending it, and keeps the record', async () => {
    const server = ctx.closeAfter(await startIetfServer({ limits: { maxSize: MiB } }));
    const { file } = await ctx.h.file('too-big.bin', 2 * MiB);
    const task = await ctx.h.task(file, server.endpoint);
    await assert.rejects(run(task), (e: TransferError) => e.code === 'ERR_HTTP_STATUS' && e.status === 413 && /max-size/.test(e.message));
    assert.equal(task.record.state, 'failed');
    assert.equal((await ctx.h.store.get(task.record.id))?.state, 'failed');
    assert.equal(server.log.filter((e) => e.method === 'POST').length, 0);
  });

  it('continues after a pause from the saved record (reload): HEAD, then the rest', async () => {
    const server = ctx.closeAfter(await startIetfServer({ limits: { maxAppendSize: MiB } }));
    const { file, sha256: expected } = await ctx.h.file('paused.bin', 4 * MiB);
    const first = await ctx.h.task(file, server.endpoint);
    await stopAt(first, 2 * MiB, 'pause');
    const saved = (await ctx.h.store.get(first.record.id)) as UploadRecord;
    assert.equal(saved.state, 'paused');
    assert.ok(saved.uploadUrl);
    assert.ok(saved.offset >= 2 * MiB);
    const before = server.log.length;

    const done = await run(await ctx.h.task(file, server.endpoint, { record: saved }));
    assert.equal(done.state, 'completed');
    assert.equal(server.sha256(onlyUpload(server).id), expected);
    const after = server.log.slice(before);
    assert.equal(after[0].method, 'OPTIONS');
    assert.equal(after[1].method, 'HEAD');
    assert.equal(after[2].method, 'PATCH');
    assert.equal(after[2].uploadOffset, saved.offset);
  });

  it('a plain PUT is upgraded by the 104 and then resumes like an IETF upload', async () => {
    const server = ctx.closeAfter(await startIetfServer({ dropAfterBytes: MiB }));
    const { file, sha256: expected } = await ctx.h.file('upgrade.bin', 3 * MiB);
    const task = await ctx.h.task(file, `${server.origin}/target.bin`, { protocol: 'put' });
    const done = await run(task);
    assert.equal(done.state, 'completed');
    assert.equal(done.protocol, 'ietf');
    assert.equal(done.resumable, true);
    assert.equal(server.sha256(onlyUpload(server).id), expected);
    assert.deepEqual(server.log.map((e) => e.method), ['PUT', 'HEAD', 'PATCH']);
    assert.equal(server.log[2].uploadOffset, MiB);
  });

  it('cancel deletes the upload resource on the server', async () => {
    const server = ctx.closeAfter(await startIetfServer({ limits: { maxAppendSize: MiB } }));
    const { file } = await ctx.h.file('cancel.bin', 4 * MiB);
    const task = await ctx.h.task(file, server.endpoint);
    await stopAt(task, MiB, 'cancel');
    assert.equal(task.record.state, 'cancelled');
    assert.equal(task.record.uploadUrl, undefined);
    assert.ok(server.log.some((e) => e.method === 'DELETE' && e.status === 204));
    assert.equal(server.uploads.size, 0);
  });

  it('an upload the server forgot (404) is created again and the restart is reported', async () => {
    const server = ctx.closeAfter(await startIetfServer({ limits: { maxAppendSize: MiB } }));
    const { file, sha256: expected } = await ctx.h.file('gone.bin', 3 * MiB);
    const first = await ctx.h.task(file, server.endpoint);
    await stopAt(first, MiB, 'pause');
    server.uploads.clear();
    const saved = (await ctx.h.store.get(first.record.id)) as UploadRecord;
    const done = await run(await ctx.h.task(file, server.endpoint, { record: saved }));
    assert.equal(done.state, 'completed');
    assert.equal(done.restartCode, 'ERR_UPLOAD_GONE');
    assert.match(done.restartReason ?? '', /gone/);
    assert.equal(server.sha256(onlyUpload(server).id), expected);
    assert.ok(ctx.h.logs.some((l) => /restarting the upload from byte 0/.test(l)));
  });
});
