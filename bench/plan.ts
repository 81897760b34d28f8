/**
 * Benchmark: a full `plan` from cold at 100,000 people (issue 11). Prints figures; asserts
 * nothing.
 *
 * Workload (deterministic, issue 11's): a simulated tenant seeded with `seedTenant` (100,000
 * users, 5,000 groups, 3 SKUs, seed 1), every user marked as managed
 * (`extensionAttribute15 = entrasync`) and given an `officeLocation`; an HR CSV derived from
 * those users with 1% churn: 500 leavers (rows removed), 500 new hires (rows added), 1,000
 * department changes; the same people in OpenLDAP (bench/ad-directory.ts: slapd over ldaps://),
 * joined by employee id and giving `mail`. The config maps ten attributes plus `employeeId` as
 * the anchor, with the safety brakes raised.
 *
 * The workload is prepared in a child process (this file with `--prepare <dir>`), and the
 * simulator serving the cold pass's tenant read runs in another (`--serve <dir>`: a simulator on
 * the prepared state, throttling off, reached through a config with `auth.method: secret`, the
 * CA file and the simulator's URL, as `entrasync simulator` is), so the peak RSS printed for the
 * cold pass is the plan's own, not the seeding's nor the simulator's. Two more child processes
 * give whole-process figures: `--plan-alone` (what `entrasync plan` does against that external
 * simulator: planRun + renderPlanText) and `--plan-embedded` (the same with
 * `auth.method: simulator`, the simulator in-process as the embedded target runs it).
 *
 * Measured, through the real code path (`openRuntime`, `readSources`, `readTenant`,
 * `computePlanWithStages`, `planRun`, `renderPlanText`, `renderPlanJson`):
 *
 * - cold pass: each stage timed once, in the order `plan` runs them, against the external
 *   simulator (its Graph requests counted there), with the RSS, the peak RSS and the live heap
 *   (after a full GC) after each stage, so the memory each stage keeps can be told apart;
 * - `planRun` as a whole through the runtime's own embedded simulator (throttling on, as the
 *   CLI runs it);
 * - the pure pipeline stage by stage (JSONata `map` in µs per person) at 25%, 50% and 100% of
 *   the people, to show how each stage grows.
 *
 *   npm run bench -- plan            (ENTRASYNC_BENCH_PEOPLE=100000 by default)
 *
 * ENTRASYNC_BENCH_PLAN_FLAGS passes node flags to the two fresh plan processes, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile them.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRuntime, planIO } from '../cli/runtime.js';
import { computePlan, planRun, readSources, readTenant } from '../engine/index.js';
import { collectReadGarbage } from '../cli/memory.js';
import type { Plan } from '../engine/model/plan.js';
import type { SourceSnapshot } from '../engine/model/source.js';
import type { SyncSpec } from '../engine/model/spec.js';
import type { TenantState } from '../engine/model/tenant.js';
import { diffUsers } from '../engine/pipeline/diff.js';
import { planFingerprint, tenantDigest } from '../engine/pipeline/fingerprint.js';
import { joinSources } from '../engine/pipeline/join.js';
import { lintFieldReferences } from '../engine/pipeline/lint.js';
import { mapPeople } from '../engine/pipeline/map.js';
import { matchUsers } from '../engine/pipeline/match.js';
import { classifyTenant } from '../engine/pipeline/ownership.js';
import { computePlanWithStages, mappingView } from '../engine/pipeline/plan.js';
import { renderPlanJson } from '../engine/render/json.js';
import { renderPlanText } from '../engine/render/text.js';
import { Redactor } from '../engine/secret.js';
import { openTenantStore, seedTenant, startSimulator } from '../simulator/index.js';
import type { SlapdServer } from '../test/servers/slapd.js';
import type { DirectoryPerson } from './ad-directory.js';
import { adLdif, startAdDirectory, withAdJoin } from './ad-directory.js';
import { DOMAIN, HR_USERS_YAML, markManaged, officeOf } from './workload.js';

const PEOPLE = Number(process.env['ENTRASYNC_BENCH_PEOPLE'] ?? 100_000);
const LEAVERS = Math.round(PEOPLE * 0.005);
const HIRES = Math.round(PEOPLE * 0.005);
const CHANGES = Math.round(PEOPLE * 0.01);
/** Groups in the tenant besides the users (none of them managed by this config). */
const GROUPS = Number(process.env['ENTRASYNC_BENCH_GROUPS'] ?? 5_000);

