import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { systemClock, type Clock } from '../clock';
import { AbortError, TransferError } from '../errors';
import { Emitter, type Disposable, type Event } from '../events';
import { silentLogger, type Logger } from '../logger';
import { initialSegments, type DownloadRecord, type TransferRecord, type TransferState } from '../state/record';
import { adoptIfFound } from '../state/adoption';
import { whereIs, type MachineRef } from '../state/machine';
import type { TransferProgress, TransferRunner } from './runner';
import type { TransferStore } from '../state/store';
import { BandwidthLimits, UNLIMITED, type BandwidthGate } from '../bandwidth/limits';
import { ClaimedStore } from '../state/claimed-store';
import { TransferClaim, claimedElsewhere, removeStaleClaimsOf, type TransferClaimOptions } from '../state/transfer-claim';

/** Builds the runner for a record; the manager does not care whether it downloads or uploads. */
export type RunnerFactory = (record: TransferRecord, context: RunnerContext) => TransferRunner;

export interface RunnerContext {
  /**
   * The runner saves through this store only: it checks the transfer's claim and stamps what the
   * manager keeps in the record (lease, machine, speed limit).
   */
  store: TransferStore;
  /** A download asks this before each write batch; it throws ERR_RUNNING_ELSEWHERE once the claim is lost. */
  guard: () => Promise<void>;
  /** The speed limits this transfer's bytes pass through (its own and the global one). */
  bandwidth: BandwidthGate;
}

export interface TransferManagerOptions {
  store: TransferStore;
  createRunner: RunnerFactory;
  clock?: Clock;
  logger?: Logger;
  maxConcurrent?: number;
  /** Identifies this window or process in ownership leases. */
  ownerId?: string;
  /** How long a lease lasts without renewal; another owner may take over after that. */
  leaseMs?: number;
  /** How often records owned by someone else are re-read to show their progress. */
  remoteRefreshMs?: number;
  /**
   * Whether an owner said goodbye through a channel faster than the store (the editor writes a
   * marker file at shutdown because globalState may not be flushed by then): its leases are free.
   */
  isReleased?: (owner: string) => boolean;
  /**
   * The machine this manager runs on. When set, new records are stamped with it, and records of
   * another machine (or of none, until adopted) are listed but never run, paused, cancelled or
   * touched on disk here: their bytes are not on this machine. Unset (the CLI): every record is here.
   */
  machine?: MachineRef;
  /** For tests: whether a path exists on this machine (adoption of records without a machine). */
  pathExists?: (file: string) => Promise<boolean>;
  /** Global and per-transfer speed limits; the per-transfer ones are kept in the records. */
  bandwidth?: BandwidthLimits;
  /**
   * Folder of claim files keyed by transfer id, shared by every window and process that shares
   * the store: a transfer runs only where its claim is held. Without it only a download's `.part`
   * file is claimed.
   */
  claimDir?: string;
  /** A claim whose heartbeat is older than this may be taken over (default 30 s). */
  claimStaleMs?: number;
}

/**
 * Why a restored transfer did not start by itself: auto-resume is off, another window of this
 * machine runs it, its bytes are on another machine, or nobody knows on which machine yet.
 */
export type HeldReason = 'auto-resume-off' | 'running-elsewhere' | 'other-machine' | 'machine-unknown';

const ON_ANOTHER_MACHINE: ReadonlySet<HeldReason | undefined> = new Set(['other-machine', 'machine-unknown']);

/** True for a transfer whose bytes are not (or not known to be) on this machine: shown, never run. */
export function isOnAnotherMachine(snapshot: { held?: HeldReason }): boolean {
  return ON_ANOTHER_MACHINE.has(snapshot.held);
}

export interface TransferSnapshot {
  record: TransferRecord;
  progress?: TransferProgress;
  /** Set while another window owns the transfer or auto-resume is off. */
  held?: HeldReason;
}

export interface TransferChange {
  id: string;
  /** Undefined when the transfer was removed. */
  snapshot?: TransferSnapshot;
}

interface Entry {
  record: TransferRecord;
  progress?: TransferProgress;
  held?: HeldReason;
  runner?: TransferRunner;
  controller?: AbortController;
  claim?: TransferClaim;
  running?: Promise<void>;
}

const ACTIVE_STATES: ReadonlySet<TransferState> = new Set(['queued', 'running']);

