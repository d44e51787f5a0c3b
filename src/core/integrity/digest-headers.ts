import type { HttpHeaders } from '../http/client';
import { HEX_LENGTH, type DigestAlgorithm, type ExpectedDigest } from './digest';

/**
 * Digests a server offers in response headers:
 * - `Repr-Digest` (RFC 9530): the whole representation, so valid on a 206 too;
 * - `Content-Digest` (RFC 9530): the content of this message, so only a full 200 describes the file;
 * - `Digest` (RFC 3230, legacy): the whole instance;
 * - `X-Goog-Hash` (Google Cloud Storage): the whole object, `crc32c=` and `md5=`.
 * Unknown or malformed entries are skipped: a header we cannot read must not fail a download.
 */
export function digestsFromHeaders(headers: HttpHeaders, status: number): ExpectedDigest[] {
  const found: ExpectedDigest[] = [];
  const add = (source: string, entries: Array<[DigestAlgorithm, string]>) => {
    for (const [algorithm, hex] of entries) found.push({ algorithm, hex, source });
  };
  add('Repr-Digest', parseStructuredDigest(headers.get('repr-digest')));
  if (status === 200) add('Content-Digest', parseStructuredDigest(headers.get('content-digest')));
  add('Digest', parseLegacyDigest(headers.get('digest')));
  add('X-Goog-Hash', parseGoogHash(headers.get('x-goog-hash')));
  return found;
}

/** RFC 9530 names → ours; the deprecated `md5`, `sha`, `unixsum`… are not worth trusting. */
const STRUCTURED: Record<string, DigestAlgorithm> = { 'sha-256': 'sha256', 'sha-512': 'sha512' };
const LEGACY: Record<string, DigestAlgorithm> = { 'sha-256': 'sha256', 'sha-512': 'sha512', md5: 'md5' };
const GOOG: Record<string, DigestAlgorithm> = { crc32c: 'crc32c', md5: 'md5' };

/** `sha-256=:BASE64:, sha-512=:BASE64:` (a Structured Fields dictionary of byte sequences). */
export function parseStructuredDigest(value: string | null): Array<[DigestAlgorithm, string]> {
  const out: Array<[DigestAlgorithm, string]> = [];
  for (const member of splitList(value)) {
    const match = /^([a-z][a-z0-9_.*-]*)=:([A-Za-z0-9+/]*={0,2}):(?:;.*)?$/.exec(member);
    if (!match) continue;
    const algorithm = STRUCTURED[match[1]];
    const hex = algorithm && base64ToHex(match[2], algorithm);
    if (algorithm && hex) out.push([algorithm, hex]);
  }
  return out;
}

/** `SHA-256=BASE64, MD5=BASE64` (RFC 3230; algorithm names are case-insensitive). */
export function parseLegacyDigest(value: string | null): Array<[DigestAlgorithm, string]> {
  return parseTokenEquals(value, LEGACY);
}

/** `crc32c=BASE64, md5=BASE64` (GCS may also send them as two headers, which fetch joins with ", "). */
export function parseGoogHash(value: string | null): Array<[DigestAlgorithm, string]> {
  return parseTokenEquals(value, GOOG);
}

function parseTokenEquals(value: string | null, names: Record<string, DigestAlgorithm>): Array<[DigestAlgorithm, string]> {
  const out: Array<[DigestAlgorithm, string]> = [];
  for (const member of splitList(value)) {
    const equals = member.indexOf('=');
    if (equals <= 0) continue;
    const algorithm = names[member.slice(0, equals).trim().toLowerCase()];
    const hex = algorithm && base64ToHex(member.slice(equals + 1).trim(), algorithm);
    if (algorithm && hex) out.push([algorithm, hex]);
  }
  return out;
}

function splitList(value: string | null): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

/** Decodes base64 and checks the length fits the algorithm (a truncated value is no value). */
function base64ToHex(base64: string, algorithm: DigestAlgorithm): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const hex = Buffer.from(base64, 'base64').toString('hex');
  return hex.length === HEX_LENGTH[algorithm] ? hex : undefined;
}
