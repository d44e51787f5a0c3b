import { PARTIAL_UPLOAD_TYPE, TUS_PATCH_TYPE } from './headers';

/**
 * What differs between the interop versions of draft-ietf-httpbis-resumable-upload that servers
 * in the field speak. We speak the newest and step down one version at a time when a server
 * refuses one: 9 is draft -12 (July 2026); tusd's experimental mode ships 3–6, Apple's URLSession
 * 3, 5, 6 and 8, tus-js-client 5 speaks 5 and 6. Versions below 5 used `Upload-Incomplete` and
 * are not spoken.
 */
export interface IetfProfile {
  version: number;
  /** Media type of an append (PATCH): `application/partial-upload` from version 7 on. */
  appendType: string;
  /**
   * From 9 on, `Upload-Complete` in a response says whether the server holds the whole upload; a
   * 2xx to a completing request that says `?0` is not completion. Before, the 2xx was enough.
   */
  completeInResponses: boolean;
  /** From 9 on the upload resource answers GET with its state (used when HEAD is refused). */
  getOnResource: boolean;
}

/** Newest first: the order in which we try them. */
export const IETF_VERSIONS: readonly number[] = [9, 8, 7, 6, 5];
export const NEWEST_IETF_VERSION = IETF_VERSIONS[0];

export function isSupportedIetfVersion(value: unknown): value is number {
  return typeof value === 'number' && IETF_VERSIONS.includes(value);
}

/** Parses an `Upload-Draft-Interop-Version` value we can speak; undefined for any other. */
export function parseIetfVersion(header: string | null | undefined): number | undefined {
  const value = Number(header?.trim());
  return header && /^\s*\d+\s*$/.test(header) && isSupportedIetfVersion(value) ? value : undefined;
}

export function ietfProfile(version: number): IetfProfile {
  return {
    version,
    appendType: version >= 7 ? PARTIAL_UPLOAD_TYPE : TUS_PATCH_TYPE,
    completeInResponses: version >= 9,
    getOnResource: version >= 9,
  };
}

/** The next older version to try after `version` was refused, if any. */
export function olderIetfVersion(version: number): number | undefined {
  const index = IETF_VERSIONS.indexOf(version);
  return index >= 0 ? IETF_VERSIONS[index + 1] : undefined;
}

/** Which version each endpoint accepted, so the next upload there starts with it. */
export interface IetfVersionMemory {
  get(endpoint: string): number | undefined;
  remember(endpoint: string, version: number): void;
}

/** In memory only (the CLI: its record keeps the version of the upload under way). */
export function inMemoryIetfVersions(): IetfVersionMemory {
  const versions = new Map<string, number>();
  return { get: (endpoint) => versions.get(endpoint), remember: (endpoint, version) => void versions.set(endpoint, version) };
}
