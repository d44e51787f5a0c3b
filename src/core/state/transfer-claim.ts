import * as path from 'node:path';
import { TransferError } from '../errors';
import { Emitter, type Event } from '../events';
import { partPathFor } from '../download/part-file';
import { acquireClaim, claimHolder, removeStaleClaims, type ClaimHolder, type ClaimOptions, type FileClaim } from './claim';
import type { TransferRecord } from './record';

export interface TransferClaimOptions extends ClaimOptions {
  /**
   * Where the claim on a transfer's record lives, shared by everyone who shares the records (the
   * editor: a folder in global storage keyed by id; the CLI: its record file). Without it only a
   * download's `.part` is claimed, and only once the download has a file name.
   */
  recordResource?: (id: string) => string;
  /** How long a write may rely on the last look at the claim files (default 250 ms). */
  checkEveryMs?: number;
}

/**
 * What a transfer writes, and so must claim: its record (when records are shared) and, for a
 * download with a name, its `.part` file, which another record (the CLI, another editor) may name too.
 */
export function claimedResources(record: TransferRecord, recordResource: ((id: string) => string) | undefined): string[] {
  const resources: string[] = [];
  if (recordResource) resources.push(recordResource(record.id));
  if (record.kind === 'download' && record.target) resources.push(partPathFor(record.target));
  return resources;
}

/** Whoever else holds a claim on what `record` writes (undefined: nobody, or only we do). */
export async function claimedElsewhere(record: TransferRecord, options: TransferClaimOptions): Promise<ClaimHolder | undefined> {
  for (const resource of claimedResources(record, options.recordResource)) {
    const holder = await claimHolder(resource, options);
    if (holder && holder.owner !== options.owner) return holder;
  }
  return undefined;
}

/** Deletes the claim files on what `record` writes whose holders are gone (a crashed window's). */
export async function removeStaleClaimsOf(record: TransferRecord, options: TransferClaimOptions): Promise<void> {
  for (const resource of claimedResources(record, options.recordResource)) await removeStaleClaims(resource, options);
}

export function runningElsewhereError(holder: ClaimHolder | undefined, what: string): TransferError {
  const who = holder?.owner ? ` by ${holder.owner} (pid ${holder.pid} on ${holder.host})` : '';
  return new TransferError('ERR_RUNNING_ELSEWHERE', `${what} is being written${who}`);
}

/**
 * The claims of one running transfer. A runner may write only while `guard()` passes and may save
 * only through a store that calls `confirm()` first: once another window or process holds any of
 * its resources, both throw ERR_RUNNING_ELSEWHERE and `onLost` fires, so the runner stops at once.
 */
export class TransferClaim {
  private readonly held = new Map<string, FileClaim>();
  private lostError?: TransferError;
  private lastCheck = 0;
  private readonly lostEmitter = new Emitter<TransferError>();
  /** Fires once, when a claim turns out to be someone else's. */
  readonly onLost: Event<TransferError> = this.lostEmitter.event;

  constructor(private readonly options: TransferClaimOptions) {}

  get lost(): TransferError | undefined {
    return this.lostError;
  }

  /**
   * Claims what `record` names and is not yet held (a download's `.part` once it has a name) and
   * re-checks what is held. Called before every save of the record.
   */
  async confirm(record: TransferRecord): Promise<void> {
    await this.hold(claimedResources(record, this.options.recordResource));
  }

  /** Claims a transfer's record before it is even read (the CLI: two runs of one command). */
  async confirmRecord(id: string): Promise<void> {
    await this.hold(this.options.recordResource ? [this.options.recordResource(id)] : []);
  }

  private async hold(resources: string[]): Promise<void> {
    if (this.lostError) throw this.lostError;
    for (const resource of resources) {
      if (this.held.has(resource)) continue;
      const attempt = await acquireClaim(resource, this.options);
      if (attempt.holder) throw this.lose(runningElsewhereError(attempt.holder, path.basename(resource)));
      this.held.set(resource, attempt.claim);
    }
    await this.check();
  }

  /** Before a write: looks at the claim files when the last look is older than checkEveryMs. */
  async guard(): Promise<void> {
    if (this.lostError) throw this.lostError;
    const now = Date.now();
    // Wall-clock time on purpose: after a laptop sleeps, the first write looks again.
    const age = now - this.lastCheck;
    if (age >= 0 && age < (this.options.checkEveryMs ?? 250)) return;
    await this.check();
  }

  /** Renews every heartbeat; false (and onLost) when one was lost. */
  async renew(): Promise<boolean> {
    if (this.lostError) return false;
    for (const claim of this.held.values()) {
      if (!(await claim.renew())) {
        this.lose(runningElsewhereError(undefined, path.basename(claim.resource)));
        return false;
      }
    }
    this.lastCheck = Date.now();
    return true;
  }

  async release(): Promise<void> {
    const claims = [...this.held.values()];
    this.held.clear();
    await Promise.all(claims.map((claim) => claim.release()));
  }

  private async check(): Promise<void> {
    for (const claim of this.held.values()) {
      if (!(await claim.verify())) throw this.lose(runningElsewhereError(await claimHolder(claim.resource, this.options).catch(() => undefined), path.basename(claim.resource)));
    }
    this.lastCheck = Date.now();
  }

  private lose(error: TransferError): TransferError {
    if (!this.lostError) {
      this.lostError = error;
      this.lostEmitter.fire(error);
    }
    return this.lostError;
  }
}
