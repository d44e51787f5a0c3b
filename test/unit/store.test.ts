import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RECORD_SCHEMA_VERSION, type DownloadRecord, type TransferRecord, type UploadRecord } from '../../src/core/state/record';
import { JsonFileTransferStore, MemoryTransferStore, partitionRecords, type TransferStore } from '../../src/core/state/store';

function download(id: string, done = 0): DownloadRecord {
  return {
    schemaVersion: RECORD_SCHEMA_VERSION,
    id,
    kind: 'download',
    state: 'paused',
    createdAt: 1_000,
    updatedAt: 2_000,
    url: `https://example.com/${id}.bin`,
    targetDir: 'downloads',
    length: 1_000,
    segments: [{ start: 0, end: 1_000, done }],
  };
}

function upload(id: string): UploadRecord {
  return {
    schemaVersion: RECORD_SCHEMA_VERSION,
    id,
    kind: 'upload',
    state: 'queued',
    createdAt: 1_000,
    updatedAt: 1_000,
    url: 'https://tus.example.com/files/',
    source: 'video.mp4',
    fingerprint: { path: 'video.mp4', size: 10, mtimeMs: 5 },
    offset: 0,
    length: 10,
  };
}

const byId = (records: TransferRecord[]): TransferRecord[] => [...records].sort((a, b) => a.id.localeCompare(b.id));

let tempRoot: string;
before(async () => {
  tempRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'rt-store-test-'));
});
after(async () => {
  await fs.rm(tempRoot, { recursive: true, force: true });
});