const DEPARTMENTS = ['Engineering', 'Finance', 'Sales', 'Marketing', 'Support', 'Legal'];

const CONFIG = `version: 1
target:
  auth:
    method: simulator
  simulator:
    state: tenant.db
${HR_USERS_YAML}safety:
  maxCreates: { count: ${PEOPLE} }
  maxUpdates: { count: ${PEOPLE} }
  maxEnables: { count: ${PEOPLE} }
  maxDisables: { count: ${PEOPLE} }
`;

/** Seeds the tenant, marks it managed, writes the churned CSV and the config into `dir`. */
function prepare(dir: string): void {
  const statePath = join(dir, 'tenant.db');
  const store = openTenantStore(statePath);
  const seeded = seedTenant(store, { users: PEOPLE, groups: GROUPS, seed: 1 });
  const started = performance.now();
  const users = markManaged(store);
  store.close();
  const markMs = performance.now() - started;

  // Churn by index stride, so it is deterministic and spread over the file: leavers where
  // i % 200 == 137, department changes where i % 100 == 42 (never the same person).
  const rows = [
    'employee_id,username,first_name,last_name,department,job_title,office,country,status',
  ];
  let leavers = 0;
  let changes = 0;
  users.forEach((user, i) => {
    if (i % 200 === 137 && leavers < LEAVERS) {
      leavers += 1;
      return;
    }
    let department = String(user['department']);
    if (i % 100 === 42 && changes < CHANGES) {
      changes += 1;
      department = department === 'Reorganised' ? 'Engineering' : 'Reorganised';
    }
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
      ].join(','),
    );
  });
  for (let j = 0; j < HIRES; j += 1) {
    rows.push(
      [
        `N${String(100000 + j)}`,
        `new.hire.${String(j)}`,
        'New',
        `Hire${String(j)}`,
        DEPARTMENTS[j % DEPARTMENTS.length] ?? 'Engineering',
        'Associate',
        officeOf(j),
        'gb',
        'active',
      ].join(','),
    );
  }
  writeFileSync(join(dir, 'employees.csv'), rows.join('\n') + '\n');
  writeFileSync(join(dir, 'entrasync.yaml'), CONFIG);
  // The same people in the directory (leavers included: HR decides who exists), hires too.
  const directory: DirectoryPerson[] = users.map((user) => ({
    employeeId: String(user['employeeId']),
    nickname: String(user['mailNickname']),
    displayName: String(user['displayName']),
    mail: String(user['mail']),
  }));
  for (let j = 0; j < HIRES; j += 1) {
    directory.push({
      employeeId: `N${String(100000 + j)}`,
      nickname: `new.hire.${String(j)}`,
      displayName: `New Hire${String(j)}`,
      mail: `new.hire.${String(j)}@${DOMAIN}`,
    });
  }
  writeFileSync(join(dir, 'ad.ldif'), adLdif(directory));
  process.stdout.write(
    JSON.stringify({
      seedMs: seeded.durationMs,
      markMs,
      rows: rows.length - 1,
      leavers,
      changes,
      hires: HIRES,
    }) + '\n',
  );
}

interface Prepared {
  readonly seedMs: number;
  readonly markMs: number;
  readonly rows: number;
  readonly leavers: number;
  readonly changes: number;
  readonly hires: number;
}

async function timed<T>(run: () => Promise<T> | T): Promise<[T, number]> {
  const started = performance.now();
  const value = await run();
  return [value, performance.now() - started];
}

const ms = (n: number): string => `${n.toFixed(0)} ms`;
const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;

function table(title: string, rows: readonly (readonly string[])[]): void {
  const widths = rows.reduce<number[]>(
    (w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)),
    [],
  );
  process.stdout.write(`\n${title}\n`);
  for (const row of rows) {
    process.stdout.write(
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join('  ') + '\n',
    );
  }
}

interface StageTimes {
  readonly people: number;
  readonly accounts: number;
  readonly times: Map<string, number>;
}

