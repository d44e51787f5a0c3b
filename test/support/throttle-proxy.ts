/**
 * A TCP proxy on 127.0.0.1 that slows the client → server direction to a fixed rate and counts the
 * bytes that went through. Upload tests put it in front of a real server so that a client can be
 * killed reliably in the middle of a request body.
 */
import * as net from 'node:net';

export interface ThrottleProxy {
  /** 'http://127.0.0.1:PORT' */
  origin: string;
  port: number;
  /** Bytes received from clients (request bytes, headers included) since start or the last reset. */
  uploadedBytes(): number;
  resetCount(): void;
  /** Bytes per second towards the server; Infinity lifts the limit. */
  setRate(bytesPerSecond: number): void;
  close(): Promise<void>;
}

const TICK_MS = 20;

export async function startThrottleProxy(targetPort: number, bytesPerSecond: number): Promise<ThrottleProxy> {
  let rate = bytesPerSecond;
  let uploaded = 0;
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    const queue: Buffer[] = [];
    let budget = 0;
    let clientEnded = false;
    const pump = () => {
      while (queue.length > 0 && (rate === Number.POSITIVE_INFINITY || budget > 0)) {
        const head = queue[0];
        const take = rate === Number.POSITIVE_INFINITY ? head.length : Math.min(head.length, Math.floor(budget));
        if (take <= 0) break;
        upstream.write(head.subarray(0, take));
        budget -= take;
        if (take === head.length) queue.shift();
        else queue[0] = head.subarray(take);
      }
      if (queue.length < 8 && client.isPaused()) client.resume();
      if (clientEnded && queue.length === 0) upstream.end();
    };
    const timer = setInterval(() => {
      budget = Math.min(budget + (rate * TICK_MS) / 1000, rate / 4 + 1);
      pump();
    }, TICK_MS);
    client.on('data', (chunk: Buffer) => {
      uploaded += chunk.length;
      queue.push(chunk);
      if (queue.length >= 8) client.pause();
      pump();
    });
    client.on('end', () => {
      clientEnded = true;
      pump();
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    upstream.on('end', () => client.end());
    const teardown = () => {
      clearInterval(timer);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    // A killed client: the server sees the connection close (what it would see without a proxy).
    client.on('close', teardown);
    upstream.on('close', teardown);
    client.on('error', teardown);
    upstream.on('error', teardown);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    uploadedBytes: () => uploaded,
    resetCount: () => {
      uploaded = 0;
    },
    setRate: (value) => {
      rate = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
