/**
 * The persisted description of one transfer: plain JSON, versioned, validated on every load.
 * A record that fails validation is never trusted: the transfer restarts from byte 0.
 */
import { redactUrl } from '../errors';
import type { MachineRef } from './machine';
import { isDigestAlgorithm, isExpectedDigest, type ExpectedDigest, type VerifiedDigest } from '../integrity/digest';

export const RECORD_SCHEMA_VERSION = 1;

export type TransferState = 'queued' | 'running' | 'paused' | 'failed' | 'completed' | 'cancelled';
export const TRANSFER_STATES: readonly TransferState[] = ['queued', 'running', 'paused', 'failed', 'completed', 'cancelled'];

/**
 * A byte range of the file fetched over one connection. `end` is exclusive and undefined while
 * the length is unknown. `done` counts bytes from `start` whose write to disk completed.
 */
export interface Segment {
  start: number;
  end?: number;
  done: number;
}

/**
 * Which file on disk holds a generation's bytes. Every restart from byte 0 starts a new
 * generation in a new part file, so a stale record (globalState is flushed lazily) recognises a
 * `.part` that is not the one its progress describes, and counts none of it.
 */
export interface PartFileIdentity {
  generation: number;
  ino: number;
  birthtimeMs: number;
}

export interface RecordedError {
  code: string;
  message: string;
  status?: number;
  /** The network failure in words a user knows (connection refused, host not found, …). */
  networkReason?: string;
  /** For ERR_CHECKSUM_MISMATCH: which checksum the bytes did not match ("sha256 from SHA256SUMS"). */
  checksum?: { algorithm: string; source: string };
  /** Set while the transfer waits to try again after this error. */
  retry?: PendingRetry;
}

/** A retry that is scheduled: which attempt, out of how many, and when (epoch ms). */
export interface PendingRetry {
  attempt: number;
  of: number;
  at: number;
}

/** Which window (or process) runs the transfer; stale leases may be taken over. */
export interface OwnerLease {
  owner: string;
  expiresAt: number;
}

interface RecordBase {
  schemaVersion: typeof RECORD_SCHEMA_VERSION;
  id: string;
  state: TransferState;
  createdAt: number;
  updatedAt: number;
  lastError?: RecordedError;
  /** Why the transfer last started over from byte 0 (English, for the log). */
  restartReason?: string;
  /** Stable code for `restartReason` (e.g. ERR_CONTENT_CHANGED, ERR_FILE_CHANGED) so a UI can localize it. */
  restartCode?: string;
  lease?: OwnerLease;
  /**
   * The machine that holds the bytes (`.part` file, or an upload's source). Absent in records
   * saved before records named machines: the first machine that finds the bytes adopts them.
   */
  machine?: MachineRef;
  /** The user's speed limit for this transfer in bytes per second (absent: none of its own). */
  maxBytesPerSecond?: number;
}

export interface DownloadRecord extends RecordBase {
  kind: 'download';
  url: string;
  finalUrl?: string;
  /** Folder the file goes into; the name may come from the server. */
  targetDir: string;
  /** Final path, fixed once the first response named the file (or given by the user). */
  target?: string;
  /** True when the user named the file: never replace it with a server-supplied name. */
  targetFixed?: boolean;
  /** The name the server asked for when we saved under another (a dotfile or auto-loaded config). */
  serverName?: string;
  /**
   * The final path whose part file this download was creating, saved before it did so: a run
   * stopped before it saved `target` left that empty part file, which only this download may
   * take back. Cleared once `target` is saved.
   */
  reservingTarget?: string;
  length?: number;
  etag?: string;
  lastModified?: string;
  date?: string;
  acceptRanges?: boolean;
  contentType?: string;
  segments: Segment[];
  /** Expected sha256 (hex) the user gave: verified before the file gets its final name, wins over every other source. */
  sha256?: string;
  /**
   * Digests the server offered (headers, checksum files beside the download). Kept so they
   * survive a resume (a 206 need not repeat them) and prove that a refreshed link is the same file.
   */
  digests?: ExpectedDigest[];
  /** What the completed file was verified against ("sha256 from SHA256SUMS"). */
  verified?: VerifiedDigest[];
  connections?: number;
  /** When the final name is taken: keep both (`name (1).ext`, default), replace it, or fail. */
  onExisting?: ExistingTargetPolicy;
  /** Counts restarts from byte 0; bytes of an older generation never count (default 0). */
  generation?: number;
  /** The part file this generation writes; its bytes count only while it is still that file. */
  partFile?: PartFileIdentity;
}

export type ExistingTargetPolicy = 'keepBoth' | 'overwrite' | 'skip';
export const EXISTING_TARGET_POLICIES: readonly ExistingTargetPolicy[] = ['keepBoth', 'overwrite', 'skip'];

export interface UploadFingerprint {
  path: string;
  size: number;
  mtimeMs: number;
}

