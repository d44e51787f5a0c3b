import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  Crc32c,
  TransferError,
  checkDigests,
  checksumCandidates,
  crc32c,
  digestsFromHeaders,
  entriesFor,
  parseChecksumFile,
  parseGoogHash,
  parseLegacyDigest,
  parseStructuredDigest,
  urlFileName,
  valuesToCheck,
  type ExpectedDigest,
} from '../../src/core';

const headers = (values: Record<string, string>) => ({ get: (name: string) => values[name.toLowerCase()] ?? null });
const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const sha512 = (text: string) => createHash('sha512').update(text).digest('hex');
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe('crc32c (Castagnoli)', () => {
  it('matches the standard check value of "123456789"', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  });
  it('is the same fed in pieces as in one go', () => {
    const data = Buffer.from('the quick brown fox jumps over the lazy dog'.repeat(100));
    const pieces = new Crc32c();
    for (let i = 0; i < data.length; i += 7) pieces.update(data.subarray(i, i + 7));
    assert.equal(pieces.value, crc32c(data));
    assert.equal(pieces.hex(), crc32c(data).toString(16).padStart(8, '0'));
  });
  it('of nothing is 0', () => {
    assert.equal(crc32c(Buffer.alloc(0)), 0);
  });
});

describe('digest headers', () => {
  const h = sha256('hello');
  it('reads Repr-Digest sha-256 and sha-512 (RFC 9530 dictionary), on 200 and 206', () => {
    const value = `sha-256=:${b64(h)}:, sha-512=:${b64(sha512('hello'))}:`;
    for (const status of [200, 206]) {
      assert.deepEqual(digestsFromHeaders(headers({ 'repr-digest': value }), status), [
        { algorithm: 'sha256', hex: h, source: 'Repr-Digest' },
        { algorithm: 'sha512', hex: sha512('hello'), source: 'Repr-Digest' },
      ]);
    }
  });
  it('takes Content-Digest only from a full 200 (on a 206 it describes the part)', () => {
    const value = `sha-256=:${b64(h)}:`;
    assert.deepEqual(digestsFromHeaders(headers({ 'content-digest': value }), 200), [{ algorithm: 'sha256', hex: h, source: 'Content-Digest' }]);
    assert.deepEqual(digestsFromHeaders(headers({ 'content-digest': value }), 206), []);
  });
  it('reads the legacy Digest header case-insensitively', () => {
    assert.deepEqual(parseLegacyDigest(`SHA-256=${b64(h)}`), [['sha256', h]]);
    assert.deepEqual(parseLegacyDigest(`md5=${b64(md5('x'))}, UNIXsum=30637`), [['md5', md5('x')]]);
  });
  it('reads X-Goog-Hash crc32c and md5, also when two headers were joined', () => {
    const crc = crc32c(Buffer.from('hello')).toString(16).padStart(8, '0');
    assert.deepEqual(parseGoogHash(`crc32c=${b64(crc)}, md5=${b64(md5('hello'))}`), [
      ['crc32c', crc],
      ['md5', md5('hello')],
    ]);
  });
  const ignored: Array<[string, string]> = [
    ['an unknown algorithm', 'unixsum=:MTIz:'],
    ['a deprecated md5 in Repr-Digest', `md5=:${b64(md5('x'))}:`],
    ['a value of the wrong length', `sha-256=:${b64('abcd')}:`],
    ['a token instead of a byte sequence', `sha-256=${b64(h)}`],
    ['garbage', ':::,,,==='],
  ];
  for (const [what, value] of ignored) {
    it(`skips ${what}`, () => assert.deepEqual(parseStructuredDigest(value), []));
  }
});

