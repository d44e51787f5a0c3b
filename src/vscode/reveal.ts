import * as path from 'node:path';
import { partPathFor, type TransferRecord } from '../core';

/**
 * What "Reveal in Explorer" shows for a transfer: the finished file, the part file of an
 * unfinished download, else the folder the download goes into (a download that failed before
 * the first response has no file at all, and revealing nothing would look broken).
 */
export function revealTargetOf(record: TransferRecord, exists: (file: string) => boolean): string {
  if (record.kind === 'upload') return record.source;
  if (record.target && exists(record.target) && record.state === 'completed') return record.target;
  if (record.target && exists(partPathFor(record.target))) return partPathFor(record.target);
  const folder = record.target ? path.dirname(record.target) : record.targetDir;
  return folder;
}

/** A 403, 404 or 410 often means the link itself expired or moved: a new link may help where a retry cannot. */
export function linkMayHaveExpired(record: TransferRecord): boolean {
  const status = record.lastError?.status;
  return record.state === 'failed' && (status === 403 || status === 404 || status === 410);
}
