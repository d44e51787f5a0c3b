import * as assert from 'node:assert/strict';
import {
  RECORD_SCHEMA_VERSION,
  TRANSFER_STATES,
  downloadedBytes,
  initialSegments,
  reconcileWithPartSize,
  totalBytes,
  transferredBytes,
  validateRecord,
  type DownloadRecord,
  type Segment,
  type UploadRecord,
} from '../../src/core/state/record';

const SHA = 'a'.repeat(64);

function download(overrides: Partial<DownloadRecord> = {}): DownloadRecord {
  return {
    schemaVersion: RECORD_SCHEMA_VERSION,
    id: 'd1',
    kind: 'download',
    state: 'paused',
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_001_000,
    url: 'https://example.com/file.bin',
    finalUrl: 'https://cdn.example.com/file.bin',
    targetDir: 'downloads',
    target: 'downloads/file.bin',
    targetFixed: true,
    length: 1_000,
    etag: '"abc"',
    lastModified: 'Wed, 21 Oct 2015 07:28:00 GMT',
    date: 'Wed, 21 Oct 2015 08:28:00 GMT',
    acceptRanges: true,
    contentType: 'application/octet-stream',
    segments: [
      { start: 0, end: 500, done: 500 },
      { start: 500, end: 1_000, done: 120 },
    ],
    sha256: SHA,
    connections: 2,
    lease: { owner: 'window-1', expiresAt: 1_700_000_060_000 },
    lastError: { code: 'ERR_NETWORK', message: 'socket hang up' },
    restartReason: 'the server ignored the range',
    ...overrides,
  };
}

function upload(overrides: Partial<UploadRecord> = {}): UploadRecord {
  return {
    schemaVersion: RECORD_SCHEMA_VERSION,
    id: 'u1',
    kind: 'upload',
    state: 'running',
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    url: 'https://tus.example.com/files/',
    uploadUrl: 'https://tus.example.com/files/abc123',
    protocol: 'tus',
    source: 'data/video.mp4',
    fingerprint: { path: 'data/video.mp4', size: 5_000, mtimeMs: 1_699_999_999_123.5 },
    offset: 2_000,
    length: 5_000,
    expiresAt: 1_700_086_400_000,
    chunkSize: 1_048_576,
    ...overrides,
  };
}

/** A copy of `record` with `key` removed. */
function without<T extends object>(record: T, key: keyof T): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...(record as Record<string, unknown>) };
  delete copy[key as string];
  return copy;
}

