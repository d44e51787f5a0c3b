import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { adoptIfFound, evidencePaths } from '../../src/core/state/adoption';
import { loadOrCreateMachineId, machineLabel, otherMachineOf, whereIs, type MachineRef } from '../../src/core/state/machine';
import { RECORD_SCHEMA_VERSION, salvageDownload, validateRecord, type DownloadRecord, type UploadRecord } from '../../src/core/state/record';

const LAPTOP: MachineRef = { id: 'laptop-0000-1111', label: 'laptop' };
const BOX: MachineRef = { id: 'box-2222-3333', label: 'build-box (SSH)' };

function download(extra: Partial<DownloadRecord> = {}): DownloadRecord {
  return {
    schemaVersion: RECORD_SCHEMA_VERSION,
    id: 'd1',
    kind: 'download',
    state: 'paused',
    createdAt: 1,
    updatedAt: 2,
    url: 'https://example.com/model.bin',
    targetDir: '/home/me/data',
    target: '/home/me/data/model.bin',
    segments: [{ start: 0, done: 0 }],
    ...extra,
  };
}

function upload(extra: Partial<UploadRecord> = {}): UploadRecord {
  return {
    schemaVersion: RECORD_SCHEMA_VERSION,
    id: 'u1',
    kind: 'upload',
    state: 'paused',
    createdAt: 1,
    updatedAt: 2,
    url: 'https://tus.example.com/files/',
    source: '/home/me/video.mp4',
    fingerprint: { path: '/home/me/video.mp4', size: 10, mtimeMs: 5 },
    offset: 0,
    length: 10,
    ...extra,
  };
}

describe('machine identity', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'rt-machine-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates an id on first use and every later window of the machine reads the same one', () => {
    const storage = path.join(dir, 'globalStorage', 'ext');
    const first = loadOrCreateMachineId(storage);
    assert.match(first, /^[\w-]{8,}$/);
    assert.equal(loadOrCreateMachineId(storage), first);
    assert.equal(readFileSync(path.join(storage, 'machine-id'), 'utf8'), first);
  });

  it('another machine (another global storage) gets another id', () => {
    assert.notEqual(loadOrCreateMachineId(path.join(dir, 'a')), loadOrCreateMachineId(path.join(dir, 'b')));
  });

  it('replaces an unreadable id file with a fresh id', () => {
    writeFileSync(path.join(dir, 'machine-id'), '../../etc');
    const id = loadOrCreateMachineId(dir);
    assert.match(id, /^[\w-]{8,}$/);
    assert.equal(loadOrCreateMachineId(dir), id);
  });

  for (const [remoteName, host, expected] of [
    [undefined, 'laptop', 'laptop'],
    ['ssh-remote', 'build-box', 'build-box (SSH)'],
    ['wsl', 'DESKTOP-1', 'DESKTOP-1 (WSL)'],
    ['dev-container', '3f2a9c', '3f2a9c (Dev Container)'],
    ['codespaces', 'codespaces-abc', 'codespaces-abc (Codespaces)'],
    ['tunnel', 'pi', 'pi (Tunnel)'],
    ['some-new-remote', 'h', 'h (some-new-remote)'],
    ['ssh-remote', '  ', 'localhost (SSH)'],
    ['127.0.0.1:8080', 'vm', 'vm'],
  ] as const) {
    it(`labels ${remoteName ?? 'a local window'} on ${JSON.stringify(host)} as ${JSON.stringify(expected)}`, () => {
      assert.equal(machineLabel(remoteName, host), expected);
    });
  }
});

