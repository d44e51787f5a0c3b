import * as assert from 'node:assert/strict';
import {
  chooseIfRange,
  formatRange,
  isStrongETag,
  isStrongLastModified,
  parseContentLength,
  parseContentRange,
  parseETag,
  parseUnsatisfiedRange,
  sameRepresentation,
  strongETagMatch,
  weakETagMatch,
  type ContentRange,
  type Validators,
} from '../../src/core/http/range';

const show = (value: unknown): string => (value === undefined ? 'undefined' : JSON.stringify(value));

describe('formatRange', () => {
  const valid: Array<{ start: number; end?: number; expected: string }> = [
    { start: 0, expected: 'bytes=0-' },
    { start: 1234, expected: 'bytes=1234-' },
    { start: 0, end: 0, expected: 'bytes=0-0' },
    { start: 0, end: 499, expected: 'bytes=0-499' },
    { start: 500, end: 999, expected: 'bytes=500-999' },
    { start: 7, end: 7, expected: 'bytes=7-7' },
    { start: Number.MAX_SAFE_INTEGER, expected: `bytes=${Number.MAX_SAFE_INTEGER}-` },
  ];
  for (const { start, end, expected } of valid) {
    it(`(${start}, ${show(end)}) → ${expected}`, () => {
      assert.equal(formatRange(start, end), expected);
    });
  }

  const invalid: Array<{ title: string; start: number; end?: number }> = [
    { title: 'negative start', start: -1 },
    { title: 'fractional start', start: 1.5 },
    { title: 'NaN start', start: Number.NaN },
    { title: 'infinite start', start: Number.POSITIVE_INFINITY },
    { title: 'unsafe start', start: Number.MAX_SAFE_INTEGER + 1 },
    { title: 'end before start', start: 10, end: 9 },
    { title: 'fractional end', start: 0, end: 9.5 },
    { title: 'NaN end', start: 0, end: Number.NaN },
    { title: 'negative end', start: 0, end: -1 },
  ];
  for (const { title, start, end } of invalid) {
    it(`throws RangeError for ${title}`, () => {
      assert.throws(() => formatRange(start, end), RangeError);
    });
  }
});

describe('parseContentRange', () => {
  const cases: Array<{ title: string; header: string | null | undefined; expected: ContentRange | undefined }> = [
    { title: 'simple', header: 'bytes 0-499/1234', expected: { start: 0, end: 499, total: 1234 } },
    { title: 'middle', header: 'bytes 500-999/1234', expected: { start: 500, end: 999, total: 1234 } },
    { title: 'last byte', header: 'bytes 1233-1233/1234', expected: { start: 1233, end: 1233, total: 1234 } },
    { title: 'single byte file', header: 'bytes 0-0/1', expected: { start: 0, end: 0, total: 1 } },
    { title: 'unknown total', header: 'bytes 42-1233/*', expected: { start: 42, end: 1233, total: undefined } },
    { title: 'surrounding whitespace', header: '  bytes 0-9/10  ', expected: { start: 0, end: 9, total: 10 } },
    { title: 'several spaces after unit', header: 'bytes   0-9/10', expected: { start: 0, end: 9, total: 10 } },
    { title: 'tab after unit', header: 'bytes\t0-9/10', expected: { start: 0, end: 9, total: 10 } },
    { title: 'upper-case unit', header: 'BYTES 0-9/10', expected: { start: 0, end: 9, total: 10 } },
    { title: 'mixed-case unit', header: 'Bytes 0-9/10', expected: { start: 0, end: 9, total: 10 } },
    { title: 'leading zeros', header: 'bytes 007-009/010', expected: { start: 7, end: 9, total: 10 } },
    {
      title: 'largest safe total',
      header: `bytes 0-${Number.MAX_SAFE_INTEGER - 1}/${Number.MAX_SAFE_INTEGER}`,
      expected: { start: 0, end: Number.MAX_SAFE_INTEGER - 1, total: Number.MAX_SAFE_INTEGER },
    },

    // end < start, end >= total
    { title: 'end before start', header: 'bytes 10-9/100', expected: undefined },
    { title: 'end equals total', header: 'bytes 0-100/100', expected: undefined },
    { title: 'end past total', header: 'bytes 0-200/100', expected: undefined },
    { title: 'start past total', header: 'bytes 150-160/100', expected: undefined },
    { title: 'zero total', header: 'bytes 0-0/0', expected: undefined },

    // Unsatisfied form is not a content range
    { title: 'unsatisfied form', header: 'bytes */1234', expected: undefined },

    // Garbage
    { title: 'null', header: null, expected: undefined },
    { title: 'undefined', header: undefined, expected: undefined },
    { title: 'empty', header: '', expected: undefined },
    { title: 'only whitespace', header: '   ', expected: undefined },
    { title: 'no unit', header: '0-9/10', expected: undefined },
    { title: 'other unit', header: 'items 0-9/10', expected: undefined },
    { title: 'equals sign like a Range header', header: 'bytes=0-9/10', expected: undefined },
    { title: 'no space after unit', header: 'bytes0-9/10', expected: undefined },
    { title: 'open end', header: 'bytes 0-/10', expected: undefined },
    { title: 'missing start', header: 'bytes -9/10', expected: undefined },
    { title: 'missing total', header: 'bytes 0-9', expected: undefined },
    { title: 'empty total', header: 'bytes 0-9/', expected: undefined },
    { title: 'negative start', header: 'bytes -1-9/10', expected: undefined },
    { title: 'fractional', header: 'bytes 0.5-9/10', expected: undefined },
    { title: 'hex', header: 'bytes 0x0-0x9/10', expected: undefined },
    { title: 'several ranges', header: 'bytes 0-4/10, 5-9/10', expected: undefined },
    { title: 'trailing garbage', header: 'bytes 0-9/10x', expected: undefined },
    { title: 'spaces inside the range', header: 'bytes 0 - 9/10', expected: undefined },
    { title: 'unsafe start', header: 'bytes 9007199254740993-9007199254740994/*', expected: undefined },
    { title: 'unsafe total', header: 'bytes 0-9/99999999999999999999', expected: undefined },
  ];
  for (const { title, header, expected } of cases) {
    it(`${title}: ${show(header)} → ${show(expected)}`, () => {
      assert.deepEqual(parseContentRange(header), expected);
    });
  }
});

