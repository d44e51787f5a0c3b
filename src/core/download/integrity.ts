import * as path from 'node:path';
import { redactUrl } from '../errors';
import { chooseFilename } from '../filename';
import type { HttpClient, HttpHeaders, OriginHeaders } from '../http/client';
import type { Logger } from '../logger';
import { describeDigest, mergeDigests, type ExpectedDigest, type VerifiedDigest } from '../integrity/digest';
import { digestsFromHeaders } from '../integrity/digest-headers';
import { discoverChecksums, urlFileName } from '../integrity/discovery';
import { hashFile, hashFileInto, MultiHash, type Digests } from '../integrity/multi-hash';
import { algorithmsOf, checkDigests, valuesToCheck } from '../integrity/verify';
import type { DownloadRecord } from '../state/record';
import { RestartNeeded } from '../transfer/restart';

export interface IntegrityHost {
  record(): DownloadRecord;
  update(patch: Partial<DownloadRecord>): Promise<void>;
  http: HttpClient;
  headers?: OriginHeaders;
  logger: Logger;
  tag: string;
  /** Look for checksum files beside the download. */
  discovery: boolean;
  discoveryTimeBoxMs?: number;
}

/**
 * Everything a download does to prove its bytes: digests from response headers (kept in the
 * record so they survive a resume), checksum files looked up beside the download while it runs,
 * sha256 and the offered algorithms hashed while writing when bytes arrive in order, and the
 * check before the final rename.
 */
export class DownloadIntegrity {
  private discovery?: Promise<ExpectedDigest[]>;
  private readonly stopDiscovery = new AbortController();
  /** Digests of the whole part file from an in-order pass that reached its end. */
  private finished?: { length: number; digests: Digests };
  private current?: MultiHash;

  constructor(private readonly host: IntegrityHost) {}

  /** Starts looking for checksum files once per run; names are what the file may be listed as. */
  startDiscovery(contentDisposition?: string | null, responseUrl?: string): void {
    if (this.discovery || !this.host.discovery) return;
    const record = this.host.record();
    const names = [urlFileName(record.url)];
    if (contentDisposition) names.push(chooseFilename({ contentDisposition, url: responseUrl ?? record.url }));
    if (record.target) names.push(path.basename(record.target));
    this.host.logger.info(`${this.host.tag} looking for checksum files beside ${redactUrl(record.url)}`);
    this.discovery = discoverChecksums({
      http: this.host.http,
      url: record.url,
      names: names.filter(Boolean),
      headers: this.host.headers,
      logger: this.host.logger,
      tag: this.host.tag,
      timeBoxMs: this.host.discoveryTimeBoxMs,
      signal: this.stopDiscovery.signal,
    });
  }

  /** Ends a lookup still running (the run is over). */
  dispose(): void {
    this.stopDiscovery.abort('done');
  }

  /**
   * Takes the digests a response offers. A digest of the whole file that differs from the one
   * recorded earlier means the file changed: never splice.
   */
  async noteHeaders(headers: HttpHeaders, status: number): Promise<void> {
    const offered = digestsFromHeaders(headers, status);
    if (offered.length === 0) return;
    const known = this.host.record().digests ?? [];
    for (const digest of offered) {
      const before = known.find((d) => d.source === digest.source && d.algorithm === digest.algorithm);
      if (before && before.hex !== digest.hex) {
        throw new RestartNeeded(`the file changed on the server (${digest.source} ${digest.algorithm} differs)`, 'ERR_CONTENT_CHANGED');
      }
    }
    const merged = mergeDigests(known, offered);
    if (merged.length === known.length) return;
    for (const digest of offered) this.host.logger.info(`${this.host.tag} ${describeDigest(digest)}: ${digest.hex}`);
    await this.host.update({ digests: merged });
  }

