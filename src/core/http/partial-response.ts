import { parseContentLength, parseContentRange, sameRepresentation, type Validators } from './range';

/** What a range request asked for, and what we know of the file it asked about. */
export interface RangeAsked {
  /** First byte asked for. */
  start: number;
  /** Last byte asked for (inclusive), undefined for an open-ended `bytes=start-`. */
  end?: number;
  /** The file's length when known. */
  length?: number;
  /** The validators recorded for the file. */
  validators: Validators;
}

/** The headers of a 206 that matter for splicing its bytes into the file. */
export interface PartialHeaders {
  contentRange?: string | null;
  contentLength?: string | null;
  etag?: string | null;
  lastModified?: string | null;
}

export type PartialVerdict =
  /** Splice: the body starts at `asked.start`; `last` is its last byte, `total` the file's length. */
  | { ok: true; last: number; total: number }
  /** `changed`: another version of the file; `mismatch`: not the bytes asked for. */
  | { ok: false; kind: 'changed' | 'mismatch'; reason: string };

/**
 * The one check every 206 passes before a byte of it is written (ARCHITECTURE.md, download
 * rule 4). It compares the response with what was *asked*, never with a segment's current end
 * (a split may have moved it while the request was under way). A 206 may carry more than a
 * bounded request asked for (some servers and CDNs answer `a-b` with `a-(len-1)`): the caller
 * reads only to where it needs. It must start exactly where asked, run at least to the asked end
 * (to the end of the file for an open-ended request), name the known total, agree with its own
 * Content-Length, and carry validators that do not contradict the recorded ones.
 */
export function checkPartialResponse(asked: RangeAsked, headers: PartialHeaders): PartialVerdict {
  const mismatch = (reason: string): PartialVerdict => ({ ok: false, kind: 'mismatch', reason });
  const wanted = `bytes ${asked.start}-${asked.end ?? ''}`;
  const range = parseContentRange(headers.contentRange);
  const said = `unexpected Content-Range "${headers.contentRange ?? ''}" for ${wanted}`;
  if (!range) return mismatch(said);
  if (range.total === undefined) return mismatch(`${said}: no total length`);
  if (range.start !== asked.start) return mismatch(`${said}: starts elsewhere`);
  if (asked.length !== undefined && range.total !== asked.length) return mismatch(`${said}: the file has ${asked.length} bytes`);
  const needed = asked.end === undefined ? range.total - 1 : Math.min(asked.end, range.total - 1);
  if (range.end < needed) return mismatch(`${said}: ends before ${needed}`);
  const announced = parseContentLength(headers.contentLength);
  if (announced !== undefined && announced !== range.end - range.start + 1) {
    return mismatch(`${said}: Content-Length ${announced} does not match`);
  }
  const fresh = { etag: headers.etag ?? undefined, lastModified: headers.lastModified ?? undefined };
  if (sameRepresentation(asked.validators, fresh) === false) {
    return { ok: false, kind: 'changed', reason: 'the file changed on the server (validators differ)' };
  }
  return { ok: true, last: range.end, total: range.total };
}