/** Each pure pipeline stage on the first `fraction` of the people and of the accounts. */
async function stageTimes(
  spec: SyncSpec,
  snapshots: readonly SourceSnapshot[],
  tenant: TenantState,
  fraction: number,
): Promise<StageTimes> {
  const part = (n: number): number => Math.round(n * fraction);
  const subSnapshots = snapshots.map((s) => ({
    ...s,
    records: s.records.slice(0, part(s.records.length)),
  }));
  const subTenant: TenantState = {
    ...tenant,
    users: tenant.users.slice(0, part(tenant.users.length)),
  };
  const times = new Map<string, number>();
  const step = async <T>(name: string, run: () => Promise<T> | T): Promise<T> => {
    const [value, took] = await timed(run);
    times.set(name, took);
    return value;
  };
  await step('lint', () => lintFieldReferences(spec, subSnapshots));
  const joined = await step('join', () =>
    joinSources(subSnapshots, spec.primarySource, spec.links),
  );
  const view = await step('mappingView', () => mappingView(subTenant, spec));
  const mapped = await step('map (JSONata)', () =>
    mapPeople(joined.people, joined.held, spec, view),
  );
  const classified = await step('classify', () =>
    classifyTenant(subTenant, spec.marker, spec.safety),
  );
  const matched = await step('match', () =>
    matchUsers(mapped.desired.users, subTenant.users, spec),
  );
  const diff = await step('diff', () => diffUsers(matched.pairs, mapped.desired, classified, spec));
  const digest = await step('tenantDigest', () =>
    tenantDigest(subTenant, spec.marker, diff.changes),
  );
  await step('planFingerprint', () => planFingerprint(spec.configDigest, digest, diff.changes));
  const [, whole] = await timed(() => computePlan(spec, subSnapshots, subTenant));
  times.set('computePlan (whole)', whole);
  return { people: joined.people.length, accounts: subTenant.users.length, times };
}

/** The external simulator's connection, as `--serve` prints it. */
interface Served {
  readonly origin: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly caFile: string;
  readonly secretFile: string;
}

/** What `--serve` answers to `stats`: the requests since `mark`, and its own peak RSS. */
interface ServedStats {
  readonly byPath: [string, number][];
  readonly requests: number;
  readonly graphRequests: number;
  readonly throttled: number;
  readonly maxRSS: number;
}

/**
 * `--serve <dir>`: a simulator on `<dir>/tenant.db` (throttling off) in this process; prints
 * its connection as one JSON line, then answers `mark` (start counting) and `stats` (requests
 * since the mark) on stdin, one JSON line each; closes when stdin ends.
 */
async function serve(dir: string): Promise<void> {
  const sim = await startSimulator({ statePath: join(dir, 'tenant.db'), throttling: false });
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
  let logStart = 0;
  let before = { ...sim.counters };
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'mark') {
      logStart = sim.requestLog.length;
      before = { ...sim.counters };
      process.stdout.write('{}\n');
    } else if (line === 'stats') {
      const byPath = new Map<string, number>();
      for (const entry of sim.requestLog.slice(logStart)) {
        const path = entry.path.replace(/\?.*$/, '').replace(/[0-9a-f-]{36}/g, '{id}');
        byPath.set(`${entry.method} ${path}`, (byPath.get(`${entry.method} ${path}`) ?? 0) + 1);
      }
      const counters = sim.counters;
      const stats: ServedStats = {
        byPath: [...byPath.entries()],
        requests: counters.requests - before.requests,
        graphRequests: counters.graphRequests - before.graphRequests,
        throttled: counters.throttled - before.throttled,
        maxRSS: process.resourceUsage().maxRSS,
      };
      process.stdout.write(JSON.stringify(stats) + '\n');
    }
  }
  await sim.close();
}

/** The external simulator in a child process, driven over its stdin and stdout. */
async function startServer(dir: string): Promise<{
  readonly served: Served;
  request(command: 'mark' | 'stats'): Promise<string>;
  close(): Promise<void>;
}> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', dir], {
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
    async request(command) {
      child.stdin.write(`${command}\n`);
      return next();
    },
    close: () =>
      new Promise<void>((done) => {
        child.once('exit', () => done());
        child.stdin.end();
      }),
  };
}