describe('parseUnsatisfiedRange', () => {
  const cases: Array<{ header: string | null | undefined; expected: number | undefined }> = [
    { header: 'bytes */1234', expected: 1234 },
    { header: 'bytes */0', expected: 0 },
    { header: '  bytes  */47  ', expected: 47 },
    { header: 'BYTES */5', expected: 5 },
    { header: 'bytes */*', expected: undefined },
    { header: 'bytes 0-9/10', expected: undefined },
    { header: 'bytes */', expected: undefined },
    { header: 'bytes */-1', expected: undefined },
    { header: 'bytes */1.5', expected: undefined },
    { header: '*/10', expected: undefined },
    { header: 'bytes */99999999999999999999', expected: undefined },
    { header: '', expected: undefined },
    { header: null, expected: undefined },
    { header: undefined, expected: undefined },
  ];
  for (const { header, expected } of cases) {
    it(`${show(header)} → ${show(expected)}`, () => {
      assert.equal(parseUnsatisfiedRange(header), expected);
    });
  }
});

describe('parseContentLength', () => {
  const cases: Array<{ header: string | null | undefined; expected: number | undefined }> = [
    { header: '0', expected: 0 },
    { header: '1234', expected: 1234 },
    { header: ' 42 ', expected: 42 },
    { header: '0042', expected: 42 },
    { header: String(Number.MAX_SAFE_INTEGER), expected: Number.MAX_SAFE_INTEGER },
    { header: String(Number.MAX_SAFE_INTEGER + 2), expected: undefined },
    { header: '-1', expected: undefined },
    { header: '+5', expected: undefined },
    { header: '1.5', expected: undefined },
    { header: '1e3', expected: undefined },
    { header: '0x10', expected: undefined },
    { header: '10, 10', expected: undefined },
    { header: 'abc', expected: undefined },
    { header: '', expected: undefined },
    { header: '   ', expected: undefined },
    { header: null, expected: undefined },
    { header: undefined, expected: undefined },
  ];
  for (const { header, expected } of cases) {
    it(`${show(header)} → ${show(expected)}`, () => {
      assert.equal(parseContentLength(header), expected);
    });
  }
});

