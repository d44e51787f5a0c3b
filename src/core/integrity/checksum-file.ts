import { HEX_LENGTH, type DigestAlgorithm } from './digest';

/**
 * Checksum files as `sha256sum`, `shasum` and BSD `sha256 -r`/`openssl dgst` write them:
 * - GNU: `hex  name` (text) or `hex *name` (binary), one per line;
 * - BSD: `SHA256 (name) = hex`;
 * - a bare `hex` (a `<name>.sha256` file that holds only the value).
 * `name` may carry a path (`./dist/app.tar.gz`): what counts is its last segment.
 */
export interface ChecksumEntry {
  algorithm: DigestAlgorithm;
  hex: string;
  /** undefined for a bare value. */
  name?: string;
}

const BSD_TAGS: Record<string, DigestAlgorithm> = { SHA256: 'sha256', 'SHA2-256': 'sha256', SHA512: 'sha512', 'SHA2-512': 'sha512', MD5: 'md5' };

export function parseChecksumFile(text: string): ChecksumEntry[] {
  const entries: ChecksumEntry[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const bsd = /^([A-Za-z0-9-]+) ?\((.+)\) ?= ?([0-9a-fA-F]+)$/.exec(line);
    if (bsd) {
      const algorithm = BSD_TAGS[bsd[1].toUpperCase()];
      if (algorithm && bsd[3].length === HEX_LENGTH[algorithm]) entries.push({ algorithm, hex: bsd[3].toLowerCase(), name: bsd[2] });
      continue;
    }
    const gnu = /^\\?([0-9a-fA-F]+)(?:\s+\*?(.+))?$/.exec(line);
    if (!gnu) continue;
    const algorithm = algorithmForHex(gnu[1]);
    if (algorithm) entries.push({ algorithm, hex: gnu[1].toLowerCase(), name: gnu[2]?.trim() });
  }
  return entries;
}

/** Checksum files carry no algorithm name in GNU form: the length tells (crc32c never appears there). */
function algorithmForHex(hex: string): DigestAlgorithm | undefined {
  if (hex.length === HEX_LENGTH.sha256) return 'sha256';
  if (hex.length === HEX_LENGTH.sha512) return 'sha512';
  if (hex.length === HEX_LENGTH.md5) return 'md5';
  return undefined;
}

/** The last path segment of a listed name (`./dist/app.tar.gz` → `app.tar.gz`). */
export function listedBaseName(name: string): string {
  const parts = name.replace(/\\/g, '/').split('/');
  return parts[parts.length - 1];
}

/**
 * The entries that describe a file called one of `names`. A bare value counts only where the
 * caller says the whole file is about this download (`<name>.sha256`). Two different values for
 * the same name and algorithm (the same name in two folders) say nothing: both are dropped.
 */
export function entriesFor(entries: readonly ChecksumEntry[], names: readonly string[], allowBare: boolean): ChecksumEntry[] {
  const matching = entries.filter((entry) => (entry.name === undefined ? allowBare : names.includes(listedBaseName(entry.name))));
  return matching.filter((entry) => !matching.some((other) => other.algorithm === entry.algorithm && other.hex !== entry.hex));
}
