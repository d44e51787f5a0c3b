import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytesSeeded, sha256, type FaultServer, type RouteOptions } from '../support/fault-server';
import { assertBuilt, killCliWhen, partFileLongerThan, runCli, waitFor } from '../support/cli';
import { eachTest, faultServer, tempDir } from '../support/each-test';

const SIZE = 4 * 1024 * 1024;
const S3_EXPIRED = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired</Message><X-Amz-Expires>1</X-Amz-Expires></Error>';

/**
 * A storage service handing out signed links: `sign()` makes a link to `file` that works for
 * `ttlMs`, then answers 403 with S3's XML body.
 */
function signer(storage: FaultServer, ttlMs: number) {
  let serial = 0;
  const issued = new Map<string, number>();
  return {
    sign(file: string): string {
      const signature = `sig${++serial}`;
      issued.set(signature, Date.now());
      return storage.url(`${file}?X-Amz-Expires=${Math.ceil(ttlMs / 1000)}&X-Amz-Signature=${signature}`);
    },
    expired(requestUrl: string): boolean {
      const signature = new URL(requestUrl, storage.origin).searchParams.get('X-Amz-Signature') ?? '';
      const at = issued.get(signature);
      return at === undefined || Date.now() - at > ttlMs;
    },
  };
}

/** Starts `get url -o target` and kills it once a quarter of the file is on disk. */
async function killMidway(url: string, target: string, extra: string[] = []): Promise<void> {
  await killCliWhen(['get', url, '-o', target, '--no-checksum-discovery', ...extra], () => partFileLongerThan(target, SIZE / 4));
}

