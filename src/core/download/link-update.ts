import { TransferError, redactUrl } from '../errors';
import { pickServerFilename } from '../filename';
import type { HttpClient, OriginHeaders } from '../http/client';
import { ExpiringLinkClient } from '../http/expired-link';
import { chooseIfRange, isStrongETag, parseContentLength, parseContentRange, parseUnsatisfiedRange, type Validators } from '../http/range';
import { mergeDigests, USER_SOURCE, type ExpectedDigest } from '../integrity/digest';
import { digestsFromHeaders } from '../integrity/digest-headers';
import { silentLogger, type Logger } from '../logger';
import { initialSegments, type DownloadRecord } from '../state/record';

/**
 * "Update Link…" and `get <new-url> -o <unfinished file>`: the user hands a download a new URL
 * (a freshly generated share link, a re-signed one). Before a byte of it is spliced onto the old
 * ones, the new link is asked what it serves and compared with what the record knows.
 */

/** What a new link says about the file it serves. */
export interface LinkProbe {
  /** The URL the user gave. */
  url: string;
  /** Where its redirects led. */
  finalUrl: string;
  length?: number;
  etag?: string;
  lastModified?: string;
  date?: string;
  contentType?: string;
  /** The name the server gives the file (Content-Disposition, else the URL's last segment). */
  name: string;
  acceptRanges: boolean;
  /** Digests of the whole file from the response headers. */
  digests: ExpectedDigest[];
}

/** What differs between the recorded file and the new link's. */
export type LinkDifference = 'length' | 'validator' | 'digest';

export type LinkComparison =
  /** Identity holds: the same length and strong validator, or the same digest. */
  | { verdict: 'same'; proof: 'validator' | 'digest'; probe: LinkProbe }
  /** Nothing to compare: continuing is allowed only with the bytes checked first. */
  | { verdict: 'unknown'; probe: LinkProbe }
  | { verdict: 'different'; differs: LinkDifference[]; probe: LinkProbe };

/**
 * Asks a new link what it serves with `Range: bytes=0-0`: a 206 names the whole length in its
 * Content-Range and carries the same validators and digests as a full answer, for one byte.
 * Not HEAD: a signed URL is signed for one method (an S3 link for GET refuses a HEAD).
 * Goes through the engine's HTTP stack (proxy, TLS, redirects, the user's headers kept to their
 * origin); an expired signed link is ERR_LINK_EXPIRED, any other refusal ERR_HTTP_STATUS.
 */
export async function probeLink(
  http: HttpClient,
  url: string,
  options: { originHeaders?: OriginHeaders; signal?: AbortSignal; logger?: Logger; tag?: string } = {},
): Promise<LinkProbe> {
  const logger = options.logger ?? silentLogger;
  const client = new ExpiringLinkClient(http, logger, options.tag ?? '[link]');
  const response = await client.request(url, { headers: { range: 'bytes=0-0' }, originHeaders: options.originHeaders, signal: options.signal });
  try {
    const { status, headers } = response;
    let length: number | undefined;
    if (status === 206) length = parseContentRange(headers.get('content-range'))?.total;
    else if (status === 200) length = parseContentLength(headers.get('content-length'));
    else if (status === 416) length = parseUnsatisfiedRange(headers.get('content-range'));
    else {
      throw new TransferError('ERR_HTTP_STATUS', `server answered ${status} for ${redactUrl(url)}`, { status });
    }
    const encoding = headers.get('content-encoding');
    // An encoded answer's length is not the file's.
    if (encoding && encoding.trim().toLowerCase() !== 'identity') length = undefined;
    const probe: LinkProbe = {
      url,
      finalUrl: response.url,
      length,
      etag: headers.get('etag') ?? undefined,
      lastModified: headers.get('last-modified') ?? undefined,
      date: headers.get('date') ?? undefined,
      contentType: headers.get('content-type') ?? undefined,
      name: pickServerFilename({ contentDisposition: headers.get('content-disposition'), url: response.url, userUrl: url }).name,
      acceptRanges: status === 206 || /\bbytes\b/i.test(headers.get('accept-ranges') ?? ''),
      digests: digestsFromHeaders(headers, status),
    };
    logger.info(
      `${options.tag ?? '[link]'} ${redactUrl(url)}${response.redirected ? ` via ${redactUrl(response.url)}` : ''}: ${status}, ` +
        `length ${length ?? 'unknown'}, ETag ${probe.etag ?? 'none'}, digests ${probe.digests.length}`,
    );
    return probe;
  } finally {
    // One byte (or the whole file, from a server that ignores ranges): not wanted either way.
    response.discard();
  }
}

/** Digests the record knows of the file: the server's, and the sha256 the user gave. */
function knownDigests(record: DownloadRecord): ExpectedDigest[] {
  const known = [...(record.digests ?? [])];
  if (record.sha256) known.push({ algorithm: 'sha256', hex: record.sha256, source: USER_SOURCE });
  return known;
}

