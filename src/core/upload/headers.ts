/**
 * Pure header building and parsing for the upload protocols: tus 1.0, the IETF resumable upload
 * draft (structured fields, RFC 9651) and partial PUT. No I/O here, so every rule has a table test.
 */

/** tus 1.0 core protocol version sent and expected in `Tus-Resumable`. */
export const TUS_VERSION = '1.0.0';

/**
 * The newest interop version of draft-ietf-httpbis-resumable-upload that we speak: 9, from draft
 * -12. Older ones a server may need are in ietf-versions.ts. Both sides send it; a 104 carrying
 * another value than the one we sent is ignored, as the draft requires.
 */
export const IETF_INTEROP_VERSION = 9;

/** `application/partial-upload`: the media type of an IETF append request. */
export const PARTIAL_UPLOAD_TYPE = 'application/partial-upload';

/** `application/offset+octet-stream`: the media type of a tus PATCH. */
export const TUS_PATCH_TYPE = 'application/offset+octet-stream';

/** A non-negative decimal integer with at most 15 digits (the structured-field Integer range). */
export function parseCount(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (!/^\d{1,15}$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

// ---- tus 1.0 ---------------------------------------------------------------------------------

/**
 * `Upload-Metadata`: comma-separated `key base64(value)` pairs. Keys are ASCII without spaces or
 * commas; values may be any UTF-8 (the file name in particular).
 */
export function encodeUploadMetadata(metadata: Record<string, string | undefined>): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(metadata)) {
    if (!/^[\x21-\x2b\x2d-\x7e]+$/.test(key)) throw new Error(`invalid Upload-Metadata key "${key}"`);
    if (value === undefined) continue;
    pairs.push(value === '' ? key : `${key} ${Buffer.from(value, 'utf8').toString('base64')}`);
  }
  return pairs.join(',');
}

/** Reverse of encodeUploadMetadata (for tests and servers); malformed pairs are skipped. */
export function decodeUploadMetadata(header: string | null | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of (header ?? '').split(',')) {
    const [key, value, extra] = pair.trim().split(' ');
    if (!key || extra !== undefined) continue;
    result[key] = value === undefined ? '' : Buffer.from(value, 'base64').toString('utf8');
  }
  return result;
}

/** A comma-separated token list (`Tus-Extension`, `Tus-Checksum-Algorithm`, `Tus-Version`), lower-cased. */
export function parseTokenList(header: string | null | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter(Boolean);
}

/** `Upload-Checksum: sha1 <base64 digest>` for one PATCH body. */
export function formatUploadChecksum(algorithm: string, digest: Buffer): string {
  return `${algorithm} ${digest.toString('base64')}`;
}

/** `Upload-Expires` is an HTTP-date; returns epoch milliseconds. */
export function parseUploadExpires(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const time = Date.parse(value.trim());
  return Number.isNaN(time) || time < 0 ? undefined : time;
}

// ---- structured fields (RFC 9651), the subset the IETF draft needs ----------------------------

/** An sf-boolean item (`?1` / `?0`), parameters ignored; anything else is undefined. */
export function parseSfBoolean(value: string | null | undefined): boolean | undefined {
  if (value === null || value === undefined) return undefined;
  const bare = value.trim().split(';')[0].trim();
  if (bare === '?1') return true;
  if (bare === '?0') return false;
  return undefined;
}

export function formatSfBoolean(value: boolean): string {
  return value ? '?1' : '?0';
}

/** An sf-integer item that must be non-negative (offsets, lengths), parameters ignored. */
export function parseSfCount(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  return parseCount(value.trim().split(';')[0]);
}

type SfBareItem = number | boolean | string;