/** The config of the prepared workload, pointed at the external simulator. */
function externalConfig(served: Served, directory: SlapdServer): string {
  return withAdJoin(CONFIG, directory).replace(
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
}

interface WholeProcess {
  readonly ms: number;
  readonly maxRSS: number;
  readonly changes: number;
  /** Highest RSS sampled (every 10 ms) while reading (sources and tenant) and while planning, KiB. */
  readonly readingRSS: number;
  readonly planningRSS: number;
  /** CPU time of the plan process itself (user + system), ms: its own cost, apart from the servers. */
  readonly cpuMs: number;
}

/**
 * `--plan-alone <config>` / `--plan-embedded <config>`: what `entrasync plan` does (open the
 * runtime, planRun, render the text), in a fresh process; prints its wall time and peak RSS.
 */
async function planProcess(configPath: string): Promise<void> {
  const started = performance.now();
  // Sampled on a timer, so only while the event loop turns: the reads (the pipeline is one
  // synchronous stretch, whose peak only maxRSS shows).
  const peak = { reading: 0, planning: 0 };
  let phase: keyof typeof peak = 'reading';
  const sampler = setInterval(() => {
    peak[phase] = Math.max(peak[phase], process.memoryUsage().rss / 1024);
  }, 10);
  const runtime = await openRuntime(configPath, new Redactor());
  try {
    // What planRun does, in its two phases, so each one's memory shows.
    const spec = runtime.loaded.spec;
    const [snapshots, tenant] = await Promise.all([
      readSources(runtime.sources),
      readTenant(spec, runtime.target.reader),
    ]);
    collectReadGarbage(); // as planIO's afterRead
    phase = 'planning';
    const plan = await computePlan(spec, snapshots, tenant);
    renderPlanText(plan);
    clearInterval(sampler);
    const result: WholeProcess = {
      ms: performance.now() - started,
      maxRSS: process.resourceUsage().maxRSS,
      changes: plan.changes.length,
      readingRSS: peak.reading,
      planningRSS: peak.planning,
      cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
    };
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    clearInterval(sampler);
    await runtime.close();
  }
}

/** Extra node flags for the fresh plan processes, e.g. `--cpu-prof` to profile them. */
const CHILD_FLAGS = (process.env['ENTRASYNC_BENCH_PLAN_FLAGS'] ?? '').split(' ').filter(Boolean);

function runChild(mode: string, arg: string): WholeProcess {
  // No --expose-gc: the plan collects as the CLI does, through cli/memory.ts.
  const args = [...CHILD_FLAGS, fileURLToPath(import.meta.url), mode, arg];
  return JSON.parse(
    execFileSync(process.execPath, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  ) as WholeProcess;
}

/** Memory after a stage: RSS now, peak RSS so far, live heap after a full GC, external. */
interface MemoryPoint {
  readonly stage: string;
  readonly rss: number;
  readonly maxRSS: number;
  readonly heap: number;
  readonly external: number;
}

function memoryPoint(stage: string): MemoryPoint {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const m = process.memoryUsage();
  return {
    stage,
    rss: m.rss / 1024,
    maxRSS: process.resourceUsage().maxRSS,
    heap: m.heapUsed / 1024,
    external: (m.external + m.arrayBuffers) / 1024,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-bench-plan-'));
  let directory: SlapdServer | undefined;
  try {
    const prepStarted = performance.now();
    const prepared = JSON.parse(
      execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--prepare', dir], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    ) as Prepared;
    const prepMs = performance.now() - prepStarted;
    const directoryStarted = performance.now();
    directory = await startAdDirectory(dir);
    const directoryMs = performance.now() - directoryStarted;
    writeFileSync(join(dir, 'entrasync.yaml'), withAdJoin(CONFIG, directory));
    const server = await startServer(dir);
    const externalPath = join(dir, 'entrasync-external.yaml');
    writeFileSync(externalPath, externalConfig(server.served, directory));
    const memory: MemoryPoint[] = [memoryPoint('start (bench code loaded)')];
    const rssBefore = process.resourceUsage().maxRSS;

    // ---- cold pass: the stages `plan` runs, each timed once, the simulator in another process
    const [runtime, openMs] = await timed(() => openRuntime(externalPath, new Redactor()));
    const spec = runtime.loaded.spec;
    memory.push(memoryPoint('openRuntime'));
    const [snapshots, sourcesMs] = await timed(() => readSources(runtime.sources));
    memory.push(memoryPoint('readSources (CSV and directory snapshots kept)'));
    await server.request('mark');
    const [tenant, tenantMs] = await timed(() => readTenant(spec, runtime.target.reader));
    memory.push(memoryPoint('readTenant (tenant state kept)'));
    const served = JSON.parse(await server.request('stats')) as ServedStats;
    const [computed, computeMs] = await timed(() => computePlanWithStages(spec, snapshots, tenant));
    const plan = computed.plan;
    // The stages, dropped one by one to see what each keeps alive beyond the plan; `plan`
    // keeps none of them.
    const stages: Partial<Record<keyof typeof computed.stages, unknown>> = { ...computed.stages };
    (computed as { stages?: unknown }).stages = undefined;
    memory.push(memoryPoint('computePlanWithStages (plan + stages kept)'));
    for (const name of ['matched', 'classified', 'mapped', 'joined'] as const) {
      stages[name] = undefined;
      memory.push(memoryPoint(`  ... ${name} dropped`));
    }
    const [text, textMs] = await timed(() => renderPlanText(plan));
    const [json, jsonMs] = await timed(() => renderPlanJson(plan));
    memory.push(memoryPoint('renderPlanText + renderPlanJson (strings kept)'));
    const rssCold = process.resourceUsage().maxRSS;
    await runtime.close();

    // ---- whole processes: `plan` alone (external simulator), and with the embedded one
    const alone = runChild('--plan-alone', externalPath);
    const embedded = runChild('--plan-embedded', join(dir, 'entrasync.yaml'));
    const simulatorRss = (JSON.parse(await server.request('stats')) as ServedStats).maxRSS;
    await server.close();

    // ---- planRun as a whole, through the runtime's embedded simulator (throttling on)
    const embeddedRuntime = await openRuntime(join(dir, 'entrasync.yaml'), new Redactor());
    const [whole, wholeMs] = await timed((): Promise<Plan> =>
      planRun(embeddedRuntime.loaded.spec, planIO(embeddedRuntime)),
    );
    await embeddedRuntime.close();

    // ---- the pure pipeline, stage by stage, at 25/50/100% of the people
    const scales: StageTimes[] = [];
    for (const fraction of [0.25, 0.5, 1])
      scales.push(await stageTimes(spec, snapshots, tenant, fraction));
    const rssEnd = process.resourceUsage().maxRSS;

    const count = (kind: string): number => plan.changes.filter((c) => c.kind === kind).length;
    const kinds = [...new Set(plan.changes.map((c) => c.kind))].sort();
    const people = snapshots.reduce((n, s) => n + s.records.length, 0);

    process.stdout.write(
      `Plan benchmark: ${PEOPLE.toLocaleString('en')} seeded users, all managed; CSV of ${prepared.rows.toLocaleString('en')} rows ` +
        `(${prepared.leavers} leavers removed, ${prepared.hires} new hires, ${prepared.changes} department changes)\n` +
        `joined by employee id with the same people in OpenLDAP (slapd, ldaps://, giving mail); ${GROUPS.toLocaleString('en')} other groups and 3 SKUs in the tenant\n` +
        `workload prepared in a child process in ${ms(prepMs)} (seed ${ms(prepared.seedMs)}, marking ${ms(prepared.markMs)}), directory loaded in ${ms(directoryMs)}; ` +
        `the cold pass reads the tenant from a simulator in another process\n`,
    );
    table('Cold plan, stage by stage (first run in this process)', [
      ['stage', 'wall time'],
      ['openRuntime (load config, credential for the external simulator)', ms(openMs)],
      [
        `readSources (CSV + LDAP concurrently, ${people.toLocaleString('en')} records)`,
        ms(sourcesMs),
      ],
      [
        `readTenant (${tenant.users.length.toLocaleString('en')} users, Graph over HTTPS)`,
        ms(tenantMs),
      ],
      ['computePlanWithStages (pure pipeline)', ms(computeMs)],
      [`renderPlanText (${(text.length / 1e6).toFixed(1)} MB)`, ms(textMs)],
      [`renderPlanJson (${(json.length / 1e6).toFixed(1)} MB)`, ms(jsonMs)],
      ['total (sum of the above)', ms(openMs + sourcesMs + tenantMs + computeMs + textMs + jsonMs)],
      ['`plan` as a fresh process, external simulator (open, planRun, render text)', ms(alone.ms)],
      ['  ... its own CPU time (user + system; the servers share the 2 cores)', ms(alone.cpuMs)],
      ['`plan` as a fresh process, embedded simulator (auth.method: simulator)', ms(embedded.ms)],
      ['planRun as a whole, embedded simulator in this process, throttling on', ms(wholeMs)],
    ]);
    table('Graph requests for the tenant read', [
      ['request', 'count'],
      ...served.byPath.sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, String(v)]),
      ['all HTTP requests (identity endpoints included)', String(served.requests)],
      ['Graph requests answered', String(served.graphRequests)],
      ['429s', String(served.throttled)],
    ]);
    table('Plan produced', [
      ['figure', 'value'],
      ['managed users', String(plan.managedUsers)],
      ...kinds.map((k) => [`changes: ${k}`, String(count(k))]),
      ['blocked', String(plan.blocked.length)],
      [
        'issues / warnings / ignored',
        `${plan.issues.length} / ${plan.warnings.length} / ${plan.ignored.length}`,
      ],
      [
        'planRun (embedded simulator) gives the same changes',
        String(
          whole.changes.length === plan.changes.length &&
            whole.changes.every((c, i) => c.id === plan.changes[i]?.id),
        ),
      ],
    ]);
    const names = [...(scales[0]?.times.keys() ?? [])];
    table('Pure pipeline stage by stage (warm; first n people and accounts)', [
      ['stage', ...scales.map((s) => `n=${s.people.toLocaleString('en')}`), 'x for 4x n'],
      ...names.map((name) => {
        const first = scales[0]?.times.get(name) ?? 0;
        const last = scales.at(-1)?.times.get(name) ?? 0;
        return [
          name,
          ...scales.map((s) => ms(s.times.get(name) ?? 0)),
          first > 0.5 ? (last / first).toFixed(1) : '-',
        ];
      }),
      [
        'map: µs per person',
        ...scales.map(
          (s) => `${(((s.times.get('map (JSONata)') ?? 0) * 1000) / s.people).toFixed(1)} µs`,
        ),
        '',
      ],
    ]);
    table('Memory of the cold pass, after each stage (this process; the simulator is not in it)', [
      ['after', 'RSS', 'peak RSS', 'live heap', 'buffers'],
      ...memory.map((m) => [m.stage, mib(m.rss), mib(m.maxRSS), mib(m.heap), mib(m.external)]),
    ]);
    table('Memory (process.resourceUsage().maxRSS)', [
      ['when', 'peak RSS'],
      ['after preparing (child process did the seeding)', mib(rssBefore)],
      ['after the cold plan + renders: plan alone (simulator in another process)', mib(rssCold)],
      ['`plan` as a fresh process, external simulator', mib(alone.maxRSS)],
      ['  ... highest sampled while reading sources and tenant', mib(alone.readingRSS)],
      ['`plan` as a fresh process, embedded simulator in it', mib(embedded.maxRSS)],
      ['the external simulator process (served all the reads)', mib(simulatorRss)],
      ['this process at the end (embedded planRun and warm stages included)', mib(rssEnd)],
    ]);
  } finally {
    await directory?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--prepare') {
  const dir = process.argv[3];
  if (dir === undefined) throw new Error('--prepare needs a directory');
  prepare(dir);
} else if (process.argv[2] === '--serve') {
  const dir = process.argv[3];
  if (dir === undefined) throw new Error('--serve needs a directory');
  await serve(dir);
} else if (process.argv[2] === '--plan-alone' || process.argv[2] === '--plan-embedded') {
  const config = process.argv[3];
  if (config === undefined) throw new Error(`${process.argv[2]} needs a config file`);
  await planProcess(config);
} else {
  await main();
}
