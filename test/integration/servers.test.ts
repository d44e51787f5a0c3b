import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { randomBytesSeeded, sha256 } from '../support/fault-server';
import { generateFile, nginxAvailable, startNginx, type NginxServer } from '../support/nginx';
import { eachTest, faultServer } from '../support/each-test';

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The response ended before the announced length (socket closed / error). */
  aborted: boolean;
  ms: number;
}

/** Plain http.request (no Accept-Encoding unless given); collects whatever arrives. */
function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Got> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let aborted = false;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('aborted', () => (aborted = true));
      res.on('error', () => (aborted = true));
      res.on('close', () => {
        if (!res.complete) aborted = true;
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          aborted,
          ms: Date.now() - started,
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('test servers', function () {
  describe('randomBytesSeeded / sha256', () => {
    it('is deterministic, prefix-stable and seed-dependent', () => {
      const a = randomBytesSeeded(1001, 42);
      assert.deepEqual(a, randomBytesSeeded(1001, 42));
      assert.deepEqual(randomBytesSeeded(10, 42), a.subarray(0, 10));
      assert.notDeepEqual(randomBytesSeeded(1001, 43), a);
      assert.notDeepEqual(randomBytesSeeded(64, 0), Buffer.alloc(64));
      assert.equal(sha256(Buffer.from('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    });

    it('generateFile writes the same bytes as randomBytesSeeded', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'rt-gen-'));
      try {
        const size = 3 * 1024 * 1024 + 7;
        const hash = await generateFile(path.join(dir, 'f.bin'), size, 9);
        assert.equal(hash, sha256(randomBytesSeeded(size, 9)));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('fault server', () => {
  const ctx = eachTest({ server: faultServer });
    const body = randomBytesSeeded(300_000, 1);

    it('serves the full body with validators and records the request', async () => {
      ctx.server.route('/f', { body, etag: '"v1"', lastModified: 'Tue, 01 Jan 2030 00:00:00 GMT', contentDisposition: 'attachment; filename="x.bin"' });
      const r = await get(ctx.server.url('/f'));
      assert.equal(r.status, 200);
      assert.equal(r.headers['accept-ranges'], 'bytes');
      assert.equal(r.headers['etag'], '"v1"');
      assert.equal(r.headers['last-modified'], 'Tue, 01 Jan 2030 00:00:00 GMT');
      assert.equal(r.headers['content-length'], String(body.length));
      assert.equal(r.headers['content-disposition'], 'attachment; filename="x.bin"');
      assert.deepEqual(r.body, body);
      assert.equal(ctx.server.requests.length, 1);
      assert.equal(ctx.server.requests[0].status, 200);
      assert.equal(ctx.server.requests[0].bodyBytesSent, body.length);
      assert.equal(ctx.server.totalBodyBytesSent('/f'), body.length);
    });

    it('answers HEAD without body and unknown paths with 404', async () => {
      ctx.server.route('/f', { body });
      const h = await get(ctx.server.url('/f'), {}, 'HEAD');
      assert.equal(h.status, 200);
      assert.equal(h.headers['content-length'], String(body.length));
      assert.equal(h.body.length, 0);
      assert.equal((await get(ctx.server.url('/nope'))).status, 404);
    });

    it('honours single ranges with 206 and exact Content-Range', async () => {
      ctx.server.route('/f', { body });
      const r = await get(ctx.server.url('/f'), { Range: 'bytes=100-199' });
      assert.equal(r.status, 206);
      assert.equal(r.headers['content-range'], `bytes 100-199/${body.length}`);
      assert.equal(r.headers['content-length'], '100');
      assert.deepEqual(r.body, body.subarray(100, 200));

      const open = await get(ctx.server.url('/f'), { Range: 'bytes=1000-' });
      assert.equal(open.status, 206);
      assert.equal(open.headers['content-range'], `bytes 1000-${body.length - 1}/${body.length}`);
      assert.deepEqual(open.body, body.subarray(1000));

      const past = await get(ctx.server.url('/f'), { Range: 'bytes=10-999999999' });
      assert.equal(past.headers['content-range'], `bytes 10-${body.length - 1}/${body.length}`);
    });

    it('answers 416 with bytes */len when the start is past the end', async () => {
      ctx.server.route('/f', { body });
      const r = await get(ctx.server.url('/f'), { Range: `bytes=${body.length}-` });
      assert.equal(r.status, 416);
      assert.equal(r.headers['content-range'], `bytes */${body.length}`);
    });

    it('ranges:false ignores Range and sends no Accept-Ranges', async () => {
      ctx.server.route('/f', { body, ranges: false });
      const r = await get(ctx.server.url('/f'), { Range: 'bytes=10-' });
      assert.equal(r.status, 200);
      assert.equal(r.headers['accept-ranges'], undefined);
      assert.deepEqual(r.body, body);
    });

    it('evaluates If-Range per RFC 9110', async () => {
      const lm = 'Tue, 01 Jan 2030 00:00:00 GMT';
      ctx.server.route('/f', { body, etag: '"v1"', lastModified: lm });
      assert.equal((await get(ctx.server.url('/f'), { Range: 'bytes=10-', 'If-Range': '"v1"' })).status, 206);
      const miss = await get(ctx.server.url('/f'), { Range: 'bytes=10-', 'If-Range': '"v0"' });
      assert.equal(miss.status, 200);
      assert.deepEqual(miss.body, body);
      assert.equal((await get(ctx.server.url('/f'), { Range: 'bytes=10-', 'If-Range': 'W/"v1"' })).status, 200);
      assert.equal((await get(ctx.server.url('/f'), { Range: 'bytes=10-', 'If-Range': lm })).status, 206);
      assert.equal((await get(ctx.server.url('/f'), { Range: 'bytes=10-', 'If-Range': 'Wed, 02 Jan 2030 00:00:00 GMT' })).status, 200);

      ctx.server.route('/weak', { body, etag: 'W/"v1"' });
      assert.equal((await get(ctx.server.url('/weak'), { Range: 'bytes=10-', 'If-Range': 'W/"v1"' })).status, 200);
      assert.equal((await get(ctx.server.url('/weak'), { Range: 'bytes=10-', 'If-Range': '"v1"' })).status, 200);

      ctx.server.route('/ignore', { body, etag: '"v1"', ifRange: false });
      assert.equal((await get(ctx.server.url('/ignore'), { Range: 'bytes=10-', 'If-Range': '"other"' })).status, 206);
    });

    it('setBody simulates a changed file', async () => {
      ctx.server.route('/f', { body, etag: '"v1"' });
      const changed = randomBytesSeeded(body.length, 2);
      ctx.server.setBody('/f', changed, '"v2"');
      const r = await get(ctx.server.url('/f'), { Range: 'bytes=10-', 'If-Range': '"v1"' });
      assert.equal(r.status, 200);
      assert.equal(r.headers['etag'], '"v2"');
      assert.deepEqual(r.body, changed);
    });

    it('dropAfter cuts the body for the first N responses', async () => {
      ctx.server.route('/f', { body, dropAfter: { bytes: 70_000, times: 1 } });
      const first = await get(ctx.server.url('/f'));
      assert.equal(first.status, 200);
      assert.equal(first.aborted, true);
      assert.equal(first.body.length, 70_000);
      assert.deepEqual(first.body, body.subarray(0, 70_000));

      const second = await get(ctx.server.url('/f'), { Range: 'bytes=70000-' });
      assert.equal(second.status, 206);
      assert.equal(second.aborted, false);
      assert.deepEqual(second.body, body.subarray(70_000));
      assert.equal(ctx.server.totalBodyBytesSent('/f'), body.length);
    });

    it('dropAfter counts bytes from the start of a 206 body', async () => {
      ctx.server.route('/f', { body, dropAfter: { bytes: 0, times: 1 } });
      const r = await get(ctx.server.url('/f'), { Range: 'bytes=5-' });
      assert.equal(r.status, 206);
      assert.equal(r.aborted, true);
      assert.equal(r.body.length, 0);
    });

    it('stallAfter stops writing for ms and then closes', async () => {
      ctx.server.route('/f', { body, stallAfter: { bytes: 1000, ms: 400, times: 1 } });
      const r = await get(ctx.server.url('/f'));
      assert.equal(r.aborted, true);
      assert.equal(r.body.length, 1000);
      assert.ok(r.ms >= 350, `stalled only ${r.ms} ms`);
      const ok = await get(ctx.server.url('/f'));
      assert.deepEqual(ok.body, body);
    });

    it('close() destroys sockets of stalled responses', async () => {
      ctx.server.route('/f', { body, stallAfter: { bytes: 10, ms: 60_000, times: 1 } });
      const pending = get(ctx.server.url('/f'));
      while (ctx.server.requests.length === 0 || ctx.server.requests[0].bodyBytesSent < 10) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const t0 = Date.now();
      await ctx.server.close();
      const r = await pending;
      assert.equal(r.aborted, true);
      assert.ok(Date.now() - t0 < 2000);
    });

    it('status200OnRange answers the first range requests with 200', async () => {
      ctx.server.route('/f', { body, status200OnRange: { times: 1 } });
      const a = await get(ctx.server.url('/f'), { Range: 'bytes=10-' });
      assert.equal(a.status, 200);
      assert.deepEqual(a.body, body);
      assert.equal((await get(ctx.server.url('/f'), { Range: 'bytes=10-' })).status, 206);
    });

    it('wrongContentRange shifts the start; wrongTotal lies about the length', async () => {
      ctx.server.route('/f', { body, wrongContentRange: { shift: 5, times: 1 } });
      const r = await get(ctx.server.url('/f'), { Range: 'bytes=100-199' });
      assert.equal(r.status, 206);
      assert.equal(r.headers['content-range'], `bytes 105-204/${body.length}`);
      assert.deepEqual(r.body, body.subarray(105, 205));
      assert.equal((await get(ctx.server.url('/f'), { Range: 'bytes=100-199' })).headers['content-range'], `bytes 100-199/${body.length}`);

      ctx.server.route('/t', { body, wrongTotal: { times: 1 } });
      const t = await get(ctx.server.url('/t'), { Range: 'bytes=0-9' });
      assert.equal(t.headers['content-range'], `bytes 0-9/${body.length + 1}`);
    });

    it('failWith sends the status with Retry-After for the first N requests', async () => {
      ctx.server.route('/f', { body, failWith: { status: 503, retryAfter: '2', times: 2 } });
      for (let i = 0; i < 2; i++) {
        const r = await get(ctx.server.url('/f'));
        assert.equal(r.status, 503);
        assert.equal(r.headers['retry-after'], '2');
        assert.equal(r.body.length, 0);
      }
      assert.equal((await get(ctx.server.url('/f'))).status, 200);
    });

    it('redirect sends Location (relative) which fetch follows', async () => {
      ctx.server.route('/r', { body: Buffer.alloc(0), redirect: { location: '/f', status: 307 } });
      ctx.server.route('/f', { body });
      const r = await get(ctx.server.url('/r'));
      assert.equal(r.status, 307);
      assert.equal(r.headers.location, '/f');
      const f = await fetch(ctx.server.url('/r'), { headers: { 'Accept-Encoding': 'identity' } });
      assert.equal(f.status, 200);
      assert.equal(f.url, ctx.server.url('/f'));
      assert.deepEqual(Buffer.from(await f.arrayBuffer()), body);
    });

    it('gzipWhenAccepted gzips only when gzip is acceptable', async () => {
      ctx.server.route('/f', { body, gzipWhenAccepted: true });
      const z = await get(ctx.server.url('/f'), { 'Accept-Encoding': 'gzip, deflate', Range: 'bytes=10-' });
      assert.equal(z.status, 200);
      assert.equal(z.headers['content-encoding'], 'gzip');
      assert.deepEqual(gunzipSync(z.body), body);

      const id = await get(ctx.server.url('/f'), { 'Accept-Encoding': 'identity', Range: 'bytes=10-' });
      assert.equal(id.status, 206);
      assert.equal(id.headers['content-encoding'], undefined);
      assert.equal((await get(ctx.server.url('/f'), { 'Accept-Encoding': 'gzip;q=0, identity' })).headers['content-encoding'], undefined);
      assert.equal((await get(ctx.server.url('/f'))).headers['content-encoding'], undefined);

      // fetch sends Accept-Encoding with gzip by default and decodes transparently.
      const f = await fetch(ctx.server.url('/f'));
      assert.equal(f.headers.get('content-encoding'), 'gzip');
      assert.deepEqual(Buffer.from(await f.arrayBuffer()), body);
    });

    it('chunked omits Content-Length on 200', async () => {
      ctx.server.route('/f', { body, chunked: true });
      const r = await get(ctx.server.url('/f'));
      assert.equal(r.headers['content-length'], undefined);
      assert.equal(r.headers['transfer-encoding'], 'chunked');
      assert.deepEqual(r.body, body);
      const p = await get(ctx.server.url('/f'), { Range: 'bytes=0-9' });
      assert.equal(p.status, 206);
      assert.equal(p.headers['content-length'], '10');
    });

    it('shortBody announces the length but sends fewer bytes', async () => {
      ctx.server.route('/f', { body, shortBody: { missing: 1000, times: 1 } });
      const r = await get(ctx.server.url('/f'));
      assert.equal(r.headers['content-length'], String(body.length));
      assert.equal(r.aborted, true);
      assert.equal(r.body.length, body.length - 1000);
      assert.equal((await get(ctx.server.url('/f'))).body.length, body.length);
    });

    it('rateBytesPerSec throttles the body', async () => {
      const small = randomBytesSeeded(100_000, 3);
      ctx.server.route('/f', { body: small, rateBytesPerSec: 200_000 });
      const r = await get(ctx.server.url('/f'));
      assert.deepEqual(r.body, small);
      assert.ok(r.ms >= 400, `took only ${r.ms} ms`);
      assert.ok(r.ms < 3000, `took ${r.ms} ms`);
    });

    it('setRate changes the throttle of a response already under way', async () => {
      // 1 MB at 100 kB/s would take 10 s; lifted after 300 ms, the rest comes at once.
      const body = randomBytesSeeded(1_000_000, 5);
      ctx.server.route('/f', { body, rateBytesPerSec: 100_000 });
      const pending = get(ctx.server.url('/f'));
      await new Promise((r) => setTimeout(r, 300));
      const sentWhileSlow = ctx.server.totalBodyBytesSent('/f');
      ctx.server.setRate('/f', undefined);
      const r = await pending;
      assert.deepEqual(r.body, body);
      assert.ok(sentWhileSlow > 0 && sentWhileSlow < 100_000, `${sentWhileSlow} bytes went out in the slow 300 ms`);
      assert.ok(r.ms < 2000, `took ${r.ms} ms after the limit was lifted`);
    });

    it('survives client aborts', async () => {
      ctx.server.route('/f', { body: randomBytesSeeded(20 * 1024 * 1024, 4), rateBytesPerSec: 5_000_000 });
      await new Promise<void>((resolve) => {
        const req = http.get(ctx.server.url('/f'), { agent: false }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => undefined);
      });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal((await get(ctx.server.url('/f'), { Range: 'bytes=0-9' })).status, 206);
    });
  });

  describe('nginx', function () {
    let nginx: NginxServer | undefined;
    let root: string;
    let hash: string;
    const size = 3 * 1024 * 1024 + 123;

    before(async function () {
      if (!nginxAvailable()) this.skip();
      root = await mkdtemp(path.join(os.tmpdir(), 'rt-nginx-root-'));
      hash = await generateFile(path.join(root, 'file.bin'), size, 7);
      nginx = await startNginx({ root });
    });

    after(async () => {
      await nginx?.stop();
      if (root) await rm(root, { recursive: true, force: true });
    });

    it('serves a generated file in full', async () => {
      const r = await get(nginx!.url('file.bin'));
      assert.equal(r.status, 200);
      assert.equal(r.headers['accept-ranges'], 'bytes');
      assert.ok(r.headers.etag);
      assert.equal(sha256(r.body), hash);
    });

    it('answers a Range with 206', async () => {
      const r = await get(nginx!.url('file.bin'), { Range: 'bytes=1000-1999' });
      assert.equal(r.status, 206);
      assert.equal(r.headers['content-range'], `bytes 1000-1999/${size}`);
      assert.deepEqual(r.body, randomBytesSeeded(2000, 7).subarray(1000));
    });

    it('honours If-Range: matching ETag => 206, wrong ETag => 200', async () => {
      const head = await get(nginx!.url('file.bin'), {}, 'HEAD');
      const etag = head.headers.etag as string;
      const ok = await get(nginx!.url('file.bin'), { Range: 'bytes=100-', 'If-Range': etag });
      assert.equal(ok.status, 206);
      assert.equal(ok.body.length, size - 100);
      const bad = await get(nginx!.url('file.bin'), { Range: 'bytes=100-', 'If-Range': '"not-the-etag"' });
      assert.equal(bad.status, 200);
      assert.equal(sha256(bad.body), hash);
    });

    it('serves /limited/ from the same root', async () => {
      const r = await get(nginx!.url('limited/file.bin'), { Range: 'bytes=0-99' });
      assert.equal(r.status, 206);
      assert.deepEqual(r.body, randomBytesSeeded(100, 7));
    });

    it('logs method, uri, status, bytes, Range and If-Range', async () => {
      const log = await nginx!.accessLog(6);
      const withIfRange = log.filter((e) => e.ifRange !== '');
      assert.equal(withIfRange.length, 2);
      const hit = withIfRange.find((e) => e.status === 206);
      assert.ok(hit);
      assert.equal(hit.method, 'GET');
      assert.equal(hit.uri, '/file.bin');
      assert.equal(hit.range, 'bytes=100-');
      assert.equal(hit.bytesSent, size - 100);
      const miss = withIfRange.find((e) => e.status === 200);
      assert.equal(miss?.bytesSent, size);
      assert.ok(log.some((e) => e.method === 'HEAD'));
      assert.ok(log.some((e) => e.uri === '/limited/file.bin' && e.bytesSent === 100));
    });

    it('stops and frees its port', async () => {
      const port = Number(new URL(nginx!.origin).port);
      await nginx!.stop();
      const refused = await new Promise<boolean>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port });
        s.once('connect', () => {
          s.destroy();
          resolve(false);
        });
        s.once('error', () => resolve(true));
      });
      assert.equal(refused, true);
      nginx = undefined;
    });
  });
});
