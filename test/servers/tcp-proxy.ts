/**
 * A TCP proxy on 127.0.0.1 in front of a test server, to see what a client sends and to break
 * connections on purpose: `cutAfterBytes` destroys both sides once that many bytes came back
 * from the server (a connection dropped mid-read).
 */
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { LOOPBACK } from './process.js';

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  /** Every byte clients sent, concatenated. */
  clientBytes(): Buffer;
  close(): Promise<void>;
}

export async function startTcpProxy(
  targetPort: number,
  options: { cutAfterBytes?: number } = {},
): Promise<TcpProxy> {
  const sent: Buffer[] = [];
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((client) => {
    accepted++;
    sockets.add(client);
    const upstream = connect({ port: targetPort, host: LOOPBACK });
    sockets.add(upstream);
    let fromServer = 0;
    client.on('data', (chunk: Buffer) => {
      sent.push(Buffer.from(chunk));
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      fromServer += chunk.length;
      const cut = options.cutAfterBytes;
      if (cut !== undefined && fromServer >= cut) {
        client.write(chunk.subarray(0, Math.max(0, chunk.length - (fromServer - cut))));
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    connections: () => accepted,
    clientBytes: () => Buffer.concat(sent),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
