import type { TransferErrorCode } from '../errors';
import type { HttpResponse } from '../http/client';

/** A 200 with the whole file that arrived instead of a 206: the restart reads it instead of asking again. */
export interface WholeFileResponse {
  response: HttpResponse;
  connection: AbortController;
}

/**
 * Thrown inside an attempt when the transfer must start over from byte 0 (a download with a
 * plain GET, an upload with a new creation). `code` says why, for the user.
 */
export class RestartNeeded extends Error {
  constructor(readonly reason: string, readonly code?: TransferErrorCode, readonly wholeFile?: WholeFileResponse) {
    super(reason);
  }
}

/** Thrown when the server does not serve ranges well enough for several connections. */
export class SegmentationRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}
