/**
 * Benchmark: the HTTP source reading 100,000 records over 100 cursor pages from a loopback
 * server, reporting wall time and peak memory of the reading process.
 *
 * The server runs in a child process (this file, forked with `serve`), so the memory figures are
 * the reader's alone. Run (Node has no TypeScript loader here, so compile first):
 *
 *   npx tsc -p tsconfig.json --noEmit false --outDir node_modules/.cache/entrasync-bench
 *   node --expose-gc node_modules/.cache/entrasync-bench/bench/http-read.js [records] [pages]
 *
 * Prints one JSON line: records, pages, status, wallMs, peakRssMiB (OS high-water mark of the
 * whole process), peakHeapMiB (sampled every 10 ms), and the baseline RSS before the read.
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createHttpSource } from '../connectors/http/index.js';
import { Redactor } from '../engine/secret.js';
import { aConnectorContext } from '../test/helpers/connector-context.js';

const TOKEN = 'bench-token-0123456789abcdef';

function person(i: number): Record<string, unknown> {
  return {
    id: `E${String(i).padStart(6, '0')}`,
    firstName: `First${i}`,
    lastName: `Last${i}`,
    email: `first${i}.last${i}@example.com`,
    status: i % 20 === 0 ? 'terminated' : 'active',
    department: ['Engineering', 'Finance', 'Sales', 'Support'][i % 4],
    title: 'Specialist',
    hireDate: '2021-04-01',
    location: { country: 'DE', city: 'Berlin', office: `B${i % 7}` },
    manager: { id: `E${String(Math.floor(i / 10)).padStart(6, '0')}` },
    employmentType: 'FTE',
    costCenter: `CC-${i % 50}`,
  };
}

/** Child process: serves `records` people over `pages` cursor pages, then waits to be killed. */
async function serve(records: number, pages: number): Promise<void> {
  const perPage = Math.ceil(records / pages);
  const server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const page = Number(url.searchParams.get('cursor') ?? '0');
    const data = [];
    for (let i = page * perPage; i < Math.min(records, (page + 1) * perPage); i++) {
      data.push(person(i));
    }
    const next = page + 1 < pages ? String(page + 1) : null;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data, meta: { total: records, next } }));
  });
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ port: (server.address() as AddressInfo).port });
  });
}

async function main(): Promise<void> {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === 'serve') {
    await serve(Number(a), Number(b));
    return;
  }
  const records = Number(mode ?? 100_000);
  const pages = Number(a ?? 100);
  const child = fork(fileURLToPath(import.meta.url), ['serve', String(records), String(pages)]);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { port: number }).port));
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    (globalThis as { gc?: () => void }).gc?.();
    const baselineRss = process.memoryUsage().rss;
    let peakHeap = 0;
    const sampler = setInterval(() => {
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }, 10);
    const source = createHttpSource(
      'bench',
      {
        kind: 'http',
        url: `http://127.0.0.1:${port}/workers`,
        key: 'id',
        records: 'data',
        totalPath: 'meta.total',
        paging: { style: 'cursor', path: 'meta.next' },
        auth: {
          method: 'bearer',
          token: {
            kind: 'secretRef',
            scheme: 'env',
            name: 'BENCH_TOKEN',
            text: '${env:BENCH_TOKEN}',
            path: 'sources.bench.auth.token',
          },
        },
      },
      aConnectorContext(tmpdir(), { BENCH_TOKEN: TOKEN }, new Redactor()),
    );
    const started = performance.now();
    const snapshot = await source.read();
    const wallMs = performance.now() - started;
    clearInterval(sampler);
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
    console.log(
      JSON.stringify({
        records: snapshot.records.length,
        pages,
        status: snapshot.status,
        issues: snapshot.issues.length,
        wallMs: Math.round(wallMs),
        peakRssMiB: mib(process.resourceUsage().maxRSS * 1024),
        baselineRssMiB: mib(baselineRss),
        peakHeapMiB: mib(peakHeap),
      }),
    );
    if (snapshot.status !== 'complete' || snapshot.records.length !== records) process.exitCode = 1;
  } finally {
    child.kill();
  }
}

await main();
