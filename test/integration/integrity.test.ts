import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { crc32c, type DownloadRecord } from '../../src/core';
import { randomBytesSeeded, sha256 } from '../support/fault-server';
import { generateFile, nginxAvailable, startNginx, type NginxServer } from '../support/nginx';
import { assertBuilt, runCli } from '../support/cli';
import { filesIn, pauseWhen, runToEnd } from '../support/engine';
import { eachTest, faultServer, harness } from '../support/each-test';
import { rejectsWithCode } from '../support/transfer-errors';

const SIZE = 1024 * 1024;
const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
const sha512 = (data: Buffer) => createHash('sha512').update(data).digest('hex');
const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');
const WRONG = sha256(Buffer.from('not the file'));

describe('files that verify themselves: digest headers (fault server)', function () {
  const ctx = eachTest({ server: faultServer, h: harness });
  const body = randomBytesSeeded(SIZE, 21);

  it('a good Repr-Digest (sha-256 and sha-512) verifies the file', async () => {
    ctx.server.route('/f.bin', { body, headers: { 'Repr-Digest': `sha-256=:${b64(sha256(body))}:, sha-512=:${b64(sha512(body))}:` } });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/f.bin')));
    assert.equal(sha256(await readFile(done.target!)), sha256(body));
    assert.deepEqual(done.verified, [
      { algorithm: 'sha256', source: 'Repr-Digest' },
      { algorithm: 'sha512', source: 'Repr-Digest' },
    ]);
  });

  it('a bad Repr-Digest fails with ERR_CHECKSUM_MISMATCH naming it, and nothing gets the final name', async () => {
    ctx.server.route('/f.bin', { body, headers: { 'Repr-Digest': `sha-256=:${b64(WRONG)}:` } });
    const task = ctx.h.task(ctx.server.url('/f.bin'));
    await rejectsWithCode(runToEnd(task), 'ERR_CHECKSUM_MISMATCH', /sha256 from Repr-Digest/);
    assert.deepEqual(await filesIn(ctx.h.dir), [], 'neither the final name nor the part file remains');
    assert.equal(task.record.state, 'failed');
  });

  it('a good legacy Digest verifies; a bad one fails naming Digest', async () => {
    ctx.server.route('/good.bin', { body, headers: { Digest: `SHA-256=${b64(sha256(body))}` } });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/good.bin')));
    assert.deepEqual(done.verified, [{ algorithm: 'sha256', source: 'Digest' }]);

    ctx.server.route('/bad.bin', { body, headers: { Digest: `SHA-256=${b64(WRONG)}` } });
    await rejectsWithCode(runToEnd(ctx.h.task(ctx.server.url('/bad.bin'))), 'ERR_CHECKSUM_MISMATCH', /sha256 from Digest/);
    assert.ok(!existsSync(path.join(ctx.h.dir, 'bad.bin')));
  });

  it('Content-Digest of a full 200 verifies; a wrong one fails', async () => {
    ctx.server.route('/good.bin', { body, fullHeaders: { 'Content-Digest': `sha-256=:${b64(sha256(body))}:` } });
    assert.deepEqual((await runToEnd(ctx.h.task(ctx.server.url('/good.bin')))).verified, [{ algorithm: 'sha256', source: 'Content-Digest' }]);
    ctx.server.route('/bad.bin', { body, fullHeaders: { 'Content-Digest': `sha-256=:${b64(WRONG)}:` } });
    await rejectsWithCode(runToEnd(ctx.h.task(ctx.server.url('/bad.bin'))), 'ERR_CHECKSUM_MISMATCH', /Content-Digest/);
  });

  it('X-Goog-Hash crc32c and md5 verify; a wrong crc32c fails', async () => {
    const crc = crc32c(body).toString(16).padStart(8, '0');
    ctx.server.route('/good.bin', { body, headers: { 'X-Goog-Hash': `crc32c=${b64(crc)}, md5=${b64(md5(body))}` } });
    assert.deepEqual((await runToEnd(ctx.h.task(ctx.server.url('/good.bin')))).verified, [
      { algorithm: 'crc32c', source: 'X-Goog-Hash' },
      { algorithm: 'md5', source: 'X-Goog-Hash' },
    ]);
    ctx.server.route('/bad.bin', { body, headers: { 'X-Goog-Hash': `crc32c=${b64('01020304')}` } });
    await rejectsWithCode(runToEnd(ctx.h.task(ctx.server.url('/bad.bin'))), 'ERR_CHECKSUM_MISMATCH', /crc32c from X-Goog-Hash/);
  });

  for (const [what, hex, verifies] of [
    ['a good', sha256(body), true],
    ['a bad', WRONG, false],
  ] as const) {
    it(`${what} Repr-Digest sent only with the first 200 still decides after a pause and a resume from the middle`, async () => {
      ctx.server.route('/r.bin', { body, etag: '"r1"', rateBytesPerSec: 2 * SIZE, fullHeaders: { 'Repr-Digest': `sha-256=:${b64(hex)}:` } });
      const first = ctx.h.task(ctx.server.url('/r.bin'));
      await pauseWhen(first, () => first.record.segments[0].done > SIZE / 4);
      const paused = structuredClone(first.record) as DownloadRecord;
      assert.equal(paused.digests?.length, 1, 'the digest is in the saved record');

      ctx.server.route('/r.bin', { body, etag: '"r1"', fullHeaders: { 'Repr-Digest': `sha-256=:${b64(hex)}:` } });
      const resumed = ctx.h.task(ctx.server.url('/r.bin'), { record: paused });
      if (verifies) {
        const done = await runToEnd(resumed);
        assert.equal(sha256(await readFile(done.target!)), sha256(body));
        assert.deepEqual(done.verified, [{ algorithm: 'sha256', source: 'Repr-Digest' }]);
      } else {
        await rejectsWithCode(runToEnd(resumed), 'ERR_CHECKSUM_MISMATCH', /Repr-Digest/);
        assert.deepEqual(await filesIn(ctx.h.dir), []);
      }
      const last = ctx.server.requests[ctx.server.requests.length - 1];
      assert.match(String(last.headers.range), /^bytes=[1-9]\d*-$/, 'the resume asked for the rest only');
      assert.ok(ctx.h.logs.some((line) => /re-hashing the \d+ bytes already on disk/.test(line)), 'the part on disk was hashed again, not trusted');
      if (verifies) assert.ok(ctx.h.logs.some((line) => /verified .*\(hashed while writing\)/.test(line)), ctx.h.logs.join('\n'));
    });
  }

  it('a Repr-Digest that changes between requests means the file changed: it starts over, never splices', async () => {
    const next = randomBytesSeeded(SIZE, 22);
    ctx.server.route('/c.bin', { body, rateBytesPerSec: 2 * SIZE, headers: { 'Repr-Digest': `sha-256=:${b64(sha256(body))}:` } });
    const first = ctx.h.task(ctx.server.url('/c.bin'));
    await pauseWhen(first, () => first.record.segments[0].done > SIZE / 4);
    // Same length, no validator, the tail of the old bytes even matches: only the digest tells.
    const changed = Buffer.concat([next.subarray(0, SIZE / 2), body.subarray(SIZE / 2)]);
    ctx.server.route('/c.bin', { body: changed, headers: { 'Repr-Digest': `sha-256=:${b64(sha256(changed))}:` } });
    const done = await runToEnd(ctx.h.task(ctx.server.url('/c.bin'), { record: structuredClone(first.record) as DownloadRecord }));
    assert.equal(sha256(await readFile(done.target!)), sha256(changed));
    assert.equal(done.restartCode, 'ERR_CONTENT_CHANGED');
  });

  const small = randomBytesSeeded(64 * 1024, 5);

  it('a sums file that trickles in is given up after the time-box; failures are ignored', async () => {
    ctx.server.route('/d/x.bin', { body: small });
    ctx.server.route('/d/SHA256SUMS', { body: Buffer.from(`${sha256(small)}  x.bin\n`), stallAfter: { bytes: 10, ms: 10_000, times: 100 } });
    ctx.server.route('/d/x.bin.sha256', { body: Buffer.alloc(0), failWith: { status: 500, times: 100 } });
    const started = Date.now();
    const done = await runToEnd(ctx.h.task(ctx.server.url('/d/x.bin'), { checksumDiscovery: true, checksumDiscoveryTimeBoxMs: 500 }));
    const took = Date.now() - started;
    assert.ok(took < 2_000, `took ${took} ms`);
    assert.equal(done.verified, undefined);
    assert.ok(ctx.h.logs.some((line) => /SHA256SUMS: failed \(time-box over\)/.test(line)), ctx.h.logs.join('\n'));
    assert.equal(sha256(await readFile(done.target!)), sha256(small));
  });

  it('does not send Want-Digest or Want-Repr-Digest', async () => {
    ctx.server.route('/w.bin', { body: small });
    await runToEnd(ctx.h.task(ctx.server.url('/w.bin'), { checksumDiscovery: true }));
    for (const request of ctx.server.requests) {
      assert.equal(request.headers['want-digest'], undefined);
      assert.equal(request.headers['want-repr-digest'], undefined);
    }
  });
});