describe('whereabouts of a record', () => {
  it('is here for this machine, other for another machine, unknown for a record saved before machines', () => {
    assert.equal(whereIs(download({ machine: LAPTOP }), LAPTOP), 'here');
    assert.equal(whereIs(download({ machine: BOX }), LAPTOP), 'other');
    assert.equal(whereIs(download(), LAPTOP), 'unknown');
    assert.equal(whereIs(upload({ machine: BOX }), BOX), 'here');
  });

  it('a record naming its machine validates; a malformed machine does not', () => {
    assert.ok(validateRecord(download({ machine: BOX })).ok);
    assert.ok(validateRecord(upload({ machine: BOX })).ok);
    const bad = validateRecord({ ...download(), machine: { label: 'x' } });
    assert.deepEqual(bad, { ok: false, reason: 'machine malformed' });
  });

  it("names the other machine of a stored value it cannot validate, so that nobody salvages or deletes it here", () => {
    const newer = { schemaVersion: 2, id: 'x', whatever: true, machine: { id: BOX.id, label: BOX.label } };
    assert.deepEqual(otherMachineOf(newer, LAPTOP), BOX);
    assert.equal(otherMachineOf(newer, BOX), undefined, 'its own machine may salvage it');
    assert.equal(otherMachineOf({ schemaVersion: 2 }, LAPTOP), undefined, 'no machine: nobody knows');
    assert.equal(otherMachineOf({ machine: { id: '' } }, LAPTOP), undefined);
    assert.equal(otherMachineOf('garbage', LAPTOP), undefined);
    assert.deepEqual(otherMachineOf({ machine: { id: 'abc' } }, LAPTOP), { id: 'abc', label: 'abc' });
  });

  it('a record salvaged after failing validation still belongs to its machine', () => {
    const salvaged = salvageDownload('d1', { ...download({ machine: BOX }), segments: 'garbage' }, 'segments missing', 10);
    assert.deepEqual(salvaged?.machine, BOX);
    assert.equal(salvageDownload('d2', { ...download(), segments: 'garbage' }, 'segments missing', 10)?.machine, undefined);
  });
});

describe('adoption of records saved without a machine', () => {
  it('looks for the .part file first, then the final file, then the target folder; an upload for its source', () => {
    assert.deepEqual(evidencePaths(download()), ['/home/me/data/model.bin.part', '/home/me/data/model.bin', '/home/me/data']);
    assert.deepEqual(evidencePaths(download({ target: undefined })), ['/home/me/data']);
    assert.deepEqual(evidencePaths(upload()), ['/home/me/video.mp4']);
  });

  it('the machine that holds the .part file adopts the record', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rt-adopt-'));
    try {
      const target = path.join(dir, 'model.bin');
      writeFileSync(`${target}.part`, 'x');
      const adopted = await adoptIfFound(download({ targetDir: path.join(dir, 'elsewhere'), target }), LAPTOP);
      assert.deepEqual(adopted?.machine, LAPTOP);
      assert.equal((adopted as DownloadRecord | undefined)?.target, target, 'nothing else changes');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the machine that has the target folder adopts a download that has no file yet', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rt-adopt-'));
    try {
      mkdirSync(path.join(dir, 'data'));
      const adopted = await adoptIfFound(download({ targetDir: path.join(dir, 'data'), target: undefined }), BOX);
      assert.deepEqual(adopted?.machine, BOX);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a machine without the bytes or the folder does not adopt, and creates nothing while looking', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rt-adopt-'));
    try {
      const targetDir = path.join(dir, 'home', 'me', 'data');
      assert.equal(await adoptIfFound(download({ targetDir, target: path.join(targetDir, 'model.bin') }), LAPTOP), undefined);
      assert.equal(await adoptIfFound(upload({ source: path.join(dir, 'video.mp4') }), LAPTOP), undefined);
      assert.equal(existsSync(path.join(dir, 'home')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('asks about the strongest evidence first and stops at the first found', async () => {
    const asked: string[] = [];
    const adopted = await adoptIfFound(download(), BOX, async (file) => {
      asked.push(file);
      return file.endsWith('.part');
    });
    assert.deepEqual(asked, ['/home/me/data/model.bin.part']);
    assert.deepEqual(adopted?.machine, BOX);
  });
});
