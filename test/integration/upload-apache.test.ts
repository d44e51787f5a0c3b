import assert from 'node:assert/strict';
import * as path from 'node:path';
import { assertBuilt, killCliWhen, runCli } from '../support/cli';
import { apacheAvailable, startApache, type ApacheServer } from '../support/apache';
import { generateFile } from '../support/nginx';
import { startThrottleProxy } from '../support/throttle-proxy';
import { run } from '../support/upload-harness';
import { eachTest, uploadHarness, closeAfterTest } from '../support/each-test';

const MiB = 1024 * 1024;

describe('upload: PUT with Content-Range against Apache httpd mod_dav', function () {
  let apache: ApacheServer;
  const ctx = eachTest({ h: uploadHarness, closeAfter: closeAfterTest });

  before(async function () {
    if (!apacheAvailable()) this.skip();
    apache = await startApache();
  });
  after(async () => {
    await apache?.stop();
  });
  it('detects WebDAV, sends a plain PUT then Content-Range pieces, and verifies the length', async () => {
    const { file, sha256 } = await ctx.h.file('pieces.bin', 5 * MiB + 3);
    const done = await run(await ctx.h.task(file, apache.url('pieces.bin'), { chunkSize: 2 * MiB }));
    assert.equal(done.state, 'completed');
    assert.equal(done.protocol, 'put-range');
    assert.equal(done.resumable, true);
    assert.equal(await apache.sha256Of('pieces.bin'), sha256);
    const puts = (await apache.accessLog()).filter((e) => e.path === '/pieces.bin' && e.method === 'PUT');
    assert.deepEqual(
      puts.map((e) => [e.status, e.contentRange]),
      [
        [201, ''],
        [204, `bytes ${2 * MiB}-${4 * MiB - 1}/*`],
        [204, `bytes ${4 * MiB}-${5 * MiB + 2}/*`],
      ],
    );
  });

  it('an endpoint that is a WebDAV folder (trailing slash) gets the file inside it, under its percent-encoded name (a # in it is not a fragment)', async () => {
    const { file, sha256 } = await ctx.h.file('report #1 (final).bin', 3 * MiB + 5);
    const done = await run(await ctx.h.task(file, `${apache.origin}/`, { chunkSize: 2 * MiB }));
    assert.equal(done.state, 'completed');
    assert.equal(done.protocol, 'put-range');
    assert.equal(await apache.sha256Of('report #1 (final).bin'), sha256);
    const puts = (await apache.accessLog()).filter((e) => e.method === 'PUT');
    assert.equal(puts.filter((e) => e.path === '/report #1 (final).bin').length, 2);
    assert.equal(puts.filter((e) => e.path === '/').length, 0, 'a PUT went to the folder itself');
  });

  it('an endpoint that is a WebDAV folder without a trailing slash is recognised (PROPFIND) and gets the file inside it', async () => {
    const made = await fetch(`${apache.origin}/inbox`, { method: 'MKCOL' });
    assert.equal(made.status, 201);
    const { file, sha256 } = await ctx.h.file('report.bin', MiB + 1);
    const done = await run(await ctx.h.task(file, `${apache.origin}/inbox`, { chunkSize: 2 * MiB }));
    assert.equal(done.state, 'completed');
    assert.equal(done.uploadUrl, `${apache.origin}/inbox/report.bin`);
    assert.equal(await apache.sha256Of('inbox/report.bin'), sha256);
  });

  it('replaces an older, longer file at the target instead of splicing into it', async () => {
    const old = await ctx.h.file('old.bin', 6 * MiB);
    await run(await ctx.h.task(old.file, apache.url('replace.bin'), { chunkSize: 4 * MiB }));
    const fresh = await ctx.h.file('new.bin', 3 * MiB);
    const done = await run(await ctx.h.task(fresh.file, apache.url('replace.bin'), { chunkSize: 2 * MiB }));
    assert.equal(done.state, 'completed');
    assert.equal(await apache.sizeOf('replace.bin'), 3 * MiB);
    assert.equal(await apache.sha256Of('replace.bin'), fresh.sha256);
  });

  it('CLI: killed (SIGKILL) mid-way through 64 MiB, the same command resumes: HEAD, then PUT with Content-Range from the server length', async function () {
    assertBuilt();
    const size = 64 * MiB;
    const file = path.join(ctx.h.dir, 'dav-big.bin');
    const expected = await generateFile(file, size, 11);
    const proxy = ctx.closeAfter(await startThrottleProxy(Number(new URL(apache.origin).port), 16 * MiB));
    const url = `${proxy.origin}/dav-big.bin`;

    await killCliWhen(['put', file, url], async () => ((await apache.sizeOf('dav-big.bin')) ?? 0) >= 20 * MiB, 30_000);
    const logBefore = (await apache.accessLog()).length;

    proxy.setRate(Number.POSITIVE_INFINITY);
    const second = await runCli(['put', file, url]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.trim(), url);
    assert.equal(await apache.sha256Of('dav-big.bin'), expected);

    // Apache logs the killed PUT when it notices; look at what the second run sent.
    const entries = (await apache.accessLog()).slice(logBefore).filter((e) => e.path === '/dav-big.bin' && e.method !== 'OPTIONS');
    const head = entries.findIndex((e) => e.method === 'HEAD');
    assert.ok(head >= 0, 'asked for the length');
    const resumedPut = entries.slice(head + 1).find((e) => e.method === 'PUT');
    assert.ok(resumedPut, 'PUT after HEAD');
    const start = Number(/^bytes (\d+)-/.exec(resumedPut.contentRange)?.[1]);
    assert.ok(start >= 16 * MiB, `resumed at ${resumedPut.contentRange}`);
    assert.ok(proxy.uploadedBytes() < 1.5 * size, `sent ${proxy.uploadedBytes()} bytes for ${size}`);
  });
});
