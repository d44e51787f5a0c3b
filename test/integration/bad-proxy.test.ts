import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { TransferError, createHttpStack, newDownloadRecord, type DownloadRecord } from '../../src/core';
import { ThreadedDownloadTask } from '../../src/core/download/threaded';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import { assertBuilt, runCli } from '../support/cli';
import { FAST_RETRY, runToEnd } from '../support/engine';
import { randomBytesSeeded, sha256 } from '../support/fault-server';
import { eachTest, faultServer, harness } from '../support/each-test';

const WORKER = path.resolve(__dirname, '..', '..', 'dist', 'download-worker.js');

/**
 * A proxy setting we cannot use (socks5://, malformed) breaks nothing: the stack is built, the
 * problem is reported once, the transfers that need the proxy fail at once with ERR_PROXY_CONFIG,
 * and hosts in noProxy still work. In the worker thread it is an answer, not an unhandled rejection.
 */
describe('an unusable proxy setting (integration)', () => {
  const body = randomBytesSeeded(200_000, 77);
  const ctx = eachTest({ server: faultServer, h: harness });

  beforeEach(async () => {
    ctx.server.route('/f.bin', { body, etag: '"f1"' });
  });

  for (const proxyUrl of ['socks5://user:secret@127.0.0.1:1080', 'http://user:secret@bad host:3128']) {
    it(`${proxyUrl.replace(/user:secret@/, '')}: the download fails at once with ERR_PROXY_CONFIG, no retries, no secret`, async () => {
      const stack = createHttpStack({ proxy: { proxyUrl, strictSSL: true, noProxy: [] } });
      try {
        assert.equal(stack.problems.length, 1);
        assert.equal(stack.problems[0].setting, 'http.proxy');
        const started = Date.now();
        await assert.rejects(runToEnd(ctx.h.task(ctx.server.url('/f.bin'), { http: stack.http, retry: { ...FAST_RETRY, baseDelayMs: 1_000 } })), (error: unknown) => {
          assert.ok(error instanceof TransferError);
          assert.equal(error.code, 'ERR_PROXY_CONFIG');
          assert.doesNotMatch(error.message, /secret/);
          return true;
        });
        assert.ok(Date.now() - started < 900, 'not retried');
        assert.equal(ctx.server.requests.length, 0, 'nothing went around the proxy');
      } finally {
        stack.dispose();
      }
    });
  }

  it('hosts in noProxy still download while the proxy setting is unusable', async () => {
    const stack = createHttpStack({ proxy: { proxyUrl: 'socks5://127.0.0.1:1080', strictSSL: true, noProxy: ['127.0.0.1'] } });
    try {
      const done = await runToEnd(ctx.h.task(ctx.server.url('/f.bin'), { http: stack.http }));
      assert.equal(sha256(await readFile(done.target!)), sha256(body));
    } finally {
      stack.dispose();
    }
  });

  it('in the worker thread: the download fails with ERR_PROXY_CONFIG and the record says so', async function () {
    assertBuilt();
    const record: DownloadRecord = newDownloadRecord({ id: 'w', url: ctx.server.url('/f.bin'), targetDir: ctx.h.dir, now: Date.now() });
    const task = new ThreadedDownloadTask(record, {
      workerPath: WORKER,
      store: ctx.h.store,
      settings: { retry: FAST_RETRY, network: { proxy: { proxyUrl: 'socks5://127.0.0.1:1080', strictSSL: true, noProxy: [] } } },
    });
    await assert.rejects(task.run(new AbortController().signal), (error: unknown) => error instanceof TransferError && error.code === 'ERR_PROXY_CONFIG');
    const saved = (await ctx.h.store.get('w')) as DownloadRecord;
    assert.equal(saved.state, 'failed');
    assert.equal(saved.lastError?.code, 'ERR_PROXY_CONFIG');
  });

  it('CLI: HTTPS_PROXY=socks5:// is one warning line; http still downloads, https fails with ERR_PROXY_CONFIG', async function () {
    assertBuilt();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rt-badproxy-'));
    const saved = process.env.HTTPS_PROXY;
    process.env.HTTPS_PROXY = 'socks5://user:secret@127.0.0.1:1080';
    try {
      const plain = await runCli(['get', ctx.server.url('/f.bin'), '-o', path.join(dir, 'f.bin')]);
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal(sha256(await readFile(path.join(dir, 'f.bin'))), sha256(body));
      assert.match(plain.stderr, /^warning ERR_PROXY_CONFIG: \$HTTPS_PROXY: only http and https proxies are supported/m);
      const secure = await runCli(['get', 'https://localhost:9/f.bin', '-o', path.join(dir, 'g.bin'), '--retries', '0']);
      assert.equal(secure.code, 1);
      assert.match(secure.stderr, /^error ERR_PROXY_CONFIG: /m);
      assert.doesNotMatch(plain.stderr + secure.stderr, /secret/);
    } finally {
      if (saved === undefined) delete process.env.HTTPS_PROXY;
      else process.env.HTTPS_PROXY = saved;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
