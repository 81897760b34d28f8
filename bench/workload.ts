/**
 * Shared by bench/apply.ts and bench/naive.ts: entrasync's real path (a config with group and
 * license rules, `readTenant` through the entra reader, `computePlan`, `applyPlan` with the
 * entra writer) against the simulator's throttled buckets and virtual clock, with the Graph
 * requests it makes counted from the simulator's request log. Not a benchmark by itself.
 *
 * The config: nine mapped attributes (as bench/plan.ts), three static group rules (`Team 0..2`,
 * everyone in scope) and one license rule for SPE_E3 for people whose `licensed` column is
 * `yes`, assigned `direct` (assignLicense per user) or by `group` (a managed group
 * `entrasync-license-spe_e3` holding the license).
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { parseConfig } from '../config/load.js';
import { groupSlug } from '../engine/expr/normalize.js';
import { createClientSecretCredential, createEntraTarget } from '../connectors/entra/index.js';
import { applyPlan } from '../engine/apply/apply.js';
import { computePlan, readTenant } from '../engine/index.js';
import type { Plan } from '../engine/model/plan.js';
import type { SourceRecord, SourceSnapshot } from '../engine/model/source.js';
import type { SyncSpec } from '../engine/model/spec.js';
import type {
  DirectoryDocument,
  RunningSimulator,
  TenantStore,
  UserDocument,
} from '../simulator/index.js';
import {
  DEFAULT_SKUS,
  createVirtualClock,
  openTenantStore,
  seedTenant,
  startSimulator,
} from '../simulator/index.js';
import type { VirtualClock } from '../simulator/index.js';

export const CEILING = 3000 / 150; // writes per second per app+tenant
export const DOMAIN = 'contoso.example';
export const E3 = DEFAULT_SKUS[0].skuId;
export const TEAMS = [0, 1, 2].map((g) => `Team ${g}`);
/**
 * `direct`: assignLicense per user; `group`: a managed license group (`assignBy: group`);
 * `team`: the license held by one of the three team groups (`groups[].licenses`), so it costs
 * no write of its own per user.
 */
export type Licensing = 'direct' | 'group' | 'team';

const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);
const FIELDS = [
  'employee_id',
  'username',
  'first_name',
  'last_name',
  'department',
  'job_title',
  'office',
  'country',
  'status',
  'licensed',
] as const;
export type Person = Record<(typeof FIELDS)[number], string>;

/**
 * The HR source and the user mapping every benchmark config shares (bench/plan.ts,
 * bench/daemon.ts through it, and the apply benchmarks): nine attributes from the CSV columns
 * of `Person`, `employeeId` as the anchor, disable on leave.
 */
export const HR_USERS_YAML = `sources:
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
`;

export function configText(licensing: Licensing): string {
  const brake = '{ count: 10000000 }';
  return `version: 1
target:
  auth:
    method: simulator
${HR_USERS_YAML}groups:
${TEAMS.map((name, g) => `  - name: ${name}\n    key: team-${g}\n    description: ${teamDescription(g)}${licensing === 'team' && g === 0 ? '\n    licenses: [{ sku: SPE_E3 }]' : ''}`).join('\n')}
${
  licensing === 'team'
    ? ''
    : `licenses:
  - sku: SPE_E3
    when: "licensed = 'yes'"
    assignBy: ${licensing}`
}
safety:
${['maxCreates', 'maxUpdates', 'maxEnables', 'maxDisables', 'maxDeletes', 'maxLicenseRemovals', 'maxMembershipRemovals'].map((k) => `  ${k}: ${brake}`).join('\n')}
`;
}

const teamDescription = (g: number): string => `Team ${g} of the benchmark`;

export function specFor(licensing: Licensing): SyncSpec {
  return parseConfig(configText(licensing), { file: '/bench/entrasync.yaml' }).spec;
}

/** The managed team groups as they are after an earlier run made them (uniqueName `entrasync-team-N`). */
export function teamGroups(): DirectoryDocument[] {
  return TEAMS.map((displayName, g) => ({
    id: randomUUID(),
    displayName,
    description: teamDescription(g),
    mailNickname: `entrasync-team-${g}`,
    mailEnabled: false,
    securityEnabled: true,
    groupTypes: [],
    uniqueName: `entrasync-team-${g}`,
  }));
}

