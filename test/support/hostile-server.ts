/**
 * A server that speaks HTTP/1.1 only as far as a test wants: it reads each request head and
 * hands the raw socket to the test, which writes whatever bytes it likes (oversized headers,
 * broken chunked encoding, a body longer than announced, headers one byte at a time).
 * Listens on 127.0.0.1 with a free port; close() destroys every socket it accepted.
 */
import * as net from 'node:net';
import { listenOnLoopback } from './listen';

export interface RawRequest {
  method: string;
  path: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
}

export type RawHandler = (socket: net.Socket, request: RawRequest, index: number) => void;

export interface HostileServer {
  readonly origin: string;
  url(path: string): string;
  /** Every request head received, in order. */
  readonly requests: RawRequest[];
  close(): Promise<void>;
}

export async function startHostileServer(handler: RawHandler): Promise<HostileServer> {
  const requests: RawRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [line, ...fields] = buffered.subarray(0, end).toString('latin1').split('\r\n');
      buffered = buffered.subarray(end + 4);
      const [method, path] = line.split(' ');
      const headers: Record<string, string> = {};
      for (const field of fields) {
        const colon = field.indexOf(':');
        if (colon > 0) headers[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim();
      }
      const request = { method, path, headers };
      requests.push(request);
      // One request per connection is all these tests need: the handler owns the socket now.
      socket.off('data', onData);
      handler(socket, request, requests.length - 1);
    };
    socket.on('data', onData);
  });
  const origin = await listenOnLoopback(server);
  return {
    origin,
    url: (path) => `${origin}${path}`,
    requests,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A response head with the given status line and fields, ready to write. It says
 * `Connection: close`: the server serves one request per connection.
 */
export function head(status: string, fields: Record<string, string | number>): string {
  const all = { ...fields, Connection: 'close' };
  return `HTTP/1.1 ${status}\r\n${Object.entries(all).map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n\r\n`;
}
