import * as vscode from 'vscode';
import type { ExistingTargetPolicy } from '../core';
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
}

export interface ProxyConfiguration {
  proxyUrl?: string;
  strictSSL: boolean;
  noProxy: string[];
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
  };
}

/** VS Code's own proxy settings, so downloads take the same way out as the editor. */
export function readProxyConfiguration(): ProxyConfiguration {
  const http = vscode.workspace.getConfiguration('http');
  const proxy = http.get<string>('proxy', '').trim();
  return {
    proxyUrl: proxy || undefined,
    strictSSL: http.get<boolean>('proxyStrictSSL', true),
    noProxy: http.get<string[]>('noProxy', []),
  };
}

export function affectsTransfers(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(Settings.section);
}

export function affectsProxy(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration('http.proxy') || event.affectsConfiguration('http.proxyStrictSSL') || event.affectsConfiguration('http.noProxy');
}
