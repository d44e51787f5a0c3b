import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { TransferError, createHttpStack, newDownloadRecord, type DownloadRecord, type HttpStack, type NetworkSettings } from '../../src/core';
import { ThreadedDownloadTask } from '../../src/core/download/threaded';
import { assertBuilt, startCli } from '../support/cli';
import { FAST_RETRY, runToEnd } from '../support/engine';
import { randomBytesSeeded, sha256 } from '../support/fault-server';
import { startPlainPutServer, type PlainPutServer } from '../support/ietf-server';
import { startRecordingProxy, startTlsFront, type RecordingProxy, type TlsFront } from '../support/proxy-server';
import { createTestCa, type TestCa } from '../support/test-ca';
import { createUploadHarness, run, sha256 as sha256Of, type UploadHarness } from '../support/upload-harness';
import { eachTest, faultServer, harness } from '../support/each-test';

const WORKER = path.resolve(__dirname, '..', '..', 'dist', 'download-worker.js');
const SIZE = 3 * 1024 * 1024 + 321;

/**
 * https against a certificate authority made for the test: refused with ERR_TLS_CERTIFICATE until
 * it is trusted (resumableTransfers.caCertificates, NODE_EXTRA_CA_CERTS), then downloads, resumes
 * and uploads work. http.proxyStrictSSL: false relaxes proxied connections only.
 */
