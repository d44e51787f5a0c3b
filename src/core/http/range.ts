/**
 * HTTP range and validator grammar (RFC 9110 §8.8, §13.1.5, §14): just what a resuming
 * client needs, kept pure so every edge case is a table-driven test.
 */

const MONTHS = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';
const IMF_FIXDATE = new RegExp(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d{2} (${MONTHS}) \\d{4} \\d{2}:\\d{2}:\\d{2} GMT$`);
const RFC850_DATE = new RegExp(`^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \\d{2}-(${MONTHS})-\\d{2} \\d{2}:\\d{2}:\\d{2} GMT$`);
const ASCTIME_DATE = new RegExp(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (${MONTHS}) ( \\d|\\d{2}) \\d{2}:\\d{2}:\\d{2} \\d{4}$`);

/**
 * An HTTP-date (RFC 9110 §5.6.7) in milliseconds, or undefined. Only the three formats HTTP
 * allows: Date.parse alone would accept almost anything and read asctime as local time.
 */
export function parseHttpDate(text: string | null | undefined): number | undefined {
  if (!text) return undefined;
  const trimmed = text.trim();
  let parsed = Number.NaN;
  if (IMF_FIXDATE.test(trimmed) || RFC850_DATE.test(trimmed)) parsed = Date.parse(trimmed);
  else if (ASCTIME_DATE.test(trimmed)) parsed = Date.parse(`${trimmed.replace(/ +/g, ' ')} GMT`);
  return Number.isNaN(parsed) ? undefined : parsed;
}

export interface ContentRange {
  /** First byte position, inclusive. */
  start: number;
  /** Last byte position, inclusive. */
  end: number;
  /** Complete length, or undefined for `*`. */
  total?: number;
}

/** `Range: bytes=a-` or `bytes=a-b` (b inclusive). */
export function formatRange(start: number, endInclusive?: number): string {
  if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`bad range start ${start}`);
  if (endInclusive === undefined) return `bytes=${start}-`;
  if (!Number.isSafeInteger(endInclusive) || endInclusive < start) throw new RangeError(`bad range end ${endInclusive}`);
  return `bytes=${start}-${endInclusive}`;
}

const DIGITS = /^\d+$/;

function parseLength(text: string): number | undefined {
  if (!DIGITS.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Parses `bytes a-b/len` or `bytes a-b/*`; undefined for anything malformed or unsatisfied. */
export function parseContentRange(header: string | null | undefined): ContentRange | undefined {
  if (!header) return undefined;
  const match = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(header);
  if (!match) return undefined;
  const start = parseLength(match[1]);
  const end = parseLength(match[2]);
  const total = match[3] === '*' ? undefined : parseLength(match[3]);
  if (start === undefined || end === undefined || end < start) return undefined;
  if (match[3] !== '*' && (total === undefined || end >= total)) return undefined;
  return { start, end, total };
}

/** Parses the unsatisfied-range form (an asterisk, a slash, the length) of a 416 response. */
export function parseUnsatisfiedRange(header: string | null | undefined): number | undefined {
  if (!header) return undefined;
  const match = /^\s*bytes\s+\*\/(\d+)\s*$/i.exec(header);
  return match ? parseLength(match[1]) : undefined;
}

/** Content-Length as a safe non-negative integer, or undefined. */
export function parseContentLength(header: string | null | undefined): number | undefined {
  if (header === null || header === undefined) return undefined;
  return parseLength(header.trim());
}

export interface EntityTag {
  weak: boolean;
  /** The opaque-tag including its quotes, e.g. `"abc"`. */
  opaque: string;
}

/** Parses one entity-tag (`"x"` or `W/"x"`); undefined when it is not a valid entity-tag. */
export function parseETag(header: string | null | undefined): EntityTag | undefined {
  if (!header) return undefined;
  const match = /^\s*(W\/)?("[\x21\x23-\x7e\x80-\xff]*")\s*$/.exec(header);
  if (!match) return undefined;
  return { weak: match[1] !== undefined, opaque: match[2] };
}

export function isStrongETag(header: string | null | undefined): boolean {
  const tag = parseETag(header);
  return tag !== undefined && !tag.weak;
}

/** Strong comparison (RFC 9110 §8.8.3.2): both strong and the opaque tags equal. */
export function strongETagMatch(a: string | null | undefined, b: string | null | undefined): boolean {
  const left = parseETag(a);
  const right = parseETag(b);
  return !!left && !!right && !left.weak && !right.weak && left.opaque === right.opaque;
}

/** Weak comparison: opaque tags equal, whatever their weakness. */
export function weakETagMatch(a: string | null | undefined, b: string | null | undefined): boolean {
  const left = parseETag(a);
  const right = parseETag(b);
  return !!left && !!right && left.opaque === right.opaque;
}

/**
 * A Last-Modified date is strong only when the response's Date is at least one second later
 * (RFC 9110 §8.8.2.2): otherwise the file may change again within the same second.
 */
export function isStrongLastModified(lastModified: string | null | undefined, date: string | null | undefined): boolean {
  if (!lastModified || !date) return false;
  const modified = parseHttpDate(lastModified);
  const served = parseHttpDate(date);
  if (modified === undefined || served === undefined) return false;
  return served - modified >= 1000;
}

export interface Validators {
  etag?: string;
  lastModified?: string;
  /** Date header of the response the validators came from. */
  date?: string;
}

/**
 * The `If-Range` value to send, or undefined when no strong validator exists (then the caller
 * must verify an overlap before appending). Never a weak ETag (RFC 9110 §13.1.5).
 */
export function chooseIfRange(validators: Validators): string | undefined {
  if (validators.etag && isStrongETag(validators.etag)) return validators.etag.trim();
  if (validators.lastModified && isStrongLastModified(validators.lastModified, validators.date)) {
    return validators.lastModified.trim();
  }
  return undefined;
}

/**
 * Whether a fresh response describes the same representation as the recorded validators.
 * A strong ETag must match strongly; a recorded Last-Modified must be equal. When nothing was
 * recorded, the response cannot be judged here (undefined) and the caller checks bytes instead.
 */
export function sameRepresentation(recorded: Validators, fresh: Validators): boolean | undefined {
  if (recorded.etag && isStrongETag(recorded.etag)) {
    return strongETagMatch(recorded.etag, fresh.etag);
  }
  if (recorded.etag && fresh.etag && !weakETagMatch(recorded.etag, fresh.etag)) return false;
  if (recorded.lastModified) {
    if (!fresh.lastModified) return false;
    const before = parseHttpDate(recorded.lastModified);
    return before !== undefined ? before === parseHttpDate(fresh.lastModified) : recorded.lastModified === fresh.lastModified;
  }
  return undefined;
}
