import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { AbortError, TransferError, headersForOrigin, newDownloadRecord, partPathFor, type DownloadRecord, type TransferStore } from '../../src/core';
import { randomBytesSeeded, sha256, startFaultServer } from '../support/fault-server';
import { fastRetry, filesIn, runToEnd } from '../support/engine';
import { eachTest, faultServer, harness } from '../support/each-test';
import { rejectsWithCode } from '../support/transfer-errors';
import { sha256File } from '../../src/core/download/part-file';

const SIZE = 1024 * 1024 + 123;
const STRONG = '"v1"';
const DATE_LATER = 'Wed, 25 Nov 2026 10:00:05 GMT';
const LAST_MODIFIED = 'Wed, 25 Nov 2026 10:00:00 GMT';

/** Start of `bytes=a-`; a dropped socket loses what node-fetch buffered, so resume points are at or below the cut. */
function rangeStart(range: string | string[] | undefined): number {
  const match = /^bytes=(\d+)-$/.exec(String(range));
  assert.ok(match, `not an open range: ${String(range)}`);
  return Number(match[1]);
}

describe('download engine against the fault server', function () {
  const ctx = eachTest({ server: faultServer, h: harness });
  const body = randomBytesSeeded(SIZE, 1);
  const changed = randomBytesSeeded(SIZE, 2);

  const rangeRequests = (p: string) => ctx.server.requests.filter((r) => r.path === p && r.headers.range);

  it('downloads a file, names it from the URL, sends Accept-Encoding: identity', async () => {
    ctx.server.route('/files/plain.bin', { body, etag: STRONG });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/files/plain.bin')));
    assert.equal(done.state, 'completed');
    assert.equal(done.target, path.join(ctx.h.dir, 'plain.bin'));
    assert.equal(await sha256File(done.target!), sha256(body));
    assert.deepEqual(await filesIn(ctx.h.dir), ['plain.bin']);
    assert.equal(ctx.server.requests[0].headers['accept-encoding'], 'identity');
    assert.equal((await ctx.h.store.get(done.id))?.state, 'completed');
  });

  it('resumes a dropped connection with Range and a strong If-Range, fetching little twice', async () => {
    ctx.server.route('/a.bin', { body, etag: STRONG, dropAfter: { bytes: 300_000, times: 2 } });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/a.bin')));
    assert.equal(await sha256File(done.target!), sha256(body));
    const ranged = rangeRequests('/a.bin');
    assert.equal(ranged.length, 2);
    const resumedAt = rangeStart(ranged[0].headers.range);
    assert.ok(resumedAt > 0 && resumedAt <= 300_000, `resumed at ${resumedAt}`);
    assert.equal(ranged[0].headers['if-range'], STRONG);
    assert.equal(ranged[0].status, 206);
    assert.ok(ctx.server.totalBodyBytesSent('/a.bin') < 1.5 * SIZE);
  });

  it('uses a strong Last-Modified for If-Range when the ETag is weak, never the weak ETag', async () => {
    ctx.server.route('/weak.bin', { body, etag: 'W/"w1"', lastModified: LAST_MODIFIED, date: DATE_LATER, dropAfter: { bytes: 200_000, times: 1 } });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/weak.bin')));
    assert.equal(await sha256File(done.target!), sha256(body));
    const [resume] = rangeRequests('/weak.bin');
    assert.equal(resume.headers['if-range'], LAST_MODIFIED);
    assert.ok(!ctx.server.requests.some((r) => String(r.headers['if-range'] ?? '').startsWith('W/')));
  });

  it('treats a Last-Modified within the same second as Date as weak: overlap check instead', async () => {
    ctx.server.route('/lm-weak.bin', { body, lastModified: LAST_MODIFIED, date: LAST_MODIFIED, dropAfter: { bytes: 200_000, times: 1 } });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/lm-weak.bin')));
    assert.equal(await sha256File(done.target!), sha256(body));
    const [resume] = rangeRequests('/lm-weak.bin');
    assert.equal(resume.headers['if-range'], undefined);
    const start = rangeStart(resume.headers.range);
    assert.ok(start > 0 && start <= 200_000 - 16 * 1024, `overlap request starts at ${start}`);
  });

  it('without any validator re-fetches an overlap and appends only when it matches', async () => {
    ctx.server.route('/novalid.bin', { body, dropAfter: { bytes: 500_000, times: 1 } });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/novalid.bin')));
    assert.equal(await sha256File(done.target!), sha256(body));
    const start = rangeStart(rangeRequests('/novalid.bin')[0].headers.range);
    assert.ok(start > 0 && start <= 500_000 - 16 * 1024, `overlap request starts at ${start}`);
    assert.ok(ctx.h.logs.some((line) => /overlap of 16384 bytes matches/.test(line)));
  });

  it('restarts from byte 0 (never appends) when the server ignores Range', async () => {
    ctx.server.route('/norange.bin', { body, ranges: false, dropAfter: { bytes: 400_000, times: 1 } });
    const task = ctx.h.task(ctx.server.url('/norange.bin'));
    const done = await runToEnd(task);
    assert.equal(await sha256File(done.target!), sha256(body));
    assert.equal((await stat(done.target!)).size, SIZE);
    assert.match(done.restartReason ?? '', /ignored the range/);
    assert.equal(done.restartCode, 'ERR_RANGE_MISMATCH', 'a code the UI can localize');
  });

  it('restarts on a 200 answer to a range request', async () => {
    ctx.server.route('/200.bin', { body, etag: STRONG, dropAfter: { bytes: 400_000, times: 1 }, status200OnRange: { times: 1 } });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/200.bin')));
    assert.equal(await sha256File(done.target!), sha256(body));
    assert.equal(rangeRequests('/200.bin')[0].status, 200);
  });

  async function interruptedThenChanged(route: string, options: { etag?: string }): Promise<DownloadRecord> {
    ctx.server.route(route, { body, ...options, dropAfter: { bytes: 400_000, times: 1 } });
    const first = ctx.h.task(ctx.server.url(route), { retry: fastRetry(0) });
    await rejectsWithCode(runToEnd(first), 'ERR_RETRIES_EXHAUSTED');
    const saved = first.record;
    assert.ok(saved.segments[0].done > 0 && saved.segments[0].done <= 400_000);
    ctx.server.setBody(route, changed, options.etag ? '"v2"' : undefined);
    return saved;
  }

  it('a file changed on the server (new ETag) is downloaded anew, never spliced', async () => {
    const saved = await interruptedThenChanged('/changed.bin', { etag: STRONG });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/changed.bin'), { record: saved }));
    assert.equal(await sha256File(done.target!), sha256(changed));
    const resume = rangeRequests('/changed.bin')[0];
    assert.equal(resume.headers['if-range'], STRONG);
    assert.equal(resume.status, 200);
    assert.match(done.restartReason ?? '', /changed/);
    assert.equal(done.restartCode, 'ERR_CONTENT_CHANGED', 'a code the UI can localize');
  });

  it('a file changed on the server without validators is caught by the overlap check', async () => {
    const saved = await interruptedThenChanged('/changed-nv.bin', {});
    const done = await runToEnd(ctx.h.task(ctx.server.url('/changed-nv.bin'), { record: saved }));
    assert.equal(await sha256File(done.target!), sha256(changed));
    assert.match(done.restartReason ?? '', /overlap check failed/);
  });

  it('refuses a 206 whose Content-Range does not start where it asked', async () => {
    ctx.server.route('/shift.bin', { body, etag: STRONG, dropAfter: { bytes: 300_000, times: 1 }, wrongContentRange: { shift: 1000, times: 1 } });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/shift.bin')));
    assert.equal(await sha256File(done.target!), sha256(body));
    assert.match(done.restartReason ?? '', /unexpected Content-Range/);
  });

  it('refuses a 206 whose total length differs', async () => {
    ctx.server.route('/total.bin', { body, etag: STRONG, dropAfter: { bytes: 300_000, times: 1 }, wrongTotal: { times: 1 } });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/total.bin')));
    assert.equal(await sha256File(done.target!), sha256(body));
    assert.match(done.restartReason ?? '', /unexpected Content-Range/);
  });

  it('handles 416 for a file that became shorter by starting over', async () => {
    ctx.server.route('/shrunk.bin', { body, etag: STRONG, ifRange: false, dropAfter: { bytes: 600_000, times: 1 } });
    const first = ctx.h.task(ctx.server.url('/shrunk.bin'), { retry: fastRetry(0) });
    await rejectsWithCode(runToEnd(first), 'ERR_RETRIES_EXHAUSTED');
    const shorter = randomBytesSeeded(500_000, 3);
    ctx.server.setBody('/shrunk.bin', shorter);
    const done = await runToEnd(ctx.h.task(ctx.server.url('/shrunk.bin'), { record: first.record }));
    assert.equal(rangeRequests('/shrunk.bin')[0].status, 416);
    assert.equal(await sha256File(done.target!), sha256(shorter));
  });

  it('treats a body shorter than Content-Length as an interruption, not success', async () => {
    ctx.server.route('/short.bin', { body, etag: STRONG, shortBody: { missing: 1000, times: 1 } });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/short.bin')));
    assert.equal(await sha256File(done.target!), sha256(body));
    const start = rangeStart(rangeRequests('/short.bin')[0].headers.range);
    assert.ok(start > 0 && start <= SIZE - 1000);
  });

  it('honours 503 with Retry-After before trying again', async () => {
    ctx.server.route('/busy.bin', { body, etag: STRONG, failWith: { status: 503, retryAfter: '1', times: 1 } });
    const started = Date.now();
    const done = await runToEnd(ctx.h.task(ctx.server.url('/busy.bin')));
    assert.equal(await sha256File(done.target!), sha256(body));
    assert.equal(ctx.server.requests.length, 2);
    assert.ok(Date.now() - started >= 950, 'waited for Retry-After');
  });

  it('fails at once on 404 with a clear error and no file', async () => {
    ctx.server.route('/exists.bin', { body });
    const error = await rejectsWithCode(runToEnd(ctx.h.task(ctx.server.url('/missing.bin'))), 'ERR_HTTP_STATUS');
    assert.equal(error.status, 404);
    assert.equal(ctx.server.requests.length, 1);
    assert.deepEqual(await filesIn(ctx.h.dir), []);
  });

  it('aborts a stalled connection and resumes', async () => {
    ctx.server.route('/stall.bin', { body, etag: STRONG, stallAfter: { bytes: 250_000, ms: 10_000, times: 1 } });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/stall.bin'), { stallTimeoutMs: 300 }));
    assert.equal(await sha256File(done.target!), sha256(body));
    assert.equal(rangeRequests('/stall.bin')[0].headers.range, 'bytes=250000-');
  });

  it('never loops forever on a server that always cuts at the same byte', async () => {
    ctx.server.route('/cut.bin', { body, ranges: false, dropAfter: { bytes: 100_000, times: 1000 } });
    const task = ctx.h.task(ctx.server.url('/cut.bin'));
    await rejectsWithCode(runToEnd(task), 'ERR_RETRIES_EXHAUSTED');
    assert.ok(ctx.server.requests.length <= 7, `made ${ctx.server.requests.length} requests`);
    assert.equal(task.record.state, 'failed');
    assert.ok(!existsSync(path.join(ctx.h.dir, 'cut.bin')), 'no partial file under the final name');
  });

  it('follows a same-origin redirect keeping Authorization, and records the final URL', async () => {
    ctx.server.route('/real.bin', { body, etag: STRONG });
    ctx.server.route('/go', { body: Buffer.alloc(0), redirect: { location: '/real.bin', status: 302 } });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/go'), { headers: () => ({ Authorization: 'Bearer secret' }) }));
    assert.equal(done.finalUrl, ctx.server.url('/real.bin'));
    assert.equal(ctx.server.requests.find((r) => r.path === '/real.bin')?.headers.authorization, 'Bearer secret');
    assert.equal(path.basename(done.target!), 'real.bin');
  });

  it('drops Authorization and Cookie on a cross-origin redirect', async () => {
    const other = await startFaultServer();
    try {
      other.route('/x.bin', { body });
      ctx.server.route('/away', { body: Buffer.alloc(0), redirect: { location: other.url('/x.bin'), status: 307 } });
      const done = await runToEnd(ctx.h.task(ctx.server.url('/away'), { headers: headersForOrigin(ctx.server.origin, { Authorization: 'Bearer secret', Cookie: 'a=b' }) }));
      assert.equal(await sha256File(done.target!), sha256(body));
      assert.equal(ctx.server.requests[0].headers.authorization, 'Bearer secret');
      assert.equal(other.requests[0].headers.authorization, undefined);
      assert.equal(other.requests[0].headers.cookie, undefined);
    } finally {
      await other.close();
    }
  });

  it('gives up after 10 redirects', async () => {
    ctx.server.route('/loop', { body: Buffer.alloc(0), redirect: { location: '/loop' } });
    await rejectsWithCode(runToEnd(ctx.h.task(ctx.server.url('/loop'))), 'ERR_TOO_MANY_REDIRECTS');
    assert.equal(ctx.server.requests.length, 11);
  });

  it('gets identity bytes from a server that would gzip when allowed', async () => {
    ctx.server.route('/text.txt', { body, gzipWhenAccepted: true });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/text.txt')));
    assert.equal(await sha256File(done.target!), sha256(body));
    assert.equal(ctx.server.requests[0].headers['accept-encoding'], 'identity');
  });

  it('downloads chunked responses of unknown length', async () => {
    ctx.server.route('/chunked.bin', { body, chunked: true });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/chunked.bin')));
    assert.equal(await sha256File(done.target!), sha256(body));
    assert.equal(done.length, SIZE);
  });

  for (const [header, expected] of [
    [`attachment; filename="../../evil.sh"`, 'evil.sh'],
    [`attachment; filename*=UTF-8''%E6%B5%8B%E8%AF%95%E6%96%87%E4%BB%B6.bin`, '测试文件.bin'],
    [`attachment; filename="CON.txt"`, '_CON.txt'],
    [`attachment; filename="a\\\\..\\\\b.txt"`, 'b.txt'],
  ] as const) {
    it(`keeps the server's name "${header.slice(12)}" inside the folder as ${expected}`, async () => {
      ctx.server.route('/named', { body, contentDisposition: header });
      const done = await runToEnd(ctx.h.task(ctx.server.url('/named')));
      assert.equal(done.target, path.join(ctx.h.dir, expected));
      assert.deepEqual(await filesIn(ctx.h.dir), [expected]);
    });
  }

  for (const [asked, saved] of [
    ['.npmrc', '_.npmrc'],
    ['.env', '_.env'],
    ['eslint.config.mjs', '_eslint.config.mjs'],
    ['conftest.py', '_conftest.py'],
    ['Makefile', '_Makefile'],
  ] as const) {
    it(`never lets the server name a file "${asked}", which tools load by themselves: saves ${saved} and remembers the asked name`, async () => {
      ctx.server.route('/named', { body, contentDisposition: `attachment; filename="${asked}"` });
      const done = (await runToEnd(ctx.h.task(ctx.server.url('/named')))) as DownloadRecord;
      assert.deepEqual(await filesIn(ctx.h.dir), [saved]);
      assert.equal(await sha256File(path.join(ctx.h.dir, saved)), sha256(body));
      assert.equal(done.serverName, asked);
    });
  }

  it('renames an auto-loaded name that a redirect target chose, but keeps the name in the URL the user gave', async () => {
    ctx.server.route('/conftest.py', { body });
    ctx.server.route('/latest', { body, redirect: { location: '/conftest.py' } });
    await runToEnd(ctx.h.task(ctx.server.url('/latest')));
    await runToEnd(ctx.h.task(ctx.server.url('/conftest.py')));
    assert.deepEqual(await filesIn(ctx.h.dir), ['_conftest.py', 'conftest.py']);
  });

  it('never writes through a .part file that is a symbolic link: fails with ERR_UNSAFE_PATH and the link target is untouched', async () => {
    ctx.server.route('/planted.bin', { body });
    const outside = path.join(ctx.h.dir, '..', `outside-${path.basename(ctx.h.dir)}.txt`);
    await writeFile(outside, 'precious');
    await symlink(outside, path.join(ctx.h.dir, 'planted.bin.part'));
    try {
      const error = await rejectsWithCode(runToEnd(ctx.h.task(ctx.server.url('/planted.bin'), { record: { target: path.join(ctx.h.dir, 'planted.bin') } })), 'ERR_UNSAFE_PATH');
      assert.match(error.message, /symbolic link/);
      assert.equal(await readFile(outside, 'utf8'), 'precious');
      assert.equal(existsSync(path.join(ctx.h.dir, 'planted.bin')), false);
    } finally {
      await rm(outside, { force: true });
    }
  });

  it('never overwrites an existing file: name (1).ext', async () => {
    ctx.server.route('/dup.bin', { body });
    await writeFile(path.join(ctx.h.dir, 'dup.bin'), 'precious');
    const done = await runToEnd(ctx.h.task(ctx.server.url('/dup.bin')));
    assert.equal(path.basename(done.target!), 'dup (1).bin');
    assert.equal(await readFile(path.join(ctx.h.dir, 'dup.bin'), 'utf8'), 'precious');
  });

  it('a run stopped after it reserved the name, before its record named the file: the next run takes the name back, not name (1)', async () => {
    // Found by the chaos soak (seed 100125): the CLI killed between creating `name.part` (the
    // reservation) and saving the record that names it; the re-run called the empty part file
    // another download's and wrote `name (1).bin`, leaving `name.bin.part` behind for good.
    ctx.server.route('/res.bin', { body });
    const killedWhenNaming: TransferStore = {
      list: () => ctx.h.store.list(),
      get: (id) => ctx.h.store.get(id),
      delete: (id) => ctx.h.store.delete(id),
      async put(record) {
        if (record.kind === 'download' && record.target) throw new TransferError('ERR_INTERNAL', 'killed before the save that names the file');
        await ctx.h.store.put(record);
      },
    };
    const first = ctx.h.task(ctx.server.url('/res.bin'), { store: killedWhenNaming });
    await assert.rejects(first.run(new AbortController().signal));
    assert.deepEqual(await filesIn(ctx.h.dir), ['res.bin.part'], 'the reservation is there');
    const saved = (await ctx.h.store.get(first.record.id)) as DownloadRecord;
    const done = await runToEnd(ctx.h.task(ctx.server.url('/res.bin'), { record: saved }));
    assert.equal(done.target, path.join(ctx.h.dir, 'res.bin'));
    assert.equal(await sha256File(done.target!), sha256(body));
    assert.deepEqual(await filesIn(ctx.h.dir), ['res.bin']);
  });

  it('an empty part file this download did not reserve still belongs to another: name (1).ext', async () => {
    ctx.server.route('/other.bin', { body });
    await writeFile(path.join(ctx.h.dir, 'other.bin.part'), '');
    const done = await runToEnd(ctx.h.task(ctx.server.url('/other.bin')));
    assert.equal(path.basename(done.target!), 'other (1).bin');
    assert.deepEqual(await filesIn(ctx.h.dir), ['other (1).bin', 'other.bin.part']);
  });

  it('replaces an existing file only when the user chose overwrite', async () => {
    ctx.server.route('/over.bin', { body });
    await writeFile(path.join(ctx.h.dir, 'over.bin'), 'old');
    const done = await runToEnd(ctx.h.task(ctx.server.url('/over.bin'), { record: { onExisting: 'overwrite' } }));
    assert.equal(done.target, path.join(ctx.h.dir, 'over.bin'));
    assert.equal(await sha256File(done.target!), sha256(body));
    assert.deepEqual(await filesIn(ctx.h.dir), ['over.bin']);
  });

  it('with skip, fails with ERR_TARGET_EXISTS and leaves the existing file alone', async () => {
    ctx.server.route('/skip.bin', { body });
    await writeFile(path.join(ctx.h.dir, 'skip.bin'), 'mine');
    await rejectsWithCode(runToEnd(ctx.h.task(ctx.server.url('/skip.bin'), { record: { onExisting: 'skip' } })), 'ERR_TARGET_EXISTS');
    assert.equal(await readFile(path.join(ctx.h.dir, 'skip.bin'), 'utf8'), 'mine');
  });

  it('verifies sha256 and keeps nothing under the final name on a mismatch', async () => {
    ctx.server.route('/sum.bin', { body });
    await rejectsWithCode(runToEnd(ctx.h.task(ctx.server.url('/sum.bin'), { record: { sha256: sha256(changed) } })), 'ERR_CHECKSUM_MISMATCH');
    assert.deepEqual(await filesIn(ctx.h.dir), []);
    const ok = await runToEnd(ctx.h.task(ctx.server.url('/sum.bin'), { record: { sha256: sha256(body) } }));
    assert.equal(await sha256File(ok.target!), sha256(body));
  });

  it('pauses through its AbortSignal and resumes from the saved record', async () => {
    ctx.server.route('/slow.bin', { body, etag: STRONG, rateBytesPerSec: 2_000_000 });
    const task = ctx.h.task(ctx.server.url('/slow.bin'));
    const controller = new AbortController();
    const running = task.run(controller.signal);
    await new Promise((r) => setTimeout(r, 200));
    controller.abort(new AbortError('pause'));
    await assert.rejects(running, (e: unknown) => e instanceof AbortError && e.reason === 'pause');
    const saved = (await ctx.h.store.get(task.record.id)) as DownloadRecord;
    assert.equal(saved.state, 'paused');
    const partSize = (await stat(partPathFor(saved.target!))).size;
    assert.ok(partSize > 0 && partSize < SIZE);
    assert.equal(saved.segments[0].done, partSize, 'the record counts exactly the bytes written');
    const done = await runToEnd(ctx.h.task(ctx.server.url('/slow.bin'), { record: saved }));
    assert.equal(await sha256File(done.target!), sha256(body));
    assert.equal(rangeRequests('/slow.bin')[0].headers.range, `bytes=${partSize}-`);
  });

  it('saves progress by volume too, so a kill on a fast link costs at most persistEveryBytes', async () => {
    const large = randomBytesSeeded(16 * 1024 * 1024, 5);
    ctx.server.route('/fast.bin', { body: large, etag: STRONG });
    const saved: number[] = [];
    const put = ctx.h.store.put.bind(ctx.h.store);
    ctx.h.store.put = async (record) => {
      if (record.kind === 'download') saved.push(record.segments[0].done);
      await put(record);
    };
    await runToEnd(ctx.h.task(ctx.server.url('/fast.bin'), { persistIntervalMs: 3_600_000, persistEveryBytes: 2 * 1024 * 1024 }));
    const during = saved.filter((done) => done > 0 && done < large.length);
    assert.ok(during.length >= 4, `saves while bytes flowed: ${JSON.stringify(saved)}`);
    // At most the budget plus one write batch (1 MiB) between two saves.
    for (let i = 1; i < during.length; i++) assert.ok(during[i] - during[i - 1] <= 3 * 1024 * 1024, `gap ${during[i] - during[i - 1]}`);
  });

  it('a stale record that claims more than the part file holds resumes from the file size', async () => {
    ctx.server.route('/stale.bin', { body, etag: STRONG });
    const target = path.join(ctx.h.dir, 'stale.bin');
    await writeFile(partPathFor(target), body.subarray(0, 300_000));
    const record: DownloadRecord = {
      ...newDownloadRecord({ id: 'stale', url: ctx.server.url('/stale.bin'), targetDir: ctx.h.dir, now: Date.now() }),
      target,
      length: SIZE,
      etag: STRONG,
      segments: [{ start: 0, end: SIZE, done: 700_000 }],
    };
    const done = await runToEnd(ctx.h.task(ctx.server.url('/stale.bin'), { record }));
    assert.equal(rangeRequests('/stale.bin')[0].headers.range, 'bytes=300000-');
    assert.equal(await sha256File(done.target!), sha256(body));
  });

  it('a record behind the part file cuts the file back and re-fetches the difference', async () => {
    ctx.server.route('/behind.bin', { body, etag: STRONG });
    const target = path.join(ctx.h.dir, 'behind.bin');
    // The bytes past the record's count could be anything (lost writes): they must not be trusted.
    await writeFile(partPathFor(target), Buffer.concat([body.subarray(0, 200_000), Buffer.alloc(300_000, 7)]));
    const record: DownloadRecord = {
      ...newDownloadRecord({ id: 'behind', url: ctx.server.url('/behind.bin'), targetDir: ctx.h.dir, now: Date.now() }),
      target,
      length: SIZE,
      etag: STRONG,
      segments: [{ start: 0, end: SIZE, done: 200_000 }],
    };
    const done = await runToEnd(ctx.h.task(ctx.server.url('/behind.bin'), { record }));
    assert.equal(rangeRequests('/behind.bin')[0].headers.range, 'bytes=200000-');
    assert.equal(await sha256File(done.target!), sha256(body));
  });
});
