import { TransferError } from '../errors';
import { describeDigest, USER_SOURCE, type DigestAlgorithm, type ExpectedDigest, type VerifiedDigest } from './digest';
import type { Digests } from './multi-hash';

/**
 * Which values to check: a checksum the user gave wins over everything a server offered (they
 * may know better, e.g. a mirror's sums file is stale); otherwise every offered value counts, and
 * two of them that disagree are an error, not a coin toss.
 */
export function valuesToCheck(userSha256: string | undefined, offered: readonly ExpectedDigest[]): ExpectedDigest[] {
  if (userSha256) return [{ algorithm: 'sha256', hex: userSha256.toLowerCase(), source: USER_SOURCE }];
  for (const a of offered) {
    const other = offered.find((b) => b.algorithm === a.algorithm && b.hex !== a.hex);
    if (other) {
      throw new TransferError(
        'ERR_CHECKSUM_CONFLICT',
        `${describeDigest(a)} (${a.hex}) and ${describeDigest(other)} (${other.hex}) disagree; give the right one with --sha256`,
      );
    }
  }
  return [...offered];
}

export function algorithmsOf(values: readonly ExpectedDigest[]): DigestAlgorithm[] {
  return [...new Set(values.map((value) => value.algorithm))];
}

/**
 * Compares the file's digests with every expected value. Returns what was verified, or throws
 * ERR_CHECKSUM_MISMATCH naming the source that disagreed.
 */
export function checkDigests(values: readonly ExpectedDigest[], actual: Digests): VerifiedDigest[] {
  const verified: VerifiedDigest[] = [];
  for (const value of values) {
    const hex = actual[value.algorithm];
    if (hex === undefined) continue;
    if (hex !== value.hex) {
      throw new TransferError('ERR_CHECKSUM_MISMATCH', `${describeDigest(value)} is ${value.hex}, but the downloaded file's is ${hex}`, {
        checksum: { algorithm: value.algorithm, source: value.source },
      });
    }
    if (!verified.some((v) => v.algorithm === value.algorithm && v.source === value.source)) verified.push({ algorithm: value.algorithm, source: value.source });
  }
  return verified;
}
