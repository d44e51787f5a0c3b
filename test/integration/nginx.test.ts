import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, utimes } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { type DownloadRecord } from '../../src/core';
import { sha256 } from '../support/fault-server';
import { generateFile, nginxAvailable, startNginx, type NginxServer } from '../support/nginx';
import { assertBuilt, killCliWhen, partFileLongerThan, runCli, startCli, waitFor } from '../support/cli';
import { pauseWhen, runToEnd } from '../support/engine';
import { eachTest, harness } from '../support/each-test';
import { sha256File } from '../../src/core/download/part-file';

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;

describe('against a real nginx', function () {
  this.timeout(120_000);
  let nginx: NginxServer;
  const ctx = eachTest({ h: harness });
  let fileSha: string;

  before(async function () {
    if (!nginxAvailable()) this.skip();
    assertBuilt();
    nginx = await startNginx();
    fileSha = await generateFile(path.join(nginx.root, 'big.bin'), SIZE, 7);
  });
  after(async () => {
    await nginx?.stop();
  });

  it('downloads a 64 MiB file byte for byte', async () => {
    const done = await runToEnd(ctx.h.task(nginx.url('big.bin')));
    assert.equal(await sha256File(done.target!), fileSha);
    assert.match(done.etag ?? '', /^"[0-9a-f]+-[0-9a-f]+"$/, 'nginx gives a strong ETag');
  });

  it('resumes with Range + If-Range and gets 206 while the file is unchanged', async () => {
    const task = ctx.h.task(nginx.url('limited/big.bin'));
    await pauseWhen(task, () => task.record.segments[0].done > 4 * MiB);
    const paused = task.record as DownloadRecord;
    const done = await runToEnd(ctx.h.task(nginx.url('big.bin'), { record: { ...paused, url: nginx.url('big.bin') } }));
    assert.equal(await sha256File(done.target!), fileSha);
    const log = await nginx.accessLog(2);
    const resume = log.filter((e) => e.uri === '/big.bin').pop()!;
    assert.equal(resume.status, 206);
    assert.equal(resume.ifRange, paused.etag);
    assert.match(resume.range, /^bytes=\d+-$/);
    assert.ok(resume.bytesSent < SIZE);
  });

  it('gets a 200 and starts over when the file changed (If-Range no longer matches)', async () => {
    const name = 'changing.bin';
    await generateFile(path.join(nginx.root, name), 8 * MiB, 1);
    const task = ctx.h.task(nginx.url(`limited/${name}`));
    await pauseWhen(task, () => task.record.segments[0].done > MiB);
    const newSha = await generateFile(path.join(nginx.root, name), 8 * MiB, 2);
    await utimes(path.join(nginx.root, name), new Date(), new Date(Date.now() + 5000));
    const done = await runToEnd(ctx.h.task(nginx.url(name), { record: { ...(task.record as DownloadRecord), url: nginx.url(name) } }));
    assert.equal(await sha256File(done.target!), newSha);
    const resume = (await nginx.accessLog()).filter((e) => e.uri === `/${name}`).pop()!;
    assert.equal(resume.status, 200, 'nginx ignored the range because If-Range did not match');
    assert.notEqual(resume.ifRange, '');
  });

  it('CLI --connections 8: SIGKILL mid-way, re-run continues every piece', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rt-nginx8-'));
    try {
      const target = path.join(dir, 'big.bin');
      const url = nginx.url('slow/big.bin');
      const before = (await nginx.accessLog()).length;
      const first = startCli(['get', url, '-o', target, '--connections', '8']);
      const stateFile = async () => (await readdir(dir)).find((n) => n.endsWith('.transfer.json'));
      // Wait until the saved record lists several pieces with data in them.
      await waitFor(async () => {
        const name = await stateFile();
        if (!name) return false;
        const saved = Object.values(JSON.parse(await readFile(path.join(dir, name), 'utf8')) as Record<string, DownloadRecord>)[0];
        return saved.segments.filter((s) => s.done > 0).length >= 4;
      }, 60_000);
      first.child.kill('SIGKILL');
      await first.result;
      const name = (await stateFile())!;
      const saved = Object.values(JSON.parse(await readFile(path.join(dir, name), 'utf8')) as Record<string, DownloadRecord>)[0];
      const unfinished = saved.segments.filter((s) => s.end !== undefined && s.done < s.end - s.start);
      assert.ok(unfinished.length >= 2);
      const afterKill = (await nginx.accessLog()).length;

      const second = await runCli(['get', url, '-o', target, '--connections', '8']);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(sha256(await readFile(target)), fileSha);
      const resumed = (await nginx.accessLog()).slice(afterKill).map((e) => Number(/^bytes=(\d+)-/.exec(e.range)?.[1]));
      for (const piece of unfinished) {
        const from = piece.start + piece.done;
        // The record may be a second behind the disk: the piece resumes at or after its saved point.
        assert.ok(resumed.some((start) => start >= from && start < (piece.end as number)), `piece ${piece.start} resumed`);
      }
      const total = (await nginx.accessLog()).slice(before).reduce((sum, e) => sum + e.bytesSent, 0);
      assert.ok(total < 1.5 * SIZE, `fetched ${total} bytes for ${SIZE}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('CLI: SIGKILL mid-way, re-run: same sha256, less than 1.5× the bytes in total', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rt-nginx-'));
    try {
      const target = path.join(dir, 'big.bin');
      const url = nginx.url('limited/big.bin');
      const before = (await nginx.accessLog()).length;
      await killCliWhen(['get', url, '-o', target], () => partFileLongerThan(target, 16 * MiB), 60_000);
      const second = await runCli(['get', url, '-o', target]);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(sha256(await readFile(target)), fileSha);
      // Checksum lookups beside the file run alongside: only the file's own requests count here.
      const entries = (await nginx.accessLog(before + 2)).slice(before).filter((e) => e.uri === '/limited/big.bin');
      const total = entries.reduce((sum, e) => sum + e.bytesSent, 0);
      assert.equal(entries.length, 2);
      assert.equal(entries[1].status, 206);
      assert.notEqual(entries[1].ifRange, '');
      assert.ok(total < 1.5 * SIZE, `fetched ${total} bytes for ${SIZE}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
