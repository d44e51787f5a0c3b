import * as assert from 'node:assert/strict';
import { CurlParseError, looksLikeCurl, parseCurlCommand, tokenize } from '../../src/core/http/curl-command';

const URL_ = 'https://files.example.com/big.iso?x=1&y=2';
const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;

describe('Copy as cURL: what a pasted command downloads', () => {
  const table: Array<{ title: string; command: string; url: string; headers: [string, string][] }> = [
    {
      title: 'Chrome (bash): -H, -b, --compressed; accept-encoding and the like dropped',
      command: [
        `curl '${URL_}' \\`,
        `  -H 'accept: text/html,application/xhtml+xml' \\`,
        `  -H 'accept-encoding: gzip, deflate, br' \\`,
        `  -b 'session=abc123; theme=dark' \\`,
        `  -H 'referer: https://files.example.com/' \\`,
        `  -H 'sec-ch-ua: "Chromium";v="124", "Not-A.Brand";v="99"' \\`,
        `  -H 'user-agent: Mozilla/5.0' \\`,
        `  --compressed`,
      ].join('\n'),
      url: URL_,
      headers: [
        ['accept', 'text/html,application/xhtml+xml'],
        ['referer', 'https://files.example.com/'],
        ['sec-ch-ua', '"Chromium";v="124", "Not-A.Brand";v="99"'],
        ['user-agent', 'Mozilla/5.0'],
        ['Cookie', 'session=abc123; theme=dark'],
      ],
    },
    {
      title: 'Chrome (cmd): ^ escapes, ^" quotes, ^ line continuations',
      command: [
        `curl ^"https://files.example.com/big.iso?x=1^&y=2^" ^`,
        `  -H ^"accept: */*^" ^`,
        `  -b ^"session=abc123; theme=dark^" ^`,
        `  -H ^"sec-ch-ua: ^\\^"Chromium^\\^";v=^\\^"124^\\^"^" ^`,
        `  --compressed`,
      ].join('\r\n'),
      url: URL_,
      headers: [
        ['accept', '*/*'],
        ['sec-ch-ua', '"Chromium";v="124"'],
        ['Cookie', 'session=abc123; theme=dark'],
      ],
    },
    {
      title: 'Firefox (one line): Cookie as a header; If-None-Match and Connection dropped',
      command: `curl '${URL_}' -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0' -H 'Accept: */*' -H 'Accept-Encoding: gzip, deflate, br' -H 'Connection: keep-alive' -H 'Cookie: session=abc123' -H 'If-None-Match: "xyz"' -H 'Sec-Fetch-Dest: document'`,
      url: URL_,
      headers: [
        ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0'],
        ['Accept', '*/*'],
        ['Sec-Fetch-Dest', 'document'],
        ['Cookie', 'session=abc123'],
      ],
    },
    {
      title: "Safari: -X 'GET' on its own line",
      command: `curl '${URL_}' \\\n-X 'GET' \\\n-H 'Accept: */*' \\\n-H 'Cookie: session=abc123' \\\n-H 'User-Agent: Mozilla/5.0 (Macintosh) Safari/605.1.15'`,
      url: URL_,
      headers: [
        ['Accept', '*/*'],
        ['User-Agent', 'Mozilla/5.0 (Macintosh) Safari/605.1.15'],
        ['Cookie', 'session=abc123'],
      ],
    },
    {
      title: "-u user:password becomes Basic auth; $'…' quoting; attached values; -sSL and -o skipped",
      command: `curl -sSL -o out.bin -u 'alice:s3cr:et' -H $'X-Note: it\\'s\\tfine' -HX-Attached:\\ 1 --header=X-Long:2 "https://files.example.com/a b"`,
      url: 'https://files.example.com/a b',
      headers: [
        ['Authorization', basic('alice:s3cr:et')],
        ['X-Note', "it's\tfine"],
        ['X-Attached', '1'],
        ['X-Long', '2'],
      ],
    },
    {
      title: '--url; a cookie file (-b without =) is not a cookie; -e is the Referer',
      command: `curl.exe --url https://h.example/f -b cookies.txt -e https://h.example/page --retry 3 --http2`,
      url: 'https://h.example/f',
      headers: [['Referer', 'https://h.example/page']],
    },
    {
      title: 'several -b and a Cookie header become one Cookie',
      command: `curl https://h.example/f -b a=1 -H 'cookie: b=2' --cookie 'c=3'`,
      url: 'https://h.example/f',
      headers: [['Cookie', 'a=1; b=2; c=3']],
    },
  ];
  for (const row of table) {
    it(row.title, () => {
      assert.ok(looksLikeCurl(row.command));
      assert.deepEqual(parseCurlCommand(row.command), { url: row.url, headers: row.headers });
    });
  }

  const refused: Array<{ title: string; command: string; reason: RegExp }> = [
    { title: 'a POST with data', command: `curl 'https://h.example/api' --data-raw '{"a":1}'`, reason: /request body/ },
    { title: 'a form upload', command: `curl https://h.example/up -F file=@x.bin`, reason: /request body/ },
    { title: '-X POST', command: `curl -X POST https://h.example/f`, reason: /POST request/ },
    { title: 'no URL', command: `curl -H 'a: b'`, reason: /no URL/ },
    { title: 'an ftp URL', command: `curl ftp://h.example/f`, reason: /not an http/ },
    { title: 'an unclosed quote', command: `curl 'https://h.example/f`, reason: /unclosed/ },
    { title: '-H without a value', command: `curl https://h.example/f -H`, reason: /needs a value/ },
  ];
  for (const row of refused) {
    it(`refuses ${row.title}`, () => {
      assert.throws(() => parseCurlCommand(row.command), (e: unknown) => e instanceof CurlParseError && row.reason.test(e.message));
    });
  }

  it('knows a curl command from a URL list', () => {
    assert.ok(looksLikeCurl('  curl https://a'));
    assert.ok(looksLikeCurl('curl.exe "https://a"'));
    assert.ok(!looksLikeCurl('https://a https://b'));
    assert.ok(!looksLikeCurl('curly https://a'));
  });

  it('tokenizes bash double quotes with escapes and backslash-newline continuations', () => {
    assert.deepEqual(tokenize('curl "a \\"b\\" \\$c" \\\n d\\ e'), ['curl', 'a "b" $c', 'd e']);
  });
});
