import assert from 'node:assert/strict';
import type * as vscode from 'vscode';
import { originOf, parseCurlCommand } from '../../src/core';
import { SecretKeys } from '../../src/vscode/ids';
import { SavedHeaders, keepCredentialsSecret } from '../../src/vscode/savedHeaders';

/** SecretStorage as VS Code keeps it: strings under keys, nothing else. */
class MemorySecrets {
  readonly entries = new Map<string, string>();
  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.entries.get(key));
  }
  store(key: string, value: string): Promise<void> {
    this.entries.set(key, value);
    return Promise.resolve();
  }
  delete(key: string): Promise<void> {
    this.entries.delete(key);
    return Promise.resolve();
  }
}

class MemoryLog {
  readonly lines: string[] = [];
  info(message: string): void {
    this.lines.push(`info ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn ${message}`);
  }
}

describe('headers saved in the keychain belong to their origin', () => {
  let secrets: MemorySecrets;
  let log: MemoryLog;
  let saved: SavedHeaders;

  beforeEach(() => {
    secrets = new MemorySecrets();
    log = new MemoryLog();
    saved = new SavedHeaders(secrets as unknown as vscode.SecretStorage, log);
  });

  it('originOf: scheme, lower-case host, and the port only when it is not the default', () => {
    assert.equal(originOf('https://Files.Example.COM:443/a/b?c=d'), 'https://files.example.com');
    assert.equal(originOf('http://files.example.com:80/'), 'http://files.example.com');
    assert.equal(originOf('https://127.0.0.1:8443/x'), 'https://127.0.0.1:8443');
    assert.equal(originOf('http://[::1]:8080/x'), 'http://[::1]:8080');
    assert.equal(originOf('https://user:pw@h.example/x'), 'https://h.example');
    assert.equal(originOf('ftp://h.example/x'), undefined);
    assert.equal(originOf('files.example.com'), undefined);
  });

  it('a header saved for https://h:8443 is sent to every URL of that origin', async () => {
    await saved.set('https://h.example:8443', 'Authorization', 'Bearer secure');
    assert.deepEqual(await saved.forUrl('https://h.example:8443/a/file.bin?x=1'), { Authorization: 'Bearer secure' });
    assert.deepEqual(await saved.forUrl('https://H.EXAMPLE:8443/other'), { Authorization: 'Bearer secure' });
  });

  it('a header saved for https://h:8443 is never sent to http://h:8443 (same host and port, plain text)', async () => {
    await saved.set('https://h.example:8443', 'Authorization', 'Bearer secure');
    assert.deepEqual(await saved.forUrl('http://h.example:8443/file.bin'), {});
  });

  it('https://h and http://h (default ports, the same "host") are two origins', async () => {
    await saved.set('https://h.example/', 'X-Api-Key', 'for-https');
    await saved.set('http://h.example/', 'X-Api-Key', 'for-http');
    assert.deepEqual(await saved.forUrl('https://h.example:443/f'), { 'X-Api-Key': 'for-https' });
    assert.deepEqual(await saved.forUrl('http://h.example:80/f'), { 'X-Api-Key': 'for-http' });
    assert.deepEqual(await saved.forUrl('https://h.example:8443/f'), {}, 'another port is another origin');
  });

  it('an empty value removes one header and leaves the others of the origin', async () => {
    await saved.set('https://h.example', 'X-One', '1');
    await saved.set('https://h.example', 'X-Two', '2');
    await saved.set('https://h.example', 'x-one', '');
    assert.deepEqual(await saved.forUrl('https://h.example/'), { 'X-Two': '2' });
    await saved.set('https://h.example', 'X-Two', '');
    assert.equal(secrets.entries.size, 0, 'nothing left in the keychain');
  });

  it('refuses to save a header for something that is not an http(s) origin', async () => {
    await assert.rejects(saved.set('files.example.com', 'X-Key', 'v'));
    await assert.rejects(saved.set('ftp://files.example.com', 'X-Key', 'v'));
    assert.equal(secrets.entries.size, 0);
  });

  it('a pasted cURL command: its headers are kept for its origin, not for the same host over http', async () => {
    const curl = parseCurlCommand(`curl 'https://h.example:8443/dl/file.bin' -H 'X-Token: t0k' -b 'session=abc'`);
    assert.equal(await saved.setAll(curl.url, curl.headers), 'https://h.example:8443');
    assert.deepEqual(await saved.forUrl('https://h.example:8443/dl/other.bin'), { 'X-Token': 't0k', Cookie: 'session=abc' });
    assert.deepEqual(await saved.forUrl('http://h.example:8443/dl/file.bin'), {});
    assert.deepEqual(await saved.forUrl('https://h.example/dl/file.bin'), {});
  });

  it('user:password@ in a URL becomes the Authorization header of that URL\'s origin only', async () => {
    const channel = log as unknown as vscode.LogOutputChannel;
    const clean = await keepCredentialsSecret('https://alice:s3cr%40t@h.example:8443/f.bin', saved, channel);
    assert.equal(clean, 'https://h.example:8443/f.bin');
    const basic = `Basic ${Buffer.from('alice:s3cr@t').toString('base64')}`;
    assert.deepEqual(await saved.forUrl('https://h.example:8443/g.bin'), { Authorization: basic });
    assert.deepEqual(await saved.forUrl('http://h.example:8443/f.bin'), {});
    assert.ok(log.lines.every((line) => !line.includes('s3cr') && !line.includes(basic)), 'the log holds no credential');
  });

  describe('headers saved per host by an earlier build', () => {
    const legacy = (host: string, headers: Record<string, string>) => secrets.entries.set(`${SecretKeys.legacyHostHeaderPrefix}${host}`, JSON.stringify(headers));

    it('are never sent over plain http, and the log says how to give them for http', async () => {
      legacy('h.example:8443', { Authorization: 'Bearer old' });
      assert.deepEqual(await saved.forUrl('http://h.example:8443/f.bin'), {});
      assert.deepEqual(await saved.forUrl('http://h.example:8443/g.bin'), {});
      const warnings = log.lines.filter((line) => line.startsWith('warn'));
      assert.equal(warnings.length, 1, 'said once');
      assert.match(warnings[0], /only to https:\/\/h\.example:8443.*set them again for http:\/\/h\.example:8443/);
      assert.doesNotMatch(warnings[0], /Bearer old/);
      assert.ok(secrets.entries.has(`${SecretKeys.legacyHostHeaderPrefix}h.example:8443`), 'kept for the https origin');
    });

    it('move to the https origin of their host the first time it asks, and stay there only', async () => {
      legacy('h.example:8443', { Authorization: 'Bearer old', 'X-Api-Key': 'k' });
      assert.deepEqual(await saved.forUrl('https://h.example:8443/f.bin'), { Authorization: 'Bearer old', 'X-Api-Key': 'k' });
      assert.deepEqual([...secrets.entries.keys()], [`${SecretKeys.originHeaderPrefix}https://h.example:8443`], 'the host entry is gone, the origin has it');
      assert.ok(log.lines.some((line) => /^info .*h\.example:8443.*now belong to https:\/\/h\.example:8443 only: Authorization, X-Api-Key$/.test(line)));
      assert.deepEqual(await saved.forUrl('https://h.example:8443/g.bin'), { Authorization: 'Bearer old', 'X-Api-Key': 'k' });
      assert.deepEqual(await saved.forUrl('http://h.example:8443/f.bin'), {}, 'never http, after the move either');
    });

    it('a host saved without a port goes to https on the default port only', async () => {
      legacy('h.example', { 'X-Api-Key': 'k' });
      assert.deepEqual(await saved.forUrl('http://h.example/f.bin'), {});
      assert.deepEqual(await saved.forUrl('https://h.example:8443/f.bin'), {});
      assert.deepEqual(await saved.forUrl('https://h.example/f.bin'), { 'X-Api-Key': 'k' });
    });

    it('setting a header for the https origin keeps the ones saved before for its host', async () => {
      legacy('h.example', { Cookie: 'a=1' });
      await saved.set('https://h.example', 'X-Api-Key', 'new');
      assert.deepEqual(await saved.forUrl('https://h.example/f'), { Cookie: 'a=1', 'X-Api-Key': 'new' });
      assert.ok(!secrets.entries.has(`${SecretKeys.legacyHostHeaderPrefix}h.example`));
    });

    it('an entry saved for the origin wins over the old host entry', async () => {
      legacy('h.example', { 'X-Api-Key': 'old' });
      secrets.entries.set(`${SecretKeys.originHeaderPrefix}https://h.example`, JSON.stringify({ 'X-Api-Key': 'new' }));
      assert.deepEqual(await saved.forUrl('https://h.example/f'), { 'X-Api-Key': 'new' });
    });
  });
});