describe('checksum files', () => {
  const a = sha256('a');
  const b = sha256('b');
  it('reads GNU text and binary lines, with paths', () => {
    const text = `${a}  app-1.0.tar.gz\n${b} *./dist/app-1.0.zip\n`;
    assert.deepEqual(parseChecksumFile(text), [
      { algorithm: 'sha256', hex: a, name: 'app-1.0.tar.gz' },
      { algorithm: 'sha256', hex: b, name: './dist/app-1.0.zip' },
    ]);
    assert.deepEqual(entriesFor(parseChecksumFile(text), ['app-1.0.zip'], false), [{ algorithm: 'sha256', hex: b, name: './dist/app-1.0.zip' }]);
  });
  it('reads BSD lines (SHA256 (name) = hex) and tells sha512 from sha256', () => {
    const text = `SHA256 (app.tar.gz) = ${a.toUpperCase()}\nSHA512 (app.tar.gz) = ${sha512('a')}\n`;
    assert.deepEqual(entriesFor(parseChecksumFile(text), ['app.tar.gz'], false), [
      { algorithm: 'sha256', hex: a, name: 'app.tar.gz' },
      { algorithm: 'sha512', hex: sha512('a'), name: 'app.tar.gz' },
    ]);
  });
  it('counts a bare value only in a file about this one download', () => {
    const entries = parseChecksumFile(`${a}\n`);
    assert.equal(entriesFor(entries, ['x.bin'], true).length, 1);
    assert.equal(entriesFor(entries, ['x.bin'], false).length, 0);
  });
  it('finds nothing for a name it does not list, and ignores comments, blank lines and HTML', () => {
    const text = `# sums\n\n<html><body>not found</body></html>\n${a}  other.bin\n`;
    assert.deepEqual(entriesFor(parseChecksumFile(text), ['x.bin'], false), []);
  });
  it('drops a name listed twice (two folders) with different values: it proves nothing', () => {
    const text = `${a}  linux/app.bin\n${b}  mac/app.bin\n`;
    assert.deepEqual(entriesFor(parseChecksumFile(text), ['app.bin'], false), []);
  });
  it('looks for sidecar files and the usual sums files', () => {
    const files = checksumCandidates(['app.iso']).map((c) => c.file);
    assert.deepEqual(files, ['app.iso.sha256', 'app.iso.sha256sum', 'app.iso.sha512', 'SHA256SUMS', 'SHA256SUMS.txt', 'sha256sums.txt', 'checksums.txt', 'SHASUMS256.txt']);
  });
  it('names a file by the decoded last segment of its URL', () => {
    assert.equal(urlFileName('https://example.com/rel/v1/my%20app.tar.gz?sig=abc'), 'my app.tar.gz');
    assert.equal(urlFileName('https://example.com/rel/'), '');
  });
});

describe('verifying against every source', () => {
  const good = sha256('data');
  const bad = sha256('other');
  const offered = (hex: string, source: string): ExpectedDigest => ({ algorithm: 'sha256', hex, source });

  it('a sha256 the user gave wins over every offered value, even one that disagrees', () => {
    assert.deepEqual(valuesToCheck(good, [offered(bad, 'SHA256SUMS')]), [offered(good, 'user')]);
  });
  it('two offered values that disagree are an error naming both sources', () => {
    assert.throws(
      () => valuesToCheck(undefined, [offered(good, 'Repr-Digest'), offered(bad, 'SHA256SUMS')]),
      (error: TransferError) => error.code === 'ERR_CHECKSUM_CONFLICT' && /Repr-Digest/.test(error.message) && /SHA256SUMS/.test(error.message),
    );
  });
  it('a mismatch names the source that disagreed', () => {
    assert.throws(
      () => checkDigests([offered(bad, 'SHA256SUMS')], { sha256: good }),
      (error: TransferError) => error.code === 'ERR_CHECKSUM_MISMATCH' && /sha256 from SHA256SUMS/.test(error.message),
    );
  });
  it('reports every source that matched', () => {
    assert.deepEqual(checkDigests([offered(good, 'SHA256SUMS'), offered(good, 'Repr-Digest')], { sha256: good }), [
      { algorithm: 'sha256', source: 'SHA256SUMS' },
      { algorithm: 'sha256', source: 'Repr-Digest' },
    ]);
  });
});