describe('links that expire (CLI)', function () {
  this.timeout(60_000);
  const ctx = eachTest({ origin: faultServer, storage: faultServer, dir: tempDir('rt-links-') });

  before(assertBuilt);

  const refuseExpired = (links: ReturnType<typeof signer>) => (url: string) => (links.expired(url) ? { status: 403, body: S3_EXPIRED } : undefined);
  const storageRequests = (file: string) => ctx.storage.requests.filter((r) => r.path === file && r.status !== 403);

  it('a stable URL redirecting to an expiring signed URL: killed, link expired, the re-run continues with Range on a new signed URL', async () => {
    const body = randomBytesSeeded(SIZE, 101);
    const links = signer(ctx.storage, 600);
    ctx.storage.route('/f.bin', { body, etag: '"s3-etag"', rateBytesPerSec: 4 * 1024 * 1024, refuse: refuseExpired(links) });
    ctx.origin.route('/releases/f.bin', { body: Buffer.alloc(0), redirect: { location: () => links.sign('/f.bin') } });
    const target = path.join(ctx.dir, 'f.bin');
    await killMidway(ctx.origin.url('/releases/f.bin'), target, ['--header', 'X-Token: only-for-the-origin']);
    const firstLink = storageRequests('/f.bin')[0].url;
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(links.expired(firstLink), true, 'the first link has expired before the re-run');

    ctx.storage.route('/f.bin', { body, etag: '"s3-etag"', refuse: refuseExpired(links) });
    const second = await runCli(['get', ctx.origin.url('/releases/f.bin'), '-o', target, '--no-checksum-discovery', '--header', 'X-Token: only-for-the-origin']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(sha256(await readFile(target)), sha256(body));
    const served = storageRequests('/f.bin');
    const resume = served[served.length - 1];
    assert.notEqual(resume.url, firstLink, 'the re-run used a new signed link');
    assert.match(String(resume.headers.range), /^bytes=[1-9]\d*-$/, 'and continued with Range');
    assert.equal(resume.status, 206);
    assert.ok(ctx.storage.totalBodyBytesSent('/f.bin') < 1.5 * SIZE, `${ctx.storage.totalBodyBytesSent('/f.bin')} bytes moved for ${SIZE}`);
    assert.ok(ctx.storage.requests.every((r) => r.headers['x-token'] === undefined), "none of the origin's headers went to the storage origin");
    assert.ok(ctx.origin.requests.every((r) => r.headers['x-token'] === 'only-for-the-origin'));
  });

  it('a refreshed link that serves a different file is never spliced onto the old bytes', async () => {
    const old = randomBytesSeeded(SIZE, 102);
    // Same length, no validator, and the same bytes where the overlap check looks: only the
    // changed link can tell that this is another file.
    const changed = Buffer.concat([randomBytesSeeded(SIZE / 8, 103), old.subarray(SIZE / 8)]);
    const links = signer(ctx.storage, 600);
    ctx.storage.route('/v1/f.bin', { body: old, rateBytesPerSec: 4 * 1024 * 1024, refuse: refuseExpired(links) });
    ctx.storage.route('/v2/f.bin', { body: changed, refuse: refuseExpired(links) });
    let version = '/v1/f.bin';
    ctx.origin.route('/releases/f.bin', { body: Buffer.alloc(0), redirect: { location: () => links.sign(version) } });
    const target = path.join(ctx.dir, 'f.bin');
    await killMidway(ctx.origin.url('/releases/f.bin'), target);
    await new Promise((r) => setTimeout(r, 800));

    version = '/v2/f.bin';
    const second = await runCli(['get', ctx.origin.url('/releases/f.bin'), '-o', target, '--no-checksum-discovery']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(sha256(await readFile(target)), sha256(changed), 'the file is the new one, whole');
    assert.match(second.stderr, /restarting from byte 0: .*link/);
  });

  it('a signed link given directly that has expired fails with ERR_LINK_EXPIRED, not a bare 403', async () => {
    const body = randomBytesSeeded(SIZE, 104);
    // Long enough for a CLI starting on a busy machine to reach the link before it expires.
    const links = signer(ctx.storage, 2000);
    ctx.storage.route('/f.bin', { body, etag: '"e1"', rateBytesPerSec: 4 * 1024 * 1024, refuse: refuseExpired(links) });
    const url = links.sign('/f.bin');
    const target = path.join(ctx.dir, 'f.bin');
    await killMidway(url, target);
    await waitFor(() => links.expired(url));
    const second = await runCli(['get', url, '-o', target, '--no-checksum-discovery']);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /^error ERR_LINK_EXPIRED: the link has expired \(S3: Request has expired/m);
    assert.doesNotMatch(second.stderr, /sig\d/, 'the signature never appears in a message');
    assert.ok(existsSync(`${target}.part`), 'the bytes so far are kept for a fresh link');
  });
});

describe('get <new-url> -o <unfinished file> (CLI)', function () {
  this.timeout(60_000);
  const ctx = eachTest({ first: faultServer, second: faultServer, dir: tempDir('rt-adopt-') });

  before(assertBuilt);

  const rangeAnswers = (server: FaultServer) => server.requests.filter((r) => r.headers.range && r.headers.range !== 'bytes=0-0');

  it('a fresh signed link for the same file adopts the unfinished download and continues with Range', async () => {
    const body = randomBytesSeeded(SIZE, 111);
    // Long enough for a CLI starting on a busy machine to reach the link before it expires.
    const links = signer(ctx.first, 2000);
    ctx.first.route('/f.bin', { body, etag: '"s3-etag"', rateBytesPerSec: 4 * 1024 * 1024, refuse: (url) => (links.expired(url) ? { status: 403, body: S3_EXPIRED } : undefined) });
    const target = path.join(ctx.dir, 'f.bin');
    const expiring = links.sign('/f.bin');
    await killMidway(expiring, target);
    const onDisk = (await stat(`${target}.part`)).size;
    await waitFor(() => links.expired(expiring));

    ctx.first.route('/f.bin', { body, etag: '"s3-etag"', refuse: (url) => (links.expired(url) ? { status: 403, body: S3_EXPIRED } : undefined) });
    const sentBefore = ctx.first.totalBodyBytesSent('/f.bin');
    const run = await runCli(['get', links.sign('/f.bin'), '-o', target, '--no-checksum-discovery']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /adopting the unfinished download of f\.bin .*: the same file/);
    assert.equal(sha256(await readFile(target)), sha256(body));
    const resume = rangeAnswers(ctx.first).pop();
    assert.match(String(resume?.headers.range), /^bytes=[1-9]\d*-$/);
    assert.ok(Number(/\d+/.exec(String(resume?.headers.range))?.[0]) <= onDisk);
    assert.equal(resume?.status, 206);
    assert.ok(ctx.first.totalBodyBytesSent('/f.bin') < 1.5 * SIZE, `${ctx.first.totalBodyBytesSent('/f.bin')} bytes moved for ${SIZE}`);
    assert.ok(ctx.first.totalBodyBytesSent('/f.bin') - sentBefore < SIZE, 'the second run did not fetch the whole file again');
    assert.deepEqual(await readdir(ctx.dir), ['f.bin'], 'one file, no second download beside it, no record left');
  });

  it('a link on another server with nothing to compare: adopted, the bytes on disk checked before appending', async () => {
    const body = randomBytesSeeded(SIZE, 112);
    ctx.first.route('/a/f.bin', { body, rateBytesPerSec: 4 * 1024 * 1024 });
    ctx.second.route('/b/share', { body, contentDisposition: 'attachment; filename="f.bin"' });
    const target = path.join(ctx.dir, 'f.bin');
    await killMidway(ctx.first.url('/a/f.bin'), target);
    const onDisk = (await stat(`${target}.part`)).size;

    const run = await runCli(['get', ctx.second.url('/b/share'), '-o', target, '--no-checksum-discovery']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /adopting the unfinished download of f\.bin .*nothing to compare, so the bytes on disk are checked first/);
    assert.equal(sha256(await readFile(target)), sha256(body));
    const resume = rangeAnswers(ctx.second)[0];
    const start = Number(/^bytes=(\d+)-$/.exec(String(resume?.headers.range))?.[1]);
    assert.ok(start > 0 && start < onDisk, `asked from ${start}, below the ${onDisk} bytes on disk: an overlap to compare`);
    assert.equal(resume.headers['if-range'], undefined);
    assert.ok(ctx.first.totalBodyBytesSent() + ctx.second.totalBodyBytesSent() < 1.5 * SIZE);
    assert.deepEqual(await readdir(ctx.dir), ['f.bin']);
  });

  for (const [what, route, says] of [
    ['another length', { body: randomBytesSeeded(SIZE + 1, 114), etag: '"e1"' }, /different length/],
    ['another strong ETag', { body: randomBytesSeeded(SIZE, 115), etag: '"e2"' }, /different validator \(ETag or Last-Modified\)/],
  ] as Array<[string, RouteOptions, RegExp]>) {
    it(`a link to a different file (${what}) is refused with ERR_NOT_SAME_FILE; the .part stays untouched and nothing starts beside it`, async () => {
      const body = randomBytesSeeded(SIZE, 113);
      ctx.first.route('/a/f.bin', { body, etag: '"e1"', rateBytesPerSec: 4 * 1024 * 1024 });
      ctx.second.route('/b/f.bin', route);
      const target = path.join(ctx.dir, 'f.bin');
      await killMidway(ctx.first.url('/a/f.bin'), target);
      const part = await readFile(`${target}.part`);
      // Claim files come and go with each run (a killed run's stale one is taken over and released).
      const files = (await readdir(ctx.dir)).filter((f) => !f.includes('.claim.'));

      const run = await runCli(['get', ctx.second.url('/b/f.bin'), '-o', target, '--no-checksum-discovery']);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /^error ERR_NOT_SAME_FILE: .*f\.bin is an unfinished download of another file/m);
      assert.match(run.stderr, says);
      assert.deepEqual(await readFile(`${target}.part`), part, 'the .part is untouched');
      assert.deepEqual((await readdir(ctx.dir)).filter((f) => !f.includes('.claim.')), files, 'no second download beside it');
      assert.ok(rangeAnswers(ctx.second).length === 0 && ctx.second.requests.every((r) => r.headers.range === 'bytes=0-0'), 'only the one-byte probe went to the new link');

      // The old link still finishes the download it started.
      ctx.first.route('/a/f.bin', { body, etag: '"e1"' });
      const again = await runCli(['get', ctx.first.url('/a/f.bin'), '-o', target, '--no-checksum-discovery']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(sha256(await readFile(target)), sha256(body));
    });
  }
});
