import type * as vscode from 'vscode';
import { isSupportedIetfVersion, type IetfVersionMemory } from '../core';
import { StateKeys } from './ids';

/**
 * Which IETF interop version each upload endpoint accepted, across sessions: the next upload there
 * starts with it instead of being refused by newer versions first.
 */
export function globalStateIetfVersions(memento: vscode.Memento): IetfVersionMemory {
  const read = (): Record<string, number> => {
    const raw = memento.get<unknown>(StateKeys.ietfVersions);
    return typeof raw === 'object' && raw !== null ? (raw as Record<string, number>) : {};
  };
  return {
    get: (endpoint) => {
      const version = read()[endpoint];
      return isSupportedIetfVersion(version) ? version : undefined;
    },
    remember: (endpoint, version) => {
      const all = read();
      if (all[endpoint] === version) return;
      void memento.update(StateKeys.ietfVersions, { ...all, [endpoint]: version });
    },
  };
}