describe('validateRecord', () => {
  describe('accepts', () => {
    const valid: Array<{ title: string; value: unknown }> = [
      { title: 'a full download record', value: download() },
      { title: 'a minimal download record', value: { schemaVersion: 1, id: 'x', kind: 'download', state: 'queued', createdAt: 0, updatedAt: 0, url: 'http://example.com/', targetDir: 'd', segments: [{ start: 0, done: 0 }] } },
      { title: 'a download of unknown length with an open segment', value: download({ length: undefined, segments: [{ start: 0, done: 12_345 }] }) },
      { title: 'a completed download', value: download({ state: 'completed', segments: [{ start: 0, end: 1_000, done: 1_000 }] }) },
      { title: 'an empty file', value: download({ length: 0, segments: [{ start: 0, end: 0, done: 0 }] }) },
      { title: 'segments that touch', value: download({ segments: [{ start: 0, end: 1, done: 1 }, { start: 1, end: 2, done: 0 }, { start: 2, end: 1_000, done: 998 }] }) },
      { title: 'unknown extra fields', value: { ...download(), futureField: { nested: true } } },
      { title: 'a full upload record', value: upload() },
      { title: 'an upload that has not started', value: upload({ offset: 0, uploadUrl: undefined, protocol: undefined }) },
      { title: 'a finished upload', value: upload({ offset: 5_000, state: 'completed' }) },
      ...TRANSFER_STATES.map((state) => ({ title: `state ${state}`, value: download({ state }) })),
    ];
    for (const { title, value } of valid) {
      it(title, () => {
        const result = validateRecord(value);
        assert.deepEqual(result, { ok: true, value });
      });
    }

    it('keeps unknown extra fields in the value', () => {
      const result = validateRecord({ ...upload(), extra: 42 });
      assert.ok(result.ok);
      assert.equal((result.value as unknown as { extra: number }).extra, 42);
    });
  });

  describe('rejects', () => {
    const invalid: Array<{ title: string; value: unknown }> = [
      // Not a record at all
      { title: 'undefined', value: undefined },
      { title: 'null', value: null },
      { title: 'a string', value: 'record' },
      { title: 'an array', value: [download()] },

      // Base fields
      { title: 'wrong schemaVersion 2', value: { ...download(), schemaVersion: 2 } },
      { title: 'wrong schemaVersion 0', value: { ...download(), schemaVersion: 0 } },
      { title: 'schemaVersion as a string', value: { ...download(), schemaVersion: '1' } },
      { title: 'missing schemaVersion', value: without(download(), 'schemaVersion') },
      { title: 'missing id', value: without(download(), 'id') },
      { title: 'empty id', value: download({ id: '' }) },
      { title: 'numeric id', value: { ...download(), id: 7 } },
      { title: 'unknown state', value: { ...download(), state: 'downloading' } },
      { title: 'missing state', value: without(download(), 'state') },
      { title: 'unknown kind', value: { ...download(), kind: 'sync' } },
      { title: 'missing kind', value: without(download(), 'kind') },
      { title: 'missing createdAt', value: without(download(), 'createdAt') },
      { title: 'negative createdAt', value: download({ createdAt: -1 }) },
      { title: 'fractional updatedAt', value: download({ updatedAt: 1.5 }) },
      { title: 'NaN updatedAt', value: download({ updatedAt: Number.NaN }) },
      { title: 'lastError without message', value: { ...download(), lastError: { code: 'ERR_NETWORK' } } },
      { title: 'lastError as a string', value: { ...download(), lastError: 'boom' } },
      { title: 'lease without owner', value: { ...download(), lease: { expiresAt: 1 } } },
      { title: 'lease with negative expiry', value: download({ lease: { owner: 'w', expiresAt: -5 } }) },
      { title: 'lease with fractional expiry', value: download({ lease: { owner: 'w', expiresAt: 1.5 } }) },
      { title: 'lease with numeric owner', value: { ...download(), lease: { owner: 1, expiresAt: 1 } } },
      { title: 'lease as a string', value: { ...download(), lease: 'w' } },

      // URL
      { title: 'missing url', value: without(download(), 'url') },
      { title: 'empty url', value: download({ url: '' }) },
      { title: 'ftp url', value: download({ url: 'ftp://example.com/file.bin' }) },
      { title: 'file url', value: download({ url: 'file:///tmp/file.bin' }) },
      { title: 'javascript url', value: download({ url: 'javascript:alert(1)' }) },
      { title: 'data url', value: download({ url: 'data:text/plain,hello' }) },
      { title: 'not a url', value: download({ url: 'example.com/file.bin' }) },

      // Download fields
      { title: 'missing targetDir', value: without(download(), 'targetDir') },
      { title: 'negative generation', value: { ...download(), generation: -1 } },
      { title: 'partFile without inode', value: { ...download(), partFile: { generation: 0, birthtimeMs: 1 } } },
      { title: 'partFile as a string', value: { ...download(), partFile: 'x.part' } },
      { title: 'empty target', value: download({ target: '' }) },
      { title: 'negative length', value: download({ length: -1, segments: [{ start: 0, done: 0 }] }) },
      { title: 'fractional length', value: download({ length: 999.5 }) },
      { title: 'length as a string', value: { ...download(), length: '1000' } },
      { title: 'etag as a number', value: { ...download(), etag: 5 } },
      { title: 'acceptRanges as a string', value: { ...download(), acceptRanges: 'bytes' } },
      { title: 'targetFixed as a number', value: { ...download(), targetFixed: 1 } },
      { title: 'sha256 too short', value: download({ sha256: 'a'.repeat(63) }) },
      { title: 'sha256 too long', value: download({ sha256: 'a'.repeat(65) }) },
      { title: 'sha256 upper case', value: download({ sha256: 'A'.repeat(64) }) },
      { title: 'sha256 not hex', value: download({ sha256: 'g'.repeat(64) }) },
      { title: 'negative connections', value: download({ connections: -1 }) },
      { title: 'fractional connections', value: download({ connections: 1.5 }) },

      // Segments
      { title: 'missing segments', value: without(download(), 'segments') },
      { title: 'no segments', value: download({ segments: [] }) },
      { title: 'segment not an object', value: { ...download(), segments: [5] } },
      { title: 'segment without done', value: { ...download(), segments: [{ start: 0, end: 1_000 }] } },
      { title: 'segment with negative start', value: download({ segments: [{ start: -1, end: 1_000, done: 0 }] }) },
      { title: 'segment with negative done', value: download({ segments: [{ start: 0, end: 1_000, done: -1 }] }) },
      { title: 'segment with fractional done', value: download({ segments: [{ start: 0, end: 1_000, done: 0.5 }] }) },
      { title: 'segment with fractional end', value: download({ segments: [{ start: 0, end: 999.5, done: 0 }] }) },
      { title: 'segment ends before it starts', value: download({ segments: [{ start: 10, end: 5, done: 0 }] }) },
      // A gap is bytes nobody fetches: the part file would read back zeros there.
      { title: 'segments with a gap between them', value: download({ segments: [{ start: 0, end: 100, done: 10 }, { start: 500, end: 1_000, done: 0 }] }) },
      { title: 'segments that stop before the length', value: download({ segments: [{ start: 0, end: 500, done: 10 }] }) },
      { title: 'segments that do not start at byte 0', value: download({ segments: [{ start: 10, end: 1_000, done: 0 }] }) },
      { title: 'segments overlapping', value: download({ segments: [{ start: 0, end: 600, done: 0 }, { start: 500, end: 1_000, done: 0 }] }) },
      { title: 'segments out of order', value: download({ segments: [{ start: 500, end: 1_000, done: 0 }, { start: 0, end: 500, done: 0 }] }) },
      { title: 'segment done > its range', value: download({ segments: [{ start: 0, end: 500, done: 501 }, { start: 500, end: 1_000, done: 0 }] }) },
      { title: 'later segment done > its range', value: download({ segments: [{ start: 0, end: 500, done: 0 }, { start: 500, end: 1_000, done: 501 }] }) },
      { title: 'segment past length', value: download({ segments: [{ start: 0, end: 1_001, done: 0 }] }) },
      { title: 'open segment with known length', value: download({ segments: [{ start: 0, done: 10 }] }) },
      { title: 'open segment then more segments when the length is unknown', value: download({ length: undefined, segments: [{ start: 0, done: 100 }, { start: 50, end: 60, done: 0 }] }) },

      // Upload fields
      { title: 'upload offset > length', value: upload({ offset: 5_001 }) },
      { title: 'upload negative offset', value: upload({ offset: -1 }) },
      { title: 'upload fractional offset', value: upload({ offset: 1.5 }) },
      { title: 'upload negative length', value: upload({ offset: 0, length: -1 }) },
      { title: 'upload missing source', value: without(upload(), 'source') },
      { title: 'upload missing fingerprint', value: without(upload(), 'fingerprint') },
      { title: 'upload fingerprint with negative size', value: upload({ fingerprint: { path: 'a', size: -1, mtimeMs: 0 } }) },
      { title: 'upload fingerprint without mtime', value: { ...upload(), fingerprint: { path: 'a', size: 1 } } },
      { title: 'upload non-http uploadUrl', value: upload({ uploadUrl: 'ftp://tus.example.com/x' }) },
      { title: 'upload negative chunkSize', value: upload({ chunkSize: -1 }) },
      { title: 'upload fractional expiresAt', value: upload({ expiresAt: 0.5 }) },
    ];
    for (const { title, value } of invalid) {
      it(title, () => {
        const result = validateRecord(value);
        assert.equal(result.ok, false);
        if (!result.ok) assert.ok(result.reason.length > 0, 'a reason is given');
      });
    }
  });

  it('names the problem in the reason', () => {
    const cases: Array<{ value: unknown; pattern: RegExp }> = [
      { value: { ...download(), schemaVersion: 2 }, pattern: /schemaVersion/ },
      { value: download({ id: '' }), pattern: /id/ },
      { value: { ...download(), state: 'nope' }, pattern: /state/ },
      { value: download({ url: 'ftp://x/' }), pattern: /url/ },
      { value: download({ sha256: 'xyz' }), pattern: /sha256/ },
      { value: download({ segments: [{ start: 0, end: 600, done: 0 }, { start: 500, end: 1_000, done: 0 }] }), pattern: /overlap/ },
      { value: upload({ offset: 6_000 }), pattern: /offset/ },
    ];
    for (const { value, pattern } of cases) {
      const result = validateRecord(value);
      assert.ok(!result.ok && pattern.test(result.reason), `${JSON.stringify(result)} should match ${pattern}`);
    }
  });
});

