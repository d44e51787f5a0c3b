import * as assert from 'node:assert/strict';
import { parseUrlList, urlAt, urlsFromUriList, urlsInText, withAssumedScheme } from '../../src/vscode/urlInput';

describe('what the Download URL box accepts', () => {
  it('takes a URL without a scheme as a browser would: http for this machine and private addresses, https for names', () => {
    assert.equal(withAssumedScheme('127.0.0.1:8080/file.bin'), 'http://127.0.0.1:8080/file.bin');
    assert.equal(withAssumedScheme('localhost:8080/x'), 'http://localhost:8080/x');
    assert.equal(withAssumedScheme('192.168.1.20/share/a.iso'), 'http://192.168.1.20/share/a.iso');
    assert.equal(withAssumedScheme('example.com/a.zip'), 'https://example.com/a.zip');
    assert.equal(withAssumedScheme('not'), undefined);
    assert.equal(withAssumedScheme('file.bin'), undefined, 'a bare file name with an extension-like ending is not a host');
  });

  it('lists what it assumed, so the box can say "Will download http://…"', () => {
    const parsed = parseUrlList('127.0.0.1:8080/file.bin https://example.com/b.zip');
    assert.deepEqual(parsed.urls, ['http://127.0.0.1:8080/file.bin', 'https://example.com/b.zip']);
    assert.deepEqual(parsed.assumed, [{ typed: '127.0.0.1:8080/file.bin', url: 'http://127.0.0.1:8080/file.bin' }]);
    assert.equal(parsed.invalid, undefined);
  });

  it('"not a url" is quoted whole, not just "not"', () => {
    assert.equal(parseUrlList('not a url').invalid, 'not a url');
    assert.equal(parseUrlList('  not a url ').invalid, 'not a url');
  });

  it('among real URLs, the one bad piece is quoted', () => {
    assert.equal(parseUrlList('https://example.com/a.zip nope https://example.com/b.zip').invalid, 'nope');
    assert.equal(parseUrlList('ftp://example.com/a.zip').invalid, 'ftp://example.com/a.zip');
  });
});

describe('links in text (Download Link, drops on the Transfers view)', () => {
  it('finds every http(s) URL once, without the punctuation around it', () => {
    const text = 'See (https://a.example/x.zip), <https://b.example/y.iso>. Also "http://c.example:8080/z?q=1". Again https://a.example/x.zip!';
    assert.deepEqual(urlsInText(text), ['https://a.example/x.zip', 'https://b.example/y.iso', 'http://c.example:8080/z?q=1']);
    assert.deepEqual(urlsInText('no links, ftp://x.example/f, mailto:a@b.c'), []);
  });

  it('the URL under the cursor, from its first to its last character', () => {
    const line = 'get it from https://a.example/file.bin, then unpack';
    const start = line.indexOf('https');
    assert.equal(urlAt(line, start), 'https://a.example/file.bin');
    assert.equal(urlAt(line, start + 26), 'https://a.example/file.bin');
    assert.equal(urlAt(line, start - 2), undefined);
    assert.equal(urlAt(line, line.indexOf('unpack')), undefined);
  });

  it('reads text/uri-list: one URL per line, # lines are comments', () => {
    assert.deepEqual(urlsFromUriList('# from a browser\r\nhttps://a.example/1\r\nhttps://a.example/2\r\n'), ['https://a.example/1', 'https://a.example/2']);
    assert.deepEqual(urlsFromUriList('#https://commented.example/x'), []);
  });
});
