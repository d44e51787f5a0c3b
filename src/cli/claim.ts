import * as os from 'node:os';
import { AbortError, ClaimedStore, TransferClaim, removeStaleClaimsOf, type Disposable, type TransferClaimOptions, type TransferRecord, type TransferStore } from '../core';

/** Heartbeats well inside the staleness limit (30 s), so a live run is never taken over. */
const RENEW_EVERY_MS = 5_000;

/**
 * A command's claim on its transfer: its record file (two runs of the same command) and, once the
 * download has a name, its `.part` (an editor or another command writing the same file). Only
 * the holder runs; a run that loses the claim stops before its next write.
 */
export class CommandClaim {
  readonly claim: TransferClaim;
  /** The store the task saves through: every save confirms the claim first. */
  readonly store: TransferStore;

  private readonly options: TransferClaimOptions;

  constructor(storePath: string, records: TransferStore) {
    this.options = { owner: `command line (pid ${process.pid} on ${os.hostname()})`, recordResource: () => storePath };
    this.claim = new TransferClaim(this.options);
    this.store = new ClaimedStore(records, this.claim, (record) => record);
  }

  /**
   * Deletes the claim files a killed run left on what `record` writes (ours stay until release):
   * a run that only finishes up claims nothing that would have replaced them.
   */
  removeStale(record: TransferRecord): Promise<void> {
    return removeStaleClaimsOf(record, this.options);
  }

  /** Claims the record before reading it; throws ERR_RUNNING_ELSEWHERE while another run holds it. */
  async acquire(id: string): Promise<void> {
    await this.claim.confirmRecord(id);
  }

  readonly guard = (): Promise<void> => this.claim.guard();

  /** Renews the heartbeat while the run lasts; a lost claim aborts the run. */
  watch(controller: AbortController): Disposable {
    const timer = setInterval(() => void this.claim.renew(), RENEW_EVERY_MS);
    timer.unref();
    const lost = this.claim.onLost(() => controller.abort(new AbortError('claim-lost')));
    return {
      dispose: () => {
        clearInterval(timer);
        lost.dispose();
      },
    };
  }

  release(): Promise<void> {
    return this.claim.release();
  }
}