/** Splits on `sep` outside double-quoted strings. */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted && char === '\\') {
      current += char + (text[i + 1] ?? '');
      i += 1;
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === sep && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function parseBareItem(text: string): SfBareItem | undefined {
  if (/^-?\d{1,15}$/.test(text)) return Number(text);
  if (/^-?\d{1,12}\.\d{1,3}$/.test(text)) return Number(text);
  if (text === '?1') return true;
  if (text === '?0') return false;
  if (/^"(?:[^"\\]|\\["\\])*"$/.test(text)) return text.slice(1, -1).replace(/\\(["\\])/g, '$1');
  if (/^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/.test(text)) return text;
  return undefined;
}

/**
 * An sf-dictionary of bare items (inner lists are not needed here and make the field invalid).
 * Returns undefined when the field does not parse, which the caller must treat as "absent".
 */
export function parseSfDictionary(value: string | null | undefined): Map<string, SfBareItem> | undefined {
  if (value === null || value === undefined) return undefined;
  const result = new Map<string, SfBareItem>();
  if (value.trim() === '') return result;
  for (const rawMember of splitOutsideQuotes(value, ',')) {
    const member = rawMember.trim();
    if (!member) return undefined;
    const [head] = splitOutsideQuotes(member, ';');
    const equals = head.indexOf('=');
    const key = (equals < 0 ? head : head.slice(0, equals)).trim();
    if (!/^[a-z*][a-z0-9_\-.*]*$/.test(key)) return undefined;
    if (equals < 0) {
      result.set(key, true);
      continue;
    }
    const item = parseBareItem(head.slice(equals + 1).trim());
    if (item === undefined) return undefined;
    result.set(key, item);
  }
  return result;
}

/** The limits a server announces in `Upload-Limit` (all counts in bytes, max-age in seconds). */
export interface UploadLimits {
  maxSize?: number;
  minSize?: number;
  maxAppendSize?: number;
  minAppendSize?: number;
  maxAgeSeconds?: number;
}

const LIMIT_KEYS: Record<string, keyof UploadLimits> = {
  'max-size': 'maxSize',
  'min-size': 'minSize',
  'max-append-size': 'maxAppendSize',
  'min-append-size': 'minAppendSize',
  'max-age': 'maxAgeSeconds',
};

/**
 * `Upload-Limit`: unknown keys are ignored; a known key with a value that is not a non-negative
 * Integer makes the whole field ignored (undefined), as the draft requires.
 */
export function parseUploadLimit(value: string | null | undefined): UploadLimits | undefined {
  const dictionary = parseSfDictionary(value);
  if (!dictionary) return undefined;
  const limits: UploadLimits = {};
  for (const [key, item] of dictionary) {
    const field = LIMIT_KEYS[key];
    if (!field) continue;
    if (typeof item !== 'number' || !Number.isSafeInteger(item) || item < 0) return undefined;
    limits[field] = item;
  }
  return limits;
}

/** Limits learnt later win over earlier ones, key by key. */
export function mergeLimits(base: UploadLimits | undefined, update: UploadLimits | undefined): UploadLimits | undefined {
  if (!update) return base;
  return { ...base, ...Object.fromEntries(Object.entries(update).filter(([, v]) => v !== undefined)) };
}

// ---- partial PUT -----------------------------------------------------------------------------

/** `Content-Range: bytes start-end/*` for a partial PUT; `end` is exclusive here, inclusive on the wire. */
export function formatPutContentRange(start: number, endExclusive: number): string {
  if (!(endExclusive > start)) throw new RangeError('a partial PUT carries at least one byte');
  return `bytes ${start}-${endExclusive - 1}/*`;
}

/** Whether a `DAV` response header announces WebDAV class 1 (which includes PUT). */
export function announcesDav(value: string | null | undefined): boolean {
  return parseTokenList(value).some((token) => token === '1' || token === '2' || token === '3');
}

/** Whether an `Allow` header lists `method` (case-sensitive per RFC 9110, tolerated here). */
export function allowsMethod(allow: string | null | undefined, method: string): boolean {
  return parseTokenList(allow).includes(method.toLowerCase());
}

/** Whether `Accept-Patch` lists the IETF partial-upload media type (parameters ignored). */
export function acceptsPartialUpload(acceptPatch: string | null | undefined): boolean {
  return parseTokenList(acceptPatch).some((type) => type.split(';')[0].trim() === PARTIAL_UPLOAD_TYPE);
}
