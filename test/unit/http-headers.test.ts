import * as assert from 'node:assert/strict';
import { TransferError } from '../../src/core/errors';
import { headersForOrigin, headersForRedirect, parseHttpUrl, sameOrigin, splitUrlCredentials } from '../../src/core/http/client';

const HEADERS: Record<string, string> = {
  authorization: 'Bearer secret',
  cookie: 'session=1',
  'proxy-authorization': 'Basic cHJveHk=',
  range: 'bytes=100-',
  'if-range': '"abc"',
  'user-agent': 'resumable-transfers/test',
  'x-custom': 'kept',
};
const CREDENTIALS = ['authorization', 'cookie', 'proxy-authorization'];
const withoutCredentials = (headers: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !CREDENTIALS.includes(name.toLowerCase())));

describe('headersForRedirect', () => {
  const cases: Array<{ title: string; from: string; to: string; keepsCredentials: boolean }> = [
    { title: 'same origin, other path', from: 'https://example.com/a', to: 'https://example.com/b?x=1', keepsCredentials: true },
    { title: 'same origin, explicit default port', from: 'https://example.com/a', to: 'https://example.com:443/b', keepsCredentials: true },
    { title: 'same origin, host in other case', from: 'https://example.com/a', to: 'https://EXAMPLE.com/b', keepsCredentials: true },
    { title: 'same origin over http', from: 'http://example.com:8080/a', to: 'http://example.com:8080/b', keepsCredentials: true },
    { title: 'other host', from: 'https://example.com/a', to: 'https://cdn.example.net/a', keepsCredentials: false },
    { title: 'subdomain', from: 'https://example.com/a', to: 'https://evil.example.com/a', keepsCredentials: false },
    { title: 'parent domain', from: 'https://api.example.com/a', to: 'https://example.com/a', keepsCredentials: false },
    { title: 'other port', from: 'https://example.com/a', to: 'https://example.com:8443/a', keepsCredentials: false },
    { title: 'other port over http', from: 'http://example.com:8080/a', to: 'http://example.com:8081/a', keepsCredentials: false },
    { title: 'https → http on the same host', from: 'https://example.com/a', to: 'http://example.com/a', keepsCredentials: false },
    { title: 'http → https on the same host (other origin)', from: 'http://example.com/a', to: 'https://example.com/a', keepsCredentials: false },
    { title: 'IP address instead of host name', from: 'https://localhost/a', to: 'https://127.0.0.1/a', keepsCredentials: false },
  ];

  for (const { title, from, to, keepsCredentials } of cases) {
    it(`${title}: ${keepsCredentials ? 'keeps' : 'drops'} credentials`, () => {
      const input = { ...HEADERS };
      const result = headersForRedirect(input, new URL(from), new URL(to));
      assert.deepEqual(result, keepsCredentials ? HEADERS : withoutCredentials(HEADERS));
      assert.deepEqual(input, HEADERS, 'the input is not modified');
    });
  }

  it('drops credential headers whatever their case', () => {
    const headers = {
      Authorization: 'Bearer a',
      COOKIE: 'c=1',
      'Proxy-Authorization': 'Basic b',
      'X-Other': 'kept',
      Accept: '*/*',
    };
    const result = headersForRedirect(headers, new URL('https://a.example/'), new URL('https://b.example/'));
    assert.deepEqual(result, { 'X-Other': 'kept', Accept: '*/*' });
  });

  it('keeps every other header, including ones that merely look similar', () => {
    const headers = {
      'x-authorization-hint': 'keep',
      'set-cookie-policy': 'keep',
      cookie2: 'keep',
      'accept-encoding': 'identity',
    };
    const result = headersForRedirect(headers, new URL('https://a.example/'), new URL('http://b.example/'));
    assert.deepEqual(result, headers);
  });

  it('an empty header map stays empty', () => {
    assert.deepEqual(headersForRedirect({}, new URL('https://a.example/'), new URL('https://b.example/')), {});
  });
});

describe('headersForRedirect: the user\'s headers', () => {
  const userNames = new Set(['x-api-key', 'private-token']);
  const headers = { 'x-api-key': 'k', 'private-token': 't', range: 'bytes=5-', 'upload-offset': '7' };

  it('drops every header the user gave on a cross-origin hop, keeps the protocol\'s', () => {
    assert.deepEqual(headersForRedirect(headers, new URL('http://127.0.0.1:1001/a'), new URL('http://127.0.0.1:1002/a'), userNames), {
      range: 'bytes=5-',
      'upload-offset': '7',
    });
  });

  it('keeps them on a same-origin hop', () => {
    assert.deepEqual(headersForRedirect(headers, new URL('http://127.0.0.1:1001/a'), new URL('http://127.0.0.1:1001/b'), userNames), headers);
  });
});