describe('parseETag / isStrongETag', () => {
  const cases: Array<{ header: string | null | undefined; expected: { weak: boolean; opaque: string } | undefined }> = [
    { header: '"abc"', expected: { weak: false, opaque: '"abc"' } },
    { header: 'W/"abc"', expected: { weak: true, opaque: '"abc"' } },
    { header: '""', expected: { weak: false, opaque: '""' } },
    { header: 'W/""', expected: { weak: true, opaque: '""' } },
    { header: '  "abc"  ', expected: { weak: false, opaque: '"abc"' } },
    { header: '"5e1f-6a3b2c"', expected: { weak: false, opaque: '"5e1f-6a3b2c"' } },
    { header: '"a/b=c!#~"', expected: { weak: false, opaque: '"a/b=c!#~"' } },
    { header: 'abc', expected: undefined },
    { header: '"abc', expected: undefined },
    { header: 'abc"', expected: undefined },
    { header: 'w/"abc"', expected: undefined },
    { header: 'W/abc', expected: undefined },
    { header: 'W/ "abc"', expected: undefined },
    { header: '"a b"', expected: undefined },
    { header: '"a"b"', expected: undefined },
    { header: '"abc", "def"', expected: undefined },
    { header: '*', expected: undefined },
    { header: '', expected: undefined },
    { header: null, expected: undefined },
    { header: undefined, expected: undefined },
  ];
  for (const { header, expected } of cases) {
    it(`${show(header)} → ${show(expected)}`, () => {
      assert.deepEqual(parseETag(header), expected);
      assert.equal(isStrongETag(header), expected !== undefined && !expected.weak);
    });
  }
});

describe('strongETagMatch / weakETagMatch (RFC 9110 §8.8.3.2)', () => {
  const cases: Array<{ a: string | undefined; b: string | undefined; strong: boolean; weak: boolean }> = [
    // The table from the RFC
    { a: 'W/"1"', b: 'W/"1"', strong: false, weak: true },
    { a: 'W/"1"', b: 'W/"2"', strong: false, weak: false },
    { a: 'W/"1"', b: '"1"', strong: false, weak: true },
    { a: '"1"', b: '"1"', strong: true, weak: true },
    // More
    { a: '"1"', b: 'W/"1"', strong: false, weak: true },
    { a: '"1"', b: '"2"', strong: false, weak: false },
    { a: ' "1" ', b: '"1"', strong: true, weak: true },
    { a: '"abc"', b: '"ABC"', strong: false, weak: false },
    { a: '"1"', b: '1', strong: false, weak: false },
    { a: '1', b: '1', strong: false, weak: false },
    { a: '"1"', b: undefined, strong: false, weak: false },
    { a: undefined, b: undefined, strong: false, weak: false },
  ];
  for (const { a, b, strong, weak } of cases) {
    it(`${show(a)} vs ${show(b)}: strong=${strong} weak=${weak}`, () => {
      assert.equal(strongETagMatch(a, b), strong);
      assert.equal(strongETagMatch(b, a), strong, 'strong comparison is symmetric');
      assert.equal(weakETagMatch(a, b), weak);
      assert.equal(weakETagMatch(b, a), weak, 'weak comparison is symmetric');
    });
  }
});

describe('isStrongLastModified', () => {
  const LM = 'Wed, 21 Oct 2015 07:28:00 GMT';
  const cases: Array<{ title: string; lastModified: string | undefined; date: string | undefined; expected: boolean }> = [
    { title: 'Date exactly 1 s later', lastModified: LM, date: 'Wed, 21 Oct 2015 07:28:01 GMT', expected: true },
    { title: 'Date a day later', lastModified: LM, date: 'Thu, 22 Oct 2015 07:28:00 GMT', expected: true },
    { title: 'Date years later', lastModified: LM, date: 'Mon, 01 Jan 2024 00:00:00 GMT', expected: true },
    { title: 'same second', lastModified: LM, date: LM, expected: false },
    { title: 'Date earlier than Last-Modified', lastModified: LM, date: 'Wed, 21 Oct 2015 07:27:59 GMT', expected: false },
    { title: 'missing Date', lastModified: LM, date: undefined, expected: false },
    { title: 'empty Date', lastModified: LM, date: '', expected: false },
    { title: 'missing Last-Modified', lastModified: undefined, date: LM, expected: false },
    { title: 'unparseable Last-Modified', lastModified: 'yesterday', date: LM, expected: false },
    { title: 'unparseable Date', lastModified: LM, date: 'not a date', expected: false },
  ];
  for (const { title, lastModified, date, expected } of cases) {
    it(`${title} → ${expected}`, () => {
      assert.equal(isStrongLastModified(lastModified, date), expected);
    });
  }
});

