import assert from 'node:assert/strict';
import { TransferError, redactText, redactUrl } from '../../src/core/errors';

/** Signed-URL secrets never reach a log, a message, a tooltip or lastError; their names do. */
describe('redactUrl / redactText', () => {
  const cases: Array<{ title: string; url: string; secrets: string[]; kept: string[] }> = [
    {
      title: 'S3 presigned URL',
      url: 'https://bucket.s3.amazonaws.com/big.iso?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=deadbeefcafe&X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLE',
      secrets: ['AKIAEXAMPLE', 'deadbeefcafe', 'FQoGZXIvYXdzEXAMPLE'],
      kept: ['X-Amz-Algorithm=AWS4-HMAC-SHA256', 'X-Amz-Expires=3600', 'X-Amz-Signature=REDACTED', 'X-Amz-Credential=REDACTED'],
    },
    {
      title: 'GCS signed URL',
      url: 'https://storage.googleapis.com/b/o.bin?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=svc%40p.iam.gserviceaccount.com&X-Goog-Signature=0a1b2c3d',
      secrets: ['svc%40p', '0a1b2c3d'],
      kept: ['X-Goog-Algorithm=GOOG4-RSA-SHA256', 'X-Goog-Signature=REDACTED'],
    },
    {
      title: 'Azure SAS',
      url: 'https://acct.blob.core.windows.net/c/f.zip?sv=2024-01-01&se=2026-12-31&sp=r&sig=AbC%2Bdef%3D',
      secrets: ['AbC%2Bdef%3D'],
      kept: ['sv=2024-01-01', 'sp=r', 'sig=REDACTED'],
    },
    {
      title: 'tokens, any case',
      url: 'http://127.0.0.1:8080/f?token=t0k&Access_Token=a1&page=2',
      secrets: ['t0k', 'a1'],
      kept: ['token=REDACTED', 'Access_Token=REDACTED', 'page=2'],
    },
    {
      title: 'user:password',
      url: 'https://user:hunter2@example.com/f.bin',
      secrets: ['hunter2', 'user:'],
      kept: ['https://example.com/f.bin'],
    },
  ];

  for (const { title, url, secrets, kept } of cases) {
    it(`${title}: values redacted, names and the rest kept`, () => {
      const shown = redactUrl(url);
      for (const secret of secrets) assert.ok(!shown.includes(secret), `${secret} in ${shown}`);
      for (const part of kept) assert.ok(shown.includes(part), `${part} missing from ${shown}`);
    });
  }

  it('leaves a URL without secrets exactly as it was', () => {
    const url = 'https://example.com/a%20b/c.bin?x=1&y=%2F&flag';
    assert.equal(redactUrl(url), url);
  });

  it('redacts URLs inside a free text, and leaves the rest of the text alone', () => {
    const text = 'GET https://h.example/f?sig=s3cr3t&a=1 failed; retrying (see http://other.example/p?token=abc).';
    const shown = redactText(text);
    assert.ok(!shown.includes('s3cr3t') && !shown.includes('abc)'), shown);
    assert.equal(shown, 'GET https://h.example/f?sig=REDACTED&a=1 failed; retrying (see http://other.example/p?token=REDACTED).');
    assert.equal(redactText('no URL here: 12 bytes'), 'no URL here: 12 bytes');
  });

  it('a TransferError never carries a signature in its message (lastError, notifications, CLI)', () => {
    const error = new TransferError('ERR_HTTP_STATUS', 'HTTP 403 from https://b.s3.amazonaws.com/f?X-Amz-Signature=feedface');
    assert.ok(!error.message.includes('feedface'));
    assert.ok(!JSON.stringify(error.toJSON()).includes('feedface'));
    assert.match(error.message, /X-Amz-Signature=REDACTED/);
  });
});
