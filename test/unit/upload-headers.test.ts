import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  IETF_INTEROP_VERSION,
  IETF_VERSIONS,
  IetfUploader,
  PUT_RANGE_CHUNK,
  PutRangeUploader,
  TUS_CHECKSUM_CHUNK,
  TusUploader,
  acceptsPartialUpload,
  allowsMethod,
  announcesDav,
  contentDispositionFor,
  decodeUploadMetadata,
  encodeUploadMetadata,
  formatPutContentRange,
  formatSfBoolean,
  formatUploadChecksum,
  isOurUploadResumption,
  mergeLimits,
  parseSfBoolean,
  parseSfCount,
  parseSfDictionary,
  parseTokenList,
  parseUploadExpires,
  parseUploadLimit,
  resolveLocation,
} from '../../src/core';

const headers = (values: Record<string, string>) => ({ get: (name: string) => values[name.toLowerCase()] ?? null });

describe('upload headers', () => {
  describe('tus Upload-Metadata', () => {
    it('encodes values as base64 of UTF-8, keys as they are', () => {
      assert.equal(encodeUploadMetadata({ filename: 'world_domination_plan.pdf' }), 'filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==');
      const name = 'résumé 📄, final.pdf';
      const encoded = encodeUploadMetadata({ filename: name, filetype: 'application/pdf' });
      assert.equal(encoded.split(',').length, 2, 'a comma in a value never splits a pair');
      assert.deepEqual(decodeUploadMetadata(encoded), { filename: name, filetype: 'application/pdf' });
    });

    it('writes an empty value as the bare key and skips undefined ones', () => {
      assert.equal(encodeUploadMetadata({ is_confidential: '', skipped: undefined }), 'is_confidential');
    });

    for (const key of ['has space', 'com,ma', '', 'ünï']) {
      it(`rejects the key ${JSON.stringify(key)}`, () => {
        assert.throws(() => encodeUploadMetadata({ [key]: 'x' }));
      });
    }
  });

  it('parses token lists case-insensitively', () => {
    assert.deepEqual(parseTokenList('creation, Termination ,checksum,,'), ['creation', 'termination', 'checksum']);
    assert.deepEqual(parseTokenList(null), []);
  });

  it('formats Upload-Checksum as "sha1 <base64>"', () => {
    const digest = createHash('sha1').update('abc').digest();
    assert.equal(formatUploadChecksum('sha1', digest), 'sha1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0=');
  });

  it('reads Upload-Expires as an HTTP-date', () => {
    assert.equal(parseUploadExpires('Wed, 25 Jun 2014 16:00:00 GMT'), Date.UTC(2014, 5, 25, 16));
    assert.equal(parseUploadExpires('soon'), undefined);
    assert.equal(parseUploadExpires(null), undefined);
  });

  describe('structured-field booleans (Upload-Complete)', () => {
    const table: [string | null, boolean | undefined][] = [
      ['?1', true],
      ['?0', false],
      [' ?1 ', true],
      ['?1;foo=bar', true],
      ['?0;a', false],
      ['1', undefined],
      ['true', undefined],
      ['?2', undefined],
      ['??1', undefined],
      ['', undefined],
      [null, undefined],
    ];
    for (const [input, expected] of table) {
      it(`${JSON.stringify(input)} → ${String(expected)}`, () => assert.equal(parseSfBoolean(input), expected));
    }
    it('formats both values', () => {
      assert.equal(formatSfBoolean(true), '?1');
      assert.equal(formatSfBoolean(false), '?0');
    });
  });

  describe('structured-field counts (Upload-Offset, Upload-Length)', () => {
    const table: [string | null, number | undefined][] = [
      ['0', 0],
      ['123456789', 123456789],
      ['42;x=1', 42],
      [' 7 ', 7],
      ['-1', undefined],
      ['1.5', undefined],
      ['1e3', undefined],
      ['9999999999999999', undefined],
      ['', undefined],
      [null, undefined],
    ];
    for (const [input, expected] of table) {
      it(`${JSON.stringify(input)} → ${String(expected)}`, () => assert.equal(parseSfCount(input), expected));
    }
  });

  describe('Upload-Limit', () => {
    const table: [string, object | undefined][] = [
      ['max-size=1000000', { maxSize: 1000000 }],
      [
        'max-size=1000, min-size=1, max-append-size=100, min-append-size=10, max-age=3600',
        { maxSize: 1000, minSize: 1, maxAppendSize: 100, minAppendSize: 10, maxAgeSeconds: 3600 },
      ],
      ['max-append-size=5;note="x", unknown-key=?1, other=tok', { maxAppendSize: 5 }],
      ['', {}],
      ['max-size="1000"', undefined],
      ['max-size=-1', undefined],
      ['max-size=1.5', undefined],
      ['max-size', undefined],
      ['max-size=1,', undefined],
      ['MAX-SIZE=1', undefined],
      ['max-size=(1 2)', undefined],
    ];
    for (const [input, expected] of table) {
      it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => assert.deepEqual(parseUploadLimit(input), expected));
    }
    it('absent header is undefined, not "no limits"', () => assert.equal(parseUploadLimit(null), undefined));
    it('keeps quoted commas inside one dictionary member', () => {
      assert.deepEqual([...(parseSfDictionary('a="x,y", b=2') ?? [])], [['a', 'x,y'], ['b', 2]]);
    });
    it('later limits win key by key', () => {
      assert.deepEqual(mergeLimits({ maxSize: 10, maxAppendSize: 5 }, { maxAppendSize: 7 }), { maxSize: 10, maxAppendSize: 7 });
      assert.deepEqual(mergeLimits({ maxSize: 10 }, undefined), { maxSize: 10 });
    });
  });

  describe('request sizes', () => {
    const table: [string, { chunk?: number; limits?: object }, number, number, number][] = [
      ['no limits: the whole rest', {}, 0, 1000, 1000],
      ['user chunk', { chunk: 100 }, 0, 1000, 100],
      ['max-append-size caps the user chunk', { chunk: 500, limits: { maxAppendSize: 300 } }, 100, 1000, 400],
      ['min-append-size lifts a tiny user chunk', { chunk: 10, limits: { minAppendSize: 50 } }, 0, 1000, 50],
      ['the last piece may be smaller than min-append-size', { limits: { minAppendSize: 50 } }, 980, 1000, 1000],
      ['contradictory limits: max wins', { limits: { minAppendSize: 500, maxAppendSize: 100 } }, 0, 1000, 100],
    ];
    for (const [title, { chunk, limits }, offset, size, end] of table) {
      it(`IETF: ${title}`, () => assert.equal(new IetfUploader(limits, chunk).chunkEnd(offset, size), end));
    }
    it('tus: the whole rest, or 32 MiB pieces when each carries a checksum, or the user chunk', () => {
      assert.equal(new TusUploader({ tusExtensions: ['creation'] }).chunkEnd(0, 1e9), 1e9);
      assert.equal(new TusUploader({ tusExtensions: ['checksum'], tusChecksumAlgorithms: ['sha1'] }).chunkEnd(0, 1e9), TUS_CHECKSUM_CHUNK);
      assert.equal(new TusUploader({ tusExtensions: ['checksum'], tusChecksumAlgorithms: ['md5'] }).chunkEnd(0, 1e9), 1e9);
      assert.equal(new TusUploader({}, 1000).chunkEnd(500, 1e9), 1500);
    });
    it('put-range: 16 MiB pieces by default', () => {
      assert.equal(new PutRangeUploader().chunkEnd(0, 1e9), PUT_RANGE_CHUNK);
      assert.equal(new PutRangeUploader(10).chunkEnd(95, 100), 100);
    });
  });

  it('formats Content-Range for a partial PUT with an inclusive end and unknown total', () => {
    assert.equal(formatPutContentRange(0, 10), 'bytes 0-9/*');
    assert.equal(formatPutContentRange(16777216, 33554432), 'bytes 16777216-33554431/*');
    assert.throws(() => formatPutContentRange(5, 5), RangeError);
  });

  it('recognises WebDAV, Allow and Accept-Patch announcements', () => {
    assert.ok(announcesDav('1,2, <http://apache.org/dav/propset/fs/1>'));
    assert.ok(!announcesDav('<http://example.com/x>'));
    assert.ok(!announcesDav(null));
    assert.ok(allowsMethod('OPTIONS,GET,HEAD,PUT', 'PUT'));
    assert.ok(!allowsMethod('OPTIONS,GET', 'PUT'));
    assert.ok(acceptsPartialUpload('application/json, application/partial-upload'));
    assert.ok(acceptsPartialUpload('Application/Partial-Upload; q=1'));
    assert.ok(!acceptsPartialUpload('application/merge-patch+json'));
  });

  it('names the file in Content-Disposition for ASCII-only and UTF-8 readers', () => {
    assert.equal(contentDispositionFor('résumé "v2".pdf'), `inline; filename="r_sum_ _v2_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.pdf`);
  });

  it('accepts a 104 only with the interop version we sent', () => {
    assert.equal(IETF_INTEROP_VERSION, 9);
    assert.equal(IETF_VERSIONS[0], IETF_INTEROP_VERSION, 'the newest profile is the version we announce');
    assert.ok(isOurUploadResumption({ status: 104, headers: headers({ 'upload-draft-interop-version': '9', location: '/u/1' }) }));
    assert.ok(!isOurUploadResumption({ status: 104, headers: headers({ 'upload-draft-interop-version': '8', location: '/u/1' }) }));
    assert.ok(isOurUploadResumption({ status: 104, headers: headers({ 'upload-draft-interop-version': '6', location: '/u/1' }) }, 6));
    assert.ok(!isOurUploadResumption({ status: 104, headers: headers({ 'upload-draft-interop-version': '9', location: '/u/1' }) }, 6));
    assert.ok(!isOurUploadResumption({ status: 104, headers: headers({ location: '/u/1' }) }));
    assert.ok(!isOurUploadResumption({ status: 103, headers: headers({ 'upload-draft-interop-version': '8' }) }));
  });

  it('resolves Location against the request URL and refuses non-http schemes', () => {
    assert.equal(resolveLocation('/files/abc', 'http://127.0.0.1:1080/files/'), 'http://127.0.0.1:1080/files/abc');
    assert.equal(resolveLocation('abc', 'http://127.0.0.1:1080/files/'), 'http://127.0.0.1:1080/files/abc');
    assert.equal(resolveLocation('javascript:alert(1)', 'http://127.0.0.1/'), undefined);
    assert.equal(resolveLocation(null, 'http://127.0.0.1/'), undefined);
  });
});
