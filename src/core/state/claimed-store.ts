import type { TransferRecord } from './record';
import type { TransferStore } from './store';
import type { TransferClaim } from './transfer-claim';

/**
 * The store a running transfer saves through: every save first confirms the transfer's claim
 * (claiming its `.part` as soon as the record names one), then is stamped with what its manager
 * keeps in the record (the lease other windows show as "running in another window", the machine,
 * the speed limit). A runner that lost its claim cannot save. Runners know nothing of either:
 * they just save.
 */
export class ClaimedStore implements TransferStore {
  constructor(
    private readonly inner: TransferStore,
    private readonly claim: TransferClaim,
    private readonly stamp: <T extends TransferRecord>(record: T) => T,
  ) {}

  list(): Promise<TransferRecord[]> {
    return this.inner.list();
  }

  get(id: string): Promise<TransferRecord | undefined> {
    return this.inner.get(id);
  }

  async put(record: TransferRecord): Promise<void> {
    await this.claim.confirm(record);
    await this.inner.put(this.stamp(record));
  }

  delete(id: string): Promise<void> {
    return this.inner.delete(id);
  }
}