  /**
   * True when a response offers a digest of the whole file that a digest recorded earlier
   * matches: proof that a new link serves the same file. Ask before noteHeaders records it.
   */
  confirms(headers: HttpHeaders, status: number): boolean {
    const known = this.host.record().digests ?? [];
    return digestsFromHeaders(headers, status).some((offered) =>
      known.some((d) => d.source === offered.source && d.algorithm === offered.algorithm && d.hex === offered.hex),
    );
  }

  /** Worth hashing while writing: something to check against now, or a lookup still running. */
  private wanted(): boolean {
    const record = this.host.record();
    return Boolean(record.sha256) || (record.digests?.length ?? 0) > 0 || this.discovery !== undefined;
  }

  /**
   * A hash fed with every byte written from `position` on, in order. A resume re-hashes the
   * bytes already on disk first (a hash's state cannot be saved), so the digest survives it.
   */
  async beginInOrder(partPath: string, position: number, signal: AbortSignal): Promise<MultiHash | undefined> {
    this.finished = undefined;
    this.current = undefined;
    if (!this.wanted()) return undefined;
    const algorithms = algorithmsOf([{ algorithm: 'sha256', hex: '', source: '' }, ...(this.host.record().digests ?? [])]);
    const hash = new MultiHash(algorithms);
    if (position > 0) {
      this.host.logger.debug(`${this.host.tag} re-hashing the ${position} bytes already on disk`);
      await hashFileInto(hash, partPath, signal, position);
    }
    this.current = hash;
    return hash;
  }

  /**
   * Feeds bytes about to be written at `position`. Only a write that continues exactly where the
   * hash stands counts; anything else (another connection, a resume after a failed write) means
   * the hash no longer follows the file, and the file is hashed at the end instead.
   */
  feed(position: number, data: Buffer): void {
    const hash = this.current;
    if (!hash) return;
    if (position === hash.length) {
      hash.update(data);
      return;
    }
    this.host.logger.debug(`${this.host.tag} bytes at ${position} arrive out of order: hashing the whole file at the end`);
    this.current = undefined;
  }

  /** Digests of an in-order pass that covered exactly `length` bytes (computed once). */
  private inOrderDigests(length: number): Digests | undefined {
    if (this.current && this.current.length === length) {
      this.finished = { length, digests: this.current.digest() };
      this.current = undefined;
    }
    return this.finished?.length === length ? this.finished.digests : undefined;
  }

  /** Bytes were dropped or the file starts over: the running hash no longer describes the part file. */
  abandonInOrder(): void {
    this.current = undefined;
    this.finished = undefined;
  }

  /**
   * Checks the complete part file against every value from every source (waiting for the
   * checksum lookup at most until its time-box ends). Throws ERR_CHECKSUM_MISMATCH or
   * ERR_CHECKSUM_CONFLICT; returns what was verified.
   */
  async verify(partPath: string, length: number, signal: AbortSignal): Promise<VerifiedDigest[]> {
    this.startDiscovery();
    const discovered = (await this.discovery) ?? [];
    const record = this.host.record();
    const offered = mergeDigests(record.digests ?? [], discovered);
    if (offered.length !== (record.digests ?? []).length) await this.host.update({ digests: offered });
    const values = valuesToCheck(record.sha256, offered);
    if (record.sha256 && offered.length > 0) {
      this.host.logger.info(`${this.host.tag} the sha256 you gave wins over ${offered.map(describeDigest).join(', ')}`);
    }
    if (values.length === 0) {
      this.host.logger.info(`${this.host.tag} no checksum offered: not verified`);
      return [];
    }
    const algorithms = algorithmsOf(values);
    const inOrder = this.inOrderDigests(length);
    const whileWriting = inOrder !== undefined && algorithms.every((a) => inOrder[a] !== undefined);
    const actual = whileWriting ? inOrder : await hashFile(partPath, algorithms, signal);
    const verified = checkDigests(values, actual);
    const how = whileWriting ? 'hashed while writing' : 'hashed the complete file';
    this.host.logger.info(`${this.host.tag} verified ${verified.map(describeDigest).join(', ')} (${how})`);
    return verified;
  }
}