/** Strong validators of the same kind (two strong ETags, or two strong dates) can be compared. */
function compareValidators(recorded: Validators, fresh: Validators): 'same' | 'different' | undefined {
  const before = chooseIfRange(recorded);
  const after = chooseIfRange(fresh);
  if (!before || !after) return undefined;
  const etags = isStrongETag(recorded.etag) && isStrongETag(fresh.etag);
  const dates = !isStrongETag(recorded.etag) && !isStrongETag(fresh.etag);
  if (!etags && !dates) return undefined;
  return before === after ? 'same' : 'different';
}

/**
 * Classifies a new link against the recorded download. Identity holds with the same length and
 * the same strong validator, or the same digest of the whole file (a mirror's ETags differ,
 * its Repr-Digest does not). Any known difference (length, validator, digest) is a different
 * file, unless a digest proves otherwise; with nothing to compare the verdict is `unknown`.
 */
export function compareLink(record: DownloadRecord, probe: LinkProbe): LinkComparison {
  const differs: LinkDifference[] = [];
  const lengthKnown = record.length !== undefined && probe.length !== undefined;
  if (lengthKnown && record.length !== probe.length) differs.push('length');
  const validators = compareValidators(record, probe);
  if (validators === 'different') differs.push('validator');
  const known = knownDigests(record);
  let digestSame = false;
  let digestDiffers = false;
  for (const offered of probe.digests) {
    for (const digest of known.filter((d) => d.algorithm === offered.algorithm)) {
      if (digest.hex === offered.hex) digestSame = true;
      else digestDiffers = true;
    }
  }
  if (digestDiffers) differs.push('digest');
  if (digestSame && !digestDiffers && !differs.includes('length')) return { verdict: 'same', proof: 'digest', probe };
  if (differs.length > 0) return { verdict: 'different', differs, probe };
  if (lengthKnown && validators === 'same') return { verdict: 'same', proof: 'validator', probe };
  return { verdict: 'unknown', probe };
}

/**
 * Asks `url` what it serves and compares it with the download's record (see compareLink).
 * The user's headers for the old link's origin never go to the new link's: the caller's
 * `originHeaders` scopes every header to its own origin.
 */
export async function checkLink(
  http: HttpClient,
  record: DownloadRecord,
  url: string,
  options: { originHeaders?: OriginHeaders; signal?: AbortSignal; logger?: Logger; tag?: string } = {},
): Promise<LinkComparison> {
  return compareLink(record, await probeLink(http, url, options));
}

/**
 * The record continuing its bytes from the new link. The new URL becomes the URL the user gave,
 * so a later refresh of an expired link asks it. When identity holds the new server's validators
 * take over (its `If-Range` checks them). When nothing could be compared the record keeps no
 * strong validator, so the next request re-fetches the last bytes on disk and compares them
 * before it appends anything (the overlap check); a length the new link names must match.
 */
export function continueWithLink(record: DownloadRecord, comparison: LinkComparison): DownloadRecord {
  if (comparison.verdict === 'different') {
    throw new TransferError('ERR_NOT_SAME_FILE', `the new link serves another file (different ${describeDifferences(comparison.differs)})`);
  }
  const { probe } = comparison;
  const validators: Validators =
    comparison.verdict === 'same'
      ? { etag: probe.etag, lastModified: probe.lastModified, date: probe.date }
      : // Only what cannot vouch for the bytes: a weak ETag, a Last-Modified without the Date that would make it strong.
        { etag: probe.etag && !isStrongETag(probe.etag) ? probe.etag : undefined, lastModified: probe.lastModified, date: undefined };
  return {
    ...record,
    url: probe.url,
    finalUrl: probe.finalUrl,
    ...validators,
    length: record.length ?? probe.length,
    acceptRanges: probe.acceptRanges,
    contentType: probe.contentType ?? record.contentType,
    digests: comparison.verdict === 'same' ? mergeDigests(record.digests ?? [], probe.digests) : record.digests,
    lastError: undefined,
  };
}

/**
 * The record starting over from byte 0 with the new link: a new generation, so none of the old
 * part file's bytes can be counted again (the next run replaces that file). The file keeps its
 * name: the user replaced the link of this download, not the download.
 */
export function startOverWithLink(record: DownloadRecord, url: string, reason: string): DownloadRecord {
  return {
    ...record,
    url,
    finalUrl: undefined,
    generation: (record.generation ?? 0) + 1,
    segments: initialSegments(undefined),
    length: undefined,
    etag: undefined,
    lastModified: undefined,
    date: undefined,
    acceptRanges: undefined,
    contentType: undefined,
    digests: undefined,
    verified: undefined,
    restartReason: reason,
    restartCode: 'ERR_NOT_SAME_FILE',
    lastError: undefined,
  };
}

/** "length and ETag" — for logs and the CLI (the editor words it in the user's language). */
export function describeDifferences(differs: readonly LinkDifference[]): string {
  const words: Record<LinkDifference, string> = { length: 'length', validator: 'validator (ETag or Last-Modified)', digest: 'digest' };
  return differs.map((d) => words[d]).join(' and ');
}
