import type { Logger } from '../../src/core';

/** A Logger that keeps every line (with its level) so tests can assert on what was logged. */
export function recordingLogger(lines: string[]): Logger {
  return {
    trace: () => undefined,
    debug: (m) => lines.push(`debug ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}
