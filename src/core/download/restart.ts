import type { TransferErrorCode } from '../errors';

/**
 * Thrown inside an attempt when the transfer must start over from byte 0 (a download with a
 * plain GET, an upload with a new creation). `code` says why, for the user.
 */
export class RestartNeeded extends Error {
  constructor(readonly reason: string, readonly code?: TransferErrorCode) {
    super(reason);
  }
}

/** Thrown when the server does not serve ranges well enough for several connections. */
export class SegmentationRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}
