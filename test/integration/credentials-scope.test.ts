import assert from 'node:assert/strict';
import { NodeFetchHttpClient, headersForOrigin, type OriginHeaders } from '../../src/core';
import { assertBuilt, runCli } from '../support/cli';
import { createHarness, readFile, runToEnd, type Harness } from '../support/engine';
import { randomBytesSeeded, sha256, startFaultServer, type FaultServer } from '../support/fault-server';
import { startIetfServer } from '../support/ietf-server';
import { TEST_TLS_CERT, startMixedFront, startTlsFront, type MixedFront, type TlsFront } from '../support/proxy-server';
import { createTestCa, type TestCa } from '../support/test-ca';
import { SavedHeaders } from '../../src/vscode/savedHeaders';
import { originOf, parseCurlCommand } from '../../src/core';
import type * as vscode from 'vscode';
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

  it('the new origin gets its own headers (headers saved per origin in the keychain)', async () => {
    const perOrigin: Record<string, Record<string, string>> = {
      [a.origin]: { 'X-Api-Key': 'key-for-a' },
      [b.origin]: { 'X-Api-Key': 'key-for-b' },
    };
    const lookUp: OriginHeaders = (url) => perOrigin[originOf(url) ?? ''] ?? {};
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

  /**
   * https://127.0.0.1:P and http://127.0.0.1:P: one host and port, two origins. The headers come
   * from the editor's keychain store (SavedHeaders over an in-memory SecretStorage), as they do in
   * the editor; the https side has a certificate from a CA made for the test.
   */
  describe('https and http of one host and port are two origins', () => {
    let ca: TestCa;
    let front: MixedFront;
    let secrets: Map<string, string>;
    let saved: SavedHeaders;
    let http: NodeFetchHttpClient;

    before(() => {
      ca = createTestCa();
    });
    after(() => ca.dispose());

    beforeEach(async () => {
      front = await startMixedFront(a.origin, ca.server);
      http = new NodeFetchHttpClient({ ca: [ca.caPem], connectTimeoutMs: 5_000, responseTimeoutMs: 10_000 });
      secrets = new Map();
      const storage = {
        get: (key: string) => Promise.resolve(secrets.get(key)),
        store: (key: string, value: string) => Promise.resolve(void secrets.set(key, value)),
        delete: (key: string) => Promise.resolve(void secrets.delete(key)),
      };
      saved = new SavedHeaders(storage as unknown as vscode.SecretStorage, { info: () => undefined, warn: () => undefined });
      a.route('/file.bin', { body, etag: '"a1"' });
      a.route('/plain/plain.bin', { body, etag: '"a2"' });
      a.route('/hop-to-secure', { body: Buffer.alloc(0), redirect: { location: `${front.https}/file.bin`, status: 302 } });
      a.route('/hop-to-plain', { body: Buffer.alloc(0), redirect: { location: `${front.http}/plain/plain.bin`, status: 302 } });
    });
    afterEach(async () => {
      http.dispose();
      await front.close();
    });

    const download = (url: string) => runToEnd(harness.task(url, { http, headers: (u) => saved.forUrl(u), checksumDiscovery: true }));
    // Only http URLs lead into /plain/ (checksum files are looked for beside the URL the user gave).
    const overHttp = () => a.requests.filter((r) => r.path.startsWith('/plain/'));
    const secretNames = (headers: Record<string, unknown>) =>
      Object.keys(headers).filter((name) => ['x-api-key', 'x-token', 'cookie', 'authorization'].includes(name.toLowerCase()));

    it('a header saved for the https origin goes along a redirect within it', async () => {
      await saved.set(front.https, 'X-Api-Key', 'for-https');
      const done = await download(`${front.https}/hop-to-secure`);
      assert.equal(sha256(await readFile(done.target!)), sha256(body));
      const hop = a.requests.find((r) => r.path === '/hop-to-secure');
      const file = a.requests.find((r) => r.path === '/file.bin');
      assert.equal(hop?.headers['x-api-key'], 'for-https');
      assert.equal(file?.headers['x-api-key'], 'for-https');
    });

    it('is not sent to http of the same host and port after a redirect there', async () => {
      await saved.set(front.https, 'X-Api-Key', 'for-https');
      const done = await download(`${front.https}/hop-to-plain`);
      assert.equal(sha256(await readFile(done.target!)), sha256(body));
      assert.equal(a.requests.find((r) => r.path === '/hop-to-plain')?.headers['x-api-key'], 'for-https');
      const plain = overHttp();
      assert.ok(plain.some((r) => r.path === '/plain/plain.bin'), 'the file came over http');
      for (const request of plain) assert.deepEqual(secretNames(request.headers), [], `${request.path} got none of the https origin's headers`);
    });

    it('is sent neither to the http URL of the same host and port typed by the user, nor to checksum files beside it', async () => {
      await saved.set(front.https, 'X-Api-Key', 'for-https');
      const done = await download(`${front.http}/plain/plain.bin`);
      assert.equal(sha256(await readFile(done.target!)), sha256(body));
      assert.ok(overHttp().some((r) => r.path !== '/plain/plain.bin'), `checksum files were looked for (${overHttp().map((r) => r.path).join(', ')})`);
      for (const request of overHttp()) assert.deepEqual(secretNames(request.headers), [], request.path);
    });

    it('the http origin gets what was saved for it, and only that', async () => {
      await saved.set(front.https, 'X-Api-Key', 'for-https');
      await saved.set(front.http, 'X-Api-Key', 'for-http');
      await download(`${front.http}/plain/plain.bin`);
      for (const request of overHttp()) assert.equal(request.headers['x-api-key'], 'for-http', request.path);
    });

    it('headers of a pasted cURL command: sent within their https origin, never to its http side', async () => {
      const curl = parseCurlCommand(`curl '${front.https}/hop-to-secure' -H 'X-Token: t0k' -b 'session=s3cr3t'`);
      await saved.setAll(curl.url, curl.headers);
      await download(curl.url);
      const file = a.requests.find((r) => r.path === '/file.bin');
      assert.equal(file?.headers['x-token'], 't0k');
      assert.equal(file?.headers.cookie, 'session=s3cr3t');
      await download(`${front.https}/hop-to-plain`);
      await download(`${front.http}/plain/plain.bin`);
      assert.ok(overHttp().length > 1);
      for (const request of overHttp()) assert.deepEqual(secretNames(request.headers), [], request.path);
    });

    it('an upload endpoint\'s header is not sent to an upload URL the server hands out on its http side', async () => {
      // A server behind a TLS-terminating proxy often names its upload URLs http://: same host and port.
      let plainSide = '';
      // Appends of at most 1 MiB: the rest of the file goes to the upload URL, with no dropped connection to race.
      const ietf = await startIetfServer({ limits: { maxAppendSize: 1024 * 1024 }, uploadOrigin: () => plainSide });
      const mixed = await startMixedFront(ietf.origin, ca.server);
      plainSide = mixed.http;
      const up = await createUploadHarness();
      try {
        await saved.set(mixed.https, 'Authorization', 'Bearer for-https');
        const endpoint = ietf.endpoint.replace(ietf.origin, mixed.https);
        const { file, sha256: expected } = await up.file('u.bin', 3 * 1024 * 1024 + 3);
        const done = await run(await up.task(file, endpoint, { http, headers: (u) => saved.forUrl(u) }));
        assert.equal(done.state, 'completed');
        assert.ok(done.uploadUrl?.startsWith(`${mixed.http}/`), `the upload URL is on the http side (${done.uploadUrl})`);
        assert.equal(ietf.sha256((done.uploadUrl ?? '').split('/').pop() ?? ''), expected);
        const viaEndpoint = ietf.log.filter((e) => e.method === 'OPTIONS' || e.method === 'POST');
        const viaUploadUrl = ietf.log.filter((e) => e.method === 'HEAD' || e.method === 'PATCH');
        assert.ok(viaEndpoint.length >= 2 && viaUploadUrl.length >= 2, ietf.log.map((e) => e.method).join(', '));
        for (const entry of viaEndpoint) assert.equal(entry.headers?.authorization, 'Bearer for-https', entry.method);
        for (const entry of viaUploadUrl) assert.equal(entry.headers?.authorization, undefined, `${entry.method} over http`);
      } finally {
        await up.cleanup();
        await mixed.close();
        await ietf.close();
      }
    });

    it('CLI: a --header given for an https URL never reaches the http side of the same host and port', async function () {
      this.timeout(30_000);
      assertBuilt();
      const dir = await mkdtemp(path.join(os.tmpdir(), 'rt-cred-'));
      try {
        const out = path.join(dir, 'plain.bin');
        const result = await runCli(['get', `${front.https}/hop-to-plain`, '-o', out, '--header', 'X-Api-Key: for-https'], { env: { NODE_EXTRA_CA_CERTS: ca.caFile } });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(sha256(await readFile(out)), sha256(body));
        assert.equal(a.requests.find((r) => r.path === '/hop-to-plain')?.headers['x-api-key'], 'for-https');
        assert.ok(overHttp().length > 0);
        for (const request of overHttp()) assert.deepEqual(secretNames(request.headers), [], request.path);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
