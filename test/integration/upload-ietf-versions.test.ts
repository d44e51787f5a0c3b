import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { inMemoryIetfVersions, type UploadRecord } from '../../src/core';
import { append, onlyUpload, startIetfServer } from '../support/ietf-server';
import { run } from '../support/upload-harness';
import { assertBuilt, killCliWhen, readRecordFiles, runCli } from '../support/cli';
import { startThrottleProxy } from '../support/throttle-proxy';
import { eachTest, uploadHarness, closeAfterTest } from '../support/each-test';

const MiB = 1024 * 1024;
const KiB = 1024;
const appendTypeOf = (version: number) => (version >= 7 ? 'application/partial-upload' : 'application/offset+octet-stream');
/** The upload URL a CLI record in `dir` names, once one does. */
const recordedUploadUrl = async (dir: string) =>
  (await readRecordFiles(dir)).flatMap((f) => f.records).map((r) => (r as UploadRecord).uploadUrl).find((url) => url !== undefined);

/**
 * Every interop version a server may speak (9 = draft -12 down to 5, what tusd's experimental mode
 * and tus-js-client 5 speak): creation, resume after the client was killed, and a 409 offset
 * mismatch. Then how the client finds a version a server accepts and keeps it.
 */
describe('upload: IETF draft interop versions', function () {
  this.timeout(60_000);
  const ctx = eachTest({ h: uploadHarness, closeAfter: closeAfterTest });

  before(assertBuilt);
  for (const version of [9, 8, 7, 6, 5]) {
    describe(`a server of interop version ${version}`, () => {
      it('creation: the whole file in one POST of that version, the URL from its 104', async () => {
        const server = ctx.closeAfter(await startIetfServer({ interopVersion: version }));
        const { file, sha256 } = await ctx.h.file('one.bin', MiB + 3);
        const done = await run(await ctx.h.task(file, server.endpoint));
        assert.equal(done.state, 'completed');
        assert.equal(done.interopVersion, version);
        assert.equal(server.sha256(onlyUpload(server).id), sha256);
        const post = server.log.find((e) => e.method === 'POST');
        assert.equal(post?.interopVersion, String(version));
        assert.ok(post?.sent104);
      });

      it('resume after the CLI was killed mid-body: HEAD (no-store), then PATCH of that version from the server offset', async () => {
        const server = ctx.closeAfter(await startIetfServer({ interopVersion: version }));
        // Big enough that socket buffers cannot carry the rest to the server after the kill.
        const size = 32 * MiB;
        const proxy = ctx.closeAfter(await startThrottleProxy(Number(new URL(server.origin).port), 8 * MiB));
        const { file, sha256 } = await ctx.h.file('killed.bin', size);
        const endpoint = `${proxy.origin}/files`;
        // Killed once the record names the upload (the 104's URL is saved in the background: a kill
        // before that save lands is a crash the next run cannot resume, another scenario) and the
        // server holds part of the body.
        let named: string | undefined;
        await killCliWhen(
          ['put', file, endpoint, '--protocol', 'ietf'],
          async () => {
            named = (await recordedUploadUrl(path.dirname(file))) ?? named;
            return named !== undefined && [...server.uploads.values()].some((u) => u.size >= MiB);
          },
          30_000,
        );
        const atKill = onlyUpload(server).size;
        assert.equal(named, `${proxy.origin}/uploads/${onlyUpload(server).id}`, 'the record names the upload the server holds');
        assert.ok(atKill > 0 && atKill < size, `killed mid-way (server had ${atKill})`);
        proxy.setRate(Number.POSITIVE_INFINITY);
        const second = await runCli(['put', file, endpoint, '--protocol', 'ietf']);
        assert.equal(second.code, 0, second.stderr);
        assert.equal(server.sha256(onlyUpload(server).id), sha256);
        const afterKill = server.log.slice(server.log.findIndex((e) => e.method === 'POST') + 1).filter((e) => e.method !== 'OPTIONS');
        assert.deepEqual(afterKill.map((e) => e.method), ['HEAD', 'PATCH']);
        assert.equal(afterKill[0].cacheControl, 'no-store');
        assert.equal(afterKill[0].interopVersion, String(version));
        assert.equal(afterKill[1].contentType, appendTypeOf(version));
        assert.ok((afterKill[1].uploadOffset ?? 0) >= atKill);
        assert.equal((afterKill[1].uploadOffset ?? 0) + afterKill[1].received, size, 'no byte sent twice after the kill');
        assert.deepEqual((await readdir(path.dirname(file))).filter((n) => n.endsWith('.transfer.json')), [], 'the record is gone once complete');
        assert.ok(existsSync(file));
      });

      it('409 (the server holds more than the client thought): asks again and continues from the server offset', async () => {
        let moved = false;
        const { file, data, sha256 } = await ctx.h.file('skew.bin', MiB);
        const server = ctx.closeAfter(
          await startIetfServer({
          interopVersion: version,
          // After the first PATCH the server suddenly holds 1000 bytes more (a lost earlier response).
          afterPatch: (upload) => {
            if (moved) return;
            moved = true;
            append(upload, data.subarray(upload.size, upload.size + 1000));
          },
          }),
        );
        const done = await run(await ctx.h.task(file, server.endpoint, { chunkSize: 256 * KiB }));
        assert.equal(done.state, 'completed');
        assert.equal(server.sha256(onlyUpload(server).id), sha256);
        const statuses = server.log.map((e) => `${e.method} ${e.status}`);
        const conflict = statuses.indexOf('PATCH 409');
        assert.ok(conflict > 0, statuses.join(', '));
        assert.equal(statuses[conflict + 1], `HEAD 204`);
        assert.equal(server.log[conflict + 2].uploadOffset, 512 * KiB + 1000);
        assert.ok(server.log.filter((e) => e.method === 'PATCH').every((e) => e.contentType === appendTypeOf(version)));
      });
    });
  }

  it('steps down 9 → 8 → 7 → 6 when a server refuses each with 400, keeps 6 in the record and for the endpoint', async () => {
    const server = ctx.closeAfter(await startIetfServer({ interopVersion: 6, announceVersion: false }));
    const versions = inMemoryIetfVersions();
    const { file, sha256 } = await ctx.h.file('old.bin', 300 * KiB);
    const done = await run(await ctx.h.task(file, server.endpoint, { protocol: 'ietf', ietfVersions: versions }));
    assert.equal(done.state, 'completed');
    assert.equal(done.interopVersion, 6);
    assert.equal(server.sha256(onlyUpload(server).id), sha256);
    const posts = server.log.filter((e) => e.method === 'POST');
    assert.deepEqual(posts.map((e) => `${e.interopVersion} ${e.status}`), ['9 400', '8 400', '7 400', '6 200']);
    assert.ok(posts.slice(0, 3).every((e) => e.received < 300 * KiB), 'a refused request did not carry the whole file');

    const next = await ctx.h.file('next.bin', 10 * KiB);
    server.log.length = 0;
    await run(await ctx.h.task(next.file, server.endpoint, { protocol: 'ietf', ietfVersions: versions }));
    assert.deepEqual(server.log.filter((e) => e.method === 'POST').map((e) => e.interopVersion), ['6'], 'the endpoint remembered 6');
  });

  it('starts with the version a server names in OPTIONS', async () => {
    const server = ctx.closeAfter(await startIetfServer({ interopVersion: 6, acceptedVersions: [5, 6] }));
    const { file } = await ctx.h.file('named.bin', 10 * KiB);
    const done = await run(await ctx.h.task(file, server.endpoint));
    assert.equal(done.interopVersion, 6);
    assert.deepEqual(server.log.map((e) => `${e.method} ${e.interopVersion ?? ''}`.trim()), ['OPTIONS 9', 'POST 6']);
  });

  it('ignores a 104 that carries another interop version than the one sent', async () => {
    const server = ctx.closeAfter(await startIetfServer({ interopVersion: 9, interimVersion: 8, dropAfterBytes: 200 * KiB }));
    const { file, sha256 } = await ctx.h.file('foreign.bin', MiB);
    const done = await run(await ctx.h.task(file, server.endpoint));
    assert.equal(done.state, 'completed');
    assert.ok(!server.log.some((e) => e.path.includes('foreign-104')), 'never followed the foreign 104');
    assert.ok(!done.uploadUrl?.includes('foreign-104'));
    const finished = [...server.uploads.values()].find((u) => u.complete);
    assert.equal(server.sha256(finished!.id), sha256);
  });

  it('after a bare 413 retries with half the size until the server takes it', async () => {
    const server = ctx.closeAfter(await startIetfServer({ interopVersion: 9, hiddenMaxAppendSize: 300 * KiB }));
    const { file, sha256 } = await ctx.h.file('big.bin', MiB);
    const done = await run(await ctx.h.task(file, server.endpoint));
    assert.equal(done.state, 'completed');
    assert.equal(server.sha256(onlyUpload(server).id), sha256);
    const sizes = server.log.filter((e) => e.method === 'POST' || e.method === 'PATCH').map((e) => `${e.method} ${e.status}`);
    assert.deepEqual(sizes.slice(0, 3), ['POST 413', 'POST 413', 'POST 201']);
    assert.ok(server.log.filter((e) => e.status !== 413).every((e) => e.received <= 300 * KiB));
  });

  it('version 9: asks with GET where HEAD is refused', async () => {
    const server = ctx.closeAfter(await startIetfServer({ interopVersion: 9, refuseHead: true, dropAfterBytes: 300 * KiB }));
    const { file, sha256 } = await ctx.h.file('get.bin', MiB);
    const done = await run(await ctx.h.task(file, server.endpoint));
    assert.equal(server.sha256(onlyUpload(server).id), sha256);
    assert.deepEqual(server.log.map((e) => `${e.method} ${e.status}`).slice(1), ['POST 0', 'HEAD 405', 'GET 204', 'PATCH 200']);
    assert.equal((done as UploadRecord).interopVersion, 9);
  });
});

