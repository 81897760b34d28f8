/**
 * The workload of the latency and scale benchmarks (issue 24), and the child processes they run:
 *
 * - `--prepare <dir> <people> <groups>`: a tenant of `people` accounts (seedTenant, seed 1,
 *   marked managed with an office), `groups` managed groups (department × building, `Team
 *   D7-B3`, about people / groups members each) as an earlier run left them, the HR CSV with 1%
 *   churn (0.5% leavers, 1% department changes) and a `team` column, and the config (CSV
 *   source, the ten attributes of every benchmark, one `foreach: team` group rule);
 * - `--serve <dir> <latency|none> <wall|virtual>`: a simulator on that state (Graph's
 *   throttling on) with the latency model, answering `mark` and `stats` on stdin;
 * - `--plan <config> <parallel|sequential>`: what `entrasync plan` does (openRuntime, read
 *   sources and tenant side by side, computePlan, renderPlanText) in a fresh process, printing
 *   its wall time, the tenant read's, peak RSS and every Graph request's start and end.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openRuntime } from '../cli/runtime.js';
import { collectReadGarbage } from '../cli/memory.js';
import type { UsersReadNote } from '../connectors/entra/index.js';
import { groupSlug } from '../engine/expr/normalize.js';
import { computePlan, readSources, readTenant } from '../engine/index.js';
import { renderPlanText } from '../engine/render/text.js';
import { Redactor } from '../engine/secret.js';
import type { Clock } from '../simulator/index.js';
import {
  createVirtualClock,
  openTenantStore,
  seedTenant,
  startSimulator,
  systemClock,
} from '../simulator/index.js';
import { HR_USERS_YAML, markManaged, officeOf } from './workload.js';

const SELF = fileURLToPath(import.meta.url);

/** The managed group of the i-th person: one of `groups` department × building teams. */
export function teamOf(index: number, groups: number): string {
  const t = index % groups;
  return `D${String(t % 50)}-B${String(1 + Math.floor(t / 50))}`;
}

export interface Prepared {
  readonly seedMs: number;
  readonly prepareMs: number;
  readonly rows: number;
  readonly groups: number;
  readonly memberships: number;
}

function configText(people: number): string {
  const brake = `{ count: ${String(people * 2)} }`;
  return `version: 1
target:
  auth:
    method: simulator
${HR_USERS_YAML}groups:
  - { name: "'Team ' & $value", key: team, foreach: team }
safety:
  maxCreates: ${brake}
  maxUpdates: ${brake}
  maxEnables: ${brake}
  maxDisables: ${brake}
`;
}

