/**
 * Benchmark: a full `plan` from cold at 100,000 people (issue 11). Prints figures; asserts
 * nothing.
 *
 * Workload (deterministic): a simulated tenant seeded with `seedTenant` (100,000 users, seed 1),
 * every user marked as managed (`extensionAttribute15 = entrasync`) and given an
 * `officeLocation`; an HR CSV derived from those users with 1% churn: 500 leavers (rows
 * removed), 500 new hires (rows added), 1,000 department changes. The config maps nine
 * attributes plus `employeeId` as the anchor, with the safety brakes raised.
 *
 * The workload is prepared in a child process (this file with `--prepare <dir>`), so the peak
 * RSS printed is the plan's (plus the simulator serving it, in this same process, as the
 * embedded simulator does for `entrasync plan`), not the seeding's.
 *
 * Measured, through the real code path (`openRuntime`, `readSources`, `readTenant`,
 * `computePlanWithStages`, `planRun`, `renderPlanText`, `renderPlanJson`):
 *
 * - cold pass: each stage timed once, in the order `plan` runs them, with the tenant read made
 *   against a simulator started here (throttling off) so its Graph requests can be counted;
 * - `planRun` as a whole through the runtime's own embedded simulator (throttling on, as the
 *   CLI runs it);
 * - the pure pipeline stage by stage (JSONata `map` in µs per person) at 25%, 50% and 100% of
 *   the people, to show how each stage grows.
 *
 *   npm run bench -- plan            (ENTRASYNC_BENCH_PEOPLE=100000 by default)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRuntime } from '../cli/runtime.js';
import { createClientSecretCredential, createEntraTarget } from '../connectors/entra/index.js';
import { computePlan, planRun, readSources, readTenant } from '../engine/index.js';
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

const PEOPLE = Number(process.env['ENTRASYNC_BENCH_PEOPLE'] ?? 100_000);
const LEAVERS = Math.round(PEOPLE * 0.005);
const HIRES = Math.round(PEOPLE * 0.005);
const CHANGES = Math.round(PEOPLE * 0.01);
const DOMAIN = 'contoso.example';
const DEPARTMENTS = ['Engineering', 'Finance', 'Sales', 'Marketing', 'Support', 'Legal'];

const CONFIG = `version: 1
target:
  auth:
    method: simulator
  simulator:
    state: tenant.db
sources:
  hr:
    kind: csv
    path: employees.csv
    key: employee_id
users:
  anchor: employee_id
  anchorAttribute: employeeId
  match: [anchor, userPrincipalName]
  attributes:
    userPrincipalName: "$lowercase(username) & '@${DOMAIN}'"
    displayName: "first_name & ' ' & last_name"
    givenName: first_name
    surname: last_name
    department: department
    jobTitle: job_title
    officeLocation: office
    usageLocation: "$uppercase(country)"
    accountEnabled: "status = 'active'"
  deprovision:
    action: disable
safety:
  maxCreates: { count: ${PEOPLE} }
  maxUpdates: { count: ${PEOPLE} }
  maxEnables: { count: ${PEOPLE} }
  maxDisables: { count: ${PEOPLE} }
`;

function officeOf(index: number): string {
  return `Building ${String(1 + (index % 40))}`;
}

/** Seeds the tenant, marks it managed, writes the churned CSV and the config into `dir`. */
function prepare(dir: string): void {
  const statePath = join(dir, 'tenant.db');
  const store = openTenantStore(statePath);
  const seeded = seedTenant(store, { users: PEOPLE, groups: 0, seed: 1 });
  const started = performance.now();
  const users = store.listUsers();
  store.transaction(() => {
    users.forEach((user, i) => {
      const ext = (user['onPremisesExtensionAttributes'] ?? {}) as Record<string, unknown>;
      store.updateObject(
        'user',
        {
          ...user,
          officeLocation: officeOf(i),
          onPremisesExtensionAttributes: { ...ext, extensionAttribute15: 'entrasync' },
        },
        ['officeLocation', 'onPremisesExtensionAttributes'],
      );
    });
  });
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

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-bench-plan-'));
  try {
    const prepStarted = performance.now();
    const prepared = JSON.parse(
      execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--prepare', dir], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    ) as Prepared;
    const prepMs = performance.now() - prepStarted;
    const rssBefore = process.resourceUsage().maxRSS;

    // ---- cold pass: the stages `plan` runs, each timed once
    const configPath = join(dir, 'entrasync.yaml');
    const [runtime, openMs] = await timed(() => openRuntime(configPath, new Redactor()));
    const spec = runtime.loaded.spec;
    const sim = await startSimulator({ statePath: join(dir, 'tenant.db'), throttling: false });
    const client = sim.clients[0];
    if (!client) throw new Error('simulator has no client');
    const connection = {
      graphUrl: sim.origin,
      authorityHost: sim.authorityHost,
      tenantId: sim.tenantId,
      caPem: sim.caPem,
    };
    const target = createEntraTarget(
      connection,
      () => createClientSecretCredential(connection, client.clientId, client.clientSecret),
      {
        identity: {
          anchorAttribute: spec.users.anchorAttribute,
          markerAttribute: spec.marker.attribute,
        },
      },
    );

    const [snapshots, sourcesMs] = await timed(() => readSources(runtime.sources));
    const before = { ...sim.counters };
    const logStart = sim.requestLog.length;
    const [tenant, tenantMs] = await timed(() => readTenant(spec, target.reader));
    const counters = sim.counters;
    const byPath = new Map<string, number>();
    for (const entry of sim.requestLog.slice(logStart)) {
      const path = entry.path.replace(/\?.*$/, '').replace(/[0-9a-f-]{36}/g, '{id}');
      byPath.set(`${entry.method} ${path}`, (byPath.get(`${entry.method} ${path}`) ?? 0) + 1);
    }
    const [{ plan }, computeMs] = await timed(() => computePlanWithStages(spec, snapshots, tenant));
    const [text, textMs] = await timed(() => renderPlanText(plan));
    const [json, jsonMs] = await timed(() => renderPlanJson(plan));
    const rssCold = process.resourceUsage().maxRSS;
    await sim.close();

    // ---- planRun as a whole, through the runtime's embedded simulator (throttling on)
    const [whole, wholeMs] = await timed((): Promise<Plan> =>
      planRun(spec, { sources: runtime.sources, target: runtime.target.reader }),
    );
    await runtime.close();

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
        `workload prepared in a child process in ${ms(prepMs)} (seed ${ms(prepared.seedMs)}, marking ${ms(prepared.markMs)})\n`,
    );
    table('Cold plan, stage by stage (first run in this process)', [
      ['stage', 'wall time'],
      ['openRuntime (load config, start embedded simulator)', ms(openMs)],
      [`readSources (CSV, ${people.toLocaleString('en')} records)`, ms(sourcesMs)],
      [
        `readTenant (${tenant.users.length.toLocaleString('en')} users, Graph over HTTPS)`,
        ms(tenantMs),
      ],
      ['computePlanWithStages (pure pipeline)', ms(computeMs)],
      [`renderPlanText (${(text.length / 1e6).toFixed(1)} MB)`, ms(textMs)],
      [`renderPlanJson (${(json.length / 1e6).toFixed(1)} MB)`, ms(jsonMs)],
      ['total (sum of the above)', ms(openMs + sourcesMs + tenantMs + computeMs + textMs + jsonMs)],
      ['planRun as a whole, 2nd run (sources || tenant, then computePlan)', ms(wholeMs)],
    ]);
    table('Graph requests for the tenant read', [
      ['request', 'count'],
      ...[...byPath.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, String(v)]),
      [
        'all HTTP requests (identity endpoints included)',
        String(counters.requests - before.requests),
      ],
      ['Graph requests answered', String(counters.graphRequests - before.graphRequests)],
      ['429s', String(counters.throttled - before.throttled)],
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
      ['planRun gives the same fingerprint', String(whole.fingerprint === plan.fingerprint)],
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
    table('Memory (process.resourceUsage().maxRSS)', [
      ['when', 'peak RSS'],
      ['after preparing (child process did the seeding)', mib(rssBefore)],
      ['after the cold plan + renders', mib(rssCold)],
      ['at the end', mib(rssEnd)],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--prepare') {
  const dir = process.argv[3];
  if (dir === undefined) throw new Error('--prepare needs a directory');
  prepare(dir);
} else {
  await main();
}
