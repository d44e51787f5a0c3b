import assert from 'node:assert/strict';
import { NodeFetchHttpClient, headersForOrigin, type OriginHeaders } from '../../src/core';
import { assertBuilt, runCli } from '../support/cli';
import { createHarness, readFile, runToEnd, type Harness } from '../support/engine';
import { randomBytesSeeded, sha256, startFaultServer, type FaultServer } from '../support/fault-server';
import { startIetfServer } from '../support/ietf-server';
import { TEST_TLS_CERT, startTlsFront, type TlsFront } from '../support/proxy-server';
import { startThrottleProxy } from '../support/throttle-proxy';
import { createUploadHarness, run } from '../support/upload-harness';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Every header the user gave belongs to the origin it was given for: a redirect to another
 * origin (another port is another origin) drops them all and asks for the new origin's own.
 */
describe('credentials belong to their origin (integration)', () => {
  const body = randomBytesSeeded(64 * 1024 + 5, 909);
  let a: FaultServer;
  let b: FaultServer;
  let harness: Harness;

  const USER = { 'X-Api-Key': 'key-for-a', 'Private-Token': 'token-for-a', Authorization: 'Bearer for-a' };

  beforeEach(async () => {
    a = await startFaultServer();
    b = await startFaultServer();
    harness = await createHarness();
    b.route('/file.bin', { body, etag: '"b1"' });
    a.route('/file.bin', { body: Buffer.alloc(0), redirect: { location: b.url('/file.bin'), status: 302 } });
  });

  afterEach(async () => {
    await harness.cleanup();
    await a.close();
    await b.close();
  });

  const secretsIn = (headers: Record<string, unknown>) =>
    Object.keys(headers).filter((name) => ['x-api-key', 'private-token', 'authorization'].includes(name.toLowerCase()));

  it('a 302 from 127.0.0.1:A to 127.0.0.1:B delivers X-Api-Key and Private-Token to A only', async () => {
    const done = await runToEnd(harness.task(a.url('/file.bin'), { headers: headersForOrigin(a.origin, USER) }));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.equal(a.requests[0].headers['x-api-key'], 'key-for-a');
    assert.equal(a.requests[0].headers['private-token'], 'token-for-a');
    assert.ok(b.requests.length > 0);
    for (const request of b.requests) assert.deepEqual(secretsIn(request.headers), [], 'B received none of A\'s headers');
  });

  it('the new origin gets its own headers (per-host headers from the keychain)', async () => {
    const perHost: Record<string, Record<string, string>> = {
      [new URL(a.origin).host]: { 'X-Api-Key': 'key-for-a' },
      [new URL(b.origin).host]: { 'X-Api-Key': 'key-for-b' },
    };
    const lookUp: OriginHeaders = (url) => perHost[new URL(url).host] ?? {};
    await runToEnd(harness.task(a.url('/file.bin'), { headers: lookUp }));
    assert.equal(a.requests[0].headers['x-api-key'], 'key-for-a');
    assert.ok(b.requests.every((r) => r.headers['x-api-key'] === 'key-for-b'));
  });

  it('a redirect back to the first origin gets its headers again, and only there', async () => {
    a.route('/back.bin', { body, etag: '"a1"' });
    b.route('/hop', { body: Buffer.alloc(0), redirect: { location: a.url('/back.bin'), status: 302 } });
    a.route('/file.bin', { body: Buffer.alloc(0), redirect: { location: b.url('/hop'), status: 302 } });
    await runToEnd(harness.task(a.url('/file.bin'), { headers: headersForOrigin(a.origin, USER) }));
    assert.deepEqual(secretsIn(b.requests[0].headers), []);
    const back = a.requests.find((r) => r.path === '/back.bin');
    assert.equal(back?.headers['x-api-key'], 'key-for-a');
  });

  describe('from https to http', () => {
    let front: TlsFront;
    beforeEach(async () => {
      front = await startTlsFront(a.origin);
    });
    afterEach(async () => front.close());

    it('sends none of the user\'s headers after the downgrade, not even the new origin\'s own', async () => {
      // The test front's certificate is self-signed: trust it for this client only.
      const http = new NodeFetchHttpClient({ ca: [TEST_TLS_CERT], connectTimeoutMs: 5_000, responseTimeoutMs: 10_000 });
      try {
        const lookUp: OriginHeaders = () => ({ 'X-Api-Key': 'anyone' });
        const response = await http.request(front.url('/file.bin'), { originHeaders: lookUp });
        response.discard();
        assert.equal(response.url, b.url('/file.bin'));
        assert.equal(a.requests[0].headers['x-api-key'], 'anyone', 'the https origin got its header');
        assert.deepEqual(secretsIn(b.requests[0].headers), []);
      } finally {
        http.dispose();
      }
    });
  });

  it('upload endpoint headers stay with the endpoint: the upload URL the server hands out on another origin gets none', async () => {
    let own = '';
    const ietf = await startIetfServer({ dropAfterBytes: 1024 * 1024, uploadOrigin: () => own });
    own = ietf.origin;
    // The endpoint is reached on another port (origin A); the server's upload URLs name its own (B).
    const front = await startThrottleProxy(Number(new URL(ietf.origin).port), Infinity);
    const up = await createUploadHarness();
    try {
      const endpoint = ietf.endpoint.replace(ietf.origin, front.origin);
      const { file, sha256: expected } = await up.file('e.bin', 3 * 1024 * 1024);
      const done = await run(await up.task(file, endpoint, { headers: headersForOrigin(front.origin, { 'X-Api-Key': 'for-the-endpoint' }) }));
      assert.equal(done.state, 'completed');
      assert.equal(ietf.sha256([...ietf.uploads.keys()][0]), expected);
      const viaEndpoint = ietf.log.filter((e) => e.method === 'OPTIONS' || e.method === 'POST');
      const viaUploadUrl = ietf.log.filter((e) => e.method === 'HEAD' || e.method === 'PATCH');
      assert.ok(viaEndpoint.length >= 2 && viaUploadUrl.length >= 2, ietf.log.map((e) => e.method).join(', '));
      for (const entry of viaEndpoint) assert.equal(entry.headers?.['x-api-key'], 'for-the-endpoint', entry.method);
      for (const entry of viaUploadUrl) assert.equal(entry.headers?.['x-api-key'], undefined, entry.method);
    } finally {
      await up.cleanup();
      await front.close();
      await ietf.close();
    }
  });

  it('CLI: --header values never reach the origin a redirect leads to', async function () {
    this.timeout(30_000);
    assertBuilt();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rt-cred-'));
    try {
      const out = path.join(dir, 'file.bin');
      const result = await runCli(['get', a.url('/file.bin'), '-o', out, '--header', 'X-Api-Key: key-for-a', '--header', 'Private-Token: token-for-a']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(sha256(await readFile(out)), sha256(body));
      assert.equal(a.requests[0].headers['x-api-key'], 'key-for-a');
      for (const request of b.requests) assert.deepEqual(secretsIn(request.headers), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
