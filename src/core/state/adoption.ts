import { exists, partPathFor } from '../download/part-file';
import type { MachineRef } from './machine';
import type { TransferRecord } from './record';

/**
 * Records saved before records named their machine say nothing about where their bytes are. The
 * first machine that finds them adopts the record; until one does, every window shows it as
 * "machine unknown" and runs it nowhere.
 */

/** Paths whose presence on a machine shows that a record's bytes are there, strongest first. */
export function evidencePaths(record: TransferRecord): string[] {
  if (record.kind === 'upload') return [record.source];
  const paths = record.target ? [partPathFor(record.target), record.target] : [];
  return [...paths, record.targetDir];
}

/**
 * The record with `here` as its machine when this machine holds its `.part` file, its final file
 * or its target folder (an upload: its source file); undefined when none of them is here.
 */
export async function adoptIfFound(
  record: TransferRecord,
  here: MachineRef,
  pathExists: (file: string) => Promise<boolean> = exists,
): Promise<TransferRecord | undefined> {
  for (const file of evidencePaths(record)) {
    if (await pathExists(file)) return { ...record, machine: { ...here } };
  }
  return undefined;
}
