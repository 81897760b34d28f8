/**
 * A real HTTP server on 127.0.0.1 (a free port) that answers from a handler, for connector
 * tests: fixture pages and faults (status codes, HTML, resets, hangs). It records every request
 * and closes every connection when stopped.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  /** Path and query as received. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export type Reply =
  | {
      readonly status?: number;
      readonly headers?: Readonly<Record<string, string>>;
      /** An object or array is sent as JSON; a string as it is. */
      readonly body?: unknown;
    }
  /** Destroys the socket without an answer. */
  | 'reset'
  /** Never answers (until the server is stopped). */
  | 'hang';

export type Handler = (request: RecordedRequest, url: URL) => Reply | Promise<Reply>;

export interface FixtureServer {
  /** Origin, e.g. `http://127.0.0.1:41234`. */
  readonly origin: string;
  url(path: string): string;
  readonly requests: RecordedRequest[];
  /** Requests whose path (without query) is `path`. */
  hits(path: string): RecordedRequest[];
  close(): Promise<void>;
}

export async function startFixtureServer(handler: Handler): Promise<FixtureServer> {
  const requests: RecordedRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      const url = new URL(recorded.url, 'http://127.0.0.1');
      void Promise.resolve(handler(recorded, url)).then(
        (reply) => respond(res, reply),
        (err: unknown) => respond(res, { status: 599, body: { error: String(err) } }),
      );
    });
  });
  function respond(res: ServerResponse, reply: Reply): void {
    if (reply === 'reset') {
      res.socket?.destroy();
      return;
    }
    if (reply === 'hang') {
      hanging.add(res);
      return;
    }
    const body =
      reply.body === undefined
        ? ''
        : typeof reply.body === 'string'
          ? reply.body
          : JSON.stringify(reply.body);
    const headers: Record<string, string> = {
      ...(typeof reply.body === 'string' || reply.body === undefined
        ? {}
        : { 'content-type': 'application/json' }),
      ...reply.headers,
    };
    res.writeHead(reply.status ?? 200, headers);
    res.end(body);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: (path) => `${origin}${path}`,
    requests,
    hits: (path) => requests.filter((r) => r.url.split('?')[0] === path),
    async close() {
      for (const res of hanging) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
