import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import {
  DownloadTask,
  TransferError,
  TransferManager,
  checkLink,
  newDownloadRecord,
  continueWithLink,
  headersForOrigin,
  partPathFor,
  startOverWithLink,
  type DownloadRecord,
} from '../../src/core';
import { randomBytesSeeded, sha256, type RouteOptions } from '../support/fault-server';
import { fastRetry, runToEnd } from '../support/engine';
import { eachTest, faultServer, harness } from '../support/each-test';
import { waitFor } from '../support/cli';

const SIZE = 1024 * 1024 + 321;
const CUT = 400 * 1024;

/**
 * Update Link against real servers: a download fails part-way on the old link's server, the user
 * gives a link on another server, and the bytes on disk either continue or start over.
 */
describe('Update Link: a new link for an unfinished download', function () {
  this.timeout(30_000);
  const ctx = eachTest({ old: faultServer, fresh: faultServer, h: harness });
  const body = randomBytesSeeded(SIZE, 201);

  /** A download of `options.body` from the old server that fails after CUT bytes, as its record says. */
  async function failedPartWay(options: Omit<RouteOptions, 'dropAfter'>, headers?: Record<string, string>): Promise<DownloadRecord> {
    ctx.old.route('/f.bin', { ...options, dropAfter: { bytes: CUT, times: 1 } });
    const task = ctx.h.task(ctx.old.url('/f.bin'), {
      retry: fastRetry(0),
      headers: headers && headersForOrigin(ctx.old.origin, headers),
    });
    await assert.rejects(runToEnd(task));
    const record = (await ctx.h.store.get(task.record.id)) as DownloadRecord;
    assert.equal(record.state, 'failed');
    assert.ok(record.segments[0].done > 0, 'some bytes are on disk');
    return record;
  }

  /** Runs the updated record to its end through a new task, as the manager would. */
  async function runUpdated(record: DownloadRecord): Promise<DownloadRecord> {
    return runToEnd(ctx.h.task(record.url, { record }));
  }

  const freshRequests = () => ctx.fresh.requests.filter((r) => r.path === '/share/f.bin');

  it('the same file (same length and strong ETag) on another server continues with Range; the new link becomes the URL', async () => {
    const before = await failedPartWay({ body, etag: '"s1"' }, { 'X-Token': 'old-origin-only' });
    ctx.fresh.route('/share/f.bin', { body, etag: '"s1"' });
    const comparison = await checkLink(ctx.h.http, before, ctx.fresh.url('/share/f.bin'), { originHeaders: headersForOrigin(ctx.old.origin, { 'X-Token': 'old-origin-only' }) });
    assert.equal(comparison.verdict, 'same');
    assert.equal(comparison.verdict === 'same' && comparison.proof, 'validator');

    const done = await runUpdated(continueWithLink(before, comparison));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.equal(done.url, ctx.fresh.url('/share/f.bin'), 'a later refresh asks the new link');
    const resume = freshRequests().find((r) => r.headers.range && r.headers.range !== 'bytes=0-0');
    assert.ok(resume, 'the download asked the new server for a range');
    assert.equal(resume.headers.range, `bytes=${before.segments[0].done}-`);
    assert.equal(resume.headers['if-range'], '"s1"');
    assert.equal(resume.status, 206);
    assert.ok(ctx.fresh.totalBodyBytesSent() < SIZE, `${ctx.fresh.totalBodyBytesSent()} bytes from the new server for ${SIZE - before.segments[0].done} missing`);
    assert.ok(ctx.fresh.requests.every((r) => r.headers['x-token'] === undefined), "none of the old origin's headers went to the new one");
  });

  it('the same Repr-Digest proves a mirror with other ETags serves the same file', async () => {
    const digest = `sha-256=:${Buffer.from(sha256(body), 'hex').toString('base64')}:`;
    const before = await failedPartWay({ body, etag: '"a1"', headers: { 'Repr-Digest': digest } });
    ctx.fresh.route('/share/f.bin', { body, etag: '"mirror-7"', headers: { 'Repr-Digest': digest } });
    const comparison = await checkLink(ctx.h.http, before, ctx.fresh.url('/share/f.bin'));
    assert.equal(comparison.verdict === 'same' && comparison.proof, 'digest');
    const done = await runUpdated(continueWithLink(before, comparison));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.ok(freshRequests().some((r) => r.status === 206 && r.headers['if-range'] === '"mirror-7"'), "continued under the new server's validator");
    assert.ok(ctx.fresh.totalBodyBytesSent() < SIZE);
  });

  it('nothing to compare: reports length, type and name; continuing checks an overlap before appending', async () => {
    const before = await failedPartWay({ body });
    ctx.fresh.route('/share/f.bin', { body, contentType: 'application/x-iso9660-image', contentDisposition: 'attachment; filename="disk.iso"' });
    const comparison = await checkLink(ctx.h.http, before, ctx.fresh.url('/share/f.bin'));
    assert.equal(comparison.verdict, 'unknown');
    assert.equal(comparison.probe.length, SIZE);
    assert.equal(comparison.probe.contentType, 'application/x-iso9660-image');
    assert.equal(comparison.probe.name, 'disk.iso');

    const done = await runUpdated(continueWithLink(before, comparison));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    const resume = freshRequests().find((r) => r.headers.range && r.headers.range !== 'bytes=0-0');
    const start = Number(/^bytes=(\d+)-$/.exec(String(resume?.headers.range))?.[1]);
    assert.ok(start > 0 && start < before.segments[0].done, `re-fetched bytes before ${before.segments[0].done} to compare (asked from ${start})`);
    assert.equal(resume?.headers['if-range'], undefined);
    assert.ok(ctx.fresh.totalBodyBytesSent() < SIZE);
  });

  it('nothing to compare and other bytes where the overlap is checked: starts over, never splices', async () => {
    const before = await failedPartWay({ body });
    const other = randomBytesSeeded(SIZE, 202);
    ctx.fresh.route('/share/f.bin', { body: other });
    const comparison = await checkLink(ctx.h.http, before, ctx.fresh.url('/share/f.bin'));
    assert.equal(comparison.verdict, 'unknown');
    const done = await runUpdated(continueWithLink(before, comparison));
    assert.equal(sha256(await readFile(done.target!)), sha256(other), 'the new file, whole');
    assert.equal(done.restartCode, 'ERR_CONTENT_CHANGED');
  });

  for (const [what, route, differs] of [
    ['another length', { body: body.subarray(0, SIZE - 1), etag: '"s1"' }, ['length']],
    ['another strong ETag', { body, etag: '"s2"' }, ['validator']],
  ] as Array<[string, RouteOptions, string[]]>) {
    it(`${what}: a different file, and the part file is untouched`, async () => {
      const before = await failedPartWay({ body, etag: '"s1"' });
      const partBefore = await readFile(partPathFor(before.target!));
      ctx.fresh.route('/share/f.bin', route);
      const comparison = await checkLink(ctx.h.http, before, ctx.fresh.url('/share/f.bin'));
      assert.equal(comparison.verdict, 'different');
      assert.deepEqual(comparison.verdict === 'different' && comparison.differs, differs);
      assert.throws(() => continueWithLink(before, comparison), (e: unknown) => e instanceof TransferError && e.code === 'ERR_NOT_SAME_FILE');
      assert.deepEqual(await readFile(partPathFor(before.target!)), partBefore);
    });
  }

  it('starting over with the new link downloads the new file whole under the same name', async () => {
    const before = await failedPartWay({ body, etag: '"s1"' });
    const other = randomBytesSeeded(SIZE + 7, 203);
    ctx.fresh.route('/share/f.bin', { body: other, etag: '"o1"' });
    const done = await runUpdated(startOverWithLink(before, ctx.fresh.url('/share/f.bin'), 'the user gave a new link'));
    assert.equal(done.target, before.target);
    assert.equal(sha256(await readFile(done.target!)), sha256(other));
    assert.equal((await stat(done.target!)).size, SIZE + 7);
    assert.ok(freshRequests().every((r) => r.headers.range === undefined), 'no byte of the old file was continued');
  });

  it('an expired signed link given as the new one is ERR_LINK_EXPIRED', async () => {
    const before = await failedPartWay({ body, etag: '"s1"' });
    ctx.fresh.route('/share/f.bin', { body, refuse: () => ({ status: 403, body: '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>' }) });
    await assert.rejects(checkLink(ctx.h.http, before, ctx.fresh.url('/share/f.bin?X-Amz-Signature=abc')), (e: unknown) => e instanceof TransferError && e.code === 'ERR_LINK_EXPIRED');
  });
});

