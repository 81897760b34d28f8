/**
 * Benchmark: the daemon's cycle at 100,000 people (issue 11, figure 2). Prints figures; asserts
 * nothing.
 *
 * Workload: bench/plan.ts's (prepared by it in a child process: a simulated tenant of 100,000
 * managed users, 5,000 groups and 3 SKUs, an HR CSV with 1 % churn against it, and the same
 * people in OpenLDAP joined by employee id, bench/ad-directory.ts), served by a simulator in a
 * child process, read through the real Entra target (full reads and `/users/delta`), the real
 * CSV and LDAP connectors, planned by the real daemon (`createDaemon`, plan mode, as
 * `entrasync daemon --mode plan` wires it).
 *
 * Cycles, each timed on the wall clock with the Graph requests it made:
 *
 * 1. first cycle: full tenant read (it also takes the delta token), CSV parse, LDAP read, full
 *    pipeline;
 * 2. no-change cycles: nothing moved anywhere, so the CSV connector hands back the same snapshot
 *    (content digest), the LDAP one too (the directory's contextCSN stands), the delta round is
 *    empty, and the daemon reuses its plan;
 * 3. a cycle after one user changed in the tenant (a Graph PATCH): delta brings it, the plan is
 *    computed again from the snapshots already held;
 * 4. a cycle after 1 % of the CSV rows changed: parsed again, planned again;
 * 6. a cycle after one directory entry changed: the directory is read again, planned again.
 *
 *   npm run bench -- daemon            (ENTRASYNC_BENCH_PEOPLE=100000 by default)
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDaemon } from '../cli/daemon/daemon.js';
import { createManualScheduler } from '../cli/daemon/scheduler.js';
import { createLogger } from '../cli/logging.js';
import { loadConfig } from '../config/load.js';
import { resolveSecret } from '../config/secrets.js';
import { createSource } from '../connectors/index.js';
import { createClientSecretCredential, createEntraTarget } from '../connectors/entra/index.js';
import type { GraphConnection } from '../connectors/entra/index.js';
import { Redactor } from '../engine/secret.js';
import { startSimulator } from '../simulator/index.js';
import { asLdapAdmin, replaceAttributes, slapdAdmin } from '../test/servers/ldap-admin.js';
import type { SlapdServer } from '../test/servers/slapd.js';
import { startAdDirectory, withAdJoin } from './ad-directory.js';

const PEOPLE = Number(process.env['ENTRASYNC_BENCH_PEOPLE'] ?? 100_000);
const HOUR = 3_600_000;

interface Cycle {
  readonly name: string;
  readonly ms: number;
  readonly graphRequests: number;
  readonly httpRequests: number;
  readonly read: string;
  readonly reused: string;
  readonly changes: string;
  readonly rssMiB: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-bench-daemon-'));
  let directory: SlapdServer | undefined;
  try {
    const planJs = fileURLToPath(new URL('./plan.js', import.meta.url));
    const prepStarted = performance.now();
    execFileSync(process.execPath, [planJs, '--prepare', dir], {
      env: { ...process.env, ENTRASYNC_BENCH_PEOPLE: String(PEOPLE) },
      stdio: ['ignore', 'ignore', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    });
    const prepMs = performance.now() - prepStarted;
    directory = await startAdDirectory(dir);
    const configPath = join(dir, 'entrasync.yaml');
    writeFileSync(configPath, withAdJoin(readFileSync(configPath, 'utf8'), directory));

    const sim = await serveInChild(dir);
    const client = sim.client;
    const redactor = new Redactor();
    const connection = sim.connection;
    const target = createEntraTarget(
      connection,
      createClientSecretCredential(connection, client.clientId, client.clientSecret),
      { priority: 'low' },
    );
    const loaded = await loadConfig(configPath);
    const sources = Object.entries(loaded.config.sources).map(([name, options]) =>
      createSource(name, options, {
        baseDir: loaded.baseDir,
        redactor,
        resolveSecret: (ref) =>
          resolveSecret(ref, { env: process.env, baseDir: loaded.baseDir, redactor }),
      }),
    );
    const logLines: string[] = [];
    const logger = createLogger({
      redactor,
      destination: { write: (line: string) => void logLines.push(line) },
      level: process.env['ENTRASYNC_BENCH_LOG'] ?? 'info',
      pretty: false,
    });
    const daemon = createDaemon({
      spec: loaded.spec,
      sources,
      target,
      mode: 'plan',
      clock: { now: () => Date.now() },
      scheduler: createManualScheduler(),
      redactor,
      logger,
      backoff: { initialMs: HOUR, maxMs: 24 * HOUR },
      failureRatio: 0.5,
      fullReadEveryMs: 24 * HOUR,
      delta: target.delta,
    });

    const lastPlanned = (): Record<string, unknown> => {
      for (let i = logLines.length - 1; i >= 0; i--) {
        const record = JSON.parse(logLines[i] ?? '{}') as Record<string, unknown>;
        if (record['msg'] === 'planned') return record;
      }
      return {};
    };
    let peakRss = 0;
    const cycles: Cycle[] = [];
    const cycle = async (name: string): Promise<void> => {
      const before = await sim.counters();
      const linesBefore = logLines.length;
      const started = performance.now();
      const result = await daemon.tick('manual');
      const ms = performance.now() - started;
      const rss = process.memoryUsage().rss;
      peakRss = Math.max(peakRss, rss);
      if (!result.ran) throw new Error(`cycle ${name} did not run: ${result.detail}`);
      const planned = logLines.length > linesBefore ? lastPlanned() : {};
      const after = await sim.counters();
      cycles.push({
        name,
        ms,
        graphRequests: after.graphRequests - before.graphRequests,
        httpRequests: after.requests - before.requests,
        read: String(planned['read'] ?? '?'),
        reused: String(planned['reused'] ?? '?'),
        changes: String(planned['changes'] ?? '?'),
        rssMiB: rss / 1024 / 1024,
      });
    };

    await cycle('1. first (full read)');
    for (let i = 1; i <= 3; i++) await cycle(`2. no change (#${String(i)})`);

    await patchUser(connection, client, sim.someUserId, { jobTitle: 'Changed' });
    await cycle('3. one tenant user changed');

    const csvPath = join(dir, 'employees.csv');
    const lines = readFileSync(csvPath, 'utf8').split('\n');
    let edited = 0;
    for (let i = 1; i < lines.length; i += 100) {
      const line = lines[i];
      if (line === undefined || line === '') continue;
      const cells = line.split(','); // generated data: no quoted commas
      cells[5] = `${cells[5] ?? ''} II`; // job_title
      lines[i] = cells.join(',');
      edited++;
    }
    writeFileSync(csvPath, lines.join('\n'));
    await cycle(`4. ${String(edited)} CSV rows changed`);
    await cycle('5. no change again');

    await changeDirectoryEntry(directory);
    await cycle('6. one directory entry changed');
    await cycle('7. no change again');

    sim.close();
    if (process.env['ENTRASYNC_BENCH_LOG']) process.stderr.write(logLines.join(''));
    process.stdout.write(
      `Daemon cycle benchmark: ${PEOPLE.toLocaleString('en')} people (CSV) against ${PEOPLE.toLocaleString('en')} managed accounts; ` +
        `workload prepared in ${(prepMs / 1000).toFixed(1)} s (child process)\n\n`,
    );
    table([
      [
        'cycle',
        'wall',
        'Graph requests',
        'HTTP requests',
        'tenant read',
        'plan reused',
        'changes',
        'RSS',
      ],
      ...cycles.map((c) => [
        c.name,
        `${c.ms.toFixed(0)} ms`,
        String(c.graphRequests),
        String(c.httpRequests),
        c.read,
        c.reused,
        c.changes,
        `${c.rssMiB.toFixed(0)} MiB`,
      ]),
    ]);
    process.stdout.write(
      `\npeak RSS after a cycle ${(peakRss / 1024 / 1024).toFixed(0)} MiB (the daemon's own: the simulator runs in a child process)\n` +
        'Graph requests: what the simulator answered (batch items count one each); HTTP requests include token requests.\n',
    );
  } finally {
    await directory?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One LDAP modify as the directory's admin (a description nobody maps: only contextCSN moves). */
