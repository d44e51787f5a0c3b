import { Readable } from 'node:stream';
import { TransferError, redactUrl } from '../errors';
import type { Logger } from '../logger';
import type { HttpClient, HttpRequestOptions, HttpResponse } from './client';

/**
 * Signed URLs (S3, GCS, R2, a GitHub release's redirect target) stop working after a few minutes.
 * Storage services say so with one of these statuses and an error body that names the cause.
 */
const REFUSALS = new Set([400, 401, 403, 404, 410]);

/** Bodies of an expired signed URL, by service. */
const EXPIRED_BODIES: Array<[RegExp, string]> = [
  [/Request has expired/i, 'S3: Request has expired'],
  [/<Code>\s*ExpiredToken\s*<\/Code>/i, 'GCS: ExpiredToken'],
  [/ExpiredRequest/i, 'R2: ExpiredRequest'],
  [/Signature (?:has )?expired/i, 'signature expired'],
  [/<Code>\s*AccessDenied\s*<\/Code>[\s\S]*expired/i, 'access denied: expired'],
];

/** Error bodies are small; anything beyond this is not read. */
const MAX_ERROR_BODY = 8 * 1024;

/** Why a refusal means the link expired, or undefined. */
export function expiredLinkReason(status: number, body: string): string | undefined {
  if (!REFUSALS.has(status)) return undefined;
  return EXPIRED_BODIES.find(([pattern]) => pattern.test(body))?.[1];
}

async function readSmall(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= MAX_ERROR_BODY) break;
    }
  } catch {
    // A broken error body says nothing more.
  }
  return Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY).toString('utf8');
}

/**
 * The engine's HTTP client for a download's own URL. When the URL the user gave redirected to a
 * link that refuses (400/401/403/404/410), or a refusal's body says the signature expired, the URL
 * the user gave is asked once more: its redirect hands out a fresh link. A link that is still
 * expired then is ERR_LINK_EXPIRED, which no retry can cure: the user needs a new link.
 * Everything else passes through untouched.
 */
export class ExpiringLinkClient implements HttpClient {
  constructor(
    private readonly inner: HttpClient,
    private readonly logger: Logger,
    private readonly tag: string,
  ) {}

  async request(url: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
    const first = await this.inner.request(url, options);
    const refused = await this.refusal(first);
    if (!refused) return first;
    if (!first.redirected && !refused.reason) return refused.response;
    this.logger.warn(
      `${this.tag} ${redactUrl(first.url)} answered ${first.status}${refused.reason ? ` (${refused.reason})` : ''}: asking ${redactUrl(url)} for a fresh link`,
    );
    const second = await this.inner.request(url, options);
    const again = await this.refusal(second);
    if (!again) {
      this.logger.info(`${this.tag} fresh link: ${redactUrl(second.url)}`);
      return second;
    }
    if (again.reason) {
      throw new TransferError(
        'ERR_LINK_EXPIRED',
        `the link has expired (${again.reason}, HTTP ${second.status} from ${redactUrl(second.url)}); give a fresh link`,
        { status: second.status },
      );
    }
    return again.response;
  }

  /** A refused response with its body read (and kept, for the caller), or undefined. */
  private async refusal(response: HttpResponse): Promise<{ response: HttpResponse; reason?: string } | undefined> {
    if (!REFUSALS.has(response.status)) return undefined;
    const text = await readSmall(response.body);
    response.discard();
    const replay = Readable.from([Buffer.from(text)]);
    return { response: { ...response, body: replay, discard: () => replay.destroy() }, reason: expiredLinkReason(response.status, text) };
  }
}
