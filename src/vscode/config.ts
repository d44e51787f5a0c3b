import * as vscode from 'vscode';
import type { ExistingTargetPolicy, NetworkSettings } from '../core';
import { Settings } from './ids';

/** Settings, read in one place and handed to the engine as plain options. */
export interface TransferSettings {
  downloadFolder: string;
  askForFolder: boolean;
  maxConcurrent: number;
  connections: number;
  autoResume: boolean;
  retries: number;
  stallTimeoutMs: number;
  onExisting: ExistingTargetPolicy;
  /** Speed limit for all transfers together, bytes per second; 0 = none. */
  maxBytesPerSecond: number;
  /** Look for checksum files beside each download. */
  checksumDiscovery: boolean;
}


const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, Math.round(value)));

export function readSettings(): TransferSettings {
  const c = vscode.workspace.getConfiguration(Settings.section);
  const policy = c.get<string>(Settings.whenTargetExists, 'keepBoth');
  return {
    downloadFolder: c.get<string>(Settings.downloadFolder, '').trim(),
    askForFolder: c.get<boolean>(Settings.askForFolder, false),
    maxConcurrent: clamp(c.get<number>(Settings.maxConcurrentTransfers, 3), 1, 16),
    connections: clamp(c.get<number>(Settings.connectionsPerDownload, 4), 1, 16),
    autoResume: c.get<boolean>(Settings.autoResume, true),
    retries: clamp(c.get<number>(Settings.retries, 5), 0, 100),
    stallTimeoutMs: clamp(c.get<number>(Settings.stallTimeoutSeconds, 30), 5, 3600) * 1000,
    onExisting: policy === 'overwrite' || policy === 'skip' ? policy : 'keepBoth',
    maxBytesPerSecond: Math.max(0, Math.round(c.get<number>(Settings.maxBytesPerSecond, 0)) || 0),
    checksumDiscovery: c.get<boolean>(Settings.checksumDiscovery, true),
  };
}

/**
 * How every request reaches its server: VS Code's own proxy settings (so transfers take the same
 * way out as the editor, with HTTPS_PROXY and friends when http.proxy is empty), our trusted
 * certificate authorities, timeouts and the user agent. Read once per change, handed to the
 * engine and to the download worker as the same value.
 */
export function readNetworkSettings(userAgent: string): NetworkSettings {
  const http = vscode.workspace.getConfiguration('http');
  const ours = vscode.workspace.getConfiguration(Settings.section);
  const caFiles = ours.get<unknown>(Settings.caCertificates, []);
  return {
    proxy: {
      proxyUrl: http.get<string>('proxy', '').trim() || undefined,
      strictSSL: http.get<boolean>('proxyStrictSSL', true),
      noProxy: http.get<string[]>('noProxy', []),
      useEnvironment: true,
    },
    caFiles: Array.isArray(caFiles) ? caFiles.filter((f): f is string => typeof f === 'string' && f.trim() !== '').map((f) => f.trim()) : [],
    userAgent,
    connectTimeoutMs: 30_000,
    responseTimeoutMs: 60_000,
    maxRedirects: 10,
  };
}

export function affectsTransfers(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(Settings.section);
}

export function affectsNetwork(event: vscode.ConfigurationChangeEvent): boolean {
  return (
    event.affectsConfiguration('http.proxy') ||
    event.affectsConfiguration('http.proxyStrictSSL') ||
    event.affectsConfiguration('http.noProxy') ||
    event.affectsConfiguration(`${Settings.section}.${Settings.caCertificates}`)
  );
}
