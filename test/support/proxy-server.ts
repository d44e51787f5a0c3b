/**
 * A small recording forward proxy for tests, plus a TLS front for the fault server.
 *
 * The proxy listens on 127.0.0.1 with a random port and handles absolute-form requests
 * (`GET http://127.0.0.1:1234/a.bin HTTP/1.1`) and CONNECT tunnels. It only ever connects to
 * loopback addresses: anything else gets 403. Every request is recorded with its method, target,
 * headers and whether it carried Proxy-Authorization.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { listenOnLoopback } from './listen';

export interface ProxiedRequest {
  method: string;
  /** Absolute URL for forwarded requests, `host:port` for CONNECT. */
  target: string;
  /** Was a Proxy-Authorization header sent? */
  proxyAuthorization: boolean;
  /** Its value (tests check the credentials were encoded right). */
  proxyAuthorizationValue?: string;
  /** Request headers as the proxy received them (for CONNECT: those of the CONNECT request). */
  headers: http.IncomingHttpHeaders;
  /** Which client connection carried the request, numbered from 1 (keep-alive reuses one). */
  connection: number;
  /** Status the proxy answered with (0 until known; 200 for an established tunnel). */
  status: number;
}

export interface ProxyServerOptions {
  /** Answer 407 unless Proxy-Authorization is Basic with these credentials. */
  credentials?: { username: string; password: string };
}

export interface RecordingProxy {
  /** 'http://127.0.0.1:PORT' */
  readonly origin: string;
  readonly port: number;
  /** The proxy URL with credentials, e.g. 'http://user:pass@127.0.0.1:PORT' (values are percent-encoded). */
  urlWith(username: string, password: string): string;
  readonly requests: ProxiedRequest[];
  /** Client connections accepted so far. */
  readonly connectionCount: number;
  close(): Promise<void>;
}

/** Hop-by-hop headers that a proxy does not forward (RFC 9110 7.6.1), plus the proxy's own. */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'proxy-connection',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

function forwardable(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\./.test(bare);
}

