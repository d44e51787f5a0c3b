/**
 * Speeds as curl's `--limit-rate` writes them: a number of bytes per second with an optional
 * binary suffix (K = 1024, M, G, T), e.g. `500K`, `4M`, `1.5M`, `1G`. A trailing `/s` or `B` is
 * tolerated because people type it. `0` means no limit. Undefined for anything else.
 */
export function parseRate(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?(?:\/s)?\s*$/i.exec(text);
  if (!match) return undefined;
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[match[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const bytes = Math.round(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** The shortest curl-style spelling of a rate (1048576 → "1M"), for input boxes and flags. */
export function formatRate(bytesPerSecond: number): string {
  for (const [suffix, unit] of [['T', 1024 ** 4], ['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) {
    const value = bytesPerSecond / unit;
    if (value >= 1 && Number.isInteger(value * 10)) return `${value}${suffix}`;
  }
  return String(bytesPerSecond);
}