describe('chooseIfRange', () => {
  const LM = 'Wed, 21 Oct 2015 07:28:00 GMT';
  const LATER = 'Wed, 21 Oct 2015 08:00:00 GMT';
  const cases: Array<{ title: string; validators: Validators; expected: string | undefined }> = [
    { title: 'strong ETag alone', validators: { etag: '"abc"' }, expected: '"abc"' },
    { title: 'strong ETag preferred over strong Last-Modified', validators: { etag: '"abc"', lastModified: LM, date: LATER }, expected: '"abc"' },
    { title: 'strong ETag is trimmed', validators: { etag: '  "abc" ' }, expected: '"abc"' },
    { title: 'weak ETag is never sent, strong Last-Modified instead', validators: { etag: 'W/"abc"', lastModified: LM, date: LATER }, expected: LM },
    { title: 'weak ETag and weak Last-Modified', validators: { etag: 'W/"abc"', lastModified: LM, date: LM }, expected: undefined },
    { title: 'weak ETag alone', validators: { etag: 'W/"abc"' }, expected: undefined },
    { title: 'malformed ETag, strong Last-Modified', validators: { etag: 'abc', lastModified: LM, date: LATER }, expected: LM },
    { title: 'strong Last-Modified alone', validators: { lastModified: LM, date: LATER }, expected: LM },
    { title: 'Last-Modified without Date', validators: { lastModified: LM }, expected: undefined },
    { title: 'Last-Modified in the same second as Date', validators: { lastModified: LM, date: LM }, expected: undefined },
    { title: 'nothing', validators: {}, expected: undefined },
  ];
  for (const { title, validators, expected } of cases) {
    it(`${title} → ${show(expected)}`, () => {
      const chosen = chooseIfRange(validators);
      assert.equal(chosen, expected);
      if (chosen !== undefined) assert.ok(!chosen.startsWith('W/'), 'a weak ETag must never be sent in If-Range');
    });
  }
});

describe('sameRepresentation', () => {
  const LM = 'Wed, 21 Oct 2015 07:28:00 GMT';
  const cases: Array<{ title: string; recorded: Validators; fresh: Validators; expected: boolean | undefined }> = [
    { title: 'same strong ETag', recorded: { etag: '"a"' }, fresh: { etag: '"a"' }, expected: true },
    { title: 'different strong ETag', recorded: { etag: '"a"' }, fresh: { etag: '"b"' }, expected: false },
    { title: 'strong ETag now weak', recorded: { etag: '"a"' }, fresh: { etag: 'W/"a"' }, expected: false },
    { title: 'strong ETag now missing', recorded: { etag: '"a"' }, fresh: {}, expected: false },
    { title: 'strong ETag decides even when Last-Modified changed', recorded: { etag: '"a"', lastModified: LM }, fresh: { etag: '"a"', lastModified: 'Thu, 22 Oct 2015 07:28:00 GMT' }, expected: true },
    { title: 'different weak ETag', recorded: { etag: 'W/"a"' }, fresh: { etag: 'W/"b"' }, expected: false },
    { title: 'same weak ETag, nothing else: cannot judge', recorded: { etag: 'W/"a"' }, fresh: { etag: 'W/"a"' }, expected: undefined },
    { title: 'same weak ETag, same Last-Modified', recorded: { etag: 'W/"a"', lastModified: LM }, fresh: { etag: 'W/"a"', lastModified: LM }, expected: true },
    { title: 'same weak ETag, changed Last-Modified', recorded: { etag: 'W/"a"', lastModified: LM }, fresh: { etag: 'W/"a"', lastModified: 'Wed, 21 Oct 2015 07:28:01 GMT' }, expected: false },
    { title: 'same Last-Modified', recorded: { lastModified: LM }, fresh: { lastModified: LM }, expected: true },
    { title: 'same instant in another date format', recorded: { lastModified: LM }, fresh: { lastModified: 'Wednesday, 21-Oct-15 07:28:00 GMT' }, expected: true },
    { title: 'changed Last-Modified', recorded: { lastModified: LM }, fresh: { lastModified: 'Wed, 21 Oct 2015 07:29:00 GMT' }, expected: false },
    { title: 'Last-Modified now missing', recorded: { lastModified: LM }, fresh: {}, expected: false },
    { title: 'nothing recorded', recorded: {}, fresh: { etag: '"a"', lastModified: LM }, expected: undefined },
    { title: 'nothing at all', recorded: {}, fresh: {}, expected: undefined },
  ];
  for (const { title, recorded, fresh, expected } of cases) {
    it(`${title} → ${show(expected)}`, () => {
      assert.equal(sameRepresentation(recorded, fresh), expected);
    });
  }
});