/** Splits `host:port` / `[v6]:port`. */
function splitHostPort(authority: string): { host: string; port: number } | undefined {
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(authority);
  if (!match) return undefined;
  return { host: match[1].replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}

export async function startRecordingProxy(options: ProxyServerOptions = {}): Promise<RecordingProxy> {
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<net.Socket>();
  const connectionIds = new WeakMap<net.Socket, number>();
  let connectionCount = 0;
  const expected = options.credentials
    ? `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`
    : undefined;
  const upstreamAgent = new http.Agent({ keepAlive: false });

  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  function record(req: http.IncomingMessage, target: string): ProxiedRequest {
    const value = req.headers['proxy-authorization'];
    const entry: ProxiedRequest = {
      method: req.method ?? '',
      target,
      proxyAuthorization: value !== undefined,
      proxyAuthorizationValue: value,
      headers: { ...req.headers },
      connection: connectionIds.get(req.socket) ?? 0,
      status: 0,
    };
    requests.push(entry);
    return entry;
  }

  const authorised = (req: http.IncomingMessage) => expected === undefined || req.headers['proxy-authorization'] === expected;

  const server = http.createServer((req, res) => {
    const entry = record(req, req.url ?? '');
    const reply = (status: number, text: string, headers: http.OutgoingHttpHeaders = {}) => {
      entry.status = status;
      res.writeHead(status, { 'content-type': 'text/plain', ...headers });
      res.end(text);
    };
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      reply(400, 'absolute-form request expected');
      return;
    }
    if (!authorised(req)) {
      reply(407, 'proxy authentication required', { 'proxy-authenticate': 'Basic realm="test proxy"' });
      return;
    }
    if (target.protocol !== 'http:' || !isLoopback(target.hostname)) {
      reply(403, 'this test proxy only forwards http to loopback');
      return;
    }
    const upstream = http.request({
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: Number(target.port || 80),
      method: req.method,
      path: `${target.pathname}${target.search}`,
      headers: forwardable(req.headers),
      agent: upstreamAgent,
    });
    // Interim responses (an IETF upload's 104) are passed on as they come, like a real proxy does.
    upstream.on('information', (info) => {
      if (res.headersSent) return;
      const lines = [`HTTP/1.1 ${info.statusCode} ${info.statusMessage}`];
      for (let i = 0; i < info.rawHeaders.length; i += 2) lines.push(`${info.rawHeaders[i]}: ${info.rawHeaders[i + 1]}`);
      req.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    upstream.on('response', (upstreamRes) => {
      entry.status = upstreamRes.statusCode ?? 0;
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, forwardable(upstreamRes.headers));
      upstreamRes.pipe(res);
      // An upstream that drops the connection mid-body must look the same to the client.
      upstreamRes.on('aborted', () => res.destroy());
      upstreamRes.on('error', () => res.destroy());
    });
    upstream.on('error', () => {
      if (!res.headersSent) reply(502, 'upstream failed');
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });

  server.on('connection', (socket: net.Socket) => {
    connectionIds.set(socket, ++connectionCount);
    track(socket);
  });

  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const entry = record(req, req.url ?? '');
    const refuse = (status: number, text: string, extra = '') => {
      entry.status = status;
      client.end(`HTTP/1.1 ${status} ${text}\r\n${extra}content-length: 0\r\n\r\n`);
    };
    client.on('error', () => client.destroy());
    if (!authorised(req)) {
      refuse(407, 'Proxy Authentication Required', 'proxy-authenticate: Basic realm="test proxy"\r\n');
      return;
    }
    const authority = splitHostPort(req.url ?? '');
    if (!authority) {
      refuse(400, 'Bad Request');
      return;
    }
    if (!isLoopback(authority.host)) {
      refuse(403, 'Forbidden');
      return;
    }
    const upstream = net.connect(authority.port, authority.host);
    track(upstream);
    upstream.once('connect', () => {
      entry.status = 200;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => {
      if (entry.status === 0) refuse(502, 'Bad Gateway');
      else client.destroy();
    });
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    origin,
    port,
    urlWith(username, password) {
      return `http://${encodeURIComponent(username)}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
    },
    requests,
    get connectionCount() {
      return connectionCount;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      upstreamAgent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Self-signed certificate for 127.0.0.1 and localhost (EC P-256, valid until 2126), for tests
 * only: nothing trusts it, which is what the strictSSL tests need.
 */
export const TEST_TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgi2a7Zc7CMWCo1pqQ
zZyL+ColSQi8TbTStCM9TG75TwOhRANCAAQRXA//QRbY5jngagMTV2mX3hNFNuDi
pbIMIVumklQnlm8tSZgCKCeuGpYUVCsUvPMHglFDaTS3uit5Rp/7zumA
-----END PRIVATE KEY-----
`;

export const TEST_TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBujCCAV+gAwIBAgIUSkiI3/kBJOrlzOTrLf4jmV7LtLowCgYIKoZIzj0EAwIw
IzEhMB8GA1UEAwwYcmVzdW1hYmxlLXRyYW5zZmVycyB0ZXN0MCAXDTI2MTEyNjEz
MDI0NloYDzIxMjYxMTAyMTMwMjQ2WjAjMSEwHwYDVQQDDBhyZXN1bWFibGUtdHJh
bnNmZXJzIHRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQRXA//QRbY5jng
agMTV2mX3hNFNuDipbIMIVumklQnlm8tSZgCKCeuGpYUVCsUvPMHglFDaTS3uit5
Rp/7zumAo28wbTAdBgNVHQ4EFgQUafaX1JEv12ufpHR/CmS5eGOskwYwHwYDVR0j
BBgwFoAUafaX1JEv12ufpHR/CmS5eGOskwYwDwYDVR0TAQH/BAUwAwEB/zAaBgNV
HREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZIzj0EAwIDSQAwRgIhAMYQOoRs
LqX8tz192bzEuHK+01WGT3ohwvyK/7IMoyQcAiEAiHjUUoGek9lE+Nh5RX38w5Wq
iTPixMbMXAnysKsLxt0=
-----END CERTIFICATE-----
`;

export interface TlsFront {
  /** 'https://127.0.0.1:PORT' */
  readonly origin: string;
  url(path: string): string;
  close(): Promise<void>;
}

/**
 * Terminates TLS (with the self-signed test certificate) on 127.0.0.1 and pipes each connection
 * to a plain-HTTP origin, so the fault server's routes and faults work over https too.
 */
export async function startTlsFront(httpOrigin: string, identity: { key: string; cert: string } = { key: TEST_TLS_KEY, cert: TEST_TLS_CERT }): Promise<TlsFront> {
  const backend = new URL(httpOrigin);
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = tls.createServer(identity, (secure) => {
    track(secure);
    const plain = net.connect(Number(backend.port), backend.hostname);
    track(plain);
    secure.pipe(plain);
    plain.pipe(secure);
    secure.on('error', () => plain.destroy());
    plain.on('error', () => secure.destroy());
    secure.on('close', () => plain.destroy());
    plain.on('close', () => secure.destroy());
  });
  // Handshake failures (a client that rejects the certificate) are expected in tests.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (path) => `${origin}${path}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface MixedFront {
  /** 'https://127.0.0.1:PORT' and 'http://127.0.0.1:PORT': one host and port, two origins. */
  readonly https: string;
  readonly http: string;
  close(): Promise<void>;
}

/**
 * https and plain http on one port, both piped to the plain-HTTP origin `httpOrigin`: the first
 * byte of a connection tells a TLS handshake (0x16) from a request line. So a test can send a
 * client from https://127.0.0.1:P to http://127.0.0.1:P — the same host and port, another origin
 * — as a server that redirects to its own plain-text side does.
 */
export async function startMixedFront(httpOrigin: string, identity: { key: string; cert: string }): Promise<MixedFront> {
  const secure = await startTlsFront(httpOrigin, identity);
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = net.createServer((client) => {
    track(client);
    client.once('data', (first: Buffer) => {
      client.pause();
      const target = new URL(first[0] === 0x16 ? secure.origin : httpOrigin);
      const upstream = net.connect(Number(target.port), target.hostname);
      track(upstream);
      upstream.write(first);
      client.pipe(upstream);
      upstream.pipe(client);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
  });
  const plain = await listenOnLoopback(server);
  return {
    https: plain.replace(/^http:/, 'https:'),
    http: plain,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await secure.close();
    },
  };
}
