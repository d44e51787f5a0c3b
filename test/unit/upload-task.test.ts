import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import {
  MemoryTransferStore,
  TransferError,
  TransferManager,
  UploadTask,
  createUploadRecord,
  uploadRunnerFactory,
  type Clock,
  type HttpClient,
  type HttpRequestOptions,
  type HttpResponse,
  type TransferProgress,
  type UploadOptions,
  type UploadRecord,
} from '../../src/core';

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

type Reply = { status: number; headers?: Record<string, string> } | 'network-error';

/** A scripted HTTP stack: every request is recorded and answered by `handler`. */
class ScriptedHttp implements HttpClient {
  readonly seen: Seen[] = [];
  constructor(private readonly handler: (request: Seen) => Reply) {}

  async request(url: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
    const chunks: Buffer[] = [];
    if (Buffer.isBuffer(options.body)) chunks.push(options.body);
    else if (options.body) for await (const chunk of options.body) chunks.push(chunk as Buffer);
    const request: Seen = { method: options.method ?? 'GET', url, headers: options.headers ?? {}, body: Buffer.concat(chunks) };
    this.seen.push(request);
    const reply = this.handler(request);
    if (reply === 'network-error') throw new TransferError('ERR_NETWORK', `network error for ${url}: ECONNRESET`);
    const headers = Object.fromEntries(Object.entries(reply.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    return {
      status: reply.status,
      headers: { get: (name) => headers[name.toLowerCase()] ?? null },
      url,
      redirected: false,
      body: Readable.from([]),
      discard: () => undefined,
    };
  }

  methods(): string {
    return this.seen.map((s) => (s.method === 'PATCH' ? `PATCH@${s.headers['upload-offset']}` : s.method)).join(' ');
  }
}

/** An in-memory tus server with knobs for the decisions under test. */
function tusServer(knobs: { extensions?: string; checksum?: boolean; patch?: (request: Seen, stored: Buffer) => Reply | undefined; expires?: string } = {}) {
  const uploads = new Map<string, Buffer>();
  let next = 0;
  const handler = (request: Seen): Reply => {
    const base = { 'Tus-Resumable': '1.0.0' };
    if (request.method === 'OPTIONS') {
      const headers: Record<string, string> = { ...base, 'Tus-Version': '1.0.0', 'Tus-Extension': knobs.extensions ?? 'creation,termination' };
      if (knobs.checksum) headers['Tus-Checksum-Algorithm'] = 'md5,sha1';
      return { status: 204, headers };
    }
    if (request.method === 'POST') {
      const id = `u${++next}`;
      uploads.set(id, Buffer.alloc(0));
      return { status: 201, headers: { ...base, Location: `/files/${id}`, ...(knobs.expires ? { 'Upload-Expires': knobs.expires } : {}) } };
    }
    const id = request.url.split('/').pop() ?? '';
    const stored = uploads.get(id);
    if (stored === undefined) return { status: 404, headers: base };
    if (request.method === 'HEAD') return { status: 200, headers: { ...base, 'Upload-Offset': String(stored.length), 'Upload-Length': '25' } };
    if (request.method === 'DELETE') {
      uploads.delete(id);
      return { status: 204, headers: base };
    }
    if (request.method === 'PATCH') {
      const scripted = knobs.patch?.(request, stored);
      if (scripted) return scripted;
      if (Number(request.headers['upload-offset']) !== stored.length) return { status: 409, headers: base };
      const updated = Buffer.concat([stored, request.body]);
      uploads.set(id, updated);
      return { status: 204, headers: { ...base, 'Upload-Offset': String(updated.length) } };
    }
    return { status: 405 };
  };
  return { uploads, handler, store: (id: string, data: Buffer) => uploads.set(id, data) };
}

describe('upload task decisions (scripted HTTP)', () => {
  const content = Buffer.from('0123456789abcdefghijklmno'); // 25 bytes
  let dir: string;
  let file: string;
  let now: number;
  let sleeps: number[];
  let clock: Clock;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rt-ut-'));
    file = path.join(dir, 'f.bin');
    await writeFile(file, content);
    now = 1_000_000;
    sleeps = [];
    clock = {
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    };
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function task(http: HttpClient, options: Partial<UploadOptions> & { chunkSize?: number; protocol?: 'tus' } = {}): Promise<UploadTask> {
    const { chunkSize, protocol, ...rest } = options;
    const record = await createUploadRecord({ id: 'r1', url: 'http://127.0.0.1:9/files/', file, chunkSize, protocol, now });
    return new UploadTask(record, {
      http,
      store: new MemoryTransferStore(),
      clock,
      random: () => 0.5,
      retry: { retries: 4, baseDelayMs: 10, maxDelayMs: 100, maxRetryAfterMs: 60_000 },
      ...rest,
    });
  }
  const run = (t: UploadTask) => t.run(new AbortController().signal);

  it('tus 409: asks the server with HEAD and continues from its offset, without counting a failure', async () => {
    let conflicts = 1;
    const server = tusServer({ patch: () => (conflicts-- > 0 ? { status: 409, headers: { 'Tus-Resumable': '1.0.0' } } : undefined) });
    const http = new ScriptedHttp(server.handler);
    const t = await task(http);
    const retries: unknown[] = [];
    t.onRetry((e) => retries.push(e));
    const done = await run(t);
    assert.equal(done.state, 'completed');
    assert.equal(http.methods(), 'OPTIONS POST PATCH@0 HEAD PATCH@0');
    assert.deepEqual(server.uploads.get('u1'), content);
    assert.equal(retries.length, 0);
  });

  it('tus checksum extension: every PATCH carries "Upload-Checksum: sha1 <base64>" of its own bytes', async () => {
    const server = tusServer({ extensions: 'creation,checksum', checksum: true });
    const http = new ScriptedHttp(server.handler);
    await run(await task(http, { chunkSize: 10 }));
    const patches = http.seen.filter((s) => s.method === 'PATCH');
    assert.deepEqual(patches.map((p) => p.body.length), [10, 10, 5]);
    for (const patch of patches) {
      assert.equal(patch.headers['upload-checksum'], `sha1 ${createHash('sha1').update(patch.body).digest('base64')}`);
      assert.equal(patch.headers['content-type'], 'application/offset+octet-stream');
      assert.equal(patch.headers['tus-resumable'], '1.0.0');
    }
  });

  it('tus without the checksum extension sends no checksum and the rest of the file in one PATCH', async () => {
    const server = tusServer();
    const http = new ScriptedHttp(server.handler);
    await run(await task(http));
    const patches = http.seen.filter((s) => s.method === 'PATCH');
    assert.equal(patches.length, 1);
    assert.equal(patches[0].headers['upload-checksum'], undefined);
    const post = http.seen.find((s) => s.method === 'POST');
    assert.equal(post?.headers['upload-length'], '25');
    assert.equal(post?.headers['upload-metadata'], `filename ${Buffer.from('f.bin').toString('base64')}`);
  });

  it('records Upload-Expires', async () => {
    const server = tusServer({ expires: 'Wed, 25 Jun 2031 16:00:00 GMT', patch: () => ({ status: 400 }) });
    const t = await task(new ScriptedHttp(server.handler));
    await assert.rejects(run(t));
    assert.equal(t.record.expiresAt, Date.UTC(2031, 5, 25, 16));
  });

  it('the retry counter resets on real progress: a server that keeps half of every PATCH still finishes', async () => {
    const server = tusServer({
      patch: (request, stored) => {
        const half = request.body.subarray(0, Math.ceil(request.body.length / 2));
        if (Number(request.headers['upload-offset']) !== stored.length) return undefined;
        if (request.body.length <= 2) return undefined;
        server.store('u1', Buffer.concat([stored, half]));
        return 'network-error';
      },
    });
    const http = new ScriptedHttp(server.handler);
    const t = await task(http, { retry: { retries: 1, baseDelayMs: 10, maxDelayMs: 100, maxRetryAfterMs: 1000 } });
    const done = await run(t);
    assert.equal(done.state, 'completed');
    assert.deepEqual(server.uploads.get('u1'), content);
    assert.ok(http.seen.filter((s) => s.method === 'PATCH').length > 3);
  });

  it('a server that never takes a byte more is given up on after the retries: ERR_RETRIES_EXHAUSTED carrying the cause, as for downloads', async () => {
    const server = tusServer({ patch: () => ({ status: 500 }) });
    const http = new ScriptedHttp(server.handler);
    const t = await task(http);
    await assert.rejects(run(t), (e: TransferError) => {
      assert.equal(e.code, 'ERR_RETRIES_EXHAUSTED');
      assert.equal(e.status, 500);
      assert.match(e.message, /gave up after 4 retries: .*500/);
      assert.ok(e.cause instanceof TransferError && e.cause.code === 'ERR_HTTP_STATUS', 'the cause is kept');
      return true;
    });
    assert.equal(http.seen.filter((s) => s.method === 'PATCH').length, 5);
    assert.equal(t.record.state, 'failed');
    assert.ok(t.record.uploadUrl, 'the upload URL is kept for a later resume');
    assert.deepEqual(sleeps, [7.5, 15, 30, 60]);
  });

  it('tus: a 204 that keeps the offset where it was (nothing kept) is retried under the budget, not re-sent forever', async () => {
    // tus allows an equal Upload-Offset in a PATCH response: the server took the request and kept nothing.
    const server = tusServer({ patch: (_request, stored) => ({ status: 204, headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': String(stored.length) } }) });
    const http = new ScriptedHttp(server.handler);
    const t = await task(http);
    await assert.rejects(
      run(t),
      (e: TransferError) => e.code === 'ERR_RETRIES_EXHAUSTED' && e.cause instanceof TransferError && e.cause.code === 'ERR_NO_PROGRESS' && /gave up after 4 retries/.test(e.message),
    );
    assert.equal(http.seen.filter((s) => s.method === 'PATCH').length, 5, 'one try and four retries, then it stops');
    assert.equal(t.record.state, 'failed');
    assert.equal(t.record.lastError?.code, 'ERR_RETRIES_EXHAUSTED');
    assert.match(t.record.lastError?.message ?? '', /ERR_NO_PROGRESS|offset/i);
  });

  it('tus: a server that keeps nothing twice and then keeps the chunk finishes the upload', async () => {
    let forgetful = 2;
    const server = tusServer({
      patch: (_request, stored) => (forgetful-- > 0 ? { status: 204, headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': String(stored.length) } } : undefined),
    });
    const done = await run(await task(new ScriptedHttp(server.handler)));
    assert.equal(done.state, 'completed');
    assert.deepEqual(server.uploads.get('u1'), content);
    assert.equal(sleeps.length, 2, 'each empty 204 waited like any retry');
  });

  it('honours Retry-After on 503', async () => {
    let busy = 1;
    const server = tusServer({ patch: () => (busy-- > 0 ? { status: 503, headers: { 'Retry-After': '7' } } : undefined) });
    const done = await run(await task(new ScriptedHttp(server.handler)));
    assert.equal(done.state, 'completed');
    assert.deepEqual(sleeps, [7000]);
  });

  it('a 4xx other than 408/409/429 fails at once', async () => {
    const server = tusServer({ patch: () => ({ status: 400 }) });
    const http = new ScriptedHttp(server.handler);
    const t = await task(http);
    await assert.rejects(run(t), (e: TransferError) => e.code === 'ERR_HTTP_STATUS' && e.status === 400);
    assert.equal(http.seen.filter((s) => s.method === 'PATCH').length, 1);
    assert.deepEqual(sleeps, []);
  });

  it('an upload that keeps vanishing (404) is re-created a bounded number of times, then ERR_UPLOAD_GONE', async () => {
    const server = tusServer({ patch: () => ({ status: 404 }) });
    const http = new ScriptedHttp(server.handler);
    const t = await task(http);
    await assert.rejects(run(t), { code: 'ERR_UPLOAD_GONE' });
    assert.equal(http.seen.filter((s) => s.method === 'POST').length, 4);
    assert.equal(t.record.restartCode, 'ERR_UPLOAD_GONE');
  });

  it('a HEAD reporting another Upload-Length means the URL is not our upload: create anew', async () => {
    const server = tusServer();
    const http = new ScriptedHttp((request) => {
      if (request.method === 'HEAD') return { status: 200, headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '3', 'Upload-Length': '999' } };
      return server.handler(request);
    });
    const record = await createUploadRecord({ id: 'r2', url: 'http://127.0.0.1:9/files/', file, now });
    const t = new UploadTask({ ...record, uploadUrl: 'http://127.0.0.1:9/files/someone-else', offset: 3 }, { http, store: new MemoryTransferStore(), clock });
    const done = await run(t);
    assert.equal(done.state, 'completed');
    assert.equal(done.restartCode, 'ERR_UPLOAD_GONE');
    assert.equal(http.methods(), 'OPTIONS HEAD POST PATCH@0');
  });

  it('discard() of a paused upload terminates it on the server and forgets the URL', async () => {
    const server = tusServer({ patch: () => ({ status: 400 }) });
    const http = new ScriptedHttp(server.handler);
    const failed = await task(http);
    await assert.rejects(run(failed));
    assert.ok(failed.record.uploadUrl);
    const later = new UploadTask(failed.record, { http, store: new MemoryTransferStore(), clock });
    await later.discard();
    assert.equal(later.record.uploadUrl, undefined);
    assert.equal(later.record.offset, 0);
    assert.equal(http.seen.at(-1)?.method, 'DELETE');
    assert.equal(server.uploads.size, 0);
  });

  it('runs under the TransferManager through its runner factory', async () => {
    const server = tusServer();
    const store = new MemoryTransferStore();
    const http = new ScriptedHttp(server.handler);
    const factory = uploadRunnerFactory({ http, clock });
    const manager = new TransferManager({
      store,
      clock,
      createRunner: (record, context) => {
        if (record.kind !== 'upload') throw new Error('uploads only here');
        return factory(record, context);
      },
    });
    const progress: TransferProgress[] = [];
    manager.onDidProgress((p) => progress.push(p));
    const record = await createUploadRecord({ id: 'm1', url: 'http://127.0.0.1:9/files/', file, now });
    const finished = new Promise<UploadRecord>((resolve) =>
      manager.onDidChange((change) => {
        if (change.snapshot?.record.state === 'completed') resolve(change.snapshot.record as UploadRecord);
      }),
    );
    await manager.add(record);
    const done = await finished;
    assert.equal(done.protocol, 'tus');
    assert.equal(done.offset, 25);
    assert.ok((await store.get('m1'))?.lease, 'the manager lease is stamped on every save');
    assert.equal(progress.at(-1)?.bytes, 25);
    assert.deepEqual(server.uploads.get('u1'), content);
    await manager.shutdown();
    manager.dispose();
  });
});