describe('reconcileWithPartSize', () => {
  const cases: Array<{ title: string; segments: Segment[]; partSize: number; expected: number[]; length?: number; keepUnclaimed?: boolean }> = [
    { title: 'keepUnclaimed: one segment behind the disk takes the file\'s bytes', segments: [{ start: 0, end: 1_000, done: 300 }], partSize: 500, expected: [500], keepUnclaimed: true },
    { title: 'keepUnclaimed: never past the segment end', segments: [{ start: 0, end: 1_000, done: 300 }], partSize: 1_200, expected: [1_000], keepUnclaimed: true },
    { title: 'keepUnclaimed: open segment takes the file size', segments: [{ start: 0, done: 10 }], partSize: 4_096, expected: [4_096], length: undefined, keepUnclaimed: true },
    {
      title: 'keepUnclaimed: several segments never take unclaimed bytes (a sparse file proves nothing)',
      segments: [
        { start: 0, end: 500, done: 10 },
        { start: 500, end: 1_000, done: 100 },
      ],
      partSize: 1_000,
      expected: [10, 100],
      keepUnclaimed: true,
    },
    { title: 'record ahead of disk is cut back', segments: [{ start: 0, end: 1_000, done: 800 }], partSize: 500, expected: [500] },
    { title: 'record behind disk is kept', segments: [{ start: 0, end: 1_000, done: 300 }], partSize: 500, expected: [300] },
    { title: 'record equal to disk is kept', segments: [{ start: 0, end: 1_000, done: 500 }], partSize: 500, expected: [500] },
    { title: 'empty part file', segments: [{ start: 0, end: 1_000, done: 800 }], partSize: 0, expected: [0] },
    { title: 'open segment ahead of disk', segments: [{ start: 0, done: 9_000 }], partSize: 4_096, expected: [4_096], length: undefined },
    {
      title: 'multi-segment: the segment holding the end of the file is cut, later ones drop to 0',
      segments: [
        { start: 0, end: 400, done: 400 },
        { start: 400, end: 700, done: 250 },
        { start: 700, end: 1_000, done: 100 },
      ],
      partSize: 500,
      expected: [400, 100, 0],
    },
    {
      title: 'multi-segment: all within the file are kept',
      segments: [
        { start: 0, end: 400, done: 50 },
        { start: 400, end: 700, done: 250 },
        { start: 700, end: 1_000, done: 100 },
      ],
      partSize: 1_000,
      expected: [50, 250, 100],
    },
    {
      title: 'multi-segment: earlier segment behind, last segment ahead',
      segments: [
        { start: 0, end: 500, done: 10 },
        { start: 500, end: 1_000, done: 400 },
      ],
      partSize: 800,
      expected: [10, 300],
    },
  ];
  for (const testCase of cases) {
    const { title, segments, partSize, expected, keepUnclaimed } = testCase;
    it(`${title}`, () => {
      const record = download({ segments, length: 'length' in testCase ? testCase.length : 1_000 });
      const before = JSON.stringify(record);
      const reconciled = reconcileWithPartSize(record, partSize, keepUnclaimed);
      assert.deepEqual(reconciled.segments.map((s) => s.done), expected);
      // Starts and ends never move; other fields are carried over.
      assert.deepEqual(reconciled.segments.map((s) => [s.start, s.end]), segments.map((s) => [s.start, s.end]));
      assert.deepEqual({ ...reconciled, segments: [] }, { ...record, segments: [] });
      // No segment claims bytes the file does not hold.
      for (const segment of reconciled.segments) assert.ok(segment.done === 0 || segment.start + segment.done <= partSize);
      // The input is untouched.
      assert.equal(JSON.stringify(record), before);
      assert.notEqual(reconciled, record);
      // A reconciled record is still a valid record.
      assert.equal(validateRecord(reconciled).ok, true);
    });
  }
});

