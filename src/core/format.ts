/** Human-readable sizes, speeds and durations shared by every front end. */
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Rounds first, then picks the unit, so 1048575 bytes reads "1.0 MiB", not "1024 KiB". */
export function formatBytes(bytes: number): string {
  let unit = 0;
  let value = bytes;
  while (unit < UNITS.length - 1 && (unit === 0 ? value >= 1024 : Number(roundForDisplay(value)) >= 1024)) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${roundForDisplay(value)} ${UNITS[unit]}`;
}

/** One decimal below 100, none from 100 on (decided after rounding: 99.96 → "100"). */
function roundForDisplay(value: number): string {
  const oneDecimal = value.toFixed(1);
  return Number(oneDecimal) >= 100 ? value.toFixed(0) : oneDecimal;
}

export function formatSpeed(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

export function formatPercent(bytes: number, length: number | undefined): string | undefined {
  if (length === undefined || length === 0) return undefined;
  // Multiply first: (29 / 100) * 100 is 28.999… in floating point.
  return `${Math.floor((bytes * 100) / length)}%`;
}
