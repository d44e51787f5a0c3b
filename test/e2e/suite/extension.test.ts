/**
 * The extension inside a real editor (real `vscode` API, real extension host, real globalState):
 * commands, downloads into the workspace, pause/resume, restore from saved state, failures.
 * Files come from the fault-injecting range server (see ../support/servers.ts).
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DownloadRecord, TransferSnapshot, TransferState } from '../../../src/core';
import type { ResumableTransfersApi } from '../../../src/vscode/api';
import { startIetfServer } from '../../support/ietf-server';
import { startFaultServer, type FaultServer } from '../../support/fault-server';
import { startMixedFront, startRecordingProxy, type MixedFront } from '../../support/proxy-server';
import { createTestCa, type TestCa } from '../../support/test-ca';
import { ServersClient, startE2eServers, type E2eServers, type FileSpec, type LoggedRequest, type ServedFile } from '../support/servers';

const EXTENSION_ID = 'resumable-transfers.resumable-transfers';
const CMD = {
  downloadUrl: 'resumableTransfers.downloadUrl',
  pause: 'resumableTransfers.pause',
  resume: 'resumableTransfers.resume',
  setHeader: 'resumableTransfers.setHostHeader',
} as const;
const MiB = 1024 * 1024;
/** Makes paths unique per run, so a reused workspace or server never mixes runs. */
const RUN = Date.now().toString(36);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

function fileSha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