let dirCounter = 0;
async function freshDir(): Promise<string> {
  dirCounter += 1;
  const dir = path.join(tempRoot, `case-${dirCounter}`);
  await fs.mkdir(dir);
  return dir;
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

const implementations: Array<{ name: string; create: () => Promise<TransferStore> }> = [
  { name: 'MemoryTransferStore', create: async () => new MemoryTransferStore() },
  { name: 'JsonFileTransferStore', create: async () => new JsonFileTransferStore(path.join(await freshDir(), 'transfers.json')) },
];

for (const { name, create } of implementations) {
  describe(`${name} (shared behaviour)`, () => {
    it('starts empty', async () => {
      const store = await create();
      assert.deepEqual(await store.list(), []);
      assert.equal(await store.get('nope'), undefined);
    });

    it('put / get / list / delete round trip', async () => {
      const store = await create();
      const a = download('a', 10);
      const b = upload('b');
      await store.put(a);
      await store.put(b);
      assert.deepEqual(await store.get('a'), a);
      assert.deepEqual(await store.get('b'), b);
      assert.deepEqual(byId(await store.list()), [a, b]);

      await store.delete('a');
      assert.equal(await store.get('a'), undefined);
      assert.deepEqual(await store.list(), [b]);

      await store.delete('b');
      assert.deepEqual(await store.list(), []);
    });

    it('put replaces the record with the same id', async () => {
      const store = await create();
      await store.put(download('a', 10));
      await store.put(download('a', 700));
      const list = await store.list();
      assert.equal(list.length, 1);
      assert.deepEqual(await store.get('a'), download('a', 700));
    });

    it('deleting an unknown id is harmless', async () => {
      const store = await create();
      await store.delete('ghost');
      await store.put(download('a'));
      await store.delete('ghost');
      assert.deepEqual(await store.list(), [download('a')]);
    });

    it('stores a copy: changing the object after put does not change the store', async () => {
      const store = await create();
      const record = download('a', 10);
      await store.put(record);
      record.segments[0].done = 999;
      record.state = 'failed';
      assert.deepEqual(await store.get('a'), download('a', 10));
    });

    it('get returns a copy: changing it does not change the store', async () => {
      const store = await create();
      await store.put(download('a', 10));
      const got = (await store.get('a')) as DownloadRecord;
      got.segments[0].done = 999;
      got.state = 'failed';
      assert.deepEqual(await store.get('a'), download('a', 10));
    });

    it('list returns copies: changing them does not change the store', async () => {
      const store = await create();
      await store.put(download('a', 10));
      const [listed] = (await store.list()) as DownloadRecord[];
      listed.segments[0].done = 999;
      listed.state = 'failed';
      assert.deepEqual(await store.get('a'), download('a', 10));
      assert.deepEqual(await store.list(), [download('a', 10)]);
    });

    it('concurrent put() calls from one instance all land', async () => {
      const store = await create();
      const records = Array.from({ length: 20 }, (_, i) => download(`r${String(i).padStart(2, '0')}`, i));
      await Promise.all(records.map((record) => store.put(record)));
      assert.deepEqual(byId(await store.list()), records);
    });

    it('concurrent puts and deletes are applied in call order', async () => {
      const store = await create();
      await Promise.all([
        store.put(download('a', 1)),
        store.put(download('b', 2)),
        store.delete('a'),
        store.put(download('c', 3)),
        store.put(download('b', 20)),
      ]);
      assert.deepEqual(byId(await store.list()), [download('b', 20), download('c', 3)]);
    });
  });
}

describe('MemoryTransferStore', () => {
  it('an invalid stored value is skipped by list() and get() returns undefined', async () => {
    const store = new MemoryTransferStore();
    await store.put(download('good'));
    store.putRaw('bad', { ...download('bad'), schemaVersion: 99 });
    store.putRaw('junk', 'not a record');
    assert.deepEqual(await store.list(), [download('good')]);
    assert.equal(await store.get('bad'), undefined);
    assert.equal(await store.get('junk'), undefined);
    assert.deepEqual(await store.get('good'), download('good'));
  });
});

describe('partitionRecords', () => {
  it('splits valid records from invalid ones and says why', () => {
    const good = download('good');
    const badVersion = { ...download('v'), schemaVersion: 2 };
    const badSegments = { ...download('s'), segments: [{ start: 0, end: 10, done: 11 }] };
    const result = partitionRecords([
      ['good', good],
      ['v', badVersion],
      ['s', badSegments],
      ['n', null],
    ]);
    assert.deepEqual(result.records, [good]);
    assert.deepEqual(
      result.invalid.map(({ id, raw }) => ({ id, raw })),
      [
        { id: 'v', raw: badVersion },
        { id: 's', raw: badSegments },
        { id: 'n', raw: null },
      ],
    );
    for (const entry of result.invalid) assert.ok(entry.reason.length > 0, `reason for ${entry.id}`);
    assert.match(result.invalid[0].reason, /schemaVersion/);
  });

  it('empty input gives empty output', () => {
    assert.deepEqual(partitionRecords([]), { records: [], invalid: [] });
  });
});

describe('JsonFileTransferStore', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await freshDir();
    file = path.join(dir, 'transfers.json');
  });

  it('writes a JSON object keyed by id', async () => {
    const store = new JsonFileTransferStore(file);
    await store.put(download('a'));
    await store.put(upload('b'));
    const onDisk = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(onDisk, { a: download('a'), b: upload('b') });
  });

  it('a second instance reads what the first wrote', async () => {
    await new JsonFileTransferStore(file).put(download('a', 5));
    assert.deepEqual(await new JsonFileTransferStore(file).get('a'), download('a', 5));
  });

  it('creates missing parent folders', async () => {
    const nested = path.join(dir, 'x', 'y', 'transfers.json');
    const store = new JsonFileTransferStore(nested);
    await store.put(download('a'));
    assert.deepEqual(await new JsonFileTransferStore(nested).list(), [download('a')]);
  });

  const corrupt: Array<{ title: string; content: string }> = [
    { title: 'truncated JSON', content: '{"a": {"schemaVersion": 1, "id": "a"' },
    { title: 'not JSON', content: 'hello world' },
    { title: 'empty file', content: '' },
    { title: 'a JSON array', content: JSON.stringify([download('a')]) },
    { title: 'JSON null', content: 'null' },
    { title: 'a JSON number', content: '42' },
  ];
  for (const { title, content } of corrupt) {
    it(`${title} → list() is empty and get() undefined, without throwing`, async () => {
      await fs.writeFile(file, content);
      const store = new JsonFileTransferStore(file);
      assert.deepEqual(await store.list(), []);
      assert.equal(await store.get('a'), undefined);
      // And the store still works afterwards.
      await store.put(download('b'));
      assert.deepEqual(await store.list(), [download('b')]);
    });
  }

  it('an invalid record in the file is skipped by list() and get() returns undefined', async () => {
    const badSegments = { ...download('bad'), segments: [{ start: 0, end: 10, done: 50 }] };
    const oldVersion = { ...download('old'), schemaVersion: 0 };
    await fs.writeFile(file, JSON.stringify({ good: download('good'), bad: badSegments, old: oldVersion, junk: 7 }));
    const store = new JsonFileTransferStore(file);
    assert.deepEqual(await store.list(), [download('good')]);
    assert.equal(await store.get('bad'), undefined);
    assert.equal(await store.get('old'), undefined);
    assert.equal(await store.get('junk'), undefined);
    assert.deepEqual(await store.get('good'), download('good'));

    const raw = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
    const partitioned = partitionRecords(Object.entries(raw));
    assert.deepEqual(partitioned.records, [download('good')]);
    assert.deepEqual(partitioned.invalid.map((entry) => entry.id).sort(), ['bad', 'junk', 'old']);
  });

  it('the file is removed when the last record is deleted', async () => {
    const store = new JsonFileTransferStore(file);
    await store.put(download('a'));
    await store.put(download('b'));
    await store.delete('a');
    assert.equal(await exists(file), true, 'one record is left');
    await store.delete('b');
    assert.equal(await exists(file), false, 'no record left: no file');
    assert.deepEqual(await fs.readdir(dir), []);
  });

  it('the last delete also removes temporary files of writers that were killed before their rename', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const orphan = `${path.basename(file)}.${dead}.0badc0de.tmp`;
    const live = `${path.basename(file)}.${process.ppid}.0badc0de.tmp`;
    await fs.writeFile(path.join(dir, orphan), '{"a":');
    await fs.writeFile(path.join(dir, live), '{"b":');
    const store = new JsonFileTransferStore(file);
    await store.put(download('a'));
    await store.delete('a');
    assert.deepEqual(await fs.readdir(dir), [live], 'only the file of a writer that still runs stays');
  });

  it('writes are atomic: no temporary file is left behind', async () => {
    const store = new JsonFileTransferStore(file);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(download(`r${i}`, i))));
    await store.put(download('r0', 500));
    await store.delete('r1');
    assert.deepEqual(await fs.readdir(dir), ['transfers.json']);
  });

  it('a reader never sees a half-written file while writes are going on', async () => {
    const store = new JsonFileTransferStore(file);
    // Big records make a torn write likelier to be observed.
    const padded = (id: string, done: number): DownloadRecord => ({ ...download(id, done), contentType: 'x'.repeat(20_000) });
    await store.put(padded('seed', 0));
    let writing = true;
    const reads: Promise<number> = (async () => {
      let count = 0;
      while (writing) {
        const text = await fs.readFile(file, 'utf8');
        assert.doesNotThrow(() => JSON.parse(text), 'the file must always hold complete JSON');
        count += 1;
      }
      return count;
    })();
    await Promise.all(Array.from({ length: 30 }, (_, i) => store.put(padded(`r${i}`, i))));
    writing = false;
    assert.ok((await reads) > 0);
    assert.equal((await store.list()).length, 31);
  });

  it('a record deleted by another instance can be saved again', async () => {
    // Two CLI runs of the same command share one store file.
    const first = new JsonFileTransferStore(file);
    const second = new JsonFileTransferStore(file);
    await first.put(download('a', 10));
    await second.delete('a');
    assert.equal(await exists(file), false);
    await first.put(download('a', 10));
    assert.deepEqual(await second.get('a'), download('a', 10));
  });

  it('a file corrupted after a write is repaired by the next put of the same content', async () => {
    const store = new JsonFileTransferStore(file);
    await store.put(download('a', 10));
    await fs.writeFile(file, '{"a": trunc');
    await store.put(download('a', 10));
    assert.deepEqual(await new JsonFileTransferStore(file).list(), [download('a', 10)]);
  });
});