/** The managed license group as an earlier `assignBy: group` run left it. */
export function licenseGroup(spec: SyncSpec): DirectoryDocument {
  const rule = spec.licenses[0];
  if (!rule) throw new Error('the bench config has no license rule');
  return {
    id: randomUUID(),
    displayName: `License - ${rule.sku}`,
    description: `Members get ${rule.sku} (group-based licensing, managed by entrasync ${rule.configPath})`,
    mailNickname: `entrasync-license-${groupSlug(rule.sku)}`,
    mailEnabled: false,
    securityEnabled: true,
    groupTypes: [],
    uniqueName: `${spec.marker.groupPrefix}license-${groupSlug(rule.sku)}`,
  };
}

export function newHire(i: number): Person {
  return {
    employee_id: `N${i}`,
    username: `new${i}`,
    first_name: 'New',
    last_name: String(i),
    department: 'Engineering',
    job_title: 'Associate',
    office: 'Building 1',
    country: 'gb',
    status: 'active',
    licensed: 'yes',
  };
}

export function snapshotOf(people: readonly Person[]): SourceSnapshot {
  const records: SourceRecord[] = people.map((p, i) => ({
    source: 'hr',
    key: p.employee_id,
    fields: p,
    location: { file: 'employees.csv', line: i + 2 },
  }));
  return { name: 'hr', kind: 'csv', status: 'complete', fields: [...FIELDS], records, issues: [] };
}

/** Seed of an onboarding run: no users, the three team groups, SPE_E3 with `seats` seats. */
export function onboardingSeed(seats: number): unknown {
  return {
    users: [],
    groups: teamGroups(),
    subscribedSkus: [
      {
        skuId: E3,
        skuPartNumber: 'SPE_E3',
        prepaidUnits: { enabled: seats, warning: 0 },
        servicePlans: [],
      },
    ],
  };
}

/** The office of the i-th seeded user (and of the i-th new hire). */
export function officeOf(index: number): string {
  return `Building ${String(1 + (index % 40))}`;
}

/**
 * Marks every user of the store as managed by the bench config (its marker `entrasync:hr`) and gives each its
 * `officeOf`, in one transaction, as an earlier run would have left them. Returns the users as
 * they were before (ids, names and mails do not change).
 */
export function markManaged(store: TenantStore): UserDocument[] {
  const users = store.listUsers();
  store.transaction(() => {
    users.forEach((user, i) => {
      const ext = (user['onPremisesExtensionAttributes'] ?? {}) as Record<string, unknown>;
      store.updateObject(
        'user',
        {
          ...user,
          officeLocation: officeOf(i),
          onPremisesExtensionAttributes: { ...ext, extensionAttribute15: 'entrasync:hr' },
        },
        ['officeLocation', 'onPremisesExtensionAttributes'],
      );
    });
  });
  return users;
}

/**
 * A managed tenant of `users` accounts (seedTenant, seed 1) in the state this config keeps,
 * written to `statePath`: every account marked managed with an office, in the three team
 * groups, and with `licensing: group` the license group holding SPE_E3 with every licensed
 * account as member. Returns the people of the HR file that describes exactly this tenant.
 */
export function prepareManagedTenant(
  statePath: string,
  users: number,
  licensing: Licensing,
  spec: SyncSpec,
  nowMs: number,
): Person[] {
  const licensed = (u: UserDocument): boolean => u['assignedLicenses'] !== undefined;
  let store = openTenantStore(statePath);
  let all: UserDocument[];
  try {
    seedTenant(store, { users, groups: 0, seed: 1 });
    all = markManaged(store);
    const ids = all.map((u) => u.id);
    for (const group of teamGroups()) {
      store.insertObject('group', group);
      store.addLinks('member', group.id, ids, nowMs);
    }
  } finally {
    store.close();
  }
  analyze(statePath);
  if (licensing === 'group') {
    store = openTenantStore(statePath);
    try {
      const group = licenseGroup(spec);
      store.insertObject('group', group);
      store.assignGroupLicenses(group.id, [{ skuId: E3, disabledPlans: [] }], [], nowMs);
      store.addLinks(
        'member',
        group.id,
        all.filter(licensed).map((u) => u.id),
        nowMs,
      );
    } finally {
      store.close();
    }
    analyze(statePath);
  }
  return all.map((user, i) => ({
    employee_id: String(user['employeeId']),
    username: String(user['mailNickname']),
    first_name: String(user['givenName']),
    last_name: String(user['surname']),
    department: String(user['department']),
    job_title: String(user['jobTitle']),
    office: officeOf(i),
    country: String(user['usageLocation']).toLowerCase(),
    status: user['accountEnabled'] === false ? 'inactive' : 'active',
    licensed: licensed(user) ? 'yes' : 'no',
  }));
}