describe('https with a test certificate authority (integration)', function () {
  this.timeout(30_000);
  const body = randomBytesSeeded(SIZE, 8080);
  let ca: TestCa;
  const ctx = eachTest({ server: faultServer, h: harness });
  let front: TlsFront;
  const stacks: HttpStack[] = [];

  const stack = (settings: Partial<NetworkSettings> = {}): HttpStack => {
    const built = createHttpStack({ proxy: { strictSSL: true, noProxy: [] }, connectTimeoutMs: 5_000, responseTimeoutMs: 10_000, ...settings });
    stacks.push(built);
    return built;
  };

  before(() => {
    ca = createTestCa();
  });
  after(() => ca.dispose());

  beforeEach(async () => {
    ctx.server.route('/f.bin', { body, etag: '"t1"' });
    front = await startTlsFront(ctx.server.origin, ca.server);
  });
  afterEach(async () => {
    for (const built of stacks.splice(0)) built.dispose();
    await front.close();
  });

  it('an untrusted certificate is refused at once with ERR_TLS_CERTIFICATE, and nothing is written', async () => {
    const started = Date.now();
    await assert.rejects(runToEnd(ctx.h.task(front.url('/f.bin'), { http: stack().http, retry: { ...FAST_RETRY, baseDelayMs: 2_000 } })), (error: unknown) => {
      assert.ok(error instanceof TransferError);
      assert.equal(error.code, 'ERR_TLS_CERTIFICATE');
      assert.match(error.message, /127\.0\.0\.1:\d+ is not trusted \(UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT_LOCALLY)\)/);
      return true;
    });
    assert.ok(Date.now() - started < 2_000, 'not retried');
    assert.equal(ctx.server.requests.length, 0, 'no request reached the server');
  });

  it('trusted through resumableTransfers.caCertificates: downloads, and resumes with Range over https', async () => {
    ctx.server.route('/f.bin', { body, etag: '"t1"', dropAfter: { bytes: 1024 * 1024, times: 1 } });
    const trusted = stack({ caFiles: [ca.caFile] });
    assert.deepEqual(trusted.problems, []);
    const done = await runToEnd(ctx.h.task(front.url('/f.bin'), { http: trusted.http }));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.equal(ctx.server.requests.length, 2);
    assert.match(String(ctx.server.requests[1].headers.range), /^bytes=\d+-$/);
    assert.equal(ctx.server.requests[1].headers['if-range'], '"t1"');
  });

  it('the worker thread trusts the same authorities: it gets the same network settings', async () => {
    assertBuilt();
    const record: DownloadRecord = newDownloadRecord({ id: 'w', url: front.url('/f.bin'), targetDir: ctx.h.dir, now: Date.now() });
    const network: NetworkSettings = { proxy: { strictSSL: true, noProxy: [] }, caFiles: [ca.caFile] };
    const done = await new ThreadedDownloadTask(record, { workerPath: WORKER, store: ctx.h.store, settings: { retry: FAST_RETRY, network } }).run(new AbortController().signal);
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
  });

  it('a certificate file that cannot be read is reported, and does not stop the stack', () => {
    const broken = stack({ caFiles: [path.join(os.tmpdir(), 'no-such-ca-file.pem')] });
    assert.equal(broken.problems.length, 1);
    assert.equal(broken.problems[0].setting, 'resumableTransfers.caCertificates');
    assert.equal(broken.problems[0].error.code, 'ERR_TLS_CERTIFICATE');
  });

  describe('uploads', () => {
    let up: UploadHarness;
    let put: PlainPutServer;
    let putFront: TlsFront;
    beforeEach(async () => {
      up = await createUploadHarness();
      put = await startPlainPutServer();
      putFront = await startTlsFront(put.origin, ca.server);
    });
    afterEach(async () => {
      await putFront.close();
      await put.close();
      await up.cleanup();
    });

    it('a trusted certificate works for an upload (OPTIONS through fetch, the PUT through node:http)', async () => {
      const { file, sha256: expected } = await up.file('u.bin', 1024 * 1024 + 9);
      const done = await run(await up.task(file, putFront.url('/u.bin'), { http: stack({ caFiles: [ca.caFile] }).http }));
      assert.equal(done.state, 'completed');
      assert.equal(sha256Of(put.files.get('/u.bin')!), expected);
    });

    it('an untrusted one fails the upload with ERR_TLS_CERTIFICATE', async () => {
      const { file } = await up.file('u.bin', 1000);
      await assert.rejects(run(await up.task(file, putFront.url('/u.bin'), { http: stack().http, protocol: 'put' })), (error: unknown) => error instanceof TransferError && error.code === 'ERR_TLS_CERTIFICATE');
      assert.equal(put.files.size, 0);
    });
  });

  describe('http.proxyStrictSSL: false', () => {
    let proxy: RecordingProxy;
    beforeEach(async () => {
      proxy = await startRecordingProxy();
    });
    afterEach(async () => proxy.close());

    it('relaxes a connection through the proxy', async () => {
      const relaxed = stack({ proxy: { proxyUrl: proxy.origin, strictSSL: false, noProxy: [] } });
      const done = await runToEnd(ctx.h.task(front.url('/f.bin'), { http: relaxed.http }));
      assert.equal(sha256(await readFile(done.target!)), sha256(body));
      assert.equal(proxy.requests[0].method, 'CONNECT');
    });

    it('does not relax a direct connection (no proxy, or a noProxy host)', async () => {
      for (const settings of [{ strictSSL: false, noProxy: [] }, { proxyUrl: proxy.origin, strictSSL: false, noProxy: ['127.0.0.1'] }]) {
        await assert.rejects(runToEnd(ctx.h.task(front.url('/f.bin'), { http: stack({ proxy: settings }).http })), (error: unknown) => error instanceof TransferError && error.code === 'ERR_TLS_CERTIFICATE');
      }
      assert.equal(proxy.requests.length, 0);
      assert.equal(ctx.server.requests.length, 0);
    });
  });

  describe('CLI', () => {
    let dir: string;
    beforeEach(async () => {
      assertBuilt();
      dir = await mkdtemp(path.join(os.tmpdir(), 'rt-tls-cli-'));
    });
    afterEach(async () => rm(dir, { recursive: true, force: true }));

    const cli = (env: NodeJS.ProcessEnv) => {
      const saved = process.env.NODE_EXTRA_CA_CERTS;
      if (env.NODE_EXTRA_CA_CERTS) process.env.NODE_EXTRA_CA_CERTS = env.NODE_EXTRA_CA_CERTS;
      else delete process.env.NODE_EXTRA_CA_CERTS;
      try {
        return startCli(['get', front.url('/f.bin'), '-o', path.join(dir, 'f.bin'), '--retries', '0']).result;
      } finally {
        if (saved === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
        else process.env.NODE_EXTRA_CA_CERTS = saved;
      }
    };

    it('refuses the untrusted server with one coded line, then trusts it through NODE_EXTRA_CA_CERTS', async () => {
      const refused = await cli({});
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^error ERR_TLS_CERTIFICATE: /m);
      const trusted = await cli({ NODE_EXTRA_CA_CERTS: ca.caFile });
      assert.equal(trusted.code, 0, trusted.stderr);
      assert.equal(sha256(await readFile(path.join(dir, 'f.bin'))), sha256(body));
    });
  });
});
