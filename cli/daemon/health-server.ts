/**
 * The daemon's HTTP endpoints, on 127.0.0.1 unless configured otherwise:
 * - `GET /healthz`: 200 `{"status":"ok",...}` or 503 `{"status":"degraded","reason":...}`. For
 *   monitoring and alerting; not a liveness probe (restarting does not fix a failed source).
 * - `GET /livez`: 200 while the process answers. For liveness probes.
 * - `GET /metrics`: Prometheus text format.
 * Anything else is 404; only GET and HEAD are answered. Bodies pass through the redactor.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redactor } from '../../engine/secret.js';
import type { DaemonMetrics } from './metrics.js';

export interface HealthStatus {
  readonly status: 'ok' | 'degraded';
  readonly reason?: string;
  readonly mode: 'plan' | 'apply';
  readonly running: boolean;
  readonly consecutiveFailures: number;
  /** ISO 8601. */
  readonly lastRunAt?: string;
  readonly lastSuccessAt?: string;
  readonly nextAttemptAt?: string;
  readonly lastOutcome?: string;
}

export interface HealthServerOptions {
  readonly host: string;
  readonly port: number;
  readonly health: () => HealthStatus;
  readonly metrics: DaemonMetrics;
  readonly redactor: Redactor;
}

export interface HealthServer {
  /** `http://127.0.0.1:9464` */
  readonly url: string;
  close(): Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      const text = options.redactor.redact(body);
      res.writeHead(status, {
        'content-type': type,
        'cache-control': 'no-store',
        'content-length': Buffer.byteLength(text),
      });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      const health = options.health();
      send(
        health.status === 'ok' ? 200 : 503,
        'application/json; charset=utf-8',
        JSON.stringify(health) + '\n',
      );
    } else if (path === '/livez') {
      send(200, 'text/plain; charset=utf-8', 'ok\n');
    } else if (path === '/metrics') {
      options.metrics.render().then(
        (text) => send(200, options.metrics.contentType, text),
        (err: unknown) =>
          send(500, 'text/plain; charset=utf-8', `metrics failed: ${String(err)}\n`),
      );
    } else {
      send(404, 'text/plain; charset=utf-8', 'not found: /healthz, /livez, /metrics\n');
    }
  });
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
