import type { Event, MachineRef, TransferChange, TransferSnapshot, UploadProtocolChoice } from '../core';

/** What `activate` returns: other extensions (and our tests) can drive transfers with it. */
export interface ResumableTransfersApi {
  /** Starts downloads into `folder` (default: the configured download folder); returns their ids. */
  download(urls: string | string[], options?: { folder?: string; sha256?: string }): Promise<string[]>;
  /** Uploads each file to `url` (protocol detected unless given); returns their ids. */
  upload(files: string | string[], url: string, protocol?: UploadProtocolChoice): Promise<string[]>;
  /** The machine this extension host runs on; a record's `machine` names where its bytes are. */
  readonly machine: MachineRef;
  /** Every transfer, those of other machines too (held: `other-machine` or `machine-unknown`, never run here). */
  list(): TransferSnapshot[];
  get(id: string): TransferSnapshot | undefined;
  readonly onDidChange: Event<TransferChange>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  cancel(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  /** Reads globalState again and restores transfers not shown yet, exactly as activation does. */
  restoreFromState(): Promise<void>;
  /** The raw saved record, as the next activation will read it. */
  savedRecord(id: string): unknown;
  /**
   * Saves `raw` as the record of transfer `id`, valid or not, as an earlier session could have left
   * it; `restoreFromState()` then loads it like activation does. For tests and state migration.
   */
  seedRecord(id: string, raw: unknown): Promise<void>;
}
