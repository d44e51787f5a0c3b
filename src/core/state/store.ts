import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { validateRecord, type TransferRecord } from './record';

/**
 * Where transfer records live. The editor backs it with globalState, the CLI with a JSON file.
 * Implementations store plain JSON and never secrets.
 */
export interface TransferStore {
  list(): Promise<TransferRecord[]>;
  get(id: string): Promise<TransferRecord | undefined>;
  put(record: TransferRecord): Promise<void>;
  delete(id: string): Promise<void>;
}

/** Result of loading: valid records, and ids whose stored data could not be trusted. */
export interface LoadedRecords {
  records: TransferRecord[];
  invalid: { id: string; reason: string; raw: unknown }[];
}

/** Validates raw stored values; shared by every store implementation. */
export function partitionRecords(entries: [string, unknown][]): LoadedRecords {
  const result: LoadedRecords = { records: [], invalid: [] };
  for (const [id, raw] of entries) {
    const checked = validateRecord(raw);
    if (checked.ok) result.records.push(checked.value);
    else result.invalid.push({ id, reason: checked.reason, raw });
  }
  return result;
}

/** True while a process with this id runs on this machine (our own process always counts). */
function processRuns(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export class MemoryTransferStore implements TransferStore {
  private readonly records = new Map<string, unknown>();

  async list(): Promise<TransferRecord[]> {
    return partitionRecords([...this.records]).records.map(clone);
  }
  async get(id: string): Promise<TransferRecord | undefined> {
    const checked = validateRecord(this.records.get(id));
    return checked.ok ? clone(checked.value) : undefined;
  }
  async put(record: TransferRecord): Promise<void> {
    this.records.set(record.id, clone(record));
  }
  async delete(id: string): Promise<void> {
    this.records.delete(id);
  }
  /** For tests: write anything, valid or not. */
  putRaw(id: string, raw: unknown): void {
    this.records.set(id, raw);
  }
}

/**
 * One JSON file holding a map of records. Writes go to a temporary name and are renamed over the
 * old file, so a crash leaves either the old or the new content, never half of one; a write
 * with unchanged content is skipped.
 */
export class JsonFileTransferStore implements TransferStore {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly filePath: string) {}

  /** The parsed map and the exact text it came from ('' when missing). */
  private async readAll(): Promise<{ all: Record<string, unknown>; text: string }> {
    let text = '';
    try {
      text = await fs.readFile(this.filePath, 'utf8');
      const parsed: unknown = JSON.parse(text);
      const all = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
      return { all, text };
    } catch {
      // Missing or corrupt: both mean "nothing we can trust".
      return { all: {}, text };
    }
  }

  /** Skips the write when the file already holds exactly this content. */
  private async writeAll(all: Record<string, unknown>, current: string): Promise<void> {
    if (Object.keys(all).length === 0) {
      await fs.rm(this.filePath, { force: true });
      await this.removeOrphans();
      return;
    }
    const text = JSON.stringify(all, null, 1);
    if (text === current) return;
    const temporary = `${this.filePath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.mkdir(path.dirname(this.filePath), { recursive: true });
    try {
      // 'wx': a fresh file of our own, never an existing one (or a link planted under its name).
      await fs.writeFile(temporary, text, { flag: 'wx' });
      await fs.rename(temporary, this.filePath);
    } finally {
      await fs.rm(temporary, { force: true });
    }
  }

  /**
   * A writer killed between writing its temporary file and renaming it leaves that file behind.
   * Once the last record is gone, nothing of ours may stay beside the download: remove the
   * temporary files of writers whose process no longer runs.
   */
  private async removeOrphans(): Promise<void> {
    const dir = path.dirname(this.filePath);
    const prefix = `${path.basename(this.filePath)}.`;
    for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
      const match = name.startsWith(prefix) ? /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length)) : null;
      if (match && !processRuns(Number(match[1]))) await fs.rm(path.join(dir, name), { force: true });
    }
  }

  /** Serialises read-modify-write cycles of this instance. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async list(): Promise<TransferRecord[]> {
    return partitionRecords(Object.entries((await this.readAll()).all)).records;
  }
  async get(id: string): Promise<TransferRecord | undefined> {
    const checked = validateRecord((await this.readAll()).all[id]);
    return checked.ok ? checked.value : undefined;
  }
  put(record: TransferRecord): Promise<void> {
    return this.exclusive(async () => {
      const { all, text } = await this.readAll();
      all[record.id] = record;
      await this.writeAll(all, text);
    });
  }
  delete(id: string): Promise<void> {
    return this.exclusive(async () => {
      const { all, text } = await this.readAll();
      if (!(id in all)) return;
      delete all[id];
      await this.writeAll(all, text);
    });
  }
}
