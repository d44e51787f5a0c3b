import * as assert from 'node:assert/strict';
import { expiredLinkReason } from '../../src/core/http/expired-link';
import { sameResource } from '../../src/core/download/link-identity';

describe('expired signed links', () => {
  const expired: Array<[string, number, string, string]> = [
    ['S3', 403, '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>', 'S3: Request has expired'],
    ['GCS V4', 400, '<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>', 'GCS: ExpiredToken'],
    ['Cloudflare R2', 403, '<Error><Code>ExpiredRequest</Code></Error>', 'R2: ExpiredRequest'],
  ];
  for (const [service, status, body, reason] of expired) {
    it(`recognises ${service}: ${status} ${reason}`, () => assert.equal(expiredLinkReason(status, body), reason));
  }
  it('a plain 403 or 404 is not an expired link', () => {
    assert.equal(expiredLinkReason(403, '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'), undefined);
    assert.equal(expiredLinkReason(404, 'not found'), undefined);
  });
  it('an expiry text on a success or a server error is not a refusal', () => {
    assert.equal(expiredLinkReason(200, 'Request has expired'), undefined);
    assert.equal(expiredLinkReason(503, 'Request has expired'), undefined);
  });
});

describe('same resource behind a new link', () => {
  it('a re-signed URL (only the query differs) names the same object', () => {
    assert.equal(sameResource('https://b.s3.amazonaws.com/f.iso?X-Amz-Signature=a', 'https://b.s3.amazonaws.com/f.iso?X-Amz-Signature=b'), true);
  });
  it('another path or another origin is another resource', () => {
    assert.equal(sameResource('https://b.example/v1/f.iso', 'https://b.example/v2/f.iso'), false);
    assert.equal(sameResource('https://a.example/f.iso', 'https://b.example/f.iso'), false);
  });
});