/**
 * Runs SQLite's ANALYZE on a closed state file, so the next store opened on it plans with
 * statistics. Without them (or with statistics from before the memberships existed) SQLite
 * answers "which groups is this user in" (`SELECT source_id FROM links WHERE rel = ? AND
 * target_id = ?`, run by every license recompute) by scanning the covering autoindex on (rel,
 * source_id, target_id), i.e. every membership in the tenant, instead of the `links_target`
 * index: adding 16,000 members to a licensed group took 2 minutes instead of about a second.
 * Simulator speed only: no figure depends on it.
 */
function analyze(statePath: string): void {
  const db = new Database(statePath);
  try {
    db.exec('ANALYZE');
  } finally {
    db.close();
  }
}

/** Requests the simulator logged in one phase, from its request log. */
export interface RequestCounts {
  /** HTTP requests to Graph: top-level requests and `$batch` envelopes (identity endpoints not counted). */
  http: number;
  /** `$batch` envelopes among them. */
  batches: number;
  /** Graph requests answered, batch items counted one each (envelopes not). */
  graph: number;
  /** Token requests to the identity endpoints. */
  identity: number;
  /** Writes answered 2xx, by `METHOD /path` with ids as `{id}`. */
  writesByKind: Map<string, number>;
  writes: number;
  /** Write requests answered anything but 2xx or 429. */
  writesRefused: number;
  throttled: number;
}

export function countRequests(sim: RunningSimulator, from: number): RequestCounts {
  const counts: RequestCounts = {
    http: 0,
    batches: 0,
    graph: 0,
    identity: 0,
    writesByKind: new Map(),
    writes: 0,
    writesRefused: 0,
    throttled: 0,
  };
  const log = sim.requestLog;
  if (log.length >= 100_000) {
    throw new Error('the simulator request log is full: counts from it would be wrong');
  }
  for (let i = from; i < log.length; i += 1) {
    const e = log[i];
    if (!e) continue;
    const path = e.path.replace(/^\/v1\.0/, '');
    if (!e.batch && !e.path.startsWith('/v1.0')) {
      counts.identity += 1;
      continue;
    }
    if (!e.batch) counts.http += 1;
    if (path === '/$batch') {
      counts.batches += 1;
      continue;
    }
    counts.graph += 1;
    if (e.status === 429) counts.throttled += 1;
    if (!WRITE_METHODS.has(e.method) || e.status === 429) continue;
    if (e.status < 200 || e.status >= 300) {
      counts.writesRefused += 1;
      continue;
    }
    counts.writes += 1;
    const kind = `${e.method} ${path
      .replace(/\?.*$/, '')
      .replace(/\(uniqueName='[^']*'\)/, "(uniqueName='…')")
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '{id}')}`;
    counts.writesByKind.set(kind, (counts.writesByKind.get(kind) ?? 0) + 1);
  }
  return counts;
}

export interface PipelineFigures {
  readonly plan: Plan;
  readonly changesByKind: Map<string, number>;
  readonly read: RequestCounts;
  readonly apply: RequestCounts;
  /** Simulated seconds of the tenant read and of the apply. */
  readonly readSeconds: number;
  readonly applySeconds: number;
  /** Wall seconds: tenant read, computePlan, applyPlan. */
  readonly readReal: number;
  readonly planReal: number;
  readonly applyReal: number;
  readonly failed: number;
  readonly notApplied: Map<string, number>;
  readonly slowDowns: number;
}

