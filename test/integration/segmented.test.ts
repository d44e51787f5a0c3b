import assert from 'node:assert/strict';
import { open, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { AbortError, HostConnectionLimits, type DownloadRecord } from '../../src/core';
import { createPartFile } from '../../src/core/download/part-file';
import { randomBytesSeeded, sha256 } from '../support/fault-server';
import { pauseWhen, runToEnd } from '../support/engine';
import { waitFor } from '../support/cli';
import { eachTest, faultServer, harness } from '../support/each-test';

const MiB = 1024 * 1024;
const SIZE = 8 * MiB + 333;

describe('segmented downloads against the fault server', function () {
  const ctx = eachTest({ server: faultServer, h: harness });
  const body = randomBytesSeeded(SIZE, 31);
  const options = { minSplitBytes: 512 * 1024 };

  /** Resolves once the server has seen no new request for 200 ms. */
  const quiet = async () => {
    let seen = -1;
    while (seen !== ctx.server.requests.length) {
      seen = ctx.server.requests.length;
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const segmentRequests = (p: string) => ctx.server.requests.filter((r) => r.path === p && /^bytes=\d+-\d+$/.test(String(r.headers.range)));

  it('downloads over several connections, each a verified 206 with If-Range', async () => {
    ctx.server.route('/seg.bin', { body, etag: '"s1"', rateBytesPerSec: 8 * MiB });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/seg.bin'), { ...options, record: { connections: 4 } }));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    const ranged = segmentRequests('/seg.bin');
    assert.ok(ranged.length >= 3, `${ranged.length} segment requests`);
    for (const r of ranged) {
      assert.equal(r.status, 206);
      assert.equal(r.headers['if-range'], '"s1"');
    }
    assert.ok(ctx.server.totalBodyBytesSent('/seg.bin') < 1.5 * SIZE, 'little is fetched twice');
    assert.ok(done.segments.length > 1, 'the record describes the pieces');
  });

  it('after an interruption, every unfinished piece continues where it stopped', async () => {
    ctx.server.route('/resume.bin', { body, etag: '"r1"', rateBytesPerSec: 4 * MiB });
    const first = ctx.h.task(ctx.server.url('/resume.bin'), { ...options, record: { connections: 4 } });
    await pauseWhen(first, () => first.record.segments.length >= 3 && first.record.segments.filter((s) => s.done > 0).length >= 3);
    const saved = (await ctx.h.store.get(first.record.id)) as DownloadRecord;
    const unfinished = saved.segments.filter((s) => s.end !== undefined && s.done < s.end - s.start).map((s) => ({ ...s }));
    assert.ok(unfinished.length >= 2, 'several pieces were in flight');
    const before = ctx.server.requests.length;

    ctx.server.route('/resume.bin', { body, etag: '"r1"' });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/resume.bin'), { ...options, record: saved }));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    const starts = ctx.server.requests.slice(before).map((r) => Number(/^bytes=(\d+)-/.exec(String(r.headers.range))?.[1]));
    for (const piece of unfinished) {
      assert.ok(starts.includes(piece.start + piece.done), `piece ${piece.start} resumed at ${piece.start + piece.done}`);
    }
  });

  it('a server that answers bounded ranges with the rest of the file: accepted, each connection reads only its segment', async () => {
    ctx.server.route('/cdn.bin', { body, etag: '"c1"', rateBytesPerSec: 8 * MiB, openEndedAnswers: true });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/cdn.bin'), { ...options, record: { connections: 4 } }));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    const ranged = segmentRequests('/cdn.bin');
    assert.ok(ranged.length >= 3, `${ranged.length} segment requests`);
    assert.ok(ranged.every((r) => r.status === 206));
    assert.equal(done.restartReason, undefined, 'never started over');
    assert.ok(!ctx.h.logs.some((l) => /using one connection/.test(l)), ctx.h.logs.join('\n'));
    // Past a segment's end the server keeps sending until the connection closes: what was already on
    // the wire is lost, more on a loaded machine, so the bound is looser than for exact answers.
    assert.ok(ctx.server.totalBodyBytesSent('/cdn.bin') < 2 * SIZE, `${ctx.server.totalBodyBytesSent('/cdn.bin')} bytes moved for ${SIZE}`);
  });

  it('a server that refuses bounded ranges: the missing runs finish on one connection with open-ended ranges', async () => {
    ctx.server.route('/bounded.bin', { body, etag: '"b1"', rateBytesPerSec: 8 * MiB, refuseBoundedRanges: true });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/bounded.bin'), { ...options, record: { connections: 4 } }));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    const openEnded = ctx.server.requests.filter((r) => /^bytes=\d+-$/.test(String(r.headers.range)));
    assert.ok(openEnded.length >= 1 && openEnded.every((r) => r.status === 206), 'open-ended ranges served the rest');
    assert.ok(ctx.h.logs.some((l) => /using one connection/.test(l)), ctx.h.logs.join('\n'));
  });

  it('a split record meets a server that refuses bounded ranges: a re-run finishes on one connection', async () => {
    ctx.server.route('/rerun.bin', { body, etag: '"rr1"', rateBytesPerSec: 4 * MiB });
    const first = ctx.h.task(ctx.server.url('/rerun.bin'), { ...options, record: { connections: 4 } });
    await pauseWhen(first, () => first.record.segments.length >= 3 && first.record.segments.filter((s) => s.done > 0).length >= 3);
    await quiet();
    ctx.server.route('/rerun.bin', { body, etag: '"rr1"', refuseBoundedRanges: true });
    const saved = (await ctx.h.store.get(first.record.id)) as DownloadRecord;
    const done = await runToEnd(ctx.h.task(ctx.server.url('/rerun.bin'), { ...options, record: saved }));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.equal(done.restartReason, undefined, 'kept every byte already on disk');
  });

  it('a split while a request waits for its answer is not a wrong answer: 800 ms header latency, 6 connections', async () => {
    ctx.server.route('/far.bin', { body, etag: '"l1"', rateBytesPerSec: 4 * MiB, rangeHeaderLatencyMs: 800 });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/far.bin'), { minSplitBytes: 256 * 1024, record: { connections: 6 } }));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.ok(ctx.h.logs.some((l) => /split at/.test(l)), 'segments were split');
    assert.ok(!ctx.h.logs.some((l) => /using one connection/.test(l)), ctx.h.logs.filter((l) => /one connection|Content-Range/.test(l)).join('\n'));
    assert.equal(done.restartReason, undefined);
  });

  it('a record saved before the split never lets the bytes of a later segment stand for the holes before them', async () => {
    // Found by the chaos soak (seed 8106): killed after the split, before the next save, the
    // record still held one segment from byte 0 with nothing done, while a later segment had
    // written the end of the file. The part file's size said "all there"; the bytes before were holes.
    ctx.server.route('/sparse.bin', { body, etag: '"z1"' });
    const target = path.join(ctx.h.dir, 'sparse.bin');
    const partFile = await createPartFile(`${target}.part`, 0);
    const handle = await open(`${target}.part`, 'r+');
    const half = Math.floor(SIZE / 2);
    await handle.write(body, half, SIZE - half, half);
    await handle.close();
    const stale = {
      target,
      targetFixed: true,
      connections: 4,
      length: SIZE,
      etag: '"z1"',
      acceptRanges: true,
      partFile,
      segments: [{ start: 0, end: SIZE, done: 0 }],
    };
    const done = await runToEnd(ctx.h.task(ctx.server.url('/sparse.bin'), { ...options, record: stale }));
    assert.equal(sha256(await readFile(done.target!)), sha256(body), 'no holes in the finished file');
    assert.ok(ctx.server.totalBodyBytesSent('/sparse.bin') > 0, 'the unclaimed bytes were fetched');
  });

  it('one connection reads one open-ended answer through every segment that lacks bytes, not one answer per segment', async () => {
    // Found by the chaos soak (seeds 100396, 424287): after a fallback to one connection with
    // bounded ranges refused, every unfinished segment was asked open-ended in turn, and the
    // server sent the rest of the file for each of them: 26 MB moved for a 5.8 MB file.
    ctx.server.route('/through.bin', { body, etag: '"t1"', refuseBoundedRanges: true });
    const target = path.join(ctx.h.dir, 'through.bin');
    const partFile = await createPartFile(`${target}.part`, 0);
    const quarter = Math.ceil(SIZE / 4);
    const segments = [0, 1, 2, 3].map((i) => ({ start: i * quarter, end: Math.min(SIZE, (i + 1) * quarter), done: MiB }));
    const handle = await open(`${target}.part`, 'r+');
    for (const s of segments) await handle.write(body, s.start, s.done, s.start);
    await handle.close();
    const record = { target, targetFixed: true, connections: 4, length: SIZE, etag: '"t1"', acceptRanges: true, partFile, segments };
    const done = await runToEnd(ctx.h.task(ctx.server.url('/through.bin'), { ...options, record }));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.equal(done.restartReason, undefined, 'kept every byte already on disk');
    const openEnded = ctx.server.requests.filter((r) => /^bytes=\d+-$/.test(String(r.headers.range)));
    assert.deepEqual(openEnded.map((r) => r.headers.range), [`bytes=${MiB}-`], 'one open-ended request from the first missing byte');
    assert.ok(openEnded[0].bodyBytesSent <= SIZE - MiB, `${openEnded[0].bodyBytesSent} bytes for the rest`);
  });

  it('falls back to one connection when the server ignores ranges', async () => {
    ctx.server.route('/norange.bin', { body, etag: '"n1"', ranges: false });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/norange.bin'), { ...options, record: { connections: 4 } }));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.equal(ctx.server.requests.length, 1);
  });

  it('uses one connection when there is no strong validator', async () => {
    ctx.server.route('/weak.bin', { body, etag: 'W/"w"' });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/weak.bin'), { ...options, record: { connections: 4 } }));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.equal(ctx.server.requests.length, 1);
  });

  it('falls back to one connection on a wrong Content-Range, and says why in the log', async () => {
    ctx.server.route('/shift.bin', { body, etag: '"x1"', rateBytesPerSec: 16 * MiB, wrongContentRange: { shift: 100, times: 1 } });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/shift.bin'), { ...options, record: { connections: 4 } }));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.ok(ctx.h.logs.some((l) => /using one connection: unexpected Content-Range/.test(l)), ctx.h.logs.join('\n'));
  });

  it('after falling back to one connection, asks bounded ranges for segments in the middle: the server does not send the rest of the file for each', async () => {
    ctx.server.route('/shift-mid.bin', { body, etag: '"x2"', wrongContentRange: { shift: -1, times: 1 } });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/shift-mid.bin'), { ...options, record: { connections: 4 } }));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.ok(ctx.h.logs.some((l) => /using one connection/.test(l)), ctx.h.logs.join('\n'));
    const ranges = ctx.server.requests.filter((r) => r.status === 206).map((r) => String(r.headers.range));
    const openInTheMiddle = ranges.filter((r) => /^bytes=\d+-$/.test(r)).length;
    // At most the segment that reaches the end of the file is asked open-ended.
    assert.ok(openInTheMiddle <= 1, `open-ended ranges after the fallback: ${JSON.stringify(ranges)}`);
  });

  it('starts over when the file changed between runs: every piece request is refused by If-Range', async () => {
    const changed = randomBytesSeeded(SIZE, 32);
    ctx.server.route('/flip.bin', { body, etag: '"f1"', rateBytesPerSec: 4 * MiB });
    const first = ctx.h.task(ctx.server.url('/flip.bin'), { ...options, record: { connections: 4 } });
    await pauseWhen(first, () => first.record.segments.length >= 3 && first.record.segments.every((s) => s.done > 0));
    ctx.server.route('/flip.bin', { body: changed, etag: '"f2"' });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/flip.bin'), { ...options, record: first.record }));
    assert.equal(sha256(await readFile(done.target!)), sha256(changed));
    assert.match(done.restartReason ?? '', /changed/);
  });

  it('backs off a host that answers 503: fewer connections from then on', async () => {
    ctx.server.route('/busy.bin', { body, etag: '"b1"' });
    const limits = new HostConnectionLimits();
    const first = ctx.h.task(ctx.server.url('/busy.bin'), { ...options, connectionLimits: limits, record: { connections: 8 } });
    const controller = new AbortController();
    ctx.server.route('/busy.bin', { body, etag: '"b1"', rateBytesPerSec: 2 * MiB });
    const running = first.run(controller.signal);
    await waitFor(() => first.record.segments.length >= 2);
    controller.abort(new AbortError('pause'));
    await assert.rejects(running);
    // Requests of the paused run may still be on the wire: let them land before the 503 is armed.
    await quiet();
    ctx.server.route('/busy.bin', { body, etag: '"b1"', failWith: { status: 503, retryAfter: '0', times: 1 } });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/busy.bin'), { ...options, connectionLimits: limits, record: first.record }));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.equal(limits.limitFor(ctx.server.url('/busy.bin'), 8), 4);
    assert.ok(ctx.h.logs.some((l) => /using at most 4 for this host/.test(l)));
  });
});
