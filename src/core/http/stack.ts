import { readFileSync } from 'node:fs';
import { TransferError } from '../errors';
import { NodeFetchHttpClient, type HttpClient, type HttpRequestOptions, type HttpResponse } from './client';
import { createProxyAgentFactory, type ProxyFactoryOptions, type ProxyProblem } from './proxy';

/**
 * Everything that decides how a request reaches a server, as plain data: built once from the
 * settings at the composition root and handed, as is, to the download worker thread, so that
 * downloads, uploads and probes all take the same way out.
 */
export interface NetworkSettings {
  proxy: ProxyFactoryOptions;
  /** PEM files with certificate authorities trusted besides Node's store (and NODE_EXTRA_CA_CERTS). */
  caFiles?: string[];
  userAgent?: string;
  connectTimeoutMs?: number;
  responseTimeoutMs?: number;
  maxRedirects?: number;
}

/** A setting (or environment variable) that cannot be used as given; the stack works around it and says so once. */
export type NetworkProblem = ProxyProblem;

export interface HttpStack {
  readonly http: NodeFetchHttpClient;
  readonly problems: readonly NetworkProblem[];
  /** One line for the log: proxies and trust, without credentials. */
  describe(): string;
  dispose(): void;
}

export const CA_FILES_SETTING = 'resumableTransfers.caCertificates';

export function createHttpStack(settings: NetworkSettings): HttpStack {
  const problems: NetworkProblem[] = [];
  const ca: string[] = [];
  for (const file of settings.caFiles ?? []) {
    try {
      ca.push(readFileSync(file, 'utf8'));
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      problems.push({ setting: CA_FILES_SETTING, error: new TransferError('ERR_TLS_CERTIFICATE', `cannot read the certificate file ${file} (${reason})`) });
    }
  }
  const proxy = createProxyAgentFactory({ ...settings.proxy, ca });
  if (proxy.problem) problems.push(proxy.problem);
  const http = new NodeFetchHttpClient({
    connectTimeoutMs: settings.connectTimeoutMs,
    responseTimeoutMs: settings.responseTimeoutMs,
    maxRedirects: settings.maxRedirects,
    userAgent: settings.userAgent,
    ca,
    agentFor: (url) => proxy.agentFor(url),
  });
  return {
    http,
    problems,
    describe: () => `${proxy.describe()}${ca.length > 0 ? `, extra certificate authorities: ${ca.length}` : ''}`,
    dispose() {
      http.dispose();
      proxy.dispose();
    },
  };
}

/**
 * An HttpClient that always sends through the current stack: when the settings change, new
 * requests take the new way out while running ones finish on theirs.
 */
export class SwitchableHttpClient implements HttpClient {
  constructor(private readonly current: () => HttpClient) {}

  request(url: string, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.current().request(url, options);
  }
}