describe('files that verify themselves: checksum files (nginx)', function () {
  this.timeout(60_000);
  let nginx: NginxServer;
  const ctx = eachTest({ h: harness });
  const files: Record<string, string> = {};

  before(async function () {
    if (!nginxAvailable()) this.skip();
    assertBuilt();
    nginx = await startNginx();
    for (const dir of ['side', 'side-bad', 'gnu', 'gnu-bad', 'bsd', 'bsd-bad', 'conflict', 'none', 'off']) {
      await mkdir(path.join(nginx.root, dir), { recursive: true });
    }
    for (const [name, seed] of [['app.tar.gz', 1], ['app.zip', 2], ['notes.txt', 3]] as const) {
      files[name] = await generateFile(path.join(nginx.root, 'gnu', name), SIZE, seed);
      for (const dir of ['side', 'side-bad', 'gnu-bad', 'bsd', 'bsd-bad', 'conflict', 'none', 'off']) {
        await generateFile(path.join(nginx.root, dir, name), SIZE, seed);
      }
    }
    const root = (dir: string, name: string, text: string) => writeFile(path.join(nginx.root, dir, name), text);
    await root('side', 'app.tar.gz.sha256', `${files['app.tar.gz']}\n`);
    await root('side-bad', 'app.tar.gz.sha256', `${WRONG}  app.tar.gz\n`);
    await root('off', 'app.tar.gz.sha256', `${WRONG}  app.tar.gz\n`);
    const gnu = (sums: Record<string, string>) => `${sums['app.zip']} *dist/app.zip\n${sums['app.tar.gz']}  ./dist/app.tar.gz\n${sums['notes.txt']}  notes.txt\n`;
    const bsd = (sums: Record<string, string>) => Object.entries(sums).map(([name, hex]) => `SHA256 (${name}) = ${hex}`).join('\n') + '\n';
    await root('gnu', 'SHA256SUMS', gnu(files));
    await root('gnu-bad', 'SHA256SUMS', gnu({ ...files, 'app.tar.gz': WRONG }));
    await root('bsd', 'SHA256SUMS', bsd(files));
    await root('bsd-bad', 'SHA256SUMS', bsd({ ...files, 'app.tar.gz': WRONG }));
    await root('conflict', 'SHA256SUMS', gnu(files));
    await root('conflict', 'app.tar.gz.sha256', `${WRONG}\n`);
  });
  after(async () => {
    await nginx?.stop();
  });

  const discovering = { checksumDiscovery: true };

  it('a <name>.sha256 beside the file verifies it', async () => {
    const done = await runToEnd(ctx.h.task(nginx.url('side/app.tar.gz'), discovering));
    assert.equal(sha256(await readFile(done.target!)), files['app.tar.gz']);
    assert.deepEqual(done.verified, [{ algorithm: 'sha256', source: 'app.tar.gz.sha256' }], ctx.h.logs.join('\n'));
    const tried = (await nginx.accessLog()).map((e) => e.uri);
    for (const uri of ['/side/app.tar.gz.sha256', '/side/app.tar.gz.sha512', '/side/SHA256SUMS', '/side/checksums.txt']) assert.ok(tried.includes(uri), `${uri} was tried`);
  });

  it('a wrong <name>.sha256 fails with ERR_CHECKSUM_MISMATCH naming the file, and nothing gets the final name', async () => {
    await rejectsWithCode(runToEnd(ctx.h.task(nginx.url('side-bad/app.tar.gz'), discovering)), 'ERR_CHECKSUM_MISMATCH', /sha256 from app\.tar\.gz\.sha256/);
    assert.deepEqual(await filesIn(ctx.h.dir), []);
  });

  for (const [format, dir] of [
    ['GNU', 'gnu'],
    ['BSD', 'bsd'],
  ] as const) {
    it(`SHA256SUMS in ${format} format listing several files verifies the right entry`, async () => {
      for (const name of ['app.tar.gz', 'app.zip']) {
        const done = await runToEnd(ctx.h.task(nginx.url(`${dir}/${name}`), discovering));
        assert.equal(sha256(await readFile(done.target!)), files[name]);
        assert.deepEqual(done.verified, [{ algorithm: 'sha256', source: 'SHA256SUMS' }]);
      }
    });

    it(`SHA256SUMS in ${format} format with a wrong entry fails with ERR_CHECKSUM_MISMATCH naming SHA256SUMS`, async () => {
      await rejectsWithCode(runToEnd(ctx.h.task(nginx.url(`${dir}-bad/app.tar.gz`), discovering)), 'ERR_CHECKSUM_MISMATCH', /sha256 from SHA256SUMS/);
      assert.deepEqual(await filesIn(ctx.h.dir), []);
      // The other files of the same list are fine.
      const other = await runToEnd(ctx.h.task(nginx.url(`${dir}-bad/app.zip`), discovering));
      assert.deepEqual(other.verified, [{ algorithm: 'sha256', source: 'SHA256SUMS' }]);
    });
  }

  it('two checksum files that disagree are ERR_CHECKSUM_CONFLICT naming both; nothing gets the final name', async () => {
    await rejectsWithCode(runToEnd(ctx.h.task(nginx.url('conflict/app.tar.gz'), discovering)), 'ERR_CHECKSUM_CONFLICT', /app\.tar\.gz\.sha256.*SHA256SUMS|SHA256SUMS.*app\.tar\.gz\.sha256/);
    assert.ok(!existsSync(path.join(ctx.h.dir, 'app.tar.gz')));
  });

  it('a sha256 the user gave wins over two disagreeing checksum files', async () => {
    const done = await runToEnd(ctx.h.task(nginx.url('conflict/app.tar.gz'), { ...discovering, record: { sha256: files['app.tar.gz'] } }));
    assert.deepEqual(done.verified, [{ algorithm: 'sha256', source: 'user' }]);
    assert.ok(ctx.h.logs.some((line) => /the sha256 you gave wins/.test(line)));
  });

  it('without a checksum anywhere the file completes unverified, and the log lists what was tried', async () => {
    const done = await runToEnd(ctx.h.task(nginx.url('none/app.tar.gz'), discovering));
    assert.equal(done.verified, undefined);
    assert.ok(ctx.h.logs.some((line) => /checksum .*\/none\/SHA256SUMS: 404/.test(line)), ctx.h.logs.join('\n'));
    assert.ok(ctx.h.logs.some((line) => /no checksum offered: not verified/.test(line)));
  });

  it('with discovery off no checksum file is requested (and a wrong one is not noticed)', async () => {
    const done = await runToEnd(ctx.h.task(nginx.url('off/app.tar.gz'), { checksumDiscovery: false }));
    assert.equal(done.verified, undefined);
    const tried = (await nginx.accessLog()).map((e) => e.uri).filter((uri) => uri.startsWith('/off/'));
    assert.deepEqual(tried, ['/off/app.tar.gz']);
  });

  it('CLI: prints the source on stderr; --no-checksum-discovery turns the lookup off', async () => {
    const out = path.join(ctx.h.dir, 'cli.tar.gz');
    const result = await runCli(['get', nginx.url('gnu/app.tar.gz'), '-o', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /verified sha256 from SHA256SUMS/);
    assert.equal(result.stdout.trim(), out);

    const bad = await runCli(['get', nginx.url('gnu-bad/app.tar.gz'), '-o', path.join(ctx.h.dir, 'bad.tar.gz')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /error ERR_CHECKSUM_MISMATCH: sha256 from SHA256SUMS/);
    assert.ok(!existsSync(path.join(ctx.h.dir, 'bad.tar.gz')));

    const off = await runCli(['get', nginx.url('gnu-bad/app.tar.gz'), '-o', path.join(ctx.h.dir, 'off.tar.gz'), '--no-checksum-discovery']);
    assert.equal(off.code, 0, off.stderr);
    assert.doesNotMatch(off.stderr, /verified/);
  });
});