describe('downloadedBytes / transferredBytes / totalBytes', () => {
  const cases: Array<{ segments: Segment[]; expected: number }> = [
    { segments: [{ start: 0, done: 0 }], expected: 0 },
    { segments: [{ start: 0, end: 1_000, done: 1_000 }], expected: 1_000 },
    { segments: [{ start: 0, end: 500, done: 500 }, { start: 500, end: 1_000, done: 120 }], expected: 620 },
    { segments: [{ start: 0, end: 300, done: 7 }, { start: 300, end: 600, done: 0 }, { start: 600, end: 1_000, done: 11 }], expected: 18 },
  ];
  for (const { segments, expected } of cases) {
    it(`${JSON.stringify(segments.map((s) => s.done))} → ${expected}`, () => {
      const record = download({ segments });
      assert.equal(downloadedBytes(record), expected);
      assert.equal(transferredBytes(record), expected);
    });
  }

  it('an upload counts its confirmed offset', () => {
    assert.equal(transferredBytes(upload({ offset: 1_234 })), 1_234);
    assert.equal(totalBytes(upload({ length: 5_000 })), 5_000);
    assert.equal(totalBytes(download({ length: 1_000 })), 1_000);
    assert.equal(totalBytes(download({ length: undefined })), undefined);
  });
});

describe('initialSegments', () => {
  it('is one segment from 0 with nothing done', () => {
    assert.deepEqual(initialSegments(1_000), [{ start: 0, end: 1_000, done: 0 }]);
    assert.deepEqual(initialSegments(undefined), [{ start: 0, end: undefined, done: 0 }]);
  });
});
