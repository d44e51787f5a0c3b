import * as assert from 'node:assert/strict';
import { parseUrlList, withAssumedScheme } from '../../src/vscode/urlInput';

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