export interface UploadRecord extends RecordBase {
  kind: 'upload';
  /** The endpoint the user chose. */
  url: string;
  /** The resource the server created for this upload (tus/IETF), or the PUT target. */
  uploadUrl?: string;
  protocol?: string;
  source: string;
  fingerprint: UploadFingerprint;
  /** Bytes the server confirmed, as last seen. */
  offset: number;
  length: number;
  expiresAt?: number;
  chunkSize?: number;
  /** False when the endpoint can only take the whole file in one request (plain PUT). */
  resumable?: boolean;
  /** IETF draft: the interop version the server accepted (resumes speak it again). */
  interopVersion?: number;
}

export type TransferRecord = DownloadRecord | UploadRecord;

export function downloadedBytes(record: DownloadRecord): number {
  return record.segments.reduce((sum, segment) => sum + segment.done, 0);
}

/** What a person calls the transfer: the file's name (saved as, uploaded from, or the URL's last segment). */
export function transferName(record: TransferRecord): string {
  if (record.kind === 'upload') return baseName(record.source);
  if (record.target) return baseName(record.target);
  try {
    const url = new URL(record.url);
    const last = url.pathname.split('/').filter(Boolean).pop();
    return last ? decodeURIComponent(last) : url.host;
  } catch {
    return redactUrl(record.url);
  }
}

/** The last component of a path, for either separator (records travel between platforms). */
function baseName(file: string): string {
  return file.split(/[\\/]/).filter(Boolean).pop() ?? file;
}

export function transferredBytes(record: TransferRecord): number {
  return record.kind === 'download' ? downloadedBytes(record) : record.offset;
}