function prepare(dir: string, people: number, groups: number): void {
  const started = performance.now();
  const store = openTenantStore(join(dir, 'tenant.db'));
  const seeded = seedTenant(store, { users: people, groups: 0, seed: 1 });
  const users = markManaged(store);
  const rows = [
    'employee_id,username,first_name,last_name,department,job_title,office,country,status,team',
  ];
  const teams = new Map<string, string[]>();
  users.forEach((user, i) => {
    const team = teamOf(i, groups);
    const members = teams.get(team) ?? [];
    members.push(user.id);
    teams.set(team, members);
    if (i % 200 === 137) return; // a leaver: gone from HR, still in the tenant and the group
    let department = String(user['department']);
    if (i % 100 === 42) department = department === 'Reorganised' ? 'Engineering' : 'Reorganised';
    rows.push(
      [
        String(user['employeeId']),
        String(user['mailNickname']),
        String(user['givenName']),
        String(user['surname']),
        department,
        String(user['jobTitle']),
        officeOf(i),
        String(user['usageLocation']).toLowerCase(),
        user['accountEnabled'] === false ? 'inactive' : 'active',
        team,
      ].join(','),
    );
  });
  const now = Date.now();
  let memberships = 0;
  store.transaction(() => {
    for (const [team, ids] of teams) {
      const id = randomUUID();
      const uniqueName = `entrasync-team-${groupSlug(team)}`;
      store.insertObject('group', {
        id,
        displayName: `Team ${team}`,
        mailNickname: uniqueName,
        mailEnabled: false,
        securityEnabled: true,
        groupTypes: [],
        uniqueName,
      });
      store.addLinks('member', id, ids, now);
      memberships += ids.length;
    }
  });
  store.close();
  writeFileSync(join(dir, 'employees.csv'), rows.join('\n') + '\n');
  writeFileSync(join(dir, 'entrasync.yaml'), configText(people));
  const result: Prepared = {
    seedMs: seeded.durationMs,
    prepareMs: performance.now() - started,
    rows: rows.length - 1,
    groups: teams.size,
    memberships,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

export function runPrepare(dir: string, people: number, groups: number): Prepared {
  return JSON.parse(
    execFileSync(process.execPath, [SELF, '--prepare', dir, String(people), String(groups)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 20,
    }),
  ) as Prepared;
}

interface Served {
  readonly origin: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly caFile: string;
  readonly secretFile: string;
}

export interface ServedStats {
  /** HTTP requests (a `$batch` counts one, token requests too). */
  readonly httpRequests: number;
  /** Graph requests (each item of a `$batch` counts one). */
  readonly graphRequests: number;
  /** CPU time of the simulator process since the mark, ms. */
  readonly cpuMs: number;
  readonly throttled: number;
  /** Time the simulator's clock moved (virtual clock: the latency the answers were given). */
  readonly clockMs: number;
  readonly maxRSS: number;
}

async function serve(dir: string, latency: string, clockKind: string): Promise<void> {
  const clock: Clock = clockKind === 'virtual' ? createVirtualClock(Date.now()) : systemClock();
  const sim = await startSimulator({
    statePath: join(dir, 'tenant.db'),
    clock,
    ...(latency === 'none' ? {} : { latency }),
  });
  const client = sim.clients[0];
  if (!client) throw new Error('simulator has no client');
  const secretFile = join(dir, 'client-secret');
  writeFileSync(secretFile, client.clientSecret, { mode: 0o600 });
  const served: Served = {
    origin: sim.origin,
    tenantId: sim.tenantId,
    clientId: client.clientId,
    caFile: sim.caFile,
    secretFile,
  };
  process.stdout.write(JSON.stringify(served) + '\n');
  let before = { ...sim.counters };
  let clockAt = clock.now();
  let cpuAt = process.cpuUsage();
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'mark') {
      before = { ...sim.counters };
      clockAt = clock.now();
      cpuAt = process.cpuUsage();
      process.stdout.write('{}\n');
    } else if (line === 'stats') {
      const cpu = process.cpuUsage(cpuAt);
      const stats: ServedStats = {
        httpRequests: sim.counters.requests - before.requests,
        graphRequests: sim.counters.graphRequests - before.graphRequests,
        cpuMs: (cpu.user + cpu.system) / 1000,
        throttled: sim.counters.throttled - before.throttled,
        clockMs: clock.now() - clockAt,
        maxRSS: process.resourceUsage().maxRSS,
      };
      process.stdout.write(JSON.stringify(stats) + '\n');
    }
  }
  await sim.close();
}

export interface Server {
  readonly served: Served;
  mark(): Promise<void>;
  stats(): Promise<ServedStats>;
  close(): Promise<void>;
}

export async function startServer(
  dir: string,
  latency: string,
  clock: 'wall' | 'virtual',
): Promise<Server> {
  const child = spawn(process.execPath, [SELF, '--serve', dir, latency, clock], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const line = await lines.next();
    if (line.done) throw new Error('the simulator process ended');
    return line.value;
  };
  const served = JSON.parse(await next()) as Served;
  return {
    served,
    async mark() {
      child.stdin.write('mark\n');
      await next();
    },
    async stats() {
      child.stdin.write('stats\n');
      return JSON.parse(await next()) as ServedStats;
    },
    close: () =>
      new Promise<void>((done) => {
        child.once('exit', () => done());
        child.stdin.end();
      }),
  };
}

/** The prepared config pointed at an external simulator (`auth.method: secret`). */
export function externalConfig(dir: string, served: Served, people: number): string {
  const text = configText(people).replace(
    /^target:\n(?: {2}.*\n)+/m,
    [
      'target:',
      '  auth:',
      '    method: secret',
      '    clientSecret: "${file:client-secret}"',
      `  tenantId: ${served.tenantId}`,
      `  clientId: ${served.clientId}`,
      `  graphUrl: ${served.origin}`,
      `  authorityHost: ${served.origin}`,
      `  caFile: ${served.caFile}`,
      '',
    ].join('\n'),
  );
  const path = join(dir, 'external.yaml');
  writeFileSync(path, text);
  return path;
}

