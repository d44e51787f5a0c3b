import assert from 'node:assert/strict';
import { checkPartialResponse, type PartialHeaders, type RangeAsked } from '../../src/core/http/partial-response';

const strong = { etag: '"v1"' };

describe('checkPartialResponse: the one check every 206 passes', () => {
  const cases: Array<{ title: string; asked: RangeAsked; headers: PartialHeaders; verdict: 'ok' | 'mismatch' | 'changed'; last?: number }> = [
    { title: 'open-ended, exact', asked: { start: 100, length: 1000, validators: strong }, headers: { contentRange: 'bytes 100-999/1000', contentLength: '900', etag: '"v1"' }, verdict: 'ok', last: 999 },
    { title: 'bounded, exact', asked: { start: 100, end: 499, length: 1000, validators: strong }, headers: { contentRange: 'bytes 100-499/1000', etag: '"v1"' }, verdict: 'ok', last: 499 },
    { title: 'bounded, answered to the end of the file (CDN style): accepted, read only what is needed', asked: { start: 100, end: 499, length: 1000, validators: strong }, headers: { contentRange: 'bytes 100-999/1000', contentLength: '900', etag: '"v1"' }, verdict: 'ok', last: 999 },
    { title: 'bounded past the end of a file of unknown length', asked: { start: 0, end: 4095, validators: {} }, headers: { contentRange: 'bytes 0-99/100' }, verdict: 'ok', last: 99 },
    { title: 'length unknown to us: the total is learned', asked: { start: 10, validators: {} }, headers: { contentRange: 'bytes 10-99/100' }, verdict: 'ok', last: 99 },
    { title: 'starts later than asked', asked: { start: 100, length: 1000, validators: strong }, headers: { contentRange: 'bytes 200-999/1000', etag: '"v1"' }, verdict: 'mismatch' },
    { title: 'starts earlier than asked', asked: { start: 100, length: 1000, validators: strong }, headers: { contentRange: 'bytes 0-999/1000', etag: '"v1"' }, verdict: 'mismatch' },
    { title: 'bounded, ends short of the asked end', asked: { start: 100, end: 499, length: 1000, validators: strong }, headers: { contentRange: 'bytes 100-299/1000', etag: '"v1"' }, verdict: 'mismatch' },
    { title: 'open-ended, ends short of the file end', asked: { start: 100, length: 1000, validators: strong }, headers: { contentRange: 'bytes 100-499/1000', etag: '"v1"' }, verdict: 'mismatch' },
    { title: 'another total than recorded', asked: { start: 100, length: 1000, validators: strong }, headers: { contentRange: 'bytes 100-1000/1001', etag: '"v1"' }, verdict: 'mismatch' },
    { title: 'unknown total (*)', asked: { start: 100, validators: strong }, headers: { contentRange: 'bytes 100-999/*', etag: '"v1"' }, verdict: 'mismatch' },
    { title: 'no Content-Range', asked: { start: 100, validators: strong }, headers: { etag: '"v1"' }, verdict: 'mismatch' },
    { title: 'garbage Content-Range', asked: { start: 100, validators: strong }, headers: { contentRange: 'bytes=100-999/1000' }, verdict: 'mismatch' },
    { title: 'Content-Length disagrees with Content-Range', asked: { start: 100, length: 1000, validators: strong }, headers: { contentRange: 'bytes 100-999/1000', contentLength: '800', etag: '"v1"' }, verdict: 'mismatch' },
    { title: 'another strong ETag', asked: { start: 100, length: 1000, validators: strong }, headers: { contentRange: 'bytes 100-999/1000', etag: '"v2"' }, verdict: 'changed' },
    { title: 'strong ETag recorded, none sent', asked: { start: 100, length: 1000, validators: strong }, headers: { contentRange: 'bytes 100-999/1000' }, verdict: 'changed' },
    { title: 'another Last-Modified', asked: { start: 1, length: 10, validators: { lastModified: 'Wed, 25 Nov 2026 10:00:00 GMT' } }, headers: { contentRange: 'bytes 1-9/10', lastModified: 'Wed, 25 Nov 2026 11:00:00 GMT' }, verdict: 'changed' },
    { title: 'no validators on either side', asked: { start: 1, length: 10, validators: {} }, headers: { contentRange: 'bytes 1-9/10' }, verdict: 'ok', last: 9 },
  ];
  for (const { title, asked, headers, verdict, last } of cases) {
    it(`${verdict}: ${title}`, () => {
      const result = checkPartialResponse(asked, headers);
      if (verdict === 'ok') {
        assert.ok(result.ok, JSON.stringify(result));
        assert.equal(result.last, last);
      } else {
        assert.ok(!result.ok, 'must not be spliced');
        assert.equal(result.kind, verdict, result.reason);
      }
    });
  }
});