/**
 * One `plan` + `apply` of `spec` over `snapshot` against `sim`: the tenant read through the
 * entra reader, `computePlan`, then `applyPlan` with the entra writer (pacing at
 * `writesPerSecond`, default Graph's 20/s).
 */
export async function planAndApply(
  sim: RunningSimulator,
  clock: VirtualClock,
  spec: SyncSpec,
  snapshot: SourceSnapshot,
  writesPerSecond?: number,
): Promise<PipelineFigures> {
  const app = sim.clients[0];
  if (!app) throw new Error('simulator has no client');
  const connection = {
    graphUrl: sim.origin,
    authorityHost: sim.authorityHost,
    tenantId: sim.tenantId,
    caPem: sim.caPem,
  };
  const target = createEntraTarget(
    connection,
    () => createClientSecretCredential(connection, app.clientId, app.clientSecret),
    {
      clock,
      identity: {
        anchorAttribute: spec.users.anchorAttribute,
        markerAttribute: spec.marker.attribute,
      },
      ...(writesPerSecond === undefined ? {} : { writesPerSecond }),
    },
  );
  const real = (): number => performance.now() / 1000;

  const readFrom = sim.requestLog.length;
  let started = clock.now();
  let realStarted = real();
  const tenant = await readTenant(spec, target.reader);
  const readSeconds = (clock.now() - started) / 1000;
  const readReal = real() - realStarted;
  const read = countRequests(sim, readFrom);

  realStarted = real();
  const plan = await computePlan(spec, [snapshot], tenant, { now: clock.now() });
  const planReal = real() - realStarted;
  if (plan.blocked.length > 0 || plan.issues.some((i) => i.severity === 'error')) {
    throw new Error(
      `the bench plan is blocked or has errors: ${[...plan.blocked.map((b) => b.message), ...plan.issues.map((i) => i.message)].slice(0, 5).join('; ')}`,
    );
  }

  const applyFrom = sim.requestLog.length;
  started = clock.now();
  realStarted = real();
  const report = await applyPlan(plan, target.writer);
  const applySeconds = (clock.now() - started) / 1000;
  const applyReal = real() - realStarted;
  const apply = countRequests(sim, applyFrom);

  const changesByKind = new Map<string, number>();
  for (const c of plan.changes) changesByKind.set(c.kind, (changesByKind.get(c.kind) ?? 0) + 1);
  const notApplied = new Map<string, number>();
  for (const op of report.ops) {
    if (op.outcome === 'applied') continue;
    const key = `${op.kind} ${op.outcome}${op.error ? ` (${op.error.code})` : ''}`;
    notApplied.set(key, (notApplied.get(key) ?? 0) + 1);
  }
  return {
    plan,
    changesByKind,
    read,
    apply,
    readSeconds,
    applySeconds,
    readReal,
    planReal,
    applyReal,
    failed: report.ops.filter((o) => o.outcome !== 'applied').length,
    notApplied,
    slowDowns: target.pacer.snapshot().slowDowns,
  };
}

/**
 * Onboarding: `people` new hires (`newHire`) against a tenant with the three team groups and
 * enough seats, planned and applied; with `rerun`, the next day (Graph's buckets full again)
 * once more with 1% of them renamed (`New i (renamed)`, as bench/naive.ts's second run).
 */
export async function onboarding(
  people: number,
  licensing: Licensing,
  options: { readonly writesPerSecond?: number; readonly rerun?: boolean } = {},
): Promise<PipelineFigures[]> {
  const clock = createVirtualClock();
  const sim = await startSimulator({ clock, seed: onboardingSeed(people + 10) });
  try {
    const spec = specFor(licensing);
    const hires = Array.from({ length: people }, (_, i) => newHire(i));
    const runs = [await planAndApply(sim, clock, spec, snapshotOf(hires), options.writesPerSecond)];
    if (options.rerun) {
      clock.advance(24 * 60 * 60 * 1000);
      const renamed = hires.map((p, i) =>
        i % 100 === 0 ? { ...p, last_name: `${p.last_name} (renamed)` } : p,
      );
      runs.push(await planAndApply(sim, clock, spec, snapshotOf(renamed), options.writesPerSecond));
    }
    return runs;
  } finally {
    await sim.close();
  }
}
