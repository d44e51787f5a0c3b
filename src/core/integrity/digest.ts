/**
 * What a file's bytes are expected to hash to, and who said so. One shape for every source:
 * the user, a digest header, a checksum file published beside the download.
 */
export type DigestAlgorithm = 'sha256' | 'sha512' | 'md5' | 'crc32c';
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['sha256', 'sha512', 'md5', 'crc32c'];

/** Hex digits per algorithm: how a bare hex value in a checksum file reveals its algorithm. */
export const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128, md5: 32, crc32c: 8 };

export interface ExpectedDigest {
  algorithm: DigestAlgorithm;
  /** Lower-case hex. */
  hex: string;
  /**
   * Where the value came from, shown to the user: `Repr-Digest`, `Content-Digest`, `Digest`,
   * `X-Goog-Hash`, a checksum file's name (`SHA256SUMS`, `app.tar.gz.sha256`) or `user`.
   */
  source: string;
}

/** The source of a checksum the user typed or passed with --sha256. */
export const USER_SOURCE = 'user';

/** A verified result as the record keeps it: "sha256 from SHA256SUMS". */
export interface VerifiedDigest {
  algorithm: DigestAlgorithm;
  source: string;
}

export function isDigestAlgorithm(value: unknown): value is DigestAlgorithm {
  return typeof value === 'string' && (DIGEST_ALGORITHMS as readonly string[]).includes(value);
}

export function isExpectedDigest(value: unknown): value is ExpectedDigest {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return isDigestAlgorithm(v.algorithm) && typeof v.hex === 'string' && v.hex.length === HEX_LENGTH[v.algorithm] && /^[0-9a-f]+$/.test(v.hex) && typeof v.source === 'string';
}

export function describeDigest(digest: { algorithm: DigestAlgorithm; source: string }): string {
  return `${digest.algorithm} from ${digest.source}`;
}

/** Adds `digest` unless the same source already said the same thing. */
export function mergeDigests(into: readonly ExpectedDigest[], add: readonly ExpectedDigest[]): ExpectedDigest[] {
  const out = [...into];
  for (const digest of add) {
    if (!out.some((d) => d.algorithm === digest.algorithm && d.hex === digest.hex && d.source === digest.source)) out.push(digest);
  }
  return out;
}
