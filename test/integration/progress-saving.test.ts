import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { newDownloadRecord, partPathFor, type DownloadRecord } from '../../src/core';
import { randomBytesSeeded, sha256 } from '../support/fault-server';
import { assertBuilt, readRecordFiles, runCli, startCli, waitFor } from '../support/cli';
import { runToEnd } from '../support/engine';
import { eachTest, faultServer, harness, tempDir } from '../support/each-test';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Bytes the CLI's saved download record in `dir` claims, over all its segments. */
async function recordedBytes(dir: string): Promise<number> {
  const records = (await readRecordFiles(dir)).flatMap((f) => f.records);
  return records.reduce((sum, r) => sum + (r.kind === 'download' ? r.segments.reduce((n, s) => n + s.done, 0) : 0), 0);
}

describe('progress is saved while a server is silent (a stall never loses the last burst)', function () {
  this.timeout(60_000);
  const ctx = eachTest({ server: faultServer, dir: tempDir('rt-save-') });

  before(assertBuilt);

  it('CLI, one connection: 13.2 MiB burst, silence, SIGKILL during the silence, re-run moves little more than the file', async () => {
    const size = 24 * MiB;
    const burst = Math.round(13.2 * MiB);
    const body = randomBytesSeeded(size, 81);
    ctx.server.route('/burst.bin', { body, etag: '"b1"', stallAfter: { bytes: burst, ms: 20_000, times: 1 } });
    const target = path.join(ctx.dir, 'burst.bin');
    const first = startCli(['get', ctx.server.url('/burst.bin'), '-o', target]);
    await waitFor(async () => existsSync(`${target}.part`) && (await stat(`${target}.part`)).size >= burst);
    // No byte arrives from here on: only a timer can save them.
    await sleep(1_500);
    first.child.kill('SIGKILL');
    assert.equal((await first.result).signal, 'SIGKILL');

    ctx.server.route('/burst.bin', { body, etag: '"b1"' });
    const second = await runCli(['get', ctx.server.url('/burst.bin'), '-o', target]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(sha256(await readFile(target)), sha256(body));
    // Checksum lookups beside the file run alongside: only the file's own requests count here.
    const fileRequests = ctx.server.requests.filter((r) => r.path === '/burst.bin');
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(String(fileRequests[fileRequests.length - 1].headers.range))?.[1]);
    assert.ok(resumedAt >= burst - MiB, `resumed at ${resumedAt}, the burst ended at ${burst}`);
    assert.ok(ctx.server.totalBodyBytesSent() <= size + MiB, `${ctx.server.totalBodyBytesSent()} bytes moved for ${size}`);
  });

  it('CLI, 4 connections: every connection stalls after 3 MiB, SIGKILL during the silence, re-run fetches only the rest', async () => {
    const size = 24 * MiB;
    const body = randomBytesSeeded(size, 82);
    ctx.server.route('/four.bin', { body, etag: '"f1"', stallAfter: { bytes: 3 * MiB, ms: 20_000, times: 4 } });
    const target = path.join(ctx.dir, 'four.bin');
    const first = startCli(['get', ctx.server.url('/four.bin'), '-o', target, '--connections', '4']);
    await waitFor(() => ctx.server.requests.filter((r) => r.path === '/four.bin').length === 4 && ctx.server.totalBodyBytesSent('/four.bin') >= 12 * MiB);
    // No byte arrives from here on: only a timer can put the 12 MiB into the record. The server
    // having sent them does not mean the client has read them yet (socket buffers; a loaded
    // machine), so wait for the record itself rather than a fixed time, then kill.
    await waitFor(async () => (await recordedBytes(ctx.dir)) >= 12 * MiB, 15_000);
    first.child.kill('SIGKILL');
    assert.equal((await first.result).signal, 'SIGKILL');

    ctx.server.route('/four.bin', { body, etag: '"f1"' });
    const second = await runCli(['get', ctx.server.url('/four.bin'), '-o', target, '--connections', '4']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(sha256(await readFile(target)), sha256(body));
    assert.ok(ctx.server.totalBodyBytesSent('/four.bin') <= size + 2 * MiB, `${ctx.server.totalBodyBytesSent('/four.bin')} bytes moved for ${size}`);
  });
});

describe('a record behind or beside its part file (reconciliation on resume)', function () {
  const ctx = eachTest({ server: faultServer, h: harness });
  const SIZE = 2 * MiB;
  const body = randomBytesSeeded(SIZE, 83);

  /** A record whose part file is `content`, written as the generation the record names. */
  async function recordBeside(name: string, content: Buffer, patch: Partial<DownloadRecord>): Promise<DownloadRecord> {
    const target = path.join(ctx.h.dir, name);
    await writeFile(partPathFor(target), content);
    const stats = await stat(partPathFor(target));
    return {
      ...newDownloadRecord({ id: name, url: ctx.server.url(`/${name}`), targetDir: ctx.h.dir, now: Date.now() }),
      target,
      length: SIZE,
      segments: [{ start: 0, end: SIZE, done: 64 * 1024 }],
      generation: 0,
      partFile: { generation: 0, ino: stats.ino, birthtimeMs: stats.birthtimeMs },
      ...patch,
    };
  }

  it('one connection and a strong ETag: keeps the bytes the part file holds beyond the record (If-Range guards them)', async () => {
    ctx.server.route('/kept.bin', { body, etag: '"k1"' });
    const record = await recordBeside('kept.bin', body.subarray(0, 1_500_000), { etag: '"k1"' });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/kept.bin'), { record }));
    const ranged = ctx.server.requests.filter((r) => r.headers.range);
    assert.equal(ranged[0].headers.range, 'bytes=1500000-');
    assert.equal(ranged[0].headers['if-range'], '"k1"');
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.equal(ctx.server.totalBodyBytesSent(), SIZE - 1_500_000);
  });

  it('without a strong validator the record is trusted, not the file: cut back and re-fetched', async () => {
    ctx.server.route('/weak.bin', { body, etag: 'W/"w1"' });
    const record = await recordBeside('weak.bin', Buffer.concat([body.subarray(0, 64 * 1024), Buffer.alloc(500_000, 7)]), { etag: 'W/"w1"' });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/weak.bin'), { record }));
    assert.match(String(ctx.server.requests.find((r) => r.headers.range)?.headers.range), /^bytes=\d+-$/);
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
  });

  it('a record of an older generation counts none of the bytes of the part file a restart made', async () => {
    ctx.server.route('/gen.bin', { body, etag: '"g2"' });
    // The record (stale, generation 0) claims half the file; the part file on disk was made by a
    // later restart (another file), holding the new version's first bytes and zeros after them.
    const record = await recordBeside('gen.bin', Buffer.alloc(SIZE), { etag: '"g2"', segments: [{ start: 0, end: SIZE, done: SIZE / 2 }] });
    await writeFile(`${partPathFor(record.target!)}.tmp`, Buffer.concat([body.subarray(0, 4096), Buffer.alloc(SIZE - 4096)]));
    await rename(`${partPathFor(record.target!)}.tmp`, partPathFor(record.target!));
    const done = await runToEnd(ctx.h.task(ctx.server.url('/gen.bin'), { record }));
    assert.equal(sha256(await readFile(done.target!)), sha256(body), 'no zero from the stale claim');
    assert.equal(ctx.server.totalBodyBytesSent(), SIZE, 'everything fetched again');
  });
});
