import assert from 'node:assert/strict';
import { createHttpStack, type HttpStack } from '../../src/core';
import { startIetfServer, startPlainPutServer } from '../support/ietf-server';
import { startRecordingProxy, type RecordingProxy } from '../support/proxy-server';
import { run, sha256 as sha256Of } from '../support/upload-harness';
import { eachTest, uploadHarness, closeAfterTest } from '../support/each-test';

const MiB = 1024 * 1024;
const USER_AGENT = 'resumable-transfers-test/1';

/**
 * One HTTP stack for every request: the IETF creation POST and the plain PUT (sent through node:http
 * for their 1xx responses) used to bypass http.proxy. Every request, whatever its path through the
 * client, goes through the proxy with the same user agent.
 */
describe('uploads through the proxy (one HTTP stack)', () => {
  const ctx = eachTest({ h: uploadHarness, closeAfter: closeAfterTest });
  let proxy: RecordingProxy;
  let stack: HttpStack;

  beforeEach(async () => {
    proxy = await startRecordingProxy();
    stack = createHttpStack({
      proxy: { proxyUrl: proxy.origin, strictSSL: true, noProxy: [] },
      userAgent: USER_AGENT,
      connectTimeoutMs: 5_000,
      responseTimeoutMs: 20_000,
    });
  });

  afterEach(async () => {
    stack.dispose();
    await proxy.close();
  });

  it('IETF draft: OPTIONS, the creation POST (with its 104) and the resumed PATCH all pass the proxy', async () => {
    const ietf = ctx.closeAfter(await startIetfServer({ dropAfterBytes: MiB + 3 }));
    const { file, sha256 } = await ctx.h.file('doc.bin', 3 * MiB);
    const done = await run(await ctx.h.task(file, ietf.endpoint, { http: stack.http }));
    assert.equal(done.state, 'completed');
    assert.equal(done.protocol, 'ietf');
    assert.equal(ietf.sha256([...ietf.uploads.keys()][0]), sha256);
    const seen = proxy.requests.map((r) => r.method);
    assert.deepEqual(seen, ietf.log.map((e) => e.method), 'every request the server saw came through the proxy');
    assert.deepEqual(seen, ['OPTIONS', 'POST', 'HEAD', 'PATCH']);
    assert.ok(ietf.log.find((e) => e.method === 'POST')?.sent104);
    for (const request of proxy.requests) assert.equal(request.headers['user-agent'], USER_AGENT);
  });

  it('plain PUT: the whole file through the proxy', async () => {
    const plain = ctx.closeAfter(await startPlainPutServer());
    const { file, sha256 } = await ctx.h.file('whole.bin', MiB + 17);
    const done = await run(await ctx.h.task(file, plain.url('whole.bin'), { http: stack.http, protocol: 'put' }));
    assert.equal(done.state, 'completed');
    const stored = plain.files.get('/whole.bin');
    assert.ok(stored);
    assert.equal(sha256Of(stored), sha256);
    const put = proxy.requests.find((r) => r.method === 'PUT');
    assert.equal(put?.target, plain.url('whole.bin'));
    assert.equal(put.headers['user-agent'], USER_AGENT);
  });
});