describe('sameOrigin', () => {
  const cases: Array<[string, string, boolean]> = [
    ['https://example.com/a', 'https://example.com/b', true],
    ['https://example.com/', 'https://example.com:443/', true],
    ['http://example.com/', 'http://example.com:80/', true],
    ['https://example.com/', 'http://example.com/', false],
    ['https://example.com/', 'https://example.com:444/', false],
    ['https://example.com/', 'https://www.example.com/', false],
  ];
  for (const [a, b, expected] of cases) {
    it(`${a} vs ${b} → ${expected}`, () => {
      assert.equal(sameOrigin(new URL(a), new URL(b)), expected);
      assert.equal(sameOrigin(new URL(b), new URL(a)), expected);
    });
  }
});

describe('parseHttpUrl', () => {
  const valid: Array<{ input: string; href: string }> = [
    { input: 'https://example.com/file.bin', href: 'https://example.com/file.bin' },
    { input: 'http://example.com', href: 'http://example.com/' },
    { input: '  https://example.com/a b  ', href: 'https://example.com/a%20b' },
    { input: 'HTTPS://EXAMPLE.COM/X', href: 'https://example.com/X' },
    { input: 'http://user:pw@example.com:8080/p?q=1#frag', href: 'http://user:pw@example.com:8080/p?q=1#frag' },
  ];
  for (const { input, href } of valid) {
    it(`${JSON.stringify(input)} → ${href}`, () => {
      const url = parseHttpUrl(input);
      assert.ok(url instanceof URL);
      assert.equal(url.href, href);
    });
  }

  const invalid: Array<{ input: string; code: string }> = [
    { input: 'not a url', code: 'ERR_INVALID_URL' },
    { input: '', code: 'ERR_INVALID_URL' },
    { input: 'example.com/file.bin', code: 'ERR_INVALID_URL' },
    { input: 'http://', code: 'ERR_INVALID_URL' },
    { input: 'https://exa mple.com/', code: 'ERR_INVALID_URL' },
    { input: 'ftp://x', code: 'ERR_UNSUPPORTED_PROTOCOL' },
    { input: 'file:///etc/passwd', code: 'ERR_UNSUPPORTED_PROTOCOL' },
    { input: 'data:text/plain,hi', code: 'ERR_UNSUPPORTED_PROTOCOL' },
    { input: 'javascript:alert(1)', code: 'ERR_UNSUPPORTED_PROTOCOL' },
    { input: 'ws://example.com/', code: 'ERR_UNSUPPORTED_PROTOCOL' },
  ];
  for (const { input, code } of invalid) {
    it(`${JSON.stringify(input)} → ${code}`, () => {
      assert.throws(
        () => parseHttpUrl(input),
        (error: unknown) => error instanceof TransferError && error.code === code && error.message.length > 0,
      );
    });
  }
});

describe('splitUrlCredentials', () => {
  it('moves user:password into a Basic Authorization value and out of the URL', () => {
    const { url, authorization } = splitUrlCredentials('https://alice:p%40ss%20word@files.example.com:8443/a/b.bin?x=1');
    assert.equal(url, 'https://files.example.com:8443/a/b.bin?x=1');
    assert.equal(authorization, `Basic ${Buffer.from('alice:p@ss word').toString('base64')}`);
  });

  it('leaves URLs without credentials, and text that is not a URL, as they are', () => {
    assert.deepEqual(splitUrlCredentials('https://example.com/f'), { url: 'https://example.com/f' });
    assert.deepEqual(splitUrlCredentials('not a url'), { url: 'not a url' });
  });
});

describe('headersForOrigin (the CLI\'s --header)', () => {
  const bound = headersForOrigin('https://api.example.com/v1/file?x=1', { 'X-Api-Key': 'k' });

  it('gives the headers to URLs of the same origin, whatever the path', async () => {
    assert.deepEqual(await bound('https://api.example.com/other'), { 'X-Api-Key': 'k' });
    assert.deepEqual(await bound('https://API.example.com:443/'), { 'X-Api-Key': 'k' });
  });

  it('gives nothing to another host, port or scheme, or to text that is not a URL', async () => {
    for (const url of ['https://cdn.example.com/f', 'https://api.example.com:8443/f', 'http://api.example.com/f', 'not a url']) {
      assert.deepEqual(await bound(url), {}, url);
    }
  });
});