export function totalBytes(record: TransferRecord): number | undefined {
  return record.length;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isOptional = <T>(v: unknown, check: (x: unknown) => x is T): boolean => v === undefined || check(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';

const isMachine = (v: unknown): v is MachineRef => isObject(v) && isNonEmptyString(v.id) && isString(v.label);

function checkHttpUrl(value: unknown): string | undefined {
  if (!isNonEmptyString(value)) return 'url missing';
  try {
    const protocol = new URL(value).protocol;
    return protocol === 'http:' || protocol === 'https:' ? undefined : 'url is not http(s)';
  } catch {
    return 'url is not a valid URL';
  }
}

function checkSegments(value: unknown, length: number | undefined): string | undefined {
  if (!Array.isArray(value) || value.length === 0) return 'segments missing';
  let previousEnd = 0;
  for (const [index, segment] of value.entries()) {
    if (!isObject(segment) || !isCount(segment.start) || !isCount(segment.done) || !isOptional(segment.end, isCount)) {
      return 'segment malformed';
    }
    // Segments tile the file: a gap would be bytes that nobody fetches, yet the file could look
    // complete by its size (a sparse part file reads back zeros there).
    if (segment.start !== previousEnd) return segment.start < previousEnd ? 'segments overlap or are out of order' : 'segments leave a gap';
    const end = segment.end as number | undefined;
    if (end !== undefined) {
      if (end < segment.start) return 'segment ends before it starts';
      if (segment.start + segment.done > end) return 'segment claims more than its range';
      if (length !== undefined && end > length) return 'segment past the end of the file';
      previousEnd = end;
    } else if (length !== undefined) {
      return 'open segment although the length is known';
    } else if (index !== value.length - 1) {
      return 'an open segment must be the last one';
    }
  }
  if (length !== undefined && previousEnd !== length) return 'segments do not reach the end of the file';
  return undefined;
}

function checkBase(value: Record<string, unknown>): string | undefined {
  if (value.schemaVersion !== RECORD_SCHEMA_VERSION) return `unsupported schemaVersion ${String(value.schemaVersion)}`;
  if (!isNonEmptyString(value.id)) return 'id missing';
  if (!TRANSFER_STATES.includes(value.state as TransferState)) return 'state unknown';
  if (!isCount(value.createdAt) || !isCount(value.updatedAt)) return 'timestamps missing';
  if (value.lastError !== undefined && !(isObject(value.lastError) && isString(value.lastError.code) && isString(value.lastError.message))) {
    return 'lastError malformed';
  }
  if (value.lease !== undefined && !(isObject(value.lease) && isString(value.lease.owner) && isCount(value.lease.expiresAt))) {
    return 'lease malformed';
  }
  if (!isOptional(value.restartReason, isString) || !isOptional(value.restartCode, isString)) return 'restart reason malformed';
  if (value.machine !== undefined && !isMachine(value.machine)) return 'machine malformed';
  if (!isOptional(value.maxBytesPerSecond, isCount)) return 'maxBytesPerSecond malformed';
  return checkHttpUrl(value.url);
}

function checkDownload(value: Record<string, unknown>): string | undefined {
  if (!isNonEmptyString(value.targetDir)) return 'targetDir missing';
  if (!isOptional(value.target, isNonEmptyString) || !isOptional(value.reservingTarget, isNonEmptyString)) return 'target malformed';
  if (!isOptional(value.length, isCount)) return 'length malformed';
  for (const key of ['finalUrl', 'etag', 'lastModified', 'date', 'contentType', 'restartReason', 'serverName'] as const) {
    if (!isOptional(value[key], isString)) return `${key} malformed`;
  }
  if (!isOptional(value.acceptRanges, isBoolean) || !isOptional(value.targetFixed, isBoolean)) return 'flags malformed';
  if (value.sha256 !== undefined && !(isString(value.sha256) && /^[0-9a-f]{64}$/.test(value.sha256))) return 'sha256 malformed';
  if (value.digests !== undefined && !(Array.isArray(value.digests) && value.digests.every(isExpectedDigest))) return 'digests malformed';
  if (value.verified !== undefined && !(Array.isArray(value.verified) && value.verified.every((v) => isObject(v) && isDigestAlgorithm(v.algorithm) && isString(v.source)))) {
    return 'verified malformed';
  }
  if (!isOptional(value.connections, isCount)) return 'connections malformed';
  if (value.onExisting !== undefined && !EXISTING_TARGET_POLICIES.includes(value.onExisting as ExistingTargetPolicy)) return 'onExisting malformed';
  if (!isOptional(value.generation, isCount)) return 'generation malformed';
  const part = value.partFile;
  if (part !== undefined && !(isObject(part) && isCount(part.generation) && isCount(part.ino) && typeof part.birthtimeMs === 'number')) return 'partFile malformed';
  return checkSegments(value.segments, value.length as number | undefined);
}

function checkUpload(value: Record<string, unknown>): string | undefined {
  if (!isNonEmptyString(value.source)) return 'source missing';
  const fp = value.fingerprint;
  if (!isObject(fp) || !isNonEmptyString(fp.path) || !isCount(fp.size) || typeof fp.mtimeMs !== 'number') return 'fingerprint malformed';
  if (!isCount(value.offset) || !isCount(value.length) || value.offset > value.length) return 'offset malformed';
  if (value.uploadUrl !== undefined && checkHttpUrl(value.uploadUrl)) return 'uploadUrl malformed';
  if (!isOptional(value.protocol, isString) || !isOptional(value.expiresAt, isCount) || !isOptional(value.chunkSize, isCount)) {
    return 'upload fields malformed';
  }
  if (!isOptional(value.interopVersion, isCount)) return 'interopVersion malformed';
  if (!isOptional(value.resumable, isBoolean)) {
    return 'upload flags malformed';
  }
  return undefined;
}

/** Validates anything read back from storage. Unknown extra fields are tolerated and kept. */
export function validateRecord(value: unknown): Validation<TransferRecord> {
  if (!isObject(value)) return { ok: false, reason: 'not an object' };
  const reason =
    checkBase(value) ??
    (value.kind === 'download' ? checkDownload(value) : value.kind === 'upload' ? checkUpload(value) : 'kind unknown');
  return reason ? { ok: false, reason } : { ok: true, value: value as unknown as TransferRecord };
}

/**
 * Brings a possibly stale record in line with the `.part` file (globalState is flushed lazily, a
 * crash can lose the last writes): no segment may claim bytes the file does not hold. With
 * `keepUnclaimed` (the caller proved it safe: the file is this generation's and a strong
 * validator guards the resume), a single segment from byte 0 also takes the bytes the file holds
 * beyond the record's count. Returns a new record; the input is not modified.
 */
export function reconcileWithPartSize(record: DownloadRecord, partSize: number, keepUnclaimed = false): DownloadRecord {
  const segments = record.segments.map((segment) => ({
    ...segment,
    done: Math.max(0, Math.min(segment.done, partSize - segment.start)),
  }));
  const only = segments.length === 1 ? segments[0] : undefined;
  if (keepUnclaimed && only && only.start === 0) {
    only.done = Math.max(only.done, only.end === undefined ? partSize : Math.min(partSize, only.end));
  }
  return { ...record, segments };
}

/**
 * Turns a stored download that failed validation into a fresh record for the same URL and folder:
 * nothing of the old state is trusted, the transfer waits paused and says why. Undefined when not
 * even the URL and folder are usable.
 */
export function salvageDownload(id: string, raw: unknown, reason: string, now: number): DownloadRecord | undefined {
  if (!isObject(raw) || raw.kind !== 'download' || checkHttpUrl(raw.url) || !isNonEmptyString(raw.targetDir)) return undefined;
  return {
    schemaVersion: RECORD_SCHEMA_VERSION,
    id,
    kind: 'download',
    url: raw.url as string,
    targetDir: raw.targetDir,
    state: 'paused',
    segments: initialSegments(undefined),
    createdAt: isCount(raw.createdAt) ? raw.createdAt : now,
    updatedAt: now,
    // The bytes are gone either way, but the record still belongs where it was started.
    ...(isMachine(raw.machine) ? { machine: { id: raw.machine.id, label: raw.machine.label } } : {}),
    restartReason: `saved state was invalid (${reason})`,
    lastError: { code: 'ERR_RECORD_INVALID', message: `saved state was invalid: ${reason}` },
  };
}

/** A fresh single-segment layout, used for a new download and for every restart from byte 0. */
export function initialSegments(length: number | undefined): Segment[] {
  return [{ start: 0, end: length, done: 0 }];
}