async function changeDirectoryEntry(directory: SlapdServer): Promise<void> {
  const admin = slapdAdmin(directory);
  const { searchEntries } = await asLdapAdmin(admin, (client) =>
    client.search(`ou=people,${directory.suffix}`, {
      scope: 'one',
      filter: '(objectClass=inetOrgPerson)',
      attributes: ['dn'],
      sizeLimit: 1,
    }),
  );
  const dn = searchEntries[0]?.dn;
  if (dn === undefined) throw new Error('the bench directory has no people');
  await replaceAttributes(admin, dn, { description: 'moved desks' });
}

/** One PATCH through Graph, as another admin tool would make it. */
async function patchUser(
  connection: GraphConnection,
  client: { clientId: string; clientSecret: string },
  userId: string,
  body: Record<string, string>,
): Promise<void> {
  const other = createEntraTarget(
    connection,
    createClientSecretCredential(connection, client.clientId, client.clientSecret),
  );
  const result = await other.writer.apply({
    id: `bench-update-${userId}`,
    kind: 'updateUser',
    reason: 'attribute-drift',
    message: 'bench: another admin edits a user',
    user: { id: userId, userPrincipalName: '' },
    provenance: [],
    set: Object.entries(body).map(([attribute, after]) => ({ attribute, before: null, after })),
  });
  if (!result.ok) throw new Error(`the bench's own PATCH failed: ${JSON.stringify(result)}`);
}

