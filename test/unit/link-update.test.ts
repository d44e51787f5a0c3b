import * as assert from 'node:assert/strict';
import {
  TransferError,
  compareLink,
  continueWithLink,
  newDownloadRecord,
  startOverWithLink,
  type DownloadRecord,
  type LinkProbe,
} from '../../src/core';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const LATER = 'Wed, 25 Nov 2026 10:00:05 GMT';
const MODIFIED = 'Wed, 25 Nov 2026 10:00:00 GMT';

function recorded(patch: Partial<DownloadRecord> = {}): DownloadRecord {
  return {
    ...newDownloadRecord({ id: 't', url: 'https://old.example/f.iso', targetDir: '/tmp', target: '/tmp/f.iso', now: 1 }),
    state: 'failed',
    finalUrl: 'https://old.example/f.iso',
    length: 1000,
    etag: '"e1"',
    segments: [{ start: 0, end: 1000, done: 400 }],
    generation: 2,
    partFile: { generation: 2, ino: 7, birthtimeMs: 1 },
    lastError: { code: 'ERR_HTTP_STATUS', message: '403', status: 403 },
    ...patch,
  };
}

function probe(patch: Partial<LinkProbe> = {}): LinkProbe {
  return {
    url: 'https://new.example/share/abc',
    finalUrl: 'https://cdn.example/f.iso?sig=1',
    length: 1000,
    etag: '"e1"',
    name: 'f.iso',
    acceptRanges: true,
    digests: [],
    contentType: 'application/octet-stream',
    ...patch,
  };
}

describe('Update Link: is the new link the same file?', () => {
  const cases: Array<[string, Partial<DownloadRecord>, Partial<LinkProbe>, string]> = [
    ['same length and the same strong ETag: same (validator)', {}, {}, 'same:validator'],
    ['same length and the same strong Last-Modified: same (validator)', { etag: undefined, lastModified: MODIFIED, date: LATER }, { etag: undefined, lastModified: MODIFIED, date: LATER }, 'same:validator'],
    ['the same Repr-Digest although the ETags differ (a mirror): same (digest)', { digests: [{ algorithm: 'sha256', hex: SHA_A, source: 'Repr-Digest' }] }, { etag: '"mirror"', digests: [{ algorithm: 'sha256', hex: SHA_A, source: 'Repr-Digest' }] }, 'same:digest'],
    ['a digest equal to the sha256 the user gave: same (digest)', { etag: undefined, sha256: SHA_A }, { etag: undefined, digests: [{ algorithm: 'sha256', hex: SHA_A, source: 'Digest' }] }, 'same:digest'],
    ['another length: different (length)', {}, { length: 999 }, 'different:length'],
    ['another strong ETag: different (validator)', {}, { etag: '"e2"' }, 'different:validator'],
    ['another digest, no ETag on the new link: different (digest)', { digests: [{ algorithm: 'sha256', hex: SHA_A, source: 'Repr-Digest' }] }, { etag: undefined, digests: [{ algorithm: 'sha256', hex: SHA_B, source: 'Repr-Digest' }] }, 'different:digest'],
    ['another digest with the same ETag: different (digest)', { digests: [{ algorithm: 'sha256', hex: SHA_A, source: 'Repr-Digest' }] }, { digests: [{ algorithm: 'sha256', hex: SHA_B, source: 'SHA256SUMS' }] }, 'different:digest'],
    ['the same digest but another length: different (length)', { digests: [{ algorithm: 'sha256', hex: SHA_A, source: 'Repr-Digest' }] }, { length: 5, digests: [{ algorithm: 'sha256', hex: SHA_A, source: 'Repr-Digest' }] }, 'different:length'],
    ['no validator on the new link: unknown', {}, { etag: undefined }, 'unknown'],
    ['only a weak ETag on both: unknown', { etag: 'W/"e1"' }, { etag: 'W/"e1"' }, 'unknown'],
    ['the old record has no length yet: unknown', { length: undefined }, {}, 'unknown'],
    ['the new link names no length: unknown', {}, { length: undefined }, 'unknown'],
    ['an ETag on one side, a date on the other: unknown', { etag: undefined, lastModified: MODIFIED, date: LATER }, {}, 'unknown'],
  ];
  for (const [name, record, link, expected] of cases) {
    it(name, () => {
      const result = compareLink(recorded(record), probe(link));
      const said = result.verdict === 'same' ? `same:${result.proof}` : result.verdict === 'different' ? `different:${result.differs.join(',')}` : 'unknown';
      assert.equal(said, expected);
    });
  }
});

describe('Update Link: applying the answer to the record', () => {
  it('continuing keeps the bytes and makes the new link the URL the user gave', () => {
    const record = recorded();
    const next = continueWithLink(record, compareLink(record, probe()));
    assert.equal(next.url, 'https://new.example/share/abc', 'a later refresh asks the new link');
    assert.equal(next.finalUrl, 'https://cdn.example/f.iso?sig=1');
    assert.deepEqual(next.segments, record.segments);
    assert.equal(next.generation, 2);
    assert.deepEqual(next.partFile, record.partFile);
    assert.equal(next.etag, '"e1"');
    assert.equal(next.lastError, undefined);
  });

  it("same by digest: the new server's validators take over (its If-Range must match)", () => {
    const digests = [{ algorithm: 'sha256' as const, hex: SHA_A, source: 'Repr-Digest' }];
    const record = recorded({ digests });
    const next = continueWithLink(record, compareLink(record, probe({ etag: '"mirror"', digests })));
    assert.equal(next.etag, '"mirror"');
  });

  it('unknown: no strong validator is kept, so the next request checks an overlap before appending', () => {
    const record = recorded({ etag: undefined });
    const next = continueWithLink(record, compareLink(record, probe({ etag: '"new-strong"', length: undefined, lastModified: MODIFIED, date: LATER })));
    assert.equal(next.etag, undefined, 'a strong ETag nobody compared would skip the overlap check');
    assert.equal(next.date, undefined, 'a Last-Modified without its Date is not strong');
    assert.equal(next.length, 1000, 'the recorded length still holds the new link to it');
    assert.deepEqual(next.segments, record.segments);
  });

  it('a different file is never continued', () => {
    const record = recorded();
    assert.throws(
      () => continueWithLink(record, compareLink(record, probe({ length: 5 }))),
      (error: unknown) => error instanceof TransferError && error.code === 'ERR_NOT_SAME_FILE' && /length/.test(error.message),
    );
  });

  it('starting over: a new generation, nothing of the old file counted, the name kept', () => {
    const record = recorded({ digests: [{ algorithm: 'sha256', hex: SHA_A, source: 'Repr-Digest' }] });
    const next = startOverWithLink(record, 'https://new.example/other', 'the user gave a new link');
    assert.equal(next.url, 'https://new.example/other');
    assert.equal(next.generation, 3);
    assert.deepEqual(next.segments.map((s) => [s.start, s.done]), [[0, 0]]);
    assert.equal(next.length, undefined);
    assert.equal(next.etag, undefined);
    assert.equal(next.digests, undefined);
    assert.equal(next.target, record.target);
    assert.equal(next.restartCode, 'ERR_NOT_SAME_FILE');
  });
});
