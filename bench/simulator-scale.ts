/**
 * Benchmark: the simulator at the scale issue 4 asks for. Seeds 100,000 users + 5,000 groups,
 * reads every user through the real Graph SDK with `$top=999` over HTTPS, times an indexed
 * `$filter`, then seeds 300,000 users + 10,000 groups. Prints figures; asserts nothing.
 *
 *   npm run bench -- simulator-scale
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createClientSecretCredential,
  createGraphClient,
} from '../connectors/entra/graph-client.js';
import { openTenantStore, seedTenant, startSimulator } from '../simulator/index.js';

const dir = mkdtempSync(join(tmpdir(), 'entrasync-bench-sim-'));
try {
  const statePath = join(dir, 'scale.db');
  const store = openTenantStore(statePath);
  const seeded = seedTenant(store, { users: 100_000, groups: 5_000, seed: 1 });
  store.close();

  const sim = await startSimulator({ statePath, throttling: false });
  const client = sim.clients[0];
  if (!client) throw new Error('simulator has no client');
  const connection = {
    graphUrl: sim.origin,
    authorityHost: sim.authorityHost,
    tenantId: sim.tenantId,
    caPem: sim.caPem,
  };
  const graph = createGraphClient(
    connection,
    createClientSecretCredential(connection, client.clientId, client.clientSecret),
  );

  const pageMs: number[] = [];
  let url: string | undefined = '/users?$top=999';
  let users = 0;
  const readStarted = performance.now();
  while (url !== undefined) {
    const started = performance.now();
    const page = (await graph.api(url).get()) as { value: unknown[]; '@odata.nextLink'?: string };
    pageMs.push(performance.now() - started);
    users += page.value.length;
    url = page['@odata.nextLink'];
  }
  const readMs = performance.now() - readStarted;
  pageMs.sort((a, b) => a - b);
  const filterStarted = performance.now();
  await graph.api('/users').filter("employeeId eq 'E050000'").get();
  const filterMs = performance.now() - filterStarted;
  await sim.close();

  const big = openTenantStore(join(dir, 'scale-300k.db'));
  const seeded300k = seedTenant(big, { users: 300_000, groups: 10_000, seed: 2 });
  big.close();

  const rows: [string, string][] = [
    ['seed 100,000 users + 5,000 groups', `${seeded.durationMs} ms`],
    [
      'read 100,000 users, $top=999',
      `${pageMs.length} requests, ${readMs.toFixed(0)} ms (${users} users)`,
    ],
    [
      'page latency p50 / max',
      `${(pageMs[Math.floor(pageMs.length / 2)] ?? 0).toFixed(1)} / ${(pageMs.at(-1) ?? 0).toFixed(1)} ms`,
    ],
    ['$filter employeeId eq (indexed)', `${filterMs.toFixed(1)} ms`],
    ['seed 300,000 users + 10,000 groups', `${seeded300k.durationMs} ms`],
    ['peak RSS of this process', `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
