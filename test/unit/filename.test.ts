import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  chooseFilename,
  filenameFromUrl,
  nextFreeName,
  pickServerFilename,
  resolveInside,
  sanitizeFilename,
} from '../../src/core/filename';

// Never created: resolveInside and nextFreeName are pure path computations.
const DIR = path.join(os.tmpdir(), 'resumable-transfers-filename-test');

function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function assertInside(dir: string, full: string): void {
  assert.equal(path.dirname(full), path.resolve(dir), `${JSON.stringify(full)} is not directly in ${dir}`);
}

describe('sanitizeFilename', () => {
  const cases: Array<{ title: string; input: string; expected: string }> = [
    // Ordinary names pass through untouched
    { title: 'plain name', input: 'report.pdf', expected: 'report.pdf' },
    { title: 'unicode name', input: '测试文件.bin', expected: '测试文件.bin' },
    { title: 'dotfile', input: '.bashrc', expected: '.bashrc' },
    { title: 'name with inner spaces and dots', input: 'my file v1.2.tar.gz', expected: 'my file v1.2.tar.gz' },
    { title: 'name starting with two dots', input: '..foo', expected: '..foo' },

    // Path traversal
    { title: 'posix traversal', input: '../../etc/passwd', expected: 'passwd' },
    { title: 'windows traversal', input: '..\\..\\win.ini', expected: 'win.ini' },
    { title: 'absolute posix path', input: '/abs/path.txt', expected: 'path.txt' },
    { title: 'absolute windows path', input: 'C:\\Windows\\System32\\evil.dll', expected: 'evil.dll' },
    { title: 'UNC path', input: '\\\\server\\share\\f.txt', expected: 'f.txt' },
    { title: 'mixed separators', input: 'a/b\\c/d.txt', expected: 'd.txt' },
    { title: 'trailing separator keeps last non-empty segment', input: 'folder/', expected: 'folder' },
    { title: 'drive-relative path', input: 'C:evil.txt', expected: 'C_evil.txt' },
    { title: 'traversal ending in ..', input: 'a/..', expected: 'download' },
    { title: 'only separators', input: '///\\\\', expected: 'download' },

    // Reserved Windows device names
    { title: 'CON', input: 'CON', expected: '_CON' },
    { title: 'con.txt', input: 'con.txt', expected: '_con.txt' },
    { title: 'PRN', input: 'PRN', expected: '_PRN' },
    { title: 'aux.c', input: 'aux.c', expected: '_aux.c' },
    { title: 'Nul.tar.gz', input: 'Nul.tar.gz', expected: '_Nul.tar.gz' },
    { title: 'COM1', input: 'COM1', expected: '_COM1' },
    { title: 'com9.log', input: 'com9.log', expected: '_com9.log' },
    { title: 'LPT1', input: 'LPT1', expected: '_LPT1' },
    { title: 'lpt9.txt', input: 'lpt9.txt', expected: '_lpt9.txt' },
    { title: 'reserved name with trailing dot', input: 'CON.', expected: '_CON' },
    { title: 'reserved name with space before extension', input: 'CON .txt', expected: '_CON .txt' },
    { title: 'reserved name after traversal', input: '../nul', expected: '_nul' },
    { title: 'COM10 is not reserved', input: 'COM10', expected: 'COM10' },
    { title: 'CONSOLE is not reserved', input: 'CONSOLE.txt', expected: 'CONSOLE.txt' },
    { title: 'reserved word not at start', input: 'my-con.txt', expected: 'my-con.txt' },

    // Control and bidi characters
    { title: 'NUL byte', input: 'a\u0000b', expected: 'ab' },
    { title: 'newline and tab', input: 'a\nb\tc.txt', expected: 'abc.txt' },
    { title: 'DEL', input: 'a\u007fb', expected: 'ab' },
    { title: 'RLO spoofing', input: 'evil\u202Egnp.exe', expected: 'evilgnp.exe' },
    { title: 'all bidi overrides and isolates', input: '\u202Aa\u202Bb\u202Cc\u202Dd\u202Ee\u2066f\u2067g\u2068h\u2069.txt', expected: 'abcdefgh.txt' },
    { title: 'NUL truncation trick', input: 'file.txt\u0000.exe', expected: 'file.txt.exe' },
    { title: 'only control chars', input: '\u0001\u0002\u001f', expected: 'download' },
    { title: 'lone surrogate made visible', input: 'a\ud800b.txt', expected: 'a\ufffdb.txt' },

    // Windows-forbidden punctuation
    { title: 'forbidden characters', input: 'a:b?c*.txt', expected: 'a_b_c_.txt' },
    { title: 'all forbidden characters', input: '<>:"|?*', expected: '_______' },

    // Dots and whitespace
    { title: 'three dots', input: '...', expected: 'download' },
    { title: 'two dots', input: '..', expected: 'download' },
    { title: 'one dot', input: '.', expected: 'download' },
    { title: 'surrounding spaces', input: '  spaced  ', expected: 'spaced' },
    { title: 'trailing dots and spaces', input: 'name. . .', expected: 'name' },
    { title: 'trailing dot after extension', input: 'file.txt.', expected: 'file.txt' },
    { title: 'unicode whitespace trimmed', input: '\u00a0\u3000name.txt\u3000', expected: 'name.txt' },
    { title: 'only spaces', input: '     ', expected: 'download' },
    { title: 'empty', input: '', expected: 'download' },
  ];

  for (const { title, input, expected } of cases) {
    it(`${title}: ${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      const safe = sanitizeFilename(input);
      assert.equal(safe, expected);
      assertInside(DIR, resolveInside(DIR, safe));
    });
  }

  it('uses a custom fallback', () => {
    assert.equal(sanitizeFilename('..', 'file.bin'), 'file.bin');
    assert.equal(sanitizeFilename('', 'file.bin'), 'file.bin');
    assert.equal(sanitizeFilename('ok.txt', 'file.bin'), 'ok.txt');
  });

  it('is idempotent', () => {
    for (const { input } of cases) {
      const once = sanitizeFilename(input);
      assert.equal(sanitizeFilename(once), once, JSON.stringify(input));
    }
  });

  describe('length limit', () => {
    const longCases: Array<{ title: string; input: string; check: (out: string) => void }> = [
      {
        title: '600 ASCII chars with extension',
        input: `${'a'.repeat(600)}.txt`,
        check: (out) => assert.equal(out, `${'a'.repeat(196)}.txt`),
      },
      {
        title: '600 three-byte chars with extension',
        input: `${'测'.repeat(600)}.txt`,
        // 196 bytes of room for the stem: 65 × 3 = 195.
        check: (out) => assert.equal(out, `${'测'.repeat(65)}.txt`),
      },
      {
        title: 'boundary inside a three-byte char',
        input: `ab${'测'.repeat(300)}.txt`,
        // 2 + 64 × 3 = 194; a 65th char would need 197.
        check: (out) => assert.equal(out, `ab${'测'.repeat(64)}.txt`),
      },
      {
        title: '600 four-byte chars (surrogate pairs) with extension',
        input: `${'😀'.repeat(600)}.png`,
        check: (out) => assert.equal(out, `${'😀'.repeat(49)}.png`),
      },
      {
        title: 'compound extension kept',
        input: `${'é'.repeat(600)}.tar.gz`,
        // 200 - 7 = 193 bytes of room: 96 × 2 = 192.
        check: (out) => assert.equal(out, `${'é'.repeat(96)}.tar.gz`),
      },
      {
        title: 'no extension',
        input: '测'.repeat(600),
        check: (out) => assert.equal(out, '测'.repeat(66)),
      },
      {
        title: 'absurdly long "extension" is not kept',
        input: `a.${'b'.repeat(600)}`,
        check: (out) => assert.equal(out, `a.${'b'.repeat(198)}`),
      },
      {
        // No extension, so the cut lands right after the spaces, which must then be trimmed.
        title: 'truncation that leaves trailing spaces',
        input: `${'a'.repeat(198)}   ${'b'.repeat(50)}`,
        check: (out) => assert.equal(out, 'a'.repeat(198)),
      },
      {
        title: 'short odd "extension" is kept when truncating',
        input: `${'a'.repeat(198)}. . . . . x`,
        check: (out) => assert.equal(out, `${'a'.repeat(197)}. x`),
      },
      {
        title: 'exactly 200 bytes is untouched',
        input: `${'a'.repeat(196)}.txt`,
        check: (out) => assert.equal(out, `${'a'.repeat(196)}.txt`),
      },
    ];

    for (const { title, input, check } of longCases) {
      it(title, () => {
        const out = sanitizeFilename(input);
        assert.ok(utf8Bytes(out) <= 200, `${utf8Bytes(out)} bytes`);
        assert.ok(!out.includes('\ufffd'), 'split a code point');
        assert.equal(Buffer.from(out, 'utf8').toString('utf8'), out);
        check(out);
        assertInside(DIR, resolveInside(DIR, out));
      });
    }

    it('handles long runs of dots and spaces without quadratic blow-up', () => {
      const started = Date.now();
      assert.equal(sanitizeFilename(`x${' .'.repeat(50_000)}`), 'x');
      assert.equal(sanitizeFilename(`x${' .'.repeat(50_000)}y`).length, 200);
      assert.ok(Date.now() - started < 1000);
    });
  });
});

describe('filenameFromUrl', () => {
  const cases: Array<{ title: string; url: string | URL; expected: string | undefined }> = [
    { title: 'simple', url: 'https://example.test/files/report.pdf', expected: 'report.pdf' },
    { title: 'query and fragment ignored', url: 'https://example.test/f.txt?token=a/b.exe#x/y.exe', expected: 'f.txt' },
    { title: 'trailing slash', url: 'https://example.test/dir/sub/', expected: 'sub' },
    { title: 'percent-encoded UTF-8', url: 'https://example.test/%E6%B5%8B%E8%AF%95.bin', expected: '测试.bin' },
    { title: 'percent-encoded space', url: 'https://example.test/a%20b.txt', expected: 'a b.txt' },
    { title: 'raw unicode is encoded by URL then decoded', url: 'https://example.test/测试.bin', expected: '测试.bin' },
    { title: 'encoded slashes stay in the segment', url: 'https://example.test/a%2F..%2F..%2Fpasswd', expected: 'a/../../passwd' },
    { title: 'dot segments are normalised by URL', url: 'https://example.test/a/b/../c.txt', expected: 'c.txt' },
    { title: 'URL object', url: new URL('https://example.test/x/y.zip'), expected: 'y.zip' },
    { title: 'root', url: 'https://example.test/', expected: undefined },
    { title: 'no path', url: 'https://example.test', expected: undefined },
    { title: 'only slashes', url: 'https://example.test///', expected: undefined },
    { title: 'invalid UTF-8', url: 'https://example.test/%E6%B5.txt', expected: undefined },
    { title: 'malformed escape', url: 'https://example.test/%ZZ.txt', expected: undefined },
    { title: 'not a URL', url: 'not a url', expected: undefined },
    { title: 'empty string', url: '', expected: undefined },
  ];

  for (const { title, url, expected } of cases) {
    it(`${title}: ${String(url)}`, () => {
      assert.equal(filenameFromUrl(url), expected);
    });
  }
});

describe('chooseFilename', () => {
  const cases: Array<{ title: string; contentDisposition?: string | null; url: string | URL; expected: string }> = [
    { title: 'header wins over URL', contentDisposition: 'attachment; filename="h.txt"', url: 'https://e.test/u.txt', expected: 'h.txt' },
    { title: 'filename* from header', contentDisposition: "attachment; filename*=UTF-8''%E6%B5%8B.bin", url: 'https://e.test/u.txt', expected: '测.bin' },
    { title: 'no header', url: 'https://e.test/u.txt', expected: 'u.txt' },
    { title: 'null header', contentDisposition: null, url: 'https://e.test/u.txt', expected: 'u.txt' },
    { title: 'header without filename', contentDisposition: 'inline', url: 'https://e.test/u.txt', expected: 'u.txt' },
    { title: 'header name sanitized', contentDisposition: 'attachment; filename="../../etc/passwd"', url: 'https://e.test/u.txt', expected: 'passwd' },
    { title: 'unusable header name falls through to URL', contentDisposition: 'attachment; filename=".."', url: 'https://e.test/u.txt', expected: 'u.txt' },
    { title: 'URL name sanitized', url: 'https://e.test/a%2F..%2F..%2Fpasswd', expected: 'passwd' },
    { title: 'URL reserved name sanitized', url: 'https://e.test/con.txt', expected: '_con.txt' },
    { title: 'unusable URL name', url: 'https://e.test/%20/', expected: 'download' },
    { title: 'nothing at all', url: 'https://e.test/', expected: 'download' },
    { title: 'bad URL encoding', url: 'https://e.test/%E6', expected: 'download' },
    { title: 'URL object', url: new URL('https://e.test/dir/file.iso'), expected: 'file.iso' },
  ];

  for (const { title, contentDisposition, url, expected } of cases) {
    it(title, () => {
      const name = chooseFilename({ contentDisposition, url });
      assert.equal(name, expected);
      assertInside(DIR, resolveInside(DIR, name));
    });
  }
});

describe('resolveInside', () => {
  const ok: Array<{ name: string; expected: string }> = [
    { name: 'a.txt', expected: path.join(DIR, 'a.txt') },
    { name: '..foo', expected: path.join(DIR, '..foo') },
    { name: 'sub/a.txt', expected: path.join(DIR, 'sub', 'a.txt') },
    { name: 'sub/../a.txt', expected: path.join(DIR, 'a.txt') },
  ];
  for (const { name, expected } of ok) {
    it(`accepts ${JSON.stringify(name)}`, () => {
      assert.equal(resolveInside(DIR, name), expected);
    });
  }

  it('accepts a dir with a trailing separator', () => {
    assert.equal(resolveInside(DIR + path.sep, 'a.txt'), path.join(DIR, 'a.txt'));
  });

  const bad = ['', '.', '..', '../x', '../../etc/passwd', `..${path.sep}x`, `../${path.basename(DIR)}x/evil`, 'sub/../../x', path.resolve('/etc/passwd')];
  for (const name of bad) {
    it(`rejects ${JSON.stringify(name)}`, () => {
      assert.throws(() => resolveInside(DIR, name), { message: 'path escapes folder' });
    });
  }
});

describe('nextFreeName', () => {
  function takenSet(...names: string[]): { isTaken: (p: string) => Promise<boolean>; seen: string[] } {
    const taken = new Set(names.map((n) => path.join(DIR, n)));
    const seen: string[] = [];
    return {
      seen,
      isTaken: async (p) => {
        seen.push(p);
        return taken.has(p);
      },
    };
  }

  const cases: Array<{ title: string; name: string; taken: string[]; expected: string }> = [
    { title: 'free name is kept', name: 'a.txt', taken: [], expected: 'a.txt' },
    { title: 'first collision', name: 'a.txt', taken: ['a.txt'], expected: 'a (1).txt' },
    { title: 'several collisions', name: 'a.txt', taken: ['a.txt', 'a (1).txt', 'a (2).txt'], expected: 'a (3).txt' },
    { title: 'gap is reused', name: 'a.txt', taken: ['a.txt', 'a (2).txt'], expected: 'a (1).txt' },
    { title: 'no extension', name: 'README', taken: ['README'], expected: 'README (1)' },
    { title: 'dotfile', name: '.bashrc', taken: ['.bashrc'], expected: '.bashrc (1)' },
    { title: 'dotfile with extension', name: '.config.json', taken: ['.config.json'], expected: '.config (1).json' },
    { title: 'multiple dots', name: 'a.b.c', taken: ['a.b.c'], expected: 'a.b (1).c' },
    { title: '.tar.gz', name: 'x.tar.gz', taken: ['x.tar.gz'], expected: 'x (1).tar.gz' },
    { title: '.tar.xz', name: 'x.tar.xz', taken: ['x.tar.xz'], expected: 'x (1).tar.xz' },
    { title: '.tar.bz2', name: 'x.tar.bz2', taken: ['x.tar.bz2'], expected: 'x (1).tar.bz2' },
    { title: '.tar.zst', name: 'x.tar.zst', taken: ['x.tar.zst'], expected: 'x (1).tar.zst' },
    { title: 'upper-case compound extension', name: 'X.TAR.GZ', taken: ['X.TAR.GZ'], expected: 'X (1).TAR.GZ' },
    { title: 'other .tar.* is a single extension', name: 'x.tar.lz', taken: ['x.tar.lz'], expected: 'x.tar (1).lz' },
    { title: 'name that is only a compound extension', name: '.tar.gz', taken: ['.tar.gz'], expected: '.tar (1).gz' },
    { title: 'already numbered', name: 'a (1).txt', taken: ['a (1).txt'], expected: 'a (1) (1).txt' },
  ];

  for (const { title, name, taken, expected } of cases) {
    it(`${title}: ${name} → ${expected}`, async () => {
      const { isTaken } = takenSet(...taken);
      assert.equal(await nextFreeName(DIR, name, isTaken), expected);
    });
  }

  it('passes full paths inside dir to isTaken, in order', async () => {
    const { isTaken, seen } = takenSet('a.txt', 'a (1).txt');
    await nextFreeName(DIR, 'a.txt', isTaken);
    assert.deepEqual(seen, [path.join(DIR, 'a.txt'), path.join(DIR, 'a (1).txt'), path.join(DIR, 'a (2).txt')]);
  });

  it('gives up after 9999 with an Error', async () => {
    let calls = 0;
    await assert.rejects(
      nextFreeName(DIR, 'a.txt', async () => {
        calls++;
        return true;
      }),
      Error,
    );
    assert.equal(calls, 10_000); // the name itself + (1)…(9999)
  });

  it('can return (9999)', async () => {
    const name = await nextFreeName(DIR, 'a.txt', async (p) => p !== path.join(DIR, 'a (9999).txt'));
    assert.equal(name, 'a (9999).txt');
  });

  it('keeps candidates within 200 UTF-8 bytes without splitting code points', async () => {
    const long = sanitizeFilename(`${'测'.repeat(600)}.txt`);
    const name = await nextFreeName(DIR, long, async (p) => p === path.join(DIR, long));
    assert.ok(utf8Bytes(name) <= 200, `${utf8Bytes(name)} bytes`);
    assert.match(name, /^测+ \(1\)\.txt$/);
  });

  it('rejects names that escape the folder', async () => {
    await assert.rejects(nextFreeName(DIR, '../x', async () => false), { message: 'path escapes folder' });
  });
});

describe('pickServerFilename: a server never names a dotfile or a file that tools load by themselves', () => {
  const cases: Array<{ title: string; contentDisposition?: string; url: string; userUrl?: string; name: string; renamedFrom?: string }> = [
    { title: 'an ordinary name is kept', contentDisposition: 'attachment; filename="data.csv"', url: 'https://e.test/x', name: 'data.csv' },
    { title: '.npmrc from the header', contentDisposition: 'attachment; filename=".npmrc"', url: 'https://e.test/x', name: '_.npmrc', renamedFrom: '.npmrc' },
    { title: '.env after trimming spaces', contentDisposition: 'attachment; filename=" .env"', url: 'https://e.test/x', name: '_.env', renamedFrom: '.env' },
    { title: 'eslint.config.mjs', contentDisposition: 'attachment; filename="eslint.config.mjs"', url: 'https://e.test/x', name: '_eslint.config.mjs', renamedFrom: 'eslint.config.mjs' },
    { title: 'vite.config.ts', contentDisposition: 'attachment; filename="vite.config.ts"', url: 'https://e.test/x', name: '_vite.config.ts', renamedFrom: 'vite.config.ts' },
    { title: 'conftest.py in any case', contentDisposition: 'attachment; filename="ConfTest.PY"', url: 'https://e.test/x', name: '_ConfTest.PY', renamedFrom: 'ConfTest.PY' },
    { title: 'package.json', contentDisposition: 'attachment; filename="package.json"', url: 'https://e.test/x', name: '_package.json', renamedFrom: 'package.json' },
    { title: 'a path ending in Makefile', contentDisposition: 'attachment; filename="../../Makefile"', url: 'https://e.test/x', name: '_Makefile', renamedFrom: 'Makefile' },
    { title: 'a redirect target named .bashrc', url: 'https://cdn.test/.bashrc', userUrl: 'https://e.test/latest', name: '_.bashrc', renamedFrom: '.bashrc' },
    { title: 'the name in the URL the user gave is the user\'s choice', url: 'https://e.test/conftest.py', userUrl: 'https://e.test/conftest.py', name: 'conftest.py' },
    { title: 'a config-like name that no tool loads stays', contentDisposition: 'attachment; filename="my.configuration.js"', url: 'https://e.test/x', name: 'my.configuration.js' },
  ];
  for (const { title, contentDisposition, url, userUrl, name, renamedFrom } of cases) {
    it(title, () => {
      assert.deepEqual(pickServerFilename({ contentDisposition, url, userUrl }), renamedFrom === undefined ? { name } : { name, renamedFrom });
    });
  }
});