interface ServedSimulator {
  readonly connection: GraphConnection;
  readonly client: { readonly clientId: string; readonly clientSecret: string };
  readonly someUserId: string;
  counters(): Promise<{ readonly requests: number; readonly graphRequests: number }>;
  close(): void;
}

interface Ready {
  readonly connection: GraphConnection;
  readonly client: { readonly clientId: string; readonly clientSecret: string };
  readonly someUserId: string;
}

/**
 * The simulator in a child process (this file with `--serve <dir>`), so the figures are the
 * daemon's own: a real daemon talks to a remote Graph, and a simulator holding 100,000 users
 * in this heap would make every garbage collection here slower.
 */
async function serveInChild(dir: string): Promise<ServedSimulator> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', dir], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Ready));
    child.once('exit', (code) => reject(new Error(`simulator process exited (${String(code)})`)));
  });
  return {
    ...ready,
    counters: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve(m as { requests: number; graphRequests: number }));
        child.send('counters');
      }),
    close: () => void child.kill(),
  };
}

async function serve(dir: string): Promise<void> {
  const sim = await startSimulator({ statePath: join(dir, 'tenant.db') });
  const client = sim.clients[0];
  const someone = sim.store.listUsers()[7];
  if (!client || !someone) throw new Error('simulator has no client or users');
  process.on('message', () => {
    process.send?.({ requests: sim.counters.requests, graphRequests: sim.counters.graphRequests });
  });
  const ready: Ready = {
    connection: {
      graphUrl: sim.origin,
      authorityHost: sim.authorityHost,
      tenantId: sim.tenantId,
      caPem: sim.caPem,
    },
    client: { clientId: client.clientId, clientSecret: client.clientSecret },
    someUserId: String(someone['id']),
  };
  process.send?.(ready);
}

function table(rows: readonly (readonly string[])[]): void {
  const widths = rows.reduce<number[]>(
    (w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)),
    [],
  );
  for (const [i, row] of rows.entries()) {
    process.stdout.write(row.map((cell, j) => cell.padEnd(widths[j] ?? 0)).join('  ') + '\n');
    if (i === 0) process.stdout.write(widths.map((w) => '-'.repeat(w)).join('  ') + '\n');
  }
}

if (process.argv[2] === '--serve') {
  const dir = process.argv[3];
  if (dir === undefined) throw new Error('--serve needs a directory');
  await serve(dir);
} else {
  await main();
}
