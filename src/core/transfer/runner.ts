import type { Event } from '../events';
import type { Segment, TransferRecord } from '../state/record';

/** Progress of a running transfer: only bytes that are safely written (download) or acknowledged (upload). */
export interface TransferProgress {
  id: string;
  bytes: number;
  length?: number;
  bytesPerSecond: number;
  etaSeconds?: number;
  /**
   * A download's segments as written so far (the record's are only as fresh as its last save):
   * what the details view draws per connection.
   */
  segments?: Segment[];
}

/**
 * What the manager needs from one running transfer, download or upload. A runner owns its record
 * while it runs and saves every change through the store it was given.
 */
export interface TransferRunner {
  readonly record: TransferRecord;
  readonly onProgress: Event<TransferProgress>;
  readonly onRecord: Event<TransferRecord>;
  /** Resolves with the completed record; rejects with a TransferError (or AbortError on abort). */
  run(signal: AbortSignal): Promise<TransferRecord>;
  /** Saves the current record now (renews the ownership lease). */
  checkpoint(): Promise<void>;
  /**
   * Gives up everything a transfer that is not running keeps (a download's part file, an
   * upload's resource on the server): the runner owns its files, the manager knows no paths.
   */
  discard(): Promise<void>;
}
