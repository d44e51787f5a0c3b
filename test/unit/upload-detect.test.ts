import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  TransferError,
  classifyEndpoint,
  fingerprintChange,
  fingerprintFile,
  newUploadRecord,
  validateRecord,
  type UploadFingerprint,
} from '../../src/core';

const headers = (values: Record<string, string>) => ({ get: (name: string) => values[name.toLowerCase()] ?? null });

describe('upload protocol detection (OPTIONS answer → protocol)', () => {
  const table: { title: string; status: number; headers: Record<string, string>; protocol: string; check?: (c: ReturnType<typeof classifyEndpoint>) => void }[] = [
    {
      title: '@tus/server',
      status: 204,
      headers: { 'tus-resumable': '1.0.0', 'tus-version': '1.0.0', 'tus-extension': 'creation,creation-with-upload,termination,expiration' },
      protocol: 'tus',
      check: (c) => assert.deepEqual(c.tusExtensions, ['creation', 'creation-with-upload', 'termination', 'expiration']),
    },
    {
      title: 'tusd with checksum and max size',
      status: 200,
      headers: { 'tus-version': '1.0.0,0.2.2', 'tus-extension': 'creation,checksum', 'tus-checksum-algorithm': 'md5,SHA1', 'tus-max-size': '1073741824' },
      protocol: 'tus',
      check: (c) => {
        assert.deepEqual(c.tusChecksumAlgorithms, ['md5', 'sha1']);
        assert.equal(c.tusMaxSize, 1073741824);
      },
    },
    { title: 'a tus server without 1.0.0', status: 204, headers: { 'tus-version': '0.2.2' }, protocol: 'put' },
    {
      title: 'IETF draft with our interop version and limits',
      status: 204,
      headers: { 'upload-draft-interop-version': '8', 'upload-limit': 'max-size=100, max-append-size=10' },
      protocol: 'ietf',
      check: (c) => assert.deepEqual(c.limits, { maxSize: 100, maxAppendSize: 10 }),
    },
    { title: 'IETF draft announced by Accept-Patch', status: 204, headers: { 'accept-patch': 'application/partial-upload' }, protocol: 'ietf' },
    {
      title: 'IETF draft of an older interop version we still speak (6): start there',
      status: 204,
      headers: { 'upload-draft-interop-version': '6', 'accept-patch': 'application/partial-upload' },
      protocol: 'ietf',
      check: (c) => assert.equal(c.interopVersion, 6),
    },
    {
      title: 'IETF draft of an interop version we do not speak (4)',
      status: 204,
      headers: { 'upload-draft-interop-version': '4', 'accept-patch': 'application/partial-upload' },
      protocol: 'put',
      check: (c) => assert.match(c.evidence, /interop version 4/),
    },
    {
      title: 'IETF draft -12 (interop 9) lists no Accept-Patch: Upload-Limit tells',
      status: 204,
      headers: { 'upload-limit': 'max-append-size=1000' },
      protocol: 'ietf',
      check: (c) => assert.equal(c.interopVersion, undefined),
    },
    { title: 'Apache mod_dav on a new file', status: 200, headers: { dav: '1,2, <http://apache.org/dav/propset/fs/1>', allow: 'OPTIONS,GET,HEAD,POST,DELETE,TRACE,PROPFIND,PROPPATCH,COPY,MOVE,LOCK,UNLOCK,PUT' }, protocol: 'put-range' },
    { title: 'WebDAV without an Allow header', status: 200, headers: { dav: '1' }, protocol: 'put-range' },
    { title: 'WebDAV resource that does not allow PUT', status: 200, headers: { dav: '1,2', allow: 'OPTIONS,GET,PROPFIND' }, protocol: 'put' },
    { title: 'OPTIONS not allowed', status: 405, headers: { allow: 'GET, PUT' }, protocol: 'put' },
    { title: 'plain server', status: 200, headers: { allow: 'OPTIONS, GET, PUT' }, protocol: 'put' },
    { title: 'tus wins over WebDAV', status: 204, headers: { 'tus-version': '1.0.0', dav: '1' }, protocol: 'tus' },
  ];
  for (const row of table) {
    it(`${row.title} → ${row.protocol}`, () => {
      const found = classifyEndpoint(row.status, headers(row.headers));
      assert.equal(found.protocol, row.protocol);
      assert.ok(found.evidence.length > 0);
      row.check?.(found);
    });
  }
});

describe('upload fingerprint', () => {
  const base: UploadFingerprint = { path: '/data/a.bin', size: 100, mtimeMs: 1_700_000_000_000 };
  const table: [string, Partial<UploadFingerprint>, RegExp | undefined][] = [
    ['same file', {}, undefined],
    ['grown', { size: 101 }, /size 100 → 101/],
    ['touched', { mtimeMs: base.mtimeMs + 1 }, /modified/],
    ['moved', { path: '/data/b.bin' }, /now \/data\/b\.bin/],
  ];
  for (const [title, change, expected] of table) {
    it(`${title}: ${expected ? 'changed' : 'unchanged'}`, () => {
      const reason = fingerprintChange(base, { ...base, ...change });
      if (expected) assert.match(reason ?? '', expected);
      else assert.equal(reason, undefined);
    });
  }

  it('fingerprints a real file and refuses missing files and folders', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rt-fp-'));
    try {
      const file = path.join(dir, 'x.bin');
      await writeFile(file, 'hello');
      const fp = await fingerprintFile(file);
      assert.deepEqual(fp, { path: file, size: 5, mtimeMs: (await stat(file)).mtimeMs });
      await assert.rejects(fingerprintFile(path.join(dir, 'missing')), (e: TransferError) => e.code === 'ERR_FILE_SYSTEM' && /missing/.test(e.message));
      await assert.rejects(fingerprintFile(dir), (e: TransferError) => e.code === 'ERR_FILE_SYSTEM' && /not a regular file/.test(e.message));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('new upload records', () => {
  const fingerprint: UploadFingerprint = { path: '/data/a.bin', size: 100, mtimeMs: 1 };

  it('auto leaves the protocol to detection', () => {
    const record = newUploadRecord({ id: 'x', url: 'http://127.0.0.1/files/', fingerprint, protocol: 'auto', now: 5 });
    assert.equal(record.protocol, undefined);
    assert.equal(record.resumable, undefined);
    assert.equal(record.source, '/data/a.bin');
    assert.equal(record.length, 100);
    assert.equal(record.offset, 0);
    assert.ok(validateRecord(record).ok);
  });

  it('a forced protocol is recorded; plain PUT is marked not resumable', () => {
    assert.equal(newUploadRecord({ id: 'x', url: 'http://h/', fingerprint, protocol: 'tus', now: 1 }).resumable, true);
    const plain = newUploadRecord({ id: 'x', url: 'http://h/', fingerprint, protocol: 'put', now: 1 });
    assert.equal(plain.protocol, 'put');
    assert.equal(plain.resumable, false);
  });

  it('validation refuses malformed upload flags', () => {
    const record = newUploadRecord({ id: 'x', url: 'http://h/', fingerprint, now: 1 });
    assert.equal(validateRecord({ ...record, resumable: 'yes' }).ok, false);
    assert.equal(validateRecord({ ...record, restartCode: 7 }).ok, false);
    assert.equal(validateRecord({ ...record, restartReason: 'the file changed', restartCode: 'ERR_FILE_CHANGED' }).ok, true);
  });
});
