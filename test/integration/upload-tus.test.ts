import assert from 'node:assert/strict';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { AbortError, type UploadRecord } from '../../src/core';
import { assertBuilt, runCli, startCli, waitFor } from '../support/cli';
import { generateFile } from '../support/nginx';
import { startThrottleProxy, type ThrottleProxy } from '../support/throttle-proxy';
import { startTusServer, type TusTestServer } from '../support/tus-server';
import { createUploadHarness, run, sha256, type UploadHarness } from '../support/upload-harness';

const MiB = 1024 * 1024;

describe('upload: tus 1.0 against @tus/server', function () {
  let h: UploadHarness;
  let server: TusTestServer;
  let proxy: ThrottleProxy | undefined;

  beforeEach(async () => {
    h = await createUploadHarness();
    server = await startTusServer();
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await server.close();
    await h.cleanup();
  });

  it('CLI: killed (SIGKILL) mid-way through 64 MiB, the same command resumes with HEAD then PATCH from the server offset', async function () {
    assertBuilt();
    const size = 64 * MiB;
    const file = path.join(h.dir, 'big.bin');
    const expected = await generateFile(file, size, 7);
    proxy = await startThrottleProxy(server.port, 16 * MiB);
    const endpoint = `${proxy.origin}/files/`;

    const first = startCli(['put', file, endpoint]);
    await waitFor(async () => ((await server.uploadFile())?.size ?? 0) >= 8 * MiB, 30_000);
    first.child.kill('SIGKILL');
    const killed = await first.result;
    assert.equal(killed.signal, 'SIGKILL');
    const atKill = (await server.uploadFile())?.size ?? 0;
    assert.ok(atKill > 0 && atKill < size, `killed mid-way (server had ${atKill})`);
    const storeFiles = (await readdir(h.dir)).filter((name) => name.endsWith('.transfer.json'));
    assert.equal(storeFiles.length, 1, 'the record was saved beside the file');

    // The server logs the dead PATCH once it noticed the closed connection.
    await waitFor(() => server.log.some((e) => e.method === 'PATCH'), 15_000);
    proxy.setRate(Number.POSITIVE_INFINITY);
    const logBefore = server.log.length;
    const second = await runCli(['put', file, endpoint]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout.trim(), /^http:\/\/127\.0\.0\.1:\d+\/files\/[0-9a-f]+$/);

    const resumed = server.log.slice(logBefore).filter((e) => e.method !== 'OPTIONS');
    assert.equal(resumed[0].method, 'HEAD');
    assert.equal(resumed[1].method, 'PATCH');
    assert.ok((resumed[1].uploadOffset ?? 0) > 0, 'PATCH continued from a non-zero offset');
    assert.equal(server.log.filter((e) => e.method === 'POST').length, 1, 'never created twice');
    assert.equal(await server.sha256Of(), expected);
    assert.ok(proxy.uploadedBytes() < 1.5 * size, `sent ${proxy.uploadedBytes()} bytes for ${size}`);
    assert.deepEqual((await readdir(h.dir)).filter((name) => name.endsWith('.transfer.json')), [], 'record removed after success');
  });

  it('CLI: a file changed between runs starts over, says so, and the server gets the new content', async function () {
    assertBuilt();
    const file = path.join(h.dir, 'changing.bin');
    await generateFile(file, 16 * MiB, 1);
    proxy = await startThrottleProxy(server.port, 8 * MiB);
    const endpoint = `${proxy.origin}/files/`;
    const first = startCli(['put', file, endpoint]);
    await waitFor(async () => ((await server.uploadFile())?.size ?? 0) >= 2 * MiB, 30_000);
    first.child.kill('SIGKILL');
    await first.result;

    const expected = await generateFile(file, 12 * MiB, 2);
    proxy.setRate(Number.POSITIVE_INFINITY);
    const second = await runCli(['put', file, endpoint]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /restarting the upload from byte 0: the file changed/);
    const id = second.stdout.trim().split('/').pop() ?? '';
    assert.equal(await server.sha256Of(id), expected);
    assert.equal(server.log.filter((e) => e.method === 'POST').length, 2, 'a new upload was created');
  });

  it('engine: pause, then resume from the saved record continues at the server offset', async () => {
    const { file, sha256: expected } = await h.file('paused.bin', 8 * MiB);
    const first = await h.task(file, server.endpoint, { chunkSize: 2 * MiB });
    const controller = new AbortController();
    first.onRecord((record) => {
      if (record.offset >= 4 * MiB) controller.abort(new AbortError('pause'));
    });
    await assert.rejects(run(first, controller.signal), AbortError);
    const saved = (await h.store.get(first.record.id)) as UploadRecord;
    assert.equal(saved.state, 'paused');
    assert.equal(saved.protocol, 'tus');
    const before = server.log.length;
    const done = await run(await h.task(file, server.endpoint, { record: saved }));
    assert.equal(done.state, 'completed');
    assert.equal(await server.sha256Of(), expected);
    const again = server.log.slice(before).filter((e) => e.method !== 'OPTIONS');
    assert.equal(again[0].method, 'HEAD');
    assert.equal(again[1].uploadOffset, saved.offset);
  });

  it('engine: an upload deleted on the server (404) is created again and the restart is recorded', async () => {
    const { file, sha256: expected } = await h.file('gone.bin', 4 * MiB);
    const first = await h.task(file, server.endpoint, { chunkSize: MiB });
    const controller = new AbortController();
    first.onRecord((record) => {
      if (record.offset >= MiB) controller.abort(new AbortError('pause'));
    });
    await assert.rejects(run(first, controller.signal), AbortError);
    const saved = (await h.store.get(first.record.id)) as UploadRecord;
    const deleted = await fetch(saved.uploadUrl ?? '', { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' } });
    assert.equal(deleted.status, 204);
    const done = await run(await h.task(file, server.endpoint, { record: saved }));
    assert.equal(done.state, 'completed');
    assert.equal(done.restartCode, 'ERR_UPLOAD_GONE');
    assert.notEqual(done.uploadUrl, saved.uploadUrl);
    assert.equal(await server.sha256Of(done.uploadUrl?.split('/').pop()), expected);
  });

  it('engine: a file changed while paused restarts from byte 0 and reports ERR_FILE_CHANGED', async () => {
    const { file } = await h.file('edit.bin', 4 * MiB);
    const first = await h.task(file, server.endpoint, { chunkSize: MiB });
    const controller = new AbortController();
    first.onRecord((record) => {
      if (record.offset >= MiB) controller.abort(new AbortError('pause'));
    });
    await assert.rejects(run(first, controller.signal), AbortError);
    const saved = (await h.store.get(first.record.id)) as UploadRecord;
    const edited = randomBytes(4 * MiB);
    await writeFile(file, edited);
    await utimes(file, new Date(), new Date(Date.now() + 5_000));
    const done = await run(await h.task(file, server.endpoint, { record: saved }));
    assert.equal(done.state, 'completed');
    assert.equal(done.restartCode, 'ERR_FILE_CHANGED');
    assert.match(done.restartReason ?? '', /the file changed/);
    assert.equal(await server.sha256Of(done.uploadUrl?.split('/').pop()), sha256(edited));
    assert.ok(server.log.some((e) => e.method === 'DELETE'), 'the stale upload was terminated');
  });

  it('engine: with onFileChanged "fail" a changed file is ERR_FILE_CHANGED and the record stays', async () => {
    const { file } = await h.file('strict.bin', 2 * MiB);
    const first = await h.task(file, server.endpoint, { chunkSize: MiB });
    const controller = new AbortController();
    first.onRecord((record) => {
      if (record.offset >= MiB) controller.abort(new AbortError('pause'));
    });
    await assert.rejects(run(first, controller.signal), AbortError);
    const saved = (await h.store.get(first.record.id)) as UploadRecord;
    await writeFile(file, randomBytes(3 * MiB));
    const task = await h.task(file, server.endpoint, { record: saved, onFileChanged: 'fail' });
    await assert.rejects(run(task), { code: 'ERR_FILE_CHANGED' });
    const kept = (await h.store.get(saved.id)) as UploadRecord;
    assert.equal(kept.state, 'failed');
    assert.equal(kept.uploadUrl, saved.uploadUrl, 'nothing lost');
  });

  it('engine: cancel sends DELETE (termination) and forgets the upload URL', async () => {
    const { file } = await h.file('cancel.bin', 4 * MiB);
    const task = await h.task(file, server.endpoint, { chunkSize: MiB });
    const controller = new AbortController();
    task.onRecord((record) => {
      if (record.offset >= MiB) controller.abort(new AbortError('cancel'));
    });
    await assert.rejects(run(task, controller.signal), AbortError);
    assert.equal(task.record.state, 'cancelled');
    assert.equal(task.record.uploadUrl, undefined);
    assert.ok(server.log.some((e) => e.method === 'DELETE' && e.status === 204));
  });
});
