import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { DownloadTask, MemoryTransferStore, NodeFetchHttpClient, TransferError, newDownloadRecord, partPathFor, type DownloadRecord } from '../../src/core';
import { randomBytesSeeded, sha256, startFaultServer, type FaultServer } from '../support/fault-server';
import { FAST_RETRY } from '../support/engine';

const MiB = 1024 * 1024;

/** A real full disk: a 2 MiB tmpfs (needs root, as on CI; skipped elsewhere). */
function mountSmallDisk(dir: string, sizeMiB: number): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('a full disk', function () {
  let server: FaultServer;
  let dir: string;
  let mounted = false;
  const http = new NodeFetchHttpClient();

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rt-full-'));
    mounted = mountSmallDisk(dir, 2);
    if (!mounted) this.skip();
    server = await startFaultServer();
  });
  after(async () => {
    await server?.close();
    http.dispose();
    if (mounted) execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails with ERR_DISK_FULL without retrying, keeps what was written, and resumes once there is room', async () => {
    const body = randomBytesSeeded(3 * MiB, 61);
    server.route('/big.bin', { body, etag: '"d1"' });
    const store = new MemoryTransferStore();
    const record = newDownloadRecord({ id: 'full', url: server.url('/big.bin'), targetDir: dir, now: Date.now() });
    const task = new DownloadTask(record, { http, store, retry: FAST_RETRY });
    await assert.rejects(task.run(new AbortController().signal), (e: unknown) => e instanceof TransferError && e.code === 'ERR_DISK_FULL');
    assert.equal(server.requests.length, 1, 'no pointless retries while the disk is full');
    const saved = (await store.get('full')) as DownloadRecord;
    assert.equal(saved.state, 'failed');
    assert.equal(saved.lastError?.code, 'ERR_DISK_FULL');
    const kept = (await stat(partPathFor(saved.target!))).size;
    assert.ok(kept > MiB, `the bytes that fit are kept (${kept})`);
    assert.ok(saved.segments[0].done > 0 && saved.segments[0].done <= kept);

    // The user makes room (here: a bigger disk under the same folder) and retries.
    execFileSync('mount', ['-o', 'remount,size=8m', dir]);
    const done = await new DownloadTask(saved, { http, store, retry: FAST_RETRY }).run(new AbortController().signal);
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.match(String(server.requests[1].headers.range), /^bytes=[1-9]\d*-$/, 'resumed, not restarted');
  });
});