describe('Resumable Transfers in a real editor', function () {
  let api: ResumableTransfersApi;
  let workspace: string;
  let servers: ServersClient;
  let local: E2eServers | undefined;
  let origin: string;

  const file = (name: string, spec: Omit<FileSpec, 'path'>): Promise<ServedFile> => servers.serve({ path: `/${RUN}/${name}`, ...spec });
  const snapshot = (id: string): TransferSnapshot => {
    const s = api.get(id);
    assert.ok(s, `transfer ${id} is listed`);
    return s;
  };
  /** Waits for one of `states`; fails at once when the transfer settles in another final state. */
  const settle = (id: string, states: TransferState[], timeoutMs = 30_000): Promise<TransferSnapshot> =>
    waitUntil(`transfer ${id} to be ${states.join('/')}`, () => {
      const s = api.get(id);
      if (s && states.includes(s.record.state)) return s;
      if (s && ['failed', 'completed', 'cancelled'].includes(s.record.state)) {
        throw new Error(`transfer ended ${s.record.state} (${JSON.stringify(s.record.lastError ?? {})}), expected ${states.join('/')}`);
      }
      return undefined;
    }, timeoutMs);
  const download = async (url: string): Promise<string> => {
    const ids = await vscode.commands.executeCommand<string[]>(CMD.downloadUrl, { urls: [url], folder: workspace });
    assert.equal(ids?.length, 1, 'the command returns one transfer id');
    return ids[0];
  };
  const targetOf = (id: string): string => {
    const record = snapshot(id).record as DownloadRecord;
    assert.ok(record.target, 'the transfer has a target file');
    return record.target;
  };
  const rangeRequests = (log: LoggedRequest[]) => log.filter((r) => r.range !== undefined);

  before(async function () {
    this.timeout(120_000);
    if (process.env.E2E_CONTROL_URL) {
      servers = new ServersClient(process.env.E2E_CONTROL_URL);
    } else {
      // Standalone (e.g. @vscode/test-electron): run the servers in the extension host itself.
      local = await startE2eServers();
      servers = new ServersClient(local.controlUrl);
    }
    origin = new URL((await file('probe.bin', { size: 16, seed: 1 })).url).origin;

    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
    workspace = folder ? folder.uri.fsPath : fs.mkdtempSync(path.join(os.tmpdir(), 'rt-e2e-ws-'));

    const extension = vscode.extensions.getExtension<ResumableTransfersApi>(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is installed`);
    api = await extension.activate();
    assert.ok(api && typeof api.download === 'function', 'activate() returns the API');
    console.log(`extension from ${extension.extensionPath}; workspace ${workspace}; ${vscode.env.appName} ${vscode.version}`);
  });

  after(async () => {
    // Leave nothing running in this window.
    for (const s of api?.list() ?? []) if (s.record.state === 'running' || s.record.state === 'queued') await api.pause(s.record.id);
    await local?.close();
  });

  it('registers every command contributed in package.json', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    const contributed = (extension?.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    assert.ok(contributed.length >= 10, `package.json contributes commands (${contributed.length})`);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], 'contributed commands without a handler');
  });

  it('downloads a URL given to the command into the workspace and lists it as completed', async () => {
    const served = await file('plain.bin', { size: 3 * MiB + 17, seed: 2 });
    const id = await download(served.url);
    await settle(id, ['completed']);
    const target = targetOf(id);
    assert.equal(path.dirname(target), workspace, 'saved into the workspace folder');
    assert.equal(path.basename(target), 'plain.bin', 'named after the URL');
    assert.equal(fileSha256(target), served.sha256, 'sha256 of the file on disk');
    assert.ok(!fs.existsSync(`${target}.part`), 'no .part file left behind');
    const listed = api.list().find((s) => s.record.id === id);
    assert.equal(listed?.record.state, 'completed', 'api.list() shows it completed');
  });

  it('pauses and resumes a throttled download with Range and If-Range', async () => {
    const served = await file('throttled.bin', { size: 6 * MiB, seed: 3, rateBytesPerSec: 1.5 * MiB });
    const id = await download(served.url);
    await waitUntil('512 KiB downloaded', () => (api.get(id)?.progress?.bytes ?? 0) >= 512 * 1024, 20_000);
    await vscode.commands.executeCommand(CMD.pause, id);
    assert.equal(snapshot(id).record.state, 'paused', 'paused once the command returns');

    const target = targetOf(id);
    const partSize = sizeOf(`${target}.part`);
    const saved = api.savedRecord(id) as DownloadRecord;
    assert.equal(saved?.state, 'paused', 'the saved record says paused');
    // With several connections the file is several segments, each done from its start.
    const done = saved.segments.reduce((sum, segment) => sum + segment.done, 0);
    assert.ok(done > 0, `the saved segments hold bytes (${done})`);
    for (const segment of saved.segments) {
      assert.ok(segment.start + segment.done <= partSize, `a saved segment (${JSON.stringify(segment)}) claims no byte past the .part size (${partSize})`);
    }
    assert.ok(done < served.size, 'paused before the end');
    const before = (await servers.requests(served.path)).length;

    await vscode.commands.executeCommand(CMD.resume, id);
    await settle(id, ['completed'], 30_000);
    assert.equal(fileSha256(target), served.sha256, 'sha256 of the resumed file');

    const resumed = rangeRequests((await servers.requests(served.path)).slice(before));
    const story = JSON.stringify(resumed);
    assert.ok(resumed.length >= 1 && resumed.length <= Math.max(1, saved.segments.length) + 8, `range requests after resume: ${story}`);
    for (const request of resumed) {
      assert.equal(request.ifRange, served.etag, `If-Range carries the ETag: ${story}`);
      assert.equal(request.status, 206, `the server answered 206: ${story}`);
      const start = Number(/^bytes=(\d+)-/.exec(request.range ?? '')?.[1]);
      const refetches = saved.segments.some((segment) => start >= segment.start && start < segment.start + segment.done);
      assert.ok(!refetches, `no request starts inside bytes already saved (${request.range}): ${story}`);
    }
    // Every saved segment that was not finished continues exactly where its bytes end.
    for (const segment of saved.segments.filter((x) => x.end === undefined || x.start + x.done < x.end)) {
      assert.ok(resumed.some((r) => r.range?.startsWith(`bytes=${segment.start + segment.done}-`)), `a request continues at ${segment.start + segment.done}: ${story}`);
    }
  });

  describe('restore from saved state', () => {
    const seeded = async (name: string, partBytes: number, recordDone: number) => {
      const served = await file(name, { size: 2 * MiB + 5, seed: 4 + name.length });
      const content = Buffer.from(await (await fetch(served.url)).arrayBuffer());
      assert.equal(content.length, served.size);
      const target = path.join(workspace, name);
      fs.writeFileSync(`${target}.part`, content.subarray(0, partBytes));
      const id = `e2e-${RUN}-${name}`;
      const now = Date.now();
      const record: DownloadRecord = {
        schemaVersion: 1,
        id,
        kind: 'download',
        url: served.url,
        finalUrl: served.url,
        targetDir: workspace,
        target,
        length: served.size,
        etag: served.etag,
        acceptRanges: true,
        contentType: 'application/octet-stream',
        // What a window that was closed mid-download leaves behind: running, lease expired.
        state: 'running',
        lease: { owner: 'a-window-that-is-gone', expiresAt: now - 1000 },
        segments: [{ start: 0, end: served.size, done: recordDone }],
        createdAt: now - 60_000,
        updatedAt: now - 5_000,
      };
      await api.seedRecord(id, record);
      const before = (await servers.requests(served.path)).length;
      return { served, target, id, before };
    };

    const resumesFrom = async (name: string, partBytes: number, recordDone: number, expectedStart: number) => {
      assert.equal(vscode.workspace.getConfiguration('resumableTransfers').get('autoResume'), true, 'autoResume is on (default)');
      const { served, target, id, before } = await seeded(name, partBytes, recordDone);
      assert.equal(api.get(id), undefined, 'not shown before restoreFromState()');
      await api.restoreFromState();
      assert.ok(api.get(id), 'shown after restoreFromState()');
      await settle(id, ['completed']);
      assert.equal(fileSha256(target), served.sha256, 'sha256 of the restored download');
      const log = (await servers.requests(served.path)).slice(before);
      assert.deepEqual(
        log.map((r) => [r.range, r.ifRange, r.status]),
        [[`bytes=${expectedStart}-`, served.etag, 206]],
        'exactly one request after restore: Range from the trusted offset, If-Range, 206',
      );
    };

    it('resumes a seeded record with Range from the bytes in the .part file', () => resumesFrom('seeded.bin', 700_000, 700_000, 700_000));

    it('trusts the .part file when the saved record claims more (stale globalState)', () => resumesFrom('ahead.bin', 500_000, 900_000, 500_000));

    it('trusts the record when the .part file holds more than it vouches for', () => resumesFrom('behind.bin', 900_000, 600_000, 600_000));

    it('shows a record that fails validation as a paused row with ERR_RECORD_INVALID', async () => {
      const served = await file('invalid.bin', { size: 4096, seed: 9 });
      const id = `e2e-${RUN}-invalid`;
      const before = (await servers.requests(served.path)).length;
      await api.seedRecord(id, {
        schemaVersion: 1,
        id,
        kind: 'download',
        url: served.url,
        targetDir: workspace,
        state: 'running',
        segments: [{ start: 0, end: 4096, done: 9999 }],
        createdAt: Date.now(),
        updatedAt: Date.now(),
      });
      await api.restoreFromState();
      // restoreFromState() starts what may run before it returns: a paused row right after it stays paused.
      const s = snapshot(id);
      assert.equal(s.record.state, 'paused', 'comes back paused');
      assert.equal(s.progress, undefined, 'not running');
      assert.equal(s.record.lastError?.code, 'ERR_RECORD_INVALID');
      assert.equal((s.record as DownloadRecord).segments[0].done, 0, 'nothing of the invalid record is trusted');
      const saved = api.savedRecord(id) as DownloadRecord;
      assert.equal(saved.state, 'paused', 'the repaired record is saved');
      assert.equal(saved.lastError?.code, 'ERR_RECORD_INVALID');
      assert.equal((await servers.requests(served.path)).length, before, 'it does not start by itself');
    });
  });

  it('creates no transfer for a bad URL', async () => {
    const count = api.list().length;
    for (const bad of ['not a url', 'ftp://127.0.0.1/file.bin', 'http://']) {
      const ids = await vscode.commands.executeCommand<string[]>(CMD.downloadUrl, { urls: [bad], folder: workspace });
      assert.deepEqual(ids, [], `no ids for ${JSON.stringify(bad)}`);
    }
    assert.equal(api.list().length, count, 'no new rows');
  });

  it("sends its requests through VS Code's http.proxy setting", async () => {
    const proxy = await startRecordingProxy();
    const http = () => vscode.workspace.getConfiguration('http');
    const before = http().inspect<string>('proxy')?.globalValue;
    try {
      await http().update('proxy', proxy.origin, vscode.ConfigurationTarget.Global);
      await waitUntil('http.proxy to apply', () => http().get<string>('proxy') === proxy.origin);
      const served = await file('proxied.bin', { size: MiB + 5, seed: 9 });
      const id = await download(served.url);
      await settle(id, ['completed']);
      assert.equal(fileSha256(targetOf(id)), served.sha256, 'sha256 of the file on disk');
      const seen = proxy.requests.filter((r) => r.target === served.url);
      assert.equal(seen.length, 1, 'the proxy forwarded the download request');
      assert.equal(seen[0].method, 'GET');
      assert.equal(seen[0].status, 200);
    } finally {
      await http().update('proxy', before, vscode.ConfigurationTarget.Global);
      await proxy.close();
    }
  });

  it("uploads through VS Code's http.proxy: every request, the IETF creation POST included, passes the proxy", async () => {
    const proxy = await startRecordingProxy();
    const server = await startIetfServer();
    const http = () => vscode.workspace.getConfiguration('http');
    const before = http().inspect<string>('proxy')?.globalValue;
    const source = path.join(workspace, `up-${RUN}.bin`);
    const content = Buffer.alloc(3 * MiB + 7);
    for (let i = 0; i < content.length; i++) content[i] = (i * 31 + 7) & 0xff;
    fs.writeFileSync(source, content);
    try {
      await http().update('proxy', proxy.origin, vscode.ConfigurationTarget.Global);
      await waitUntil('http.proxy to apply', () => http().get<string>('proxy') === proxy.origin);
      const [id] = await api.upload(source, server.endpoint);
      await settle(id, ['completed']);
      const uploaded = [...server.uploads.keys()];
      assert.equal(uploaded.length, 1, 'one upload resource');
      assert.equal(server.sha256(uploaded[0]), createHash('sha256').update(content).digest('hex'), 'the server holds the file');
      const methods = server.log.map((e) => e.method);
      assert.ok(methods.includes('POST'), `the upload was created with a POST (${methods.join(', ')})`);
      const proxied = proxy.requests.filter((r) => r.target.startsWith(server.origin));
      assert.deepEqual(proxied.map((r) => r.method), methods, 'every request the server saw came through the proxy');
      assert.ok(proxied.every((r) => /^resumable-transfers-vscode\//.test(String(r.headers['user-agent']))), 'with the extension\'s user agent');
    } finally {
      await http().update('proxy', before, vscode.ConfigurationTarget.Global);
      await server.close();
      await proxy.close();
      fs.rmSync(source, { force: true });
    }
  });

  it('a socks5:// http.proxy breaks nothing: downloads that need it fail with ERR_PROXY_CONFIG, the extension keeps working', async () => {
    const http = () => vscode.workspace.getConfiguration('http');
    const before = http().inspect<string>('proxy')?.globalValue;
    const served = await file('socks.bin', { size: 64 * 1024, seed: 12 });
    try {
      await http().update('proxy', 'socks5://user:secret@127.0.0.1:1080', vscode.ConfigurationTarget.Global);
      await waitUntil('http.proxy to apply', () => http().get<string>('proxy')?.startsWith('socks5://'));
      const id = await download(served.url);
      const failed = await settle(id, ['failed']);
      assert.equal(failed.record.lastError?.code, 'ERR_PROXY_CONFIG');
      assert.doesNotMatch(JSON.stringify(failed.record), /secret/, 'the proxy credentials are in no record');
    } finally {
      await http().update('proxy', before, vscode.ConfigurationTarget.Global);
    }
    await waitUntil('http.proxy to be restored', () => http().get<string>('proxy') === (before ?? ''));
    const again = await download(served.url);
    await settle(again, ['completed']);
    assert.equal(fileSha256(targetOf(again)), served.sha256, 'with the setting fixed, the same download works');
  });

  it('activates although HTTPS_PROXY names a socks5 proxy; only an https transfer that needs it fails, with ERR_PROXY_CONFIG', async function () {
    // The e2e runner starts this extension host with HTTPS_PROXY=socks5://… and NO_PROXY=127.0.0.1.
    if (!process.env.HTTPS_PROXY?.startsWith('socks5://')) this.skip();
    assert.ok(api, 'activate() returned the API');
    const id = await download(`https://localhost:9/${RUN}/needs-the-proxy.bin`);
    const failed = await settle(id, ['failed']);
    assert.equal(failed.record.lastError?.code, 'ERR_PROXY_CONFIG');
    assert.match(failed.record.lastError?.message ?? '', /HTTPS_PROXY/, 'the message names the variable');
  });

  it('keeps user:password from a URL out of globalState and sends it as Basic auth', async () => {
    const served = await file('private.bin', { size: MiB, seed: 10 });
    const url = served.url.replace('http://', 'http://alice:s3cr%40t@');
    const id = await download(url);
    await settle(id, ['completed']);
    assert.equal(fileSha256(targetOf(id)), served.sha256, 'sha256 of the file on disk');
    assert.doesNotMatch(JSON.stringify(api.savedRecord(id)), /s3cr|alice/, 'no credentials in the saved record');
    const requests = await servers.requests(served.path);
    assert.equal(requests[0]?.authorization, `Basic ${Buffer.from('alice:s3cr@t').toString('base64')}`);
  });

  it('ends a 404 download as failed with ERR_HTTP_STATUS', async () => {
    const id = await download(`${origin}/${RUN}/missing.bin`);
    const s = await settle(id, ['failed']);
    assert.equal(s.record.lastError?.code, 'ERR_HTTP_STATUS');
    assert.equal(s.record.lastError?.status, 404);
    assert.ok(!fs.existsSync(path.join(workspace, 'missing.bin')), 'no file in the workspace');
    assert.ok(!fs.existsSync(path.join(workspace, 'missing.bin.part')), 'no .part file in the workspace');
  });

  describe('headers saved in the keychain belong to their origin (https://127.0.0.1:P is not http://127.0.0.1:P)', () => {
    const KEY = 'e2e-key-for-https';
    let ca: TestCa;
    let fault: FaultServer;
    let front: MixedFront;
    let caBefore: string[] | undefined;
    const ours = () => vscode.workspace.getConfiguration('resumableTransfers');
    const setHeader = (origin: string, header: string) => vscode.commands.executeCommand(CMD.setHeader, { origin, header });
    /** Only http URLs lead into /plain/: checksum files are looked for beside the URL given. */
    const overHttp = () => fault.requests.filter((r) => r.path.startsWith(`/${RUN}/plain/`));
    const secretsIn = (headers: Record<string, unknown>) => Object.keys(headers).filter((n) => ['x-api-key', 'x-token', 'cookie'].includes(n));
    const body = Buffer.alloc(256 * 1024 + 9, 0x5a);
    const bodySha = createHash('sha256').update(body).digest('hex');

    before(async () => {
      ca = createTestCa();
      fault = await startFaultServer();
      front = await startMixedFront(fault.origin, ca.server);
      fault.route(`/${RUN}/secure.bin`, { body, etag: '"o1"' });
      fault.route(`/${RUN}/plain/plain.bin`, { body, etag: '"o2"' });
      fault.route(`/${RUN}/to-secure`, { body: Buffer.alloc(0), redirect: { location: `${front.https}/${RUN}/secure.bin` } });
      fault.route(`/${RUN}/to-plain`, { body: Buffer.alloc(0), redirect: { location: `${front.http}/${RUN}/plain/plain.bin` } });
      caBefore = ours().inspect<string[]>('caCertificates')?.globalValue;
      await ours().update('caCertificates', [ca.caFile], vscode.ConfigurationTarget.Global);
      await waitUntil('the test CA to be trusted', () => ours().get<string[]>('caCertificates')?.includes(ca.caFile));
    });
    after(async () => {
      await setHeader(front.https, 'X-Api-Key:');
      await setHeader(front.https, 'X-Token:');
      await setHeader(front.https, 'Cookie:');
      await ours().update('caCertificates', caBefore, vscode.ConfigurationTarget.Global);
      await front.close();
      await fault.close();
      ca.dispose();
    });

    const downloaded = async (id: string) => {
      await settle(id, ['completed']);
      assert.equal(fileSha256(targetOf(id)), bodySha, 'sha256 of the file on disk');
    };

    it('Set Header for Origin: sent along a redirect within the https origin', async () => {
      await setHeader(front.https, `X-Api-Key: ${KEY}`);
      await downloaded(await download(`${front.https}/${RUN}/to-secure`));
      const file = fault.requests.filter((r) => r.path === `/${RUN}/secure.bin`);
      assert.ok(file.length > 0 && file.every((r) => r.headers['x-api-key'] === KEY), 'the file request over https got the header');
    });

    it('never sent to http of the same host and port: typed, after a redirect there, or to checksum files beside it', async () => {
      await setHeader(front.https, `X-Api-Key: ${KEY}`);
      await downloaded(await download(`${front.https}/${RUN}/to-plain`));
      assert.equal(fault.requests.find((r) => r.path === `/${RUN}/to-plain`)?.headers['x-api-key'], KEY, 'the https hop got it');
      await downloaded(await download(`${front.http}/${RUN}/plain/plain.bin`));
      const plain = overHttp();
      assert.ok(plain.some((r) => r.path !== `/${RUN}/plain/plain.bin`), `checksum files were looked for over http (${plain.map((r) => r.path).join(', ')})`);
      for (const request of plain) assert.deepEqual(secretsIn(request.headers), [], `${request.path} over http got none`);
    });

    it('a pasted cURL command: its cookie and header go to its https origin only', async () => {
      const curl = `curl '${front.https}/${RUN}/to-secure' -H 'X-Token: e2e-token' -b 'session=e2e-cookie'`;
      const [id] = await vscode.commands.executeCommand<string[]>(CMD.downloadUrl, { curl, folder: workspace });
      await downloaded(id);
      const https = fault.requests.filter((r) => r.path === `/${RUN}/secure.bin`).at(-1);
      assert.equal(https?.headers['x-token'], 'e2e-token');
      assert.equal(https?.headers.cookie, 'session=e2e-cookie');
      await downloaded(await download(`${front.http}/${RUN}/plain/plain.bin`));
      for (const request of overHttp()) assert.deepEqual(secretsIn(request.headers), [], `${request.path} over http got none`);
    });
  });

  describe('a transfer belongs to the machine that holds its bytes', () => {
    const OTHER = { id: 'e2e-other-machine-0002', label: 'build-box (SSH)' };

    it('names this machine in the record of a new download', async () => {
      assert.match(api.machine.id, /^[\w-]{8,}$/, 'this machine has an id');
      const served = await file('stamped.bin', { size: 64 * 1024, seed: 21 });
      const id = await download(served.url);
      await settle(id, ['completed']);
      assert.deepEqual((api.savedRecord(id) as DownloadRecord).machine, api.machine);
    });

    it("never runs another machine's record, whatever asks: commands, the API; no request, no folder", async () => {
      const served = await file('their.bin', { size: MiB, seed: 22 });
      const dir = path.join(workspace, `their-folder-${RUN}`);
      const id = `e2e-${RUN}-theirs`;
      const now = Date.now();
      await api.seedRecord(id, {
        schemaVersion: 1, id, kind: 'download', url: served.url, targetDir: dir, target: path.join(dir, 'their.bin'),
        length: served.size, etag: served.etag, state: 'running', lease: { owner: 'a-window-that-is-gone', expiresAt: now - 1000 },
        segments: [{ start: 0, end: served.size, done: 1000 }], createdAt: now, updatedAt: now, machine: OTHER,
      });
      await api.restoreFromState();
      assert.equal(snapshot(id).held, 'other-machine');
      for (const command of [CMD.resume, CMD.pause, 'resumableTransfers.retry', 'resumableTransfers.cancel']) {
        await vscode.commands.executeCommand(command, id);
      }
      await api.resume(id);
      await api.cancel(id);
      await sleep(1000);
      assert.equal((await servers.requests(served.path)).length, 0, 'no request for it');
      assert.ok(!fs.existsSync(dir), 'no folder for it');
      const saved = api.savedRecord(id) as DownloadRecord;
      assert.deepEqual([saved.state, saved.machine, saved.segments[0].done], ['running', OTHER, 1000], 'its record untouched');
      await api.remove(id);
      assert.equal(api.get(id), undefined);
      assert.equal(api.savedRecord(id), undefined, 'Remove forgets the record');
    });

    it("leaves another machine's record alone when it does not validate here (say, a newer version saved it)", async () => {
      const id = `e2e-${RUN}-theirs-newer`;
      const raw = { schemaVersion: 99, id, kind: 'download', url: `${origin}/${RUN}/newer.bin`, targetDir: workspace, machine: OTHER, somethingNew: [1, 2] };
      await api.seedRecord(id, raw);
      await api.restoreFromState();
      assert.equal(api.get(id), undefined, 'not listed: it cannot be read here');
      assert.deepEqual(api.savedRecord(id), raw, 'neither salvaged nor deleted');
      await api.seedRecord(id, undefined);
    });

    it('adopts a record saved without a machine when its folder is here, and runs it', async () => {
      const served = await file('adopted.bin', { size: 256 * 1024, seed: 23 });
      const id = `e2e-${RUN}-adopted`;
      const now = Date.now();
      await api.seedRecord(id, {
        schemaVersion: 1, id, kind: 'download', url: served.url, targetDir: workspace, state: 'queued',
        segments: [{ start: 0, done: 0 }], createdAt: now, updatedAt: now,
      });
      await api.restoreFromState();
      await settle(id, ['completed']);
      assert.equal(fileSha256(targetOf(id)), served.sha256);
      assert.deepEqual((api.savedRecord(id) as DownloadRecord).machine, api.machine);
    });
  });
});
