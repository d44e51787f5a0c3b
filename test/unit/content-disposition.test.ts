import * as assert from 'node:assert/strict';
import { parseContentDispositionFilename } from '../../src/core/http/content-disposition';

/** What Node's HTTP parser hands us for a header sent as raw UTF-8 bytes. */
function asLatin1Header(utf8Text: string): string {
  return Buffer.from(utf8Text, 'utf8').toString('latin1');
}

describe('parseContentDispositionFilename', () => {
  const cases: Array<{ title: string; header: string | null | undefined; expected: string | undefined }> = [
    // Plain filename
    { title: 'quoted filename', header: 'attachment; filename="a.txt"', expected: 'a.txt' },
    { title: 'token filename', header: 'attachment; filename=a.txt', expected: 'a.txt' },
    { title: 'inline disposition with filename', header: 'inline; filename="report.pdf"', expected: 'report.pdf' },
    { title: 'missing disposition type', header: 'filename="a.txt"', expected: 'a.txt' },
    { title: 'case-insensitive parameter name', header: 'ATTACHMENT; FileName="A.TXT"', expected: 'A.TXT' },
    { title: 'extra whitespace around = and ;', header: '  attachment ;   filename =  "a b.txt"  ; ', expected: 'a b.txt' },
    { title: 'tabs as whitespace', header: 'attachment;\tfilename=\t"tab.txt"', expected: 'tab.txt' },
    { title: 'extra semicolons', header: ';;attachment;;; filename="a.txt";;', expected: 'a.txt' },
    { title: 'other parameters first', header: 'attachment; size=42; creation-date="Wed, 12 Feb 1997 16:29:51 -0500"; filename="a.txt"', expected: 'a.txt' },
    { title: 'other parameters after', header: 'attachment; filename="a.txt"; size=42', expected: 'a.txt' },
    { title: 'escaped quotes in quoted-string', header: 'attachment; filename="say \\"hi\\".txt"', expected: 'say "hi".txt' },
    { title: 'escaped backslash in quoted-string', header: 'attachment; filename="a\\\\b.txt"', expected: 'a\\b.txt' },
    { title: 'semicolon inside quoted-string', header: 'attachment; filename="a;b.txt"; size=1', expected: 'a;b.txt' },
    { title: 'equals sign inside quoted-string', header: 'attachment; filename="a=b.txt"', expected: 'a=b.txt' },
    { title: 'unterminated quoted-string is taken to the end', header: 'attachment; filename="a.txt', expected: 'a.txt' },
    { title: 'token with trailing whitespace', header: 'attachment; filename=a.txt   ', expected: 'a.txt' },
    { title: 'first of duplicate filename parameters wins', header: 'attachment; filename="first.txt"; filename="second.txt"', expected: 'first.txt' },
    { title: 'path is returned verbatim (sanitizing is not this function\'s job)', header: 'attachment; filename="../../etc/passwd"', expected: '../../etc/passwd' },

    // filename* (RFC 8187)
    {
      title: 'filename* UTF-8',
      header: "attachment; filename*=UTF-8''%E6%B5%8B%E8%AF%95%E6%96%87%E4%BB%B6.bin",
      expected: '测试文件.bin',
    },
    { title: 'filename* lower-case charset', header: "attachment; filename*=utf-8''%C3%A9t%C3%A9.txt", expected: 'été.txt' },
    { title: 'filename* with language tag', header: "attachment; filename*=UTF-8'en-US'na%C3%AFve.txt", expected: 'naïve.txt' },
    { title: 'filename* ISO-8859-1', header: "attachment; filename*=iso-8859-1'en'%A3%20rates.txt", expected: '£ rates.txt' },
    // 0x80 is a C1 control in ISO-8859-1 but € in windows-1252: we must not silently use the latter.
    { title: 'filename* ISO-8859-1 is not windows-1252', header: "attachment; filename*=ISO-8859-1''%80", expected: '\u0080' },
    { title: 'filename* ISO-8859-1 é', header: "attachment; filename*=ISO-8859-1''caf%E9.txt", expected: 'café.txt' },
    { title: 'filename* upper-case parameter name', header: "attachment; FILENAME*=UTF-8''a%20b.txt", expected: 'a b.txt' },
    { title: 'filename* with emoji (4-byte UTF-8)', header: "attachment; filename*=UTF-8''%F0%9F%98%80.png", expected: '😀.png' },
    { title: 'filename* quoted by a non-compliant server', header: 'attachment; filename*="UTF-8\'\'a%20b.txt"', expected: 'a b.txt' },
    { title: 'filename* lower-case hex digits', header: "attachment; filename*=UTF-8''%e6%b5%8b.txt", expected: '测.txt' },
    { title: 'filename* alone', header: "filename*=UTF-8''only.txt", expected: 'only.txt' },

    // Both present: filename* wins regardless of order
    {
      title: 'filename then filename*',
      header: "attachment; filename=\"fallback.bin\"; filename*=UTF-8''%E6%B5%8B%E8%AF%95.bin",
      expected: '测试.bin',
    },
    {
      title: 'filename* then filename',
      header: "attachment; filename*=UTF-8''%E6%B5%8B%E8%AF%95.bin; filename=\"fallback.bin\"",
      expected: '测试.bin',
    },

    // Broken filename* falls back to filename
    { title: 'bad percent-encoding falls back', header: "attachment; filename*=UTF-8''%ZZbad.txt; filename=\"good.txt\"", expected: 'good.txt' },
    { title: 'truncated percent-encoding falls back', header: "attachment; filename=\"good.txt\"; filename*=UTF-8''bad%E", expected: 'good.txt' },
    { title: 'invalid UTF-8 bytes fall back', header: "attachment; filename*=UTF-8''%E6%B5.txt; filename=\"good.txt\"", expected: 'good.txt' },
    { title: 'missing charset delimiters fall back', header: 'attachment; filename*=no-quotes.txt; filename="good.txt"', expected: 'good.txt' },
    { title: 'unsupported charset falls back', header: "attachment; filename*=Shift_JIS''%82%A0.txt; filename=\"good.txt\"", expected: 'good.txt' },
    { title: 'empty filename* falls back', header: "attachment; filename*=UTF-8''; filename=\"good.txt\"", expected: 'good.txt' },
    { title: 'bad filename* and no filename', header: "attachment; filename*=UTF-8''%ZZ", expected: undefined },
    { title: 'non-ASCII bytes in US-ASCII filename* fall back', header: "attachment; filename*=us-ascii''%E9; filename=a.txt", expected: 'a.txt' },

    // Latin1-mangled UTF-8 in plain filename
    { title: 'raw UTF-8 bytes re-decoded', header: asLatin1Header('attachment; filename="测试文件.bin"'), expected: '测试文件.bin' },
    { title: 'raw UTF-8 bytes in token form re-decoded', header: asLatin1Header('attachment; filename=résumé.pdf'), expected: 'résumé.pdf' },
    // 0xE9 alone is not valid UTF-8, so it must really be latin1 é.
    { title: 'genuine latin1 byte kept', header: 'attachment; filename="caf\u00e9.txt"', expected: 'café.txt' },
    // Contains a char above U+00FF, so it did not come from latin1 header decoding: keep as-is.
    { title: 'already-decoded Unicode kept', header: 'attachment; filename="测试.txt"', expected: '测试.txt' },

    // Absent / unparseable
    { title: 'inline only', header: 'inline', expected: undefined },
    { title: 'attachment only', header: 'attachment', expected: undefined },
    { title: 'other parameters only', header: 'attachment; size=10', expected: undefined },
    { title: 'empty filename', header: 'attachment; filename=""', expected: undefined },
    { title: 'empty token filename', header: 'attachment; filename=', expected: undefined },
    { title: 'filename without value', header: 'attachment; filename', expected: undefined },
    { title: 'empty header', header: '', expected: undefined },
    { title: 'whitespace header', header: '   ', expected: undefined },
    { title: 'null', header: null, expected: undefined },
    { title: 'undefined', header: undefined, expected: undefined },
    // `filenames` is a different parameter, not a prefix match.
    { title: 'similar parameter name', header: 'attachment; filenames="x.txt"', expected: undefined },
  ];

  for (const { title, header, expected } of cases) {
    it(`${title}: ${JSON.stringify(header)}`, () => {
      assert.equal(parseContentDispositionFilename(header), expected);
    });
  }

  it('handles a very long header quickly', () => {
    const header = `attachment; filename="${'a'.repeat(100_000)}.txt"`;
    const started = Date.now();
    assert.equal(parseContentDispositionFilename(header)?.length, 100_004);
    assert.ok(Date.now() - started < 1000);
  });
});