export interface PlanFigures {
  readonly ms: number;
  readonly tenantReadMs: number;
  readonly sourcesMs: number;
  readonly maxRSS: number;
  /** CPU time of the plan process (user + system), ms. */
  readonly cpuMs: number;
  readonly changes: number;
  readonly users: number;
  readonly groups: number;
  readonly usersRead: UsersReadNote | undefined;
  /** Each Graph request's [start, end], ms from the start of the tenant read. */
  readonly requests: readonly (readonly [number, number])[];
}

async function planChild(configPath: string, mode: string): Promise<void> {
  const started = performance.now();
  const requests: [number, number][] = [];
  let readStart = 0;
  let usersRead: UsersReadNote | undefined;
  const runtime = await openRuntime(configPath, new Redactor(), process.env, {
    reader: { sequential: mode === 'sequential', users: { onUsersRead: (n) => (usersRead = n) } },
    onGraphRequest: (trace) => {
      const end = performance.now() - readStart;
      requests.push([end - trace.durationMs, end]);
    },
  });
  try {
    const spec = runtime.loaded.spec;
    readStart = performance.now();
    let tenantReadMs = 0;
    let sourcesMs = 0;
    const [snapshots, tenant] = await Promise.all([
      readSources(runtime.sources).then((s) => {
        sourcesMs = performance.now() - readStart;
        return s;
      }),
      readTenant(spec, runtime.target.reader).then((t) => {
        tenantReadMs = performance.now() - readStart;
        return t;
      }),
    ]);
    collectReadGarbage();
    const plan = await computePlan(spec, snapshots, tenant);
    renderPlanText(plan);
    const figures: PlanFigures = {
      ms: performance.now() - started,
      tenantReadMs,
      sourcesMs,
      maxRSS: process.resourceUsage().maxRSS,
      cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
      changes: plan.changes.length,
      users: tenant.users.length,
      groups: tenant.groups?.length ?? 0,
      usersRead,
      requests,
    };
    process.stdout.write(JSON.stringify(figures) + '\n');
  } finally {
    await runtime.close();
  }
}

export function runPlan(configPath: string, mode: 'parallel' | 'sequential'): PlanFigures {
  return JSON.parse(
    execFileSync(process.execPath, [SELF, '--plan', configPath, mode], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 << 20,
    }),
  ) as PlanFigures;
}

/** Most requests in flight in each slice of `sliceMs`, as a text chart. */
export function inFlightChart(
  requests: readonly (readonly [number, number])[],
  sliceMs: number,
): string[] {
  const end = Math.max(0, ...requests.map(([, e]) => e));
  const slices = Math.max(1, Math.ceil(end / sliceMs));
  const events = requests.flatMap(([s, e]) => [
    [s, 1],
    [e, -1],
  ]) as [number, number][];
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const peak = new Array<number>(slices).fill(0);
  let now = 0;
  let i = 0;
  for (let slice = 0; slice < slices; slice += 1) {
    const limit = (slice + 1) * sliceMs;
    let most = now;
    while (i < events.length && (events[i]?.[0] ?? Infinity) < limit) {
      now += events[i]?.[1] ?? 0;
      most = Math.max(most, now);
      i += 1;
    }
    peak[slice] = most;
  }
  return peak.map(
    (n, slice) =>
      `${((slice * sliceMs) / 1000).toFixed(1).padStart(6)} s ${String(n).padStart(3)} ${'#'.repeat(n)}`,
  );
}

const [mode, ...args] = process.argv.slice(2);
if (mode === '--prepare') prepare(args[0] ?? '.', Number(args[1]), Number(args[2]));
else if (mode === '--serve') await serve(args[0] ?? '.', args[1] ?? 'none', args[2] ?? 'wall');
else if (mode === '--plan') await planChild(args[0] ?? 'entrasync.yaml', args[1] ?? 'parallel');
