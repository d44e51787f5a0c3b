import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytesSeeded, sha256, startFaultServer, type FaultServer } from '../support/fault-server';
import { assertBuilt, runCli, startCli, waitFor } from '../support/cli';

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

describe('links that expire (CLI)', function () {
  this.timeout(60_000);
  let origin: FaultServer;
  let storage: FaultServer;
  let dir: string;

  before(assertBuilt);
  beforeEach(async () => {
    origin = await startFaultServer();
    storage = await startFaultServer();
    dir = await mkdtemp(path.join(os.tmpdir(), 'rt-links-'));
  });
  afterEach(async () => {
    await origin.close();
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  const refuseExpired = (links: ReturnType<typeof signer>) => (url: string) => (links.expired(url) ? { status: 403, body: S3_EXPIRED } : undefined);
  const storageRequests = (file: string) => storage.requests.filter((r) => r.path === file && r.status !== 403);

  async function killMidway(url: string, target: string, extra: string[] = []): Promise<void> {
    const first = startCli(['get', url, '-o', target, '--no-checksum-discovery', ...extra]);
    await waitFor(async () => existsSync(`${target}.part`) && (await stat(`${target}.part`)).size > SIZE / 4);
    first.child.kill('SIGKILL');
    assert.equal((await first.result).signal, 'SIGKILL');
  }

  it('a stable URL redirecting to an expiring signed URL: killed, link expired, the re-run continues with Range on a new signed URL', async () => {
    const body = randomBytesSeeded(SIZE, 101);
    const links = signer(storage, 600);
    storage.route('/f.bin', { body, etag: '"s3-etag"', rateBytesPerSec: 4 * 1024 * 1024, refuse: refuseExpired(links) });
    origin.route('/releases/f.bin', { body: Buffer.alloc(0), redirect: { location: () => links.sign('/f.bin') } });
    const target = path.join(dir, 'f.bin');
    await killMidway(origin.url('/releases/f.bin'), target, ['--header', 'X-Token: only-for-the-origin']);
    const firstLink = storageRequests('/f.bin')[0].url;
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(links.expired(firstLink), true, 'the first link has expired before the re-run');

    storage.route('/f.bin', { body, etag: '"s3-etag"', refuse: refuseExpired(links) });
    const second = await runCli(['get', origin.url('/releases/f.bin'), '-o', target, '--no-checksum-discovery', '--header', 'X-Token: only-for-the-origin']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(sha256(await readFile(target)), sha256(body));
    const served = storageRequests('/f.bin');
    const resume = served[served.length - 1];
    assert.notEqual(resume.url, firstLink, 'the re-run used a new signed link');
    assert.match(String(resume.headers.range), /^bytes=[1-9]\d*-$/, 'and continued with Range');
    assert.equal(resume.status, 206);
    assert.ok(storage.totalBodyBytesSent('/f.bin') < 1.5 * SIZE, `${storage.totalBodyBytesSent('/f.bin')} bytes moved for ${SIZE}`);
    assert.ok(storage.requests.every((r) => r.headers['x-token'] === undefined), "none of the origin's headers went to the storage origin");
    assert.ok(origin.requests.every((r) => r.headers['x-token'] === 'only-for-the-origin'));
  });

  it('a refreshed link that serves a different file is never spliced onto the old bytes', async () => {
    const old = randomBytesSeeded(SIZE, 102);
    // Same length, no validator, and the same bytes where the overlap check looks: only the
    // changed link can tell that this is another file.
    const changed = Buffer.concat([randomBytesSeeded(SIZE / 8, 103), old.subarray(SIZE / 8)]);
    const links = signer(storage, 600);
    storage.route('/v1/f.bin', { body: old, rateBytesPerSec: 4 * 1024 * 1024, refuse: refuseExpired(links) });
    storage.route('/v2/f.bin', { body: changed, refuse: refuseExpired(links) });
    let version = '/v1/f.bin';
    origin.route('/releases/f.bin', { body: Buffer.alloc(0), redirect: { location: () => links.sign(version) } });
    const target = path.join(dir, 'f.bin');
    await killMidway(origin.url('/releases/f.bin'), target);
    await new Promise((r) => setTimeout(r, 800));

    version = '/v2/f.bin';
    const second = await runCli(['get', origin.url('/releases/f.bin'), '-o', target, '--no-checksum-discovery']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(sha256(await readFile(target)), sha256(changed), 'the file is the new one, whole');
    assert.match(second.stderr, /restarting from byte 0: .*link/);
  });

  it('a signed link given directly that has expired fails with ERR_LINK_EXPIRED, not a bare 403', async () => {
    const body = randomBytesSeeded(SIZE, 104);
    const links = signer(storage, 600);
    storage.route('/f.bin', { body, etag: '"e1"', rateBytesPerSec: 4 * 1024 * 1024, refuse: refuseExpired(links) });
    const url = links.sign('/f.bin');
    const target = path.join(dir, 'f.bin');
    await killMidway(url, target);
    await new Promise((r) => setTimeout(r, 800));
    const second = await runCli(['get', url, '-o', target, '--no-checksum-discovery']);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /^error ERR_LINK_EXPIRED: the link has expired \(S3: Request has expired/m);
    assert.doesNotMatch(second.stderr, /sig\d/, 'the signature never appears in a message');
    assert.ok(existsSync(`${target}.part`), 'the bytes so far are kept for a fresh link');
  });
});
