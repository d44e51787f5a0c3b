import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { TransferError, createHttpStack, type DownloadRecord, type HttpStack, type TransferErrorCode } from '../../src/core';
import { fastRetry, runToEnd, type Harness } from '../support/engine';
import { randomBytesSeeded, sha256 } from '../support/fault-server';
import { head, startHostileServer, type HostileServer, type RawHandler } from '../support/hostile-server';
import { eachTest, harness, closeAfterTest } from '../support/each-test';

const MiB = 1024 * 1024;

/**
 * Servers that break the protocol on purpose. Each case ends, within bounded time and memory,
 * either with the correct file or with a clean coded error and no final file.
 */
describe('hostile servers (integration)', function () {
  this.timeout(30_000);
  const ctx = eachTest({ h: harness, closeAfter: closeAfterTest });
  let stack: HttpStack;

  beforeEach(async () => {
    stack = createHttpStack({ proxy: { strictSSL: true, noProxy: [] }, connectTimeoutMs: 2_000, responseTimeoutMs: 1_500 });
  });
  afterEach(() => {
    stack.dispose();
  });

  async function serve(handler: RawHandler): Promise<HostileServer> {
    return ctx.closeAfter(await startHostileServer(handler));
  }

  /** Runs a download and reports how it ended, how long it took and how much the heap grew. */
  async function download(url: string, extra: Partial<Parameters<Harness['task']>[1]> = {}) {
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = Date.now();
    const task = ctx.h.task(url, { http: stack.http, retry: fastRetry(2), stallTimeoutMs: 1_500, ...extra });
    let error: TransferError | undefined;
    let done: DownloadRecord | undefined;
    try {
      done = await runToEnd(task);
    } catch (caught) {
      assert.ok(caught instanceof TransferError, `not a TransferError: ${String(caught)}`);
      error = caught;
    }
    const ms = Date.now() - started;
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(heapGrowth < 64 * MiB, `heap grew by ${heapGrowth} bytes`);
    return { done, error, ms, task };
  }

  async function expectCodedFailure(url: string, codes: TransferErrorCode[], withinMs: number) {
    const { error, ms, done } = await download(url);
    assert.equal(done, undefined, 'no final file');
    assert.ok(error && codes.includes(error.code), `expected one of ${codes.join(', ')}, got ${error?.code}: ${error?.message}`);
    assert.ok(ms < withinMs, `took ${ms} ms`);
    const names = await readdir(ctx.h.dir);
    assert.ok(names.every((name) => name.endsWith('.part') || name.startsWith('.')), `only partial data: ${names.join(', ')}`);
    return error;
  }

  it('a 1 MB header line: ERR_BAD_RESPONSE at once', async () => {
    const url = (await serve((socket) => socket.end(head('200 OK', { 'X-Padding': 'a'.repeat(MiB), 'Content-Length': 3 }) + 'abc'))).url('/big-header');
    const error = await expectCodedFailure(url, ['ERR_BAD_RESPONSE'], 3_000);
    assert.match(error.message, /HPE_HEADER_OVERFLOW/);
  });

  it('a Content-Disposition of 100 KB: ERR_BAD_RESPONSE at once', async () => {
    const disposition = `attachment; filename="${'n'.repeat(100 * 1024)}.bin"`;
    const url = (await serve((socket) => socket.end(head('200 OK', { 'Content-Disposition': disposition, 'Content-Length': 3 }) + 'abc'))).url('/cd');
    await expectCodedFailure(url, ['ERR_BAD_RESPONSE'], 3_000);
  });

  it('a long Content-Disposition that fits the header limit: the file gets a bounded name inside the folder', async () => {
    const disposition = `attachment; filename="${'n'.repeat(12 * 1024)}.bin"`;
    const url = (await serve((socket) => socket.end(head('200 OK', { 'Content-Disposition': disposition, 'Content-Length': 3 }) + 'abc'))).url('/cd');
    const { done } = await download(url);
    assert.ok(done?.target);
    assert.equal(path.dirname(done.target), ctx.h.dir);
    assert.ok(Buffer.byteLength(path.basename(done.target)) <= 255, `name of ${Buffer.byteLength(path.basename(done.target))} bytes`);
    assert.equal(await readFile(done.target, 'utf8'), 'abc');
  });

  it('endless redirects, each to a new URL: ERR_TOO_MANY_REDIRECTS after 10', async () => {
    const server = await serve((socket, request) => {
      const n = Number(/\/r\/(\d+)/.exec(request.path)?.[1] ?? 0);
      socket.end(head('302 Found', { Location: `/r/${n + 1}`, 'Content-Length': 0 }));
    });
    await expectCodedFailure(server.url('/r/0'), ['ERR_TOO_MANY_REDIRECTS'], 3_000);
    assert.equal(server.requests.length, 11);
  });

  it('a redirect loop between two URLs: ERR_TOO_MANY_REDIRECTS', async () => {
    const url = (await serve((socket, request) => socket.end(head('307 Temporary Redirect', { Location: request.path === '/a' ? '/b' : '/a', 'Content-Length': 0 })))).url('/a');
    await expectCodedFailure(url, ['ERR_TOO_MANY_REDIRECTS'], 3_000);
  });

  it('a body that never ends despite Content-Length: exactly the announced bytes, then the connection is dropped', async () => {
    const announced = 200_000;
    const data = randomBytesSeeded(announced, 5);
    let closedAt = 0;
    const url = (await serve((socket) => {
      socket.write(head('200 OK', { 'Content-Length': announced, ETag: '"e1"' }));
      socket.write(data);
      const flood = setInterval(() => {
        if (socket.destroyed || !socket.writable) return;
        socket.write(Buffer.alloc(64 * 1024, 0x41));
      }, 1);
      socket.on('close', () => {
        clearInterval(flood);
        closedAt = Date.now();
      });
    })).url('/endless');
    const { done, ms } = await download(url);
    assert.ok(done?.target, 'completed');
    assert.equal(sha256(await readFile(done.target)), sha256(data));
    assert.ok(ms < 5_000, `took ${ms} ms`);
    // The flood must not go on behind our back.
    const deadline = Date.now() + 5_000;
    while (closedAt === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(closedAt > 0, 'the connection was closed');
  });

  it('a body longer than its Content-Length in one burst, then closed: never more than announced, a coded error if not all arrived', async () => {
    // Node's parser refuses the surplus after `Connection: close` (HPE_CLOSED_CONNECTION), and
    // node-fetch may then end the body early: that is a short body, retried, never success.
    const data = randomBytesSeeded(10_000, 6);
    const url = (await serve((socket) => socket.end(Buffer.concat([Buffer.from(head('200 OK', { 'Content-Length': 4_000 })), data])))).url('/long');
    const { done, error, ms } = await download(url);
    assert.ok(ms < 5_000, `took ${ms} ms`);
    if (done) {
      assert.equal(sha256(await readFile(done.target!)), sha256(data.subarray(0, 4_000)));
    } else {
      assert.ok(error && ['ERR_SHORT_BODY', 'ERR_RETRIES_EXHAUSTED'].includes(error.code), `${error?.code}: ${error?.message}`);
      assert.deepEqual((await readdir(ctx.h.dir)).filter((name) => !name.endsWith('.part') && !name.startsWith('.')), []);
    }
  });

  it('a body shorter than its Content-Length, every time: a coded error after the retries, no final file', async () => {
    const url = (await serve((socket) => socket.end(head('200 OK', { 'Content-Length': 100_000 }) + 'x'.repeat(30_000)))).url('/short');
    await expectCodedFailure(url, ['ERR_SHORT_BODY', 'ERR_RETRIES_EXHAUSTED', 'ERR_CONTENT_CHANGED'], 10_000);
  });

  it('invalid chunked encoding: a coded error, no final file', async () => {
    const url = (await serve((socket) => socket.end(head('200 OK', { 'Transfer-Encoding': 'chunked' }) + '10\r\n0123456789abcdef\r\nzz\r\nnot a chunk\r\n0\r\n\r\n'))).url('/chunked');
    // node-fetch reports the parser's refusal mid-body as a reset connection: retried, then given up.
    await expectCodedFailure(url, ['ERR_BAD_RESPONSE', 'ERR_NETWORK', 'ERR_RETRIES_EXHAUSTED'], 5_000);
  });

  it('headers trickled one byte per second: ERR_RESPONSE_TIMEOUT within the response timeout and retries', async () => {
    const url = (await serve((socket) => {
      const text = head('200 OK', { 'Content-Length': 3 }) + 'abc';
      let i = 0;
      const timer = setInterval(() => {
        if (socket.destroyed) return clearInterval(timer);
        socket.write(text[i++]);
        if (i >= text.length) clearInterval(timer);
      }, 1_000);
      socket.on('close', () => clearInterval(timer));
    })).url('/trickle');
    const error = await expectCodedFailure(url, ['ERR_RESPONSE_TIMEOUT', 'ERR_RETRIES_EXHAUSTED'], 3 * 1_500 + 2_000);
    assert.match(error.message, /no response from .* within 1500 ms/);
  });

  describe('Content-Range with absurd numbers on a resume: never spliced, the file is still right', () => {
    const size = 300_000;
    const data = randomBytesSeeded(size, 7);
    const absurd: Array<[string, (offset: number) => string]> = [
      ['beyond 2^53', (offset) => `bytes ${offset}-9007199254740993/9007199254740994`],
      ['a negative start', (offset) => `bytes -${offset}-${size - 1}/${size}`],
      ['end before start', (offset) => `bytes ${offset}-${offset - 10}/${size}`],
      ['a total beyond 2^53', (offset) => `bytes ${offset}-${size - 1}/99999999999999999999`],
    ];
    for (const [title, contentRange] of absurd) {
      it(title, async () => {
        const url = (await serve((socket, request, index) => {
          const range = /^bytes=(\d+)-/.exec(request.headers.range ?? '');
          if (index === 0) {
            // The first answer breaks off half-way, so the client has to resume.
            socket.end(Buffer.concat([Buffer.from(head('200 OK', { 'Content-Length': size, ETag: '"c1"', 'Accept-Ranges': 'bytes' })), data.subarray(0, size / 2)]));
          } else if (range) {
            const offset = Number(range[1]);
            socket.end(Buffer.concat([Buffer.from(head('206 Partial Content', { 'Content-Range': contentRange(offset), 'Content-Length': size - offset, ETag: '"c1"' })), Buffer.alloc(size - offset, 0x58)]));
          } else {
            socket.end(Buffer.concat([Buffer.from(head('200 OK', { 'Content-Length': size, ETag: '"c1"', 'Accept-Ranges': 'bytes' })), data]));
          }
        })).url('/cr');
        const { done, error, ms } = await download(url);
        assert.equal(error, undefined, error?.message);
        assert.ok(done?.target);
        assert.equal(sha256(await readFile(done.target)), sha256(data), 'no byte of the absurd answer was kept');
        assert.equal(done.restartCode, 'ERR_RANGE_MISMATCH');
        assert.ok(ms < 5_000);
        assert.ok(!existsSync(`${done.target}.part`));
      });
    }
  });
});
