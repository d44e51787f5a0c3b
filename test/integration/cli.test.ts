import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { link, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytesSeeded, sha256 } from '../support/fault-server';
import { assertBuilt, killCliWhen, partFileLongerThan, runCli, startCli, waitFor } from '../support/cli';
import { freePort } from '../support/ports';
import { eachTest, faultServer, tempDir } from '../support/each-test';
import { JsonFileTransferStore, newDownloadRecord } from '../../src/core';
import { downloadRecordId } from '../../src/cli/main';

const SIZE = 4 * 1024 * 1024;

describe('CLI get', function () {
  const ctx = eachTest({ server: faultServer, dir: tempDir('rt-cli-') });
  const body = randomBytesSeeded(SIZE, 11);

  before(assertBuilt);

  it('saves into a folder under the server-supplied name and prints the path', async () => {
    ctx.server.route('/dl', { body, etag: '"c1"', contentDisposition: `attachment; filename*=UTF-8''%E6%B5%8B%E8%AF%95%E6%96%87%E4%BB%B6.bin` });
    const result = await runCli(['get', ctx.server.url('/dl'), '-o', ctx.dir]);
    assert.equal(result.code, 0, result.stderr);
    const target = path.join(ctx.dir, '测试文件.bin');
    assert.equal(result.stdout.trim(), target);
    assert.equal(sha256(await readFile(target)), sha256(body));
    assert.deepEqual(await readdir(ctx.dir), ['测试文件.bin'], 'no part or state file left behind');
  });

  it('without -o saves into the current folder under the server\'s name, as wget and curl -OJ do', async () => {
    ctx.server.route('/dl', { body, etag: '"c2"', contentDisposition: 'attachment; filename="report.bin"' });
    const result = await runCli(['get', ctx.server.url('/dl')], { cwd: ctx.dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), path.join(ctx.dir, 'report.bin'));
    assert.equal(sha256(await readFile(path.join(ctx.dir, 'report.bin'))), sha256(body));
    assert.deepEqual(await readdir(ctx.dir), ['report.bin']);
  });

  it('retry notices name the file, not the transfer id; --quiet prints only the error line', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/nightly.tar.gz`;
    const loud = await runCli(['get', url, '--retries', '1'], { cwd: ctx.dir });
    assert.equal(loud.code, 1);
    assert.match(loud.stderr, /^warn: nightly\.tar\.gz: ERR_NETWORK: .*retry 1 in \d+ ms$/m);
    assert.doesNotMatch(loud.stderr, /\[[0-9a-f]{16}\]/, 'no transfer id');
    const quiet = await runCli(['get', url, '--retries', '1', '--quiet'], { cwd: ctx.dir });
    assert.equal(quiet.code, 1);
    assert.deepEqual(quiet.stderr.trim().split('\n').length, 1, quiet.stderr);
    assert.match(quiet.stderr, /^error ERR_RETRIES_EXHAUSTED: /);
  });

  it('--version prints the version of the package', async () => {
    const { version } = JSON.parse(await readFile(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    const result = await runCli(['--version']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, `resumable-transfers ${version}\n`);
  });

  it('saves to an explicit path, checks --sha256 and sends --header values', async () => {
    ctx.server.route('/f.bin', { body });
    const target = path.join(ctx.dir, 'out.bin');
    const result = await runCli(['get', ctx.server.url('/f.bin'), '-o', target, '--sha256', sha256(body), '--header', 'X-Token: abc']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(sha256(await readFile(target)), sha256(body));
    assert.equal(ctx.server.requests[0].headers['x-token'], 'abc');
  });

  it('resumes after SIGKILL when the same command runs again', async () => {
    ctx.server.route('/slow.bin', { body, etag: '"k1"', rateBytesPerSec: 2 * 1024 * 1024 });
    const target = path.join(ctx.dir, 'slow.bin');
    await killCliWhen(['get', ctx.server.url('/slow.bin'), '-o', target, '--header', 'Authorization: Bearer s3cret'], () => partFileLongerThan(target, 1024 * 1024));
    assert.ok(!existsSync(target), 'an interrupted download never has the final name');
    const state = (await readdir(ctx.dir)).find((name) => name.endsWith('.transfer.json'));
    assert.ok(state, 'a resumable record sits next to the part file');
    assert.doesNotMatch(await readFile(path.join(ctx.dir, state), 'utf8'), /s3cret/, 'headers are never saved');

    ctx.server.route('/slow.bin', { body, etag: '"k1"' });
    const second = await runCli(['get', ctx.server.url('/slow.bin'), '-o', target, '--header', 'Authorization: Bearer s3cret']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(sha256(await readFile(target)), sha256(body));
    // Checksum lookups beside the file run alongside: only the file's own requests count here.
    const fileRequests = ctx.server.requests.filter((r) => r.path === '/slow.bin');
    const resume = fileRequests[fileRequests.length - 1];
    assert.match(String(resume.headers.range), /^bytes=[1-9]\d*-$/);
    assert.equal(resume.headers['if-range'], '"k1"');
    assert.equal(resume.status, 206);
    assert.ok(ctx.server.totalBodyBytesSent() < 1.5 * SIZE);
  });

  it('sends user:password from the URL as Basic auth and never writes it to the record file', async () => {
    ctx.server.route('/private.bin', { body, etag: '"p1"', rateBytesPerSec: 2 * 1024 * 1024 });
    const target = path.join(ctx.dir, 'private.bin');
    const url = ctx.server.url('/private.bin').replace('http://', 'http://alice:s3cr%40t@');
    const run = startCli(['get', url, '-o', target]);
    await waitFor(async () => (await readdir(ctx.dir)).some((name) => name.endsWith('.transfer.json')) && existsSync(`${target}.part`));
    const state = (await readdir(ctx.dir)).find((name) => name.endsWith('.transfer.json'))!;
    const saved = await readFile(path.join(ctx.dir, state), 'utf8');
    assert.doesNotMatch(saved, /s3cr|alice/, 'no credentials in the record file');
    const result = await run.result;
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout + result.stderr, /s3cr/);
    assert.equal(ctx.server.requests[0].headers.authorization, `Basic ${Buffer.from('alice:s3cr@t').toString('base64')}`);
    assert.equal(sha256(await readFile(target)), sha256(body));
  });

  it('exits non-zero with one clear line and no final file when the server fails', async () => {
    ctx.server.route('/gone', { body, failWith: { status: 410, times: 10 } });
    const target = path.join(ctx.dir, 'gone.bin');
    const result = await runCli(['get', ctx.server.url('/gone'), '-o', target]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim().split('\n').length, 1);
    assert.match(result.stderr, /^error ERR_HTTP_STATUS: server answered 410/);
    assert.ok(!existsSync(target));
  });

  it('re-running after retries ran out resumes instead of starting over', async () => {
    ctx.server.route('/flaky.bin', { body, etag: '"f1"', dropAfter: { bytes: 1024 * 1024, times: 1 } });
    const target = path.join(ctx.dir, 'flaky.bin');
    const first = await runCli(['get', ctx.server.url('/flaky.bin'), '-o', target, '--retries', '0']);
    assert.equal(first.code, 1);
    assert.match(first.stderr, /ERR_RETRIES_EXHAUSTED/);
    assert.ok(!existsSync(target));
    const second = await runCli(['get', ctx.server.url('/flaky.bin'), '-o', target]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(sha256(await readFile(target)), sha256(body));
    // Checksum lookups beside the file run alongside: only the file's own requests count here.
    const fileRequests = ctx.server.requests.filter((r) => r.path === '/flaky.bin');
    assert.ok(fileRequests[1].headers.range, 'second run sent Range');
  });

  /** The pid of a process that has exited. */
  const deadPid = () =>
    new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.once('exit', () => resolve(child.pid!));
    });

  /**
   * The disk as a run killed during the final rename leaves it (found by the chaos soak): the
   * part file and the final name are two links of the finished file, the record says `state`,
   * and the killed run's claim files are still there.
   */
  async function killedDuringRename(state: 'running' | 'completed', claimed: number): Promise<string> {
    ctx.server.route('/done.bin', { body, etag: '"d1"' });
    const target = path.join(ctx.dir, 'out.bin');
    const url = ctx.server.url('/done.bin');
    const id = downloadRecordId(url, target);
    await writeFile(`${target}.part`, body);
    await link(`${target}.part`, target);
    const record = newDownloadRecord({ id, url, targetDir: ctx.dir, target, now: Date.now() });
    await new JsonFileTransferStore(path.join(ctx.dir, `.${id}.transfer.json`)).put({
      ...record,
      state,
      length: SIZE,
      etag: '"d1"',
      acceptRanges: true,
      segments: [{ start: 0, end: SIZE, done: claimed }],
    });
    const holder = JSON.stringify({ owner: 'command line (killed)', pid: await deadPid(), host: os.hostname(), nonce: '0123456789abcdef' });
    await writeFile(path.join(ctx.dir, `.${id}.transfer.json.claim.1`), holder);
    await writeFile(`${target}.part.claim.1`, holder);
    return target;
  }

  const renameKills = [
    { state: 'running', claimed: SIZE, what: 'record running' },
    // The record may lag the disk by a save interval: resuming would write into the final file.
    { state: 'running', claimed: SIZE / 2, what: 'record running and behind the disk' },
    { state: 'completed', claimed: SIZE, what: 'record completed' },
  ] as const;
  for (const { state, claimed, what } of renameKills) {
    it(`a run killed during the final rename (${what}) is finished by the next run, without a second copy`, async () => {
      const target = await killedDuringRename(state, claimed);
      const result = await runCli(['get', ctx.server.url('/done.bin'), '-o', target]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), target);
      assert.deepEqual(await readdir(ctx.dir), ['out.bin'], 'no "out (1).bin", no part file, no record, no claim file');
      assert.equal(sha256(await readFile(target)), sha256(body));
      assert.equal(ctx.server.totalBodyBytesSent(), 0, 'nothing downloaded again');
    });
  }

  it('rejects bad input with exit code 2', async () => {
    for (const args of [['get', 'not a url', '-o', ctx.dir], ['get', 'ftp://example.invalid/x', '-o', ctx.dir], ['get', ctx.server.url('/x'), '-o', ''], ['frobnicate']]) {
      const result = await runCli(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /^error/);
    }
  });

  it('reports a refused connection as a network error', async () => {
    const port = Number(new URL(ctx.server.origin).port);
    await ctx.server.close();
    const result = await runCli(['get', `http://127.0.0.1:${port}/x`, '-o', ctx.dir, '--retries', '1']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /ERR_RETRIES_EXHAUSTED: gave up after 1 retry: network error .*ECONNREFUSED/);
  });

  describe('one writer per file, across processes', () => {
    it('two runs of the same command at once: one downloads, the other stops with ERR_RUNNING_ELSEWHERE', async () => {
      ctx.server.route('/twice.bin', { body, etag: '"t1"', rateBytesPerSec: 4 * 1024 * 1024 });
      const target = path.join(ctx.dir, 'twice.bin');
      const runs = await Promise.all([runCli(['get', ctx.server.url('/twice.bin'), '-o', target]), runCli(['get', ctx.server.url('/twice.bin'), '-o', target])]);
      const codes = runs.map((r) => r.code).sort();
      assert.deepEqual(codes, [0, 1], runs.map((r) => r.stderr).join('\n'));
      assert.match(runs.find((r) => r.code === 1)!.stderr, /^error ERR_RUNNING_ELSEWHERE: .*being written by command line \(pid \d+/m);
      assert.equal(sha256(await readFile(target)), sha256(body));
      assert.ok(ctx.server.totalBodyBytesSent('/twice.bin') <= SIZE, `${ctx.server.totalBodyBytesSent('/twice.bin')} bytes served for ${SIZE}`);
      assert.deepEqual(await readdir(ctx.dir), ['twice.bin'], 'no part, record or claim file left behind');
    });

    it('two commands with different URLs writing one file: the second stops before it touches the part file', async () => {
      ctx.server.route('/mirror-a.bin', { body, etag: '"m1"', rateBytesPerSec: 2 * 1024 * 1024 });
      ctx.server.route('/mirror-b.bin', { body, etag: '"m1"' });
      const target = path.join(ctx.dir, 'same.bin');
      const first = startCli(['get', ctx.server.url('/mirror-a.bin'), '-o', target]);
      await waitFor(async () => existsSync(`${target}.part`) && (await stat(`${target}.part`)).size > 512 * 1024);
      const second = await runCli(['get', ctx.server.url('/mirror-b.bin'), '-o', target]);
      assert.equal(second.code, 1, second.stderr);
      assert.match(second.stderr, /^error ERR_RUNNING_ELSEWHERE: same\.bin\.part is being written/m);
      assert.equal(ctx.server.requests.filter((r) => r.path === '/mirror-b.bin').length, 0, 'the second never fetched');
      const done = await first.result;
      assert.equal(done.code, 0, done.stderr);
      assert.equal(sha256(await readFile(target)), sha256(body));
    });

    it('a run killed with SIGKILL leaves a claim that the next run takes over at once (its process is gone)', async () => {
      ctx.server.route('/killed.bin', { body, etag: '"k9"', rateBytesPerSec: 2 * 1024 * 1024 });
      const target = path.join(ctx.dir, 'killed.bin');
      await killCliWhen(['get', ctx.server.url('/killed.bin'), '-o', target], () => partFileLongerThan(target, 512 * 1024));
      assert.ok((await readdir(ctx.dir)).some((name) => name.endsWith('.part.claim.1')), 'the dead run\'s claim is still there');
      const started = Date.now();
      const second = await runCli(['get', ctx.server.url('/killed.bin'), '-o', target]);
      assert.equal(second.code, 0, second.stderr);
      assert.ok(Date.now() - started < 10_000, 'no waiting for a heartbeat to go stale');
      assert.equal(sha256(await readFile(target)), sha256(body));
      assert.deepEqual(await readdir(ctx.dir), ['killed.bin']);
    });
  });
});