describe('Update Link through the transfer manager', function () {
  this.timeout(30_000);
  const ctx = eachTest({ old: faultServer, fresh: faultServer, h: harness });
  const body = randomBytesSeeded(2 * SIZE, 211);

  function manager(): TransferManager {
    return new TransferManager({
      store: ctx.h.store,
      createRunner: (record, runner) => new DownloadTask(record as DownloadRecord, { http: ctx.h.http, store: runner.store, guard: runner.guard, retry: fastRetry(2) }),
    });
  }

  it('a running download is paused first, then continues from the new link; the old link is asked nothing more', async () => {
    ctx.old.route('/f.bin', { body, etag: '"m1"', rateBytesPerSec: 1024 * 1024 });
    ctx.fresh.route('/share/f.bin', { body, etag: '"m1"' });
    const transfers = manager();
    try {
      const { record } = await transfers.add(newDownloadRecord({ id: 'm', url: ctx.old.url('/f.bin'), targetDir: ctx.h.dir, now: Date.now() }));
      await waitFor(() => transfers.get('m')?.record.state === 'running' && (transfers.get('m')?.progress?.bytes ?? 0) > 256 * 1024);
      const comparison = await checkLink(ctx.h.http, transfers.get('m')!.record as DownloadRecord, ctx.fresh.url('/share/f.bin'));
      assert.equal(comparison.verdict, 'same');
      assert.equal(await transfers.replaceLink(record.id, (current) => continueWithLink(current, comparison)), true);
      const oldRequests = ctx.old.requests.length;
      await waitFor(() => transfers.get('m')?.record.state === 'completed');
      const done = transfers.get('m')!.record as DownloadRecord;
      assert.equal(sha256(await readFile(done.target!)), sha256(body));
      assert.equal(done.url, ctx.fresh.url('/share/f.bin'));
      assert.equal(ctx.old.requests.length, oldRequests, 'nothing more was asked of the old link');
      const resume = ctx.fresh.requests.find((r) => r.headers.range !== undefined && r.headers.range !== 'bytes=0-0');
      assert.match(String(resume?.headers.range), /^bytes=[1-9]\d*-$/);
      assert.equal(resume?.status, 206);
      assert.ok(ctx.old.totalBodyBytesSent() + ctx.fresh.totalBodyBytesSent() < 1.5 * body.length);
    } finally {
      await transfers.shutdown();
    }
  });

  it('a completed download takes no new link', async () => {
    ctx.old.route('/f.bin', { body, etag: '"m1"' });
    const transfers = manager();
    try {
      await transfers.add(newDownloadRecord({ id: 'c', url: ctx.old.url('/f.bin'), targetDir: ctx.h.dir, now: Date.now() }));
      await waitFor(() => transfers.get('c')?.record.state === 'completed');
      assert.equal(await transfers.replaceLink('c', (current) => startOverWithLink(current, ctx.fresh.url('/x'), 'test')), false);
      assert.equal(transfers.get('c')?.record.url, ctx.old.url('/f.bin'));
    } finally {
      await transfers.shutdown();
    }
  });
});
