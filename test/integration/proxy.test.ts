import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as net from 'node:net';
import type { Readable } from 'node:stream';
import { NodeFetchHttpClient, TransferError, type HttpClient } from '../../src/core';
import { createProxyAgentFactory, type ProxyAgentFactory, type ProxyFactoryOptions } from '../../src/core/http/proxy';
import { createHarness, runToEnd, type Harness } from '../support/engine';
import { randomBytesSeeded, sha256 } from '../support/fault-server';
import { startRecordingProxy, startTlsFront, type RecordingProxy, type TlsFront } from '../support/proxy-server';
import { eachTest, faultServer } from '../support/each-test';

const SIZE = 512 * 1024 + 77;
const STRONG = '"p1"';

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('proxy (integration)', () => {
  const body = randomBytesSeeded(SIZE, 4242);
  const ctx = eachTest({ server: faultServer });
  let tlsFront: TlsFront;
  let proxy: RecordingProxy;
  const disposables: Array<{ dispose(): void }> = [];

  /** A client whose requests go through the agent factory built from `settings`. */
  function client(settings: Partial<ProxyFactoryOptions> = {}): { http: NodeFetchHttpClient; factory: ProxyAgentFactory } {
    const factory = createProxyAgentFactory({ proxyUrl: proxy.origin, strictSSL: true, noProxy: [], ...settings });
    const http = new NodeFetchHttpClient({ connectTimeoutMs: 5_000, responseTimeoutMs: 10_000, agentFor: (url) => factory.agentFor(url) });
    disposables.push(http, factory);
    return { http, factory };
  }

  async function get(http: HttpClient, url: string, headers?: Record<string, string>): Promise<{ status: number; data: Buffer }> {
    const response = await http.request(url, { headers });
    return { status: response.status, data: await readAll(response.body) };
  }

  beforeEach(async () => {
    tlsFront = await startTlsFront(ctx.server.origin);
    proxy = await startRecordingProxy();
    ctx.server.route('/a.bin', { body, etag: STRONG });
  });

  afterEach(async () => {
    for (const item of disposables.splice(0)) item.dispose();
    await proxy.close();
    await tlsFront.close();
  });

  describe('http targets (absolute-form)', () => {
    it('downloads through the proxy, which records the request', async () => {
      const { http } = client();
      const { status, data } = await get(http, ctx.server.url('/a.bin'));
      assert.equal(status, 200);
      assert.equal(sha256(data), sha256(body));
      assert.equal(proxy.requests.length, 1);
      const [seen] = proxy.requests;
      assert.equal(seen.method, 'GET');
      assert.equal(seen.target, ctx.server.url('/a.bin'));
      assert.equal(seen.proxyAuthorization, false);
      assert.equal(seen.status, 200);
      assert.equal(ctx.server.requests.length, 1);
    });

    it('reuses the connection to the proxy (keep-alive, one agent)', async () => {
      const { http } = client();
      for (let i = 0; i < 3; i++) assert.equal((await get(http, ctx.server.url('/a.bin'))).status, 200);
      assert.equal(proxy.requests.length, 3);
      assert.equal(proxy.connectionCount, 1);
      assert.deepEqual(proxy.requests.map((r) => r.connection), [1, 1, 1]);
    });

    it('bypasses the proxy for noProxy hosts', async () => {
      const { http } = client({ noProxy: ['127.0.0.1'] });
      const { status, data } = await get(http, ctx.server.url('/a.bin'));
      assert.equal(status, 200);
      assert.equal(sha256(data), sha256(body));
      assert.equal(proxy.requests.length, 0);
      assert.equal(ctx.server.requests.length, 1);
    });

    it('bypasses the proxy only for the listed port', async () => {
      const port = Number(new URL(ctx.server.origin).port);
      const { http } = client({ noProxy: [`127.0.0.1:${port + 1}`] });
      await get(http, ctx.server.url('/a.bin'));
      assert.equal(proxy.requests.length, 1);
    });

    it('falls back to HTTP_PROXY from the environment', async () => {
      const { http } = client({ proxyUrl: undefined, useEnvironment: true, env: { HTTP_PROXY: proxy.origin } });
      assert.equal((await get(http, ctx.server.url('/a.bin'))).status, 200);
      assert.equal(proxy.requests.length, 1);
    });

    it('honours NO_PROXY from the environment', async () => {
      const { http } = client({ proxyUrl: undefined, useEnvironment: true, env: { HTTP_PROXY: proxy.origin, NO_PROXY: 'localhost,127.0.0.1' } });
      assert.equal((await get(http, ctx.server.url('/a.bin'))).status, 200);
      assert.equal(proxy.requests.length, 0);
    });
  });

  describe('credentials', () => {
    let authProxy: RecordingProxy;
    beforeEach(async () => {
      authProxy = await startRecordingProxy({ credentials: { username: 'agent@corp', password: 'p:ss word' } });
    });
    afterEach(async () => {
      await authProxy.close();
    });

    it('sends Proxy-Authorization from the proxy URL, for absolute-form and CONNECT', async () => {
      const { http } = client({ proxyUrl: authProxy.urlWith('agent@corp', 'p:ss word'), strictSSL: false });
      assert.equal((await get(http, ctx.server.url('/a.bin'))).status, 200);
      assert.equal((await get(http, tlsFront.url('/a.bin'))).status, 200);
      assert.deepEqual(authProxy.requests.map((r) => [r.method, r.proxyAuthorization, r.status]), [
        ['GET', true, 200],
        ['CONNECT', true, 200],
      ]);
      const expected = `Basic ${Buffer.from('agent@corp:p:ss word').toString('base64')}`;
      assert.ok(authProxy.requests.every((r) => r.proxyAuthorizationValue === expected));
    });

    it('hands a 407 back as the response status when credentials are missing', async () => {
      const { http } = client({ proxyUrl: authProxy.origin, strictSSL: false });
      assert.equal((await get(http, ctx.server.url('/a.bin'))).status, 407);
      assert.equal((await get(http, tlsFront.url('/a.bin'))).status, 407);
      assert.deepEqual(authProxy.requests.map((r) => [r.method, r.proxyAuthorization, r.status]), [
        ['GET', false, 407],
        ['CONNECT', false, 407],
      ]);
      assert.equal(ctx.server.requests.length, 0);
    });
  });

  describe('https targets (CONNECT)', () => {
    it('tunnels through the proxy and reuses the tunnel', async () => {
      const { http } = client({ strictSSL: false });
      for (let i = 0; i < 2; i++) {
        const { status, data } = await get(http, tlsFront.url('/a.bin'));
        assert.equal(status, 200);
        assert.equal(sha256(data), sha256(body));
      }
      assert.equal(proxy.requests.length, 1, 'one CONNECT for two requests');
      const [connect] = proxy.requests;
      assert.equal(connect.method, 'CONNECT');
      assert.equal(connect.target, new URL(tlsFront.origin).host);
      assert.equal(connect.status, 200);
      assert.equal(ctx.server.requests.length, 2);
    });

    it('rejects an untrusted target certificate when strictSSL is on', async () => {
      const { http } = client({ strictSSL: true });
      await assert.rejects(http.request(tlsFront.url('/a.bin')), (error: unknown) => {
        assert.ok(error instanceof TransferError);
        assert.equal(error.code, 'ERR_TLS_CERTIFICATE');
        assert.match(error.message, /CERT|SELF_SIGNED/i);
        return true;
      });
      assert.equal(proxy.requests[0]?.method, 'CONNECT');
      assert.equal(ctx.server.requests.length, 0);
    });

    it('bypasses the proxy for noProxy hosts (and then verifies as usual)', async () => {
      const { http } = client({ strictSSL: false, noProxy: ['127.0.0.1'] });
      // Direct connections use the client's own agents, which always verify certificates.
      await assert.rejects(http.request(tlsFront.url('/a.bin')), TransferError);
      assert.equal(proxy.requests.length, 0);
    });
  });

  describe('a proxy that accepts connections but never answers', () => {
    let silent: net.Server;
    const sockets = new Set<net.Socket>();
    beforeEach(async () => {
      silent = net.createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    });
    afterEach(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    for (const target of ['http', 'https'] as const) {
      it(`is bounded by the response timeout (${target} target)`, async () => {
        const { port } = silent.address() as net.AddressInfo;
        const factory = createProxyAgentFactory({ proxyUrl: `http://127.0.0.1:${port}`, strictSSL: false, noProxy: [] });
        const http = new NodeFetchHttpClient({ responseTimeoutMs: 300, agentFor: (url) => factory.agentFor(url) });
        disposables.push(http, factory);
        const url = target === 'http' ? ctx.server.url('/a.bin') : tlsFront.url('/a.bin');
        await assert.rejects(http.request(url), (error: unknown) => error instanceof TransferError && error.code === 'ERR_RESPONSE_TIMEOUT');
      });
    }
  });

  describe('DownloadTask through the proxy', () => {
    let h: Harness;
    beforeEach(async () => {
      h = await createHarness();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('resumes an interrupted http download with a Range request the proxy sees', async () => {
      ctx.server.route('/drop.bin', { body, etag: STRONG, dropAfter: { bytes: 200_000, times: 1 } });
      const { http } = client();
      const done = await runToEnd(h.task(ctx.server.url('/drop.bin'), { http }));
      assert.equal(sha256(await readFile(done.target!)), sha256(body));

      const viaProxy = proxy.requests.filter((r) => r.target === ctx.server.url('/drop.bin'));
      assert.equal(viaProxy.length, 2);
      assert.equal(viaProxy[0].headers.range, undefined);
      const range = String(viaProxy[1].headers.range);
      const match = /^bytes=(\d+)-$/.exec(range);
      assert.ok(match, `not an open range: ${range}`);
      const start = Number(match[1]);
      assert.ok(start > 0 && start <= 200_000, `resumed at ${start}`);
      assert.equal(viaProxy[1].headers['if-range'], STRONG);
      assert.equal(viaProxy[1].status, 206);
      // What reached the server is what the proxy forwarded.
      assert.equal(ctx.server.requests.filter((r) => r.path === '/drop.bin').at(-1)?.headers.range, range);
    });

    it('resumes an interrupted https download through the CONNECT tunnel', async () => {
      ctx.server.route('/drop-tls.bin', { body, etag: STRONG, dropAfter: { bytes: 150_000, times: 1 } });
      const { http } = client({ strictSSL: false });
      const done = await runToEnd(h.task(tlsFront.url('/drop-tls.bin'), { http }));
      assert.equal(sha256(await readFile(done.target!)), sha256(body));
      assert.ok(proxy.requests.length >= 1 && proxy.requests.every((r) => r.method === 'CONNECT'));
      const ranged = ctx.server.requests.filter((r) => r.path === '/drop-tls.bin' && r.headers.range !== undefined);
      assert.equal(ranged.length, 1);
      assert.equal(ranged[0].status, 206);
    });
  });
});
