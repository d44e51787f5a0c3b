import type * as vscode from 'vscode';
import { partitionRecords, type LoadedRecords, type TransferRecord, type TransferStore } from '../core';
import { StateKeys } from './ids';

/**
 * Transfer records in `globalState`, one key per transfer so a save rewrites one small value.
 * globalState is shared by every window and flushed lazily: the engine treats what it reads as
 * possibly a little stale and reconciles with the `.part` file.
 */
export class GlobalStateTransferStore implements TransferStore {
  constructor(private readonly memento: vscode.Memento) {}

  private key(id: string): string {
    return `${StateKeys.transferPrefix}${id}`;
  }

  /** Valid records, and those that failed validation (never trusted, shown as needing a restart). */
  loadAll(): LoadedRecords {
    const entries = this.memento
      .keys()
      .filter((key) => key.startsWith(StateKeys.transferPrefix))
      .map((key): [string, unknown] => [key.slice(StateKeys.transferPrefix.length), this.memento.get(key)]);
    return partitionRecords(entries);
  }

  async list(): Promise<TransferRecord[]> {
    return this.loadAll().records;
  }

  async get(id: string): Promise<TransferRecord | undefined> {
    return partitionRecords([[id, this.memento.get(this.key(id))]]).records[0];
  }

  async put(record: TransferRecord): Promise<void> {
    await this.memento.update(this.key(record.id), record);
  }

  async delete(id: string): Promise<void> {
    await this.memento.update(this.key(id), undefined);
  }
}