/**
 * Queue, concurrency limit and lifecycle for many transfers. Every state change is saved to the
 * store before it is announced, so what a user sees is what survives a reload.
 */
export class TransferManager implements Disposable {
  private readonly entries = new Map<string, Entry>();
  private readonly changeEmitter = new Emitter<TransferChange>();
  private readonly progressEmitter = new Emitter<TransferProgress>();
  /** A transfer's record, state or hold changed, or it was removed. */
  readonly onDidChange: Event<TransferChange> = this.changeEmitter.event;
  /** Throttled byte progress of running transfers. */
  readonly onDidProgress: Event<TransferProgress> = this.progressEmitter.event;

  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly ownerId: string;
  private readonly leaseMs: number;
  private maxConcurrent: number;
  private leaseTimer?: NodeJS.Timeout;
  private remoteTimer?: NodeJS.Timeout;
  private disposed = false;
  /** Set while shutting down: the last saves give up the lease so the next start can resume at once. */
  private releasing = false;

  constructor(private readonly options: TransferManagerOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.ownerId = options.ownerId ?? randomUUID();
    this.leaseMs = options.leaseMs ?? 10_000;
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? 3);
  }

  setMaxConcurrent(value: number): void {
    this.maxConcurrent = Math.max(1, value);
    this.schedule();
  }

  list(): TransferSnapshot[] {
    return [...this.entries.values()].map((entry) => this.snapshotOf(entry)).sort((a, b) => a.record.createdAt - b.record.createdAt);
  }

  get(id: string): TransferSnapshot | undefined {
    const entry = this.entries.get(id);
    return entry && this.snapshotOf(entry);
  }

  /** Transfers running here or waiting for a free slot. */
  activeCount(): number {
    return [...this.entries.values()].filter((entry) => ACTIVE_STATES.has(entry.record.state) && !entry.held).length;
  }

  /**
   * Loads every saved transfer. Unfinished ones resume when `autoResume` is on, unless another
   * owner holds a live lease; otherwise they wait, paused, with the reason.
   */
  async restore(options: { autoResume: boolean }): Promise<void> {
    const records = await this.options.store.list();
    const now = this.clock.now();
    for (const saved of records) {
      if (this.entries.has(saved.id)) continue;
      const { record, held } = await this.place(saved);
      this.options.bandwidth?.setTransferLimit(record.id, record.maxBytesPerSecond);
      const entry: Entry = { record, held };
      if (held) {
        this.logger.info(`[${record.id}] ${held === 'other-machine' ? `its data is on ${record.machine?.label ?? '?'}` : 'machine unknown'}: shown, not run`);
      } else if (ACTIVE_STATES.has(record.state)) {
        if (await this.runningElsewhere(record, now)) entry.held = 'running-elsewhere';
        else if (!options.autoResume) {
          // Shown as paused but not saved as paused: it was interrupted, not paused by the user,
          // so a later start with auto-resume on still continues it.
          entry.record = { ...record, state: 'paused' };
          entry.held = 'auto-resume-off';
        } else {
          entry.record = { ...record, state: 'queued' };
        }
      }
      this.entries.set(record.id, entry);
      this.announce(entry);
    }
    this.logger.info(`restored ${records.length} transfer(s)`);
    this.ensureTimers();
    this.schedule();
  }

  /** Adds a new transfer (already a complete record, state queued) and starts it when a slot is free. */
  async add(record: TransferRecord): Promise<TransferSnapshot> {
    const machine = this.options.machine;
    const entry: Entry = { record: { ...record, state: 'queued', ...(machine ? { machine } : {}) } };
    this.options.bandwidth?.setTransferLimit(record.id, record.maxBytesPerSecond);
    this.entries.set(record.id, entry);
    await this.save(entry.record);
    this.announce(entry);
    this.ensureTimers();
    this.schedule();
    return this.snapshotOf(entry);
  }

  newId(): string {
    return randomUUID();
  }

  async pause(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry || !ACTIVE_STATES.has(entry.record.state) || isOnAnotherMachine(entry) || (await this.heldElsewhere(entry))) return;
    if (entry.controller) {
      await this.stop(entry, 'pause');
    } else {
      await this.setState(entry, 'paused');
    }
  }

  /** Resumes a paused or failed transfer; a cancelled one starts again from byte 0. */
  async resume(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry || entry.record.state === 'completed' || entry.controller || this.refuseOnAnotherMachine(entry, 'resumed')) return;
    // The row may be stale: another window may be running this transfer right now.
    if (await this.heldElsewhere(entry)) return;
    entry.held = undefined;
    if (entry.record.state === 'cancelled' && entry.record.kind === 'download') {
      entry.record = { ...entry.record, segments: initialSegments(undefined), length: undefined, etag: undefined, lastModified: undefined };
    }
    await this.setState(entry, 'queued', { lastError: undefined });
    this.schedule();
  }

  /**
   * Sets the transfer's own speed limit (0 lifts it). A running transfer slows down or speeds up
   * within a second; the limit is saved with the record and applies again after a reload.
   */
  async setSpeedLimit(id: string, bytesPerSecond: number): Promise<void> {
    const entry = this.entries.get(id);
    // Another machine's record is written by that machine only.
    if (!entry || isOnAnotherMachine(entry)) return;
    const limit = Math.max(0, Math.round(bytesPerSecond));
    this.options.bandwidth?.setTransferLimit(id, limit);
    // A running transfer's own saves carry the new value too (see stamp).
    entry.record = { ...entry.record, maxBytesPerSecond: limit || undefined, updatedAt: this.clock.now() };
    await this.save(entry.record);
    this.announce(entry);
  }

  retry(id: string): Promise<void> {
    return this.resume(id);
  }

  /**
   * Gives a download a new link (Update Link…) and starts it again: `change` makes the new record
   * from the current one (continuing its bytes, or starting over). A run here is paused first, so
   * nothing writes while the record changes. Refused (false) for a transfer run by another window,
   * whose bytes are on another machine, or that is not an unfinished download.
   */
  async replaceLink(id: string, change: (record: DownloadRecord) => DownloadRecord): Promise<boolean> {
    const entry = this.entries.get(id);
    if (!entry || entry.record.kind !== 'download' || entry.record.state === 'completed') return false;
    if (this.refuseOnAnotherMachine(entry, 'resumed') || (await this.heldElsewhere(entry))) return false;
    if (entry.controller) await this.stop(entry, 'pause');
    const current = entry.record as TransferRecord;
    if (current.kind !== 'download' || current.state === 'completed') return false;
    entry.held = undefined;
    entry.record = change(current);
    await this.setState(entry, 'queued', { lastError: undefined });
    this.schedule();
    return true;
  }

  /** Stops the transfer and deletes its partial data; the row stays until removed. */
  async cancel(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry || entry.record.state === 'completed' || entry.record.state === 'cancelled') return;
    if (this.refuseOnAnotherMachine(entry, 'cancelled') || (await this.heldElsewhere(entry))) return;
    if (entry.controller) await this.stop(entry, 'cancel');
    // The cancel lost the race with the final rename: the file is complete and in place. Calling
    // it cancelled would hide it, and a retry would download it again under a new name.
    if ((entry.record as TransferRecord).state === 'completed') {
      this.logger.info(`[${id}] cancel came after the download completed: keeping it`);
      return;
    }
    entry.record = await this.discard(entry.record);
    await this.setState(entry, 'cancelled');
  }

  /**
   * Forgets the transfer; unfinished partial data is deleted, a completed file is kept. A transfer
   * of another machine is only forgotten: its data, and its upload on the server, stay there.
   */
  async remove(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    if (isOnAnotherMachine(entry)) {
      await this.forget(id);
      this.logger.info(`[${id}] removed from the list; its data stays on ${entry.record.machine?.label ?? 'the machine it was started on'}`);
      return;
    }
    if (await this.heldElsewhere(entry)) return;
    if (entry.controller) await this.stop(entry, 'cancel');
    if (entry.record.state !== 'completed') await this.discard(entry.record);
    await this.forget(id);
  }

  private async forget(id: string): Promise<void> {
    this.entries.delete(id);
    this.options.bandwidth?.forget(id);
    await this.options.store.delete(id);
    this.changeEmitter.fire({ id });
    this.schedule();
  }

  async pauseAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((id) => this.pause(id)));
  }

  async resumeAll(): Promise<void> {
    for (const [id, entry] of this.entries) {
      if ((entry.record.state === 'paused' || entry.record.state === 'failed') && !isOnAnotherMachine(entry)) await this.resume(id);
    }
  }

  /** Removes completed and cancelled rows. */
  async clearFinished(): Promise<void> {
    for (const [id, entry] of [...this.entries]) {
      // Rows of another machine are removed one by one, after the user confirmed it.
      if ((entry.record.state === 'completed' || entry.record.state === 'cancelled') && !isOnAnotherMachine(entry)) await this.remove(id);
    }
  }

  /** Stops running transfers so that the next start resumes them; waits for their last save. */
  async shutdown(): Promise<void> {
    this.disposed = true;
    this.releasing = true;
    this.clearTimers();
    await Promise.all([...this.entries.values()].filter((e) => e.controller).map((e) => this.stop(e, 'shutdown')));
  }

  dispose(): void {
    void this.shutdown();
    this.changeEmitter.dispose();
    this.progressEmitter.dispose();
  }

  private snapshotOf(entry: Entry): TransferSnapshot {
    return { record: entry.record, progress: entry.progress, held: entry.held };
  }

  private announce(entry: Entry): void {
    this.changeEmitter.fire({ id: entry.record.id, snapshot: this.snapshotOf(entry) });
  }

  private async save(record: TransferRecord): Promise<void> {
    await this.options.store.put(record);
  }

  private async setState(entry: Entry, state: TransferState, patch: Partial<TransferRecord> = {}): Promise<void> {
    entry.record = { ...entry.record, ...patch, state, updatedAt: this.clock.now() } as TransferRecord;
    await this.save(entry.record);
    this.announce(entry);
  }

  private leasedElsewhere(record: TransferRecord, now: number): boolean {
    const lease = record.lease;
    if (!lease || lease.owner === this.ownerId || lease.expiresAt <= now || record.state !== 'running') return false;
    return !this.options.isReleased?.(lease.owner);
  }

  private claimOptions(): TransferClaimOptions {
    const dir = this.options.claimDir;
    return {
      owner: this.ownerId,
      recordResource: dir ? (id) => path.join(dir, id) : undefined,
      staleMs: this.options.claimStaleMs,
      now: () => this.clock.now(),
    };
  }

  /** Another window or process runs it: its lease in the record is live, or it holds the claim. */
  private async runningElsewhere(record: TransferRecord, now: number): Promise<boolean> {
    if (this.leasedElsewhere(record, now)) return true;
    if (!ACTIVE_STATES.has(record.state)) return false;
    return (await claimedElsewhere(record, this.claimOptions()).catch(() => undefined)) !== undefined;
  }

  /**
   * For an action on a row this manager does not run: re-reads the record and the claims, and
   * marks the row "running elsewhere" (showing the other window's record) when it is.
   */
  private async heldElsewhere(entry: Entry): Promise<boolean> {
    if (entry.controller) return false;
    const latest = (await this.options.store.get(entry.record.id)) ?? entry.record;
    if (!(await this.runningElsewhere(latest, this.clock.now()))) return false;
    entry.record = latest;
    if (entry.held !== 'running-elsewhere') {
      entry.held = 'running-elsewhere';
      this.announce(entry);
    }
    return true;
  }

  /**
   * Stamps every save of our runners (through their ClaimedStore) with the lease, the machine that
   * holds the bytes and the speed limit the manager keeps.
   */
  private readonly stamp = <T extends TransferRecord>(record: T): T => {
    const machine = this.options.machine ? { machine: this.options.machine } : {};
    const lease = this.releasing ? undefined : { owner: this.ownerId, expiresAt: this.clock.now() + this.leaseMs };
    return { ...this.withLimit(record), ...machine, lease };
  };

  /** The runner's copy of the record predates a limit set while it runs: the manager's value wins. */
  private withLimit<T extends TransferRecord>(record: T): T {
    const bandwidth = this.options.bandwidth;
    return bandwidth ? { ...record, maxBytesPerSecond: bandwidth.limitOf(record.id) || undefined } : record;
  }

  private bandwidthFor(id: string): BandwidthGate {
    return this.options.bandwidth?.gateFor(id) ?? UNLIMITED;
  }

  /**
   * Where a saved record's bytes are: here (a record without a machine is adopted, and saved so,
   * when its bytes or folder are found here), on another machine, or nobody knows yet.
   */
  private async place(record: TransferRecord): Promise<{ record: TransferRecord; held?: HeldReason }> {
    const here = this.options.machine;
    if (!here) return { record };
    const where = whereIs(record, here);
    if (where === 'other') return { record, held: 'other-machine' };
    if (where === 'here') return { record };
    const adopted = await adoptIfFound(record, here, this.options.pathExists);
    if (!adopted) return { record, held: 'machine-unknown' };
    this.logger.info(`[${record.id}] saved without a machine; its data is here: adopted by ${here.label}`);
    await this.save(adopted);
    return { record: adopted };
  }

  /** Only a window on the machine that holds the bytes may act on them. */
  private refuseOnAnotherMachine(entry: Entry, notDone: 'resumed' | 'cancelled'): boolean {
    if (!isOnAnotherMachine(entry)) return false;
    this.logger.info(`[${entry.record.id}] not ${notDone} here: its data is on ${entry.record.machine?.label ?? 'an unknown machine'}`);
    return true;
  }

  private schedule(): void {
    if (this.disposed) return;
    let running = [...this.entries.values()].filter((entry) => entry.controller).length;
    for (const entry of this.entries.values()) {
      if (running >= this.maxConcurrent) break;
      if (entry.record.state !== 'queued' || entry.controller || entry.held) continue;
      running += 1;
      this.start(entry);
    }
  }

  private start(entry: Entry): void {
    const controller = new AbortController();
    entry.controller = controller;
    entry.running = this.run(entry, controller).finally(() => {
      entry.runner = undefined;
      entry.controller = undefined;
      entry.claim = undefined;
      entry.running = undefined;
      if (!this.disposed) {
        this.announce(entry);
        this.schedule();
      }
    });
  }

  /**
   * Claims the transfer, then runs it. Only the claim's holder runs a transfer; a runner saves
   * through a ClaimedStore and is stopped the moment its claim turns out to be someone else's.
   */
  private async run(entry: Entry, controller: AbortController): Promise<void> {
    const claim = new TransferClaim(this.claimOptions());
    try {
      await claim.confirm(entry.record);
    } catch (error) {
      await claim.release();
      if (claim.lost) return this.yieldTo(entry, claim.lost);
      this.logger.error(`[${entry.record.id}] could not claim: ${String(error)}`);
      const failure = error instanceof TransferError ? error : new TransferError('ERR_INTERNAL', String(error));
      await this.setState(entry, 'failed', { lastError: failure.toJSON() }).catch(() => undefined);
      return;
    }
    const runner = this.options.createRunner(entry.record, {
      store: new ClaimedStore(this.options.store, claim, this.stamp),
      guard: () => claim.guard(),
      bandwidth: this.bandwidthFor(entry.record.id),
    });
    entry.runner = runner;
    entry.claim = claim;
    const subscriptions = [
      claim.onLost(() => controller.abort(new AbortError('claim-lost'))),
      runner.onRecord((record) => {
        // The runner's copy predates a speed limit set while it runs; the row shows the limit.
        entry.record = this.withLimit(record);
        this.announce(entry);
      }),
      runner.onProgress((progress) => {
        entry.progress = progress;
        this.progressEmitter.fire(progress);
      }),
    ];
    try {
      entry.record = this.withLimit(await runner.run(controller.signal));
    } catch (error) {
      entry.record = this.withLimit(runner.record);
      if (claim.lost) {
        await this.yieldTo(entry, claim.lost);
      } else if (!(error instanceof AbortError) && !(error instanceof TransferError)) {
        // A bug must not leave a row that claims to be running: show it as failed, resumable.
        this.logger.error(`[${entry.record.id}] unexpected failure: ${String(error)}`);
        await this.setState(entry, 'failed', { lastError: { code: 'ERR_INTERNAL', message: String(error) } }).catch(() => undefined);
      }
    } finally {
      subscriptions.forEach((s) => s.dispose());
      // The live progress counted bytes of a run that has ended; from here the record is the
      // truth. A checksum mismatch deletes every byte the last progress event counted, and the
      // row must not go on showing 100 % of them.
      entry.progress = undefined;
      await claim.release();
    }
  }

  /** Another window or process holds the claim: show its record, don't write ours. */
  private async yieldTo(entry: Entry, why: TransferError): Promise<void> {
    this.logger.warn(`[${entry.record.id}] ${why.message}: leaving it to them`);
    entry.held = 'running-elsewhere';
    entry.progress = undefined;
    entry.record = (await this.options.store.get(entry.record.id).catch(() => undefined)) ?? entry.record;
  }

  private async stop(entry: Entry, reason: 'pause' | 'cancel' | 'shutdown'): Promise<void> {
    entry.controller?.abort(new AbortError(reason));
    await entry.running;
  }

  /**
   * What a transfer that is not running still holds (a download's part file, an upload's
   * resource on the server) is given up by its runner: the manager knows no file paths.
   */
  private async discard(record: TransferRecord): Promise<TransferRecord> {
    const runner = this.options.createRunner(record, {
      store: this.options.store,
      guard: async () => undefined,
      bandwidth: this.bandwidthFor(record.id),
    });
    try {
      await runner.discard();
      return runner.record;
    } catch (error) {
      this.logger.warn(`[${record.id}] could not discard its partial data: ${String(error)}`);
      return record;
    } finally {
      // A window that crashed while running it left its claim files (one beside the part file).
      await removeStaleClaimsOf(record, this.claimOptions()).catch(() => undefined);
    }
  }

  /** Lease renewal for our runners, and a refresh of rows another owner is running. */
  private ensureTimers(): void {
    if (this.disposed) return;
    this.leaseTimer ??= setInterval(() => {
      for (const entry of this.entries.values()) {
        // A claim found lost here stops its runner (onLost), even while no bytes flow.
        void entry.claim?.renew();
        void entry.runner?.checkpoint();
      }
    }, Math.max(100, Math.min(this.leaseMs, this.options.claimStaleMs ?? this.leaseMs) / 3));
    this.leaseTimer.unref?.();
    this.remoteTimer ??= setInterval(() => void this.refreshRemote(), this.options.remoteRefreshMs ?? 2000);
    this.remoteTimer.unref?.();
  }

  private clearTimers(): void {
    clearInterval(this.leaseTimer);
    clearInterval(this.remoteTimer);
    this.leaseTimer = undefined;
    this.remoteTimer = undefined;
  }

  /**
   * Keeps rows this manager does not run in step with the store: another window (or machine) may
   * run, pause or finish them. Rows running elsewhere show its progress; an active transfer of this
   * machine that nobody runs any more (its lease ran out, its claim is free) is taken over.
   */
  private async refreshRemote(): Promise<void> {
    const idle = [...this.entries.values()].filter((entry) => !entry.controller);
    if (idle.length === 0) return;
    const now = this.clock.now();
    let takenOver = false;
    for (const entry of idle) {
      const latest = await this.options.store.get(entry.record.id);
      if (entry.controller) continue;
      if (!latest) {
        if (entry.held === 'running-elsewhere' || isOnAnotherMachine(entry)) {
          this.entries.delete(entry.record.id);
          this.changeEmitter.fire({ id: entry.record.id });
        }
        continue;
      }
      if (latest.updatedAt < entry.record.updatedAt && latest.machine?.id === entry.record.machine?.id) {
        // An older copy than the one this window holds (globalState is shared and flushed lazily,
        // and has handed back the save before the last) is no news. Adopting it rolled a completed
        // download back to "running" and downloaded it again as "name (1)": put ours back instead.
        this.logger.warn(`[${latest.id}] the store returned an older copy of the record: saving the current one again`);
        await this.save(entry.record).catch(() => undefined);
        continue;
      }
      const changed = latest.updatedAt !== entry.record.updatedAt || latest.machine?.id !== entry.record.machine?.id;
      if (!changed && entry.held !== 'running-elsewhere' && !isOnAnotherMachine(entry)) continue;
      entry.record = latest;
      const here = this.options.machine;
      if (isOnAnotherMachine(entry) && here) {
        // A record nobody knew the machine of may have been adopted meanwhile, by another machine,
        // or by another window of this one: then it is one of ours, run by that window.
        if (!latest.machine || whereIs(latest, here) === 'other') {
          if (latest.machine) entry.held = 'other-machine';
          if (changed) this.announce(entry);
          continue;
        }
        entry.held = 'running-elsewhere';
      }
      if (await this.runningElsewhere(latest, now)) {
        entry.held = 'running-elsewhere';
      } else if (entry.held === 'running-elsewhere' || (entry.held === undefined && latest.state === 'running')) {
        entry.held = undefined;
        if (ACTIVE_STATES.has(latest.state)) {
          this.logger.info(`[${latest.id}] no other window runs it any more: taking over`);
          entry.record = { ...latest, state: 'queued' };
          takenOver = true;
        }
      }
      this.announce(entry);
    }
    if (takenOver) this.schedule();
  }
}
