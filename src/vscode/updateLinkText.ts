import { downloadedBytes, formatBytes, type DownloadRecord, type LinkComparison, type LinkProbe } from '../core';
import type { L10n } from './messages';

/**
 * What Update Link… says about a new link, in words the user reads. Plain text (no vscode
 * import) so unit tests check it in English and Chinese.
 */

/** "1.2 MB, application/x-iso9660-image, “disk.iso”": all the new link tells about its file. */
export function linkSummary(probe: LinkProbe, l10n: L10n): string {
  const length = probe.length === undefined ? l10n.t('unknown size') : formatBytes(probe.length);
  const type = probe.contentType?.split(';')[0].trim() || l10n.t('unknown type');
  return l10n.t('{0}, {1}, “{2}”', length, type, probe.name);
}

/** What differs between the partial download and the new link's file: "size (1 MB, not 2 MB) and checksum". */
export function differenceText(record: DownloadRecord, comparison: Extract<LinkComparison, { verdict: 'different' }>, l10n: L10n): string {
  const parts = comparison.differs.map((difference) => {
    switch (difference) {
      case 'length': {
        const [now, before] = distinctSizes(comparison.probe.length ?? 0, record.length ?? 0);
        return l10n.t('size ({0}, not {1})', now, before);
      }
      case 'validator':
        return l10n.t('version tag (ETag or Last-Modified)');
      case 'digest':
        return l10n.t('checksum');
    }
  });
  return parts.length === 1 ? parts[0] : l10n.t('{0} and {1}', parts.slice(0, -1).join(', '), parts[parts.length - 1]);
}

/** Why the new link was accepted without asking. */
export function sameFileText(comparison: Extract<LinkComparison, { verdict: 'same' }>, l10n: L10n): string {
  return comparison.proof === 'digest'
    ? l10n.t('The new link serves the same file (same checksum): the download continues where it stopped.')
    : l10n.t('The new link serves the same file (same size and version tag): the download continues where it stopped.');
}

/** The bytes a start over throws away, for the choice's detail. */
export function keptBytesText(record: DownloadRecord, l10n: L10n): string {
  return l10n.t('The {0} downloaded so far are discarded, and the file is downloaded from the new link from the beginning.', formatBytes(downloadedBytes(record)));
}

/** Two sizes as the user can tell them apart: in bytes when rounding makes them look equal. */
function distinctSizes(a: number, b: number): [string, string] {
  const [x, y] = [formatBytes(a), formatBytes(b)];
  return x === y ? [`${a} B`, `${b} B`] : [x, y];
}
