/**
 * The chaos campaign's workload (issue 18): a tenant prepared once, fault-free, through
 * entrasync's own plan/apply (so it holds exactly what earlier runs leave), and the config and
 * HR file whose plan against it holds every kind of change apply makes:
 *
 * - creates (with managers, direct E3 and group-based EMS licenses, memberships), an update, a
 *   mover (update, member removal and add), an FTE made contractor (direct license removed, EMS
 *   group joined), a returner re-enabled, two leavers disabled with sessions revoked, two
 *   leavers past `deleteAfterDays` deleted;
 * - group creates: static (`Chaos Crew`), per department (`Dept - Legal`) and Microsoft 365
 *   (`Research Guild`);
 * - beside a protected, a privileged (Global Administrator) and an unmanaged account, none of
 *   them in the HR file: they must never be disabled or deleted.
 *
 * The setup runs on the simulator's virtual clock: disables happen on day 1, access is removed
 * on day 9, and the chaos plan is made on day 40.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../config/load.js';
import type { LoadedConfig } from '../../config/load.js';
import { applyRun, planRun } from '../../engine/index.js';
import { connect } from '../helpers/connect.js';
import type { FaultPlan, RunningSimulator, VirtualClock } from '../../simulator/index.js';
import { createVirtualClock, startSimulator } from '../../simulator/index.js';

export const DAY = 86_400_000;
const E3 = '05e9a617-0261-4cee-bb44-138d3ef5d965';
const EMS = 'efccb6f7-5641-4e0e-bd10-b4976e1bf68e';

/** Accounts outside every plan's intent: never disabled or deleted. */
export const BYSTANDERS = [
  'protected.person@contoso.com',
  'admin.person@contoso.com',
  'unmanaged.person@contoso.com',
  'it.admin@contoso.com',
];

interface Person {
  id: number;
  first: string;
  dept: string;
  title: string;
  type: 'FTE' | 'Contractor';
  manager?: number;
  status?: string;
}

const DEPTS = ['Engineering', 'Research', 'Sales'];

function basePeople(): Person[] {
  return Array.from({ length: 20 }, (_, i) => {
    const dept = DEPTS[i % 3]!;
    const head = 3000 + (i % 3);
    return {
      id: 3000 + i,
      first: `P${i}`,
      dept,
      title: i < 3 ? 'Head' : 'Staff',
      type: i % 5 === 4 ? 'Contractor' : 'FTE',
      ...(i < 3 ? {} : { manager: head }),
    };
  });
}

function csvOf(people: readonly Person[]): string {
  const rows = [
    'employee_id,first_name,last_name,department,job_title,country,employee_type,manager_id,status',
  ];
  for (const p of people) {
    rows.push(
      [
        p.id,
        p.first,
        'Chaos',
        p.dept,
        p.title,
        'US',
        p.type,
        p.manager ?? '',
        p.status ?? 'active',
      ].join(','),
    );
  }
  return rows.join('\n') + '\n';
}

/** HR files of the setup phases and of the chaos plan. */
function phases(): { setup: string; leavers: string; chaos: string } {
  const all = basePeople();
  const setup = csvOf(all);
  // Day 1: 3005 and 3006 leave (deleted on day 40), 3007 leaves and returns on day 40.
  const leavers = csvOf(all.filter((p) => ![3005, 3006, 3007].includes(p.id)));
  const chaos: Person[] = all
    .filter((p) => ![3005, 3006, 3008, 3009].includes(p.id))
    .map((p) => {
      if (p.id === 3010) return { ...p, dept: 'Sales', manager: 3002 }; // mover
      if (p.id === 3011) return { ...p, type: 'Contractor' as const }; // FTE -> contractor
      if (p.id === 3013) return { ...p, title: 'Lead' }; // update
      return p;
    });
  for (let i = 0; i < 8; i++) {
    chaos.push({
      id: 3100 + i,
      first: `H${i}`,
      dept: i < 3 ? 'Legal' : DEPTS[i % 3]!,
      title: 'New',
      type: i % 4 === 3 ? 'Contractor' : 'FTE',
      manager: i === 0 ? 3000 : i < 3 ? 3100 : 3000 + (i % 3),
    });
  }
  return { setup, leavers, chaos: csvOf(chaos) };
}

function config(extraGroups: string): string {
  return `version: 1
target:
  auth: { method: simulator }
sources:
  hr: { kind: csv, path: employees.csv, key: employee_id }
users:
  anchor: employee_id
  attributes:
    userPrincipalName: "$lowercase(first_name & '.' & last_name) & '@contoso.com'"
    displayName: "first_name & ' ' & last_name"
    givenName: first_name
    surname: last_name
    department: department
    jobTitle: job_title
    employeeType: employee_type
    usageLocation: country
    accountEnabled: "status = 'active'"
  manager: manager_id
  deprovision:
    action: disable
    removeAccessAfterDays: 7
    deleteAfterDays: 30
groups:
  - { name: All Staff, key: all-staff }
  - { name: "'Dept - ' & $value", key: dept, foreach: department }
  - name: Engineering Guild
    key: eng-guild
    type: microsoft365
    members: "department = 'Engineering' and employee_type = 'FTE'"
    owners: [it.admin@contoso.com]
${extraGroups}
licenses:
  - { sku: SPE_E3, when: "employee_type = 'FTE'", disabledPlans: [YAMMER_ENTERPRISE] }
  - { sku: EMS, when: "employee_type = 'Contractor'", assignBy: group }
safety:
  protect: [protected.person@contoso.com]
  maxCreates: { count: 1000 }
  maxUpdates: { count: 1000 }
  maxDisables: { count: 1000 }
  maxDeletes: { count: 1000 }
  maxLicenseRemovals: { count: 1000 }
  maxMembershipRemovals: { count: 1000 }
  minSourceRatio: 0
`;
}

const CHAOS_GROUPS = `  - { name: Chaos Crew, key: chaos-crew, members: "department = 'Legal'" }
  - name: Research Guild
    key: research-guild
    type: microsoft365
    members: "department = 'Research'"
    owners: [it.admin@contoso.com]`;

function managed(upn: string, id: string, extra: Record<string, unknown> = {}) {
  const name = upn.split('@')[0]!;
  return {
    userPrincipalName: upn,
    displayName: name,
    mailNickname: name.replace(/\./g, ''),
    accountEnabled: true,
    usageLocation: 'US',
    employeeId: id,
    onPremisesExtensionAttributes: { extensionAttribute15: 'entrasync' },
    ...extra,
  };
}

function seed(): unknown {
  const plain = (upn: string) => {
    const name = upn.split('@')[0]!;
    return {
      userPrincipalName: upn,
      displayName: name,
      mailNickname: name.replace(/\./g, ''),
      accountEnabled: true,
      usageLocation: 'US',
    };
  };
  return {
    users: [
      plain('it.admin@contoso.com'),
      plain('unmanaged.person@contoso.com'),
      managed('protected.person@contoso.com', '2901'),
      managed('admin.person@contoso.com', '2900'),
    ],
    roleAssignments: [{ principal: 'admin.person@contoso.com', role: 'Global Administrator' }],
    subscribedSkus: [
      {
        skuId: E3,
        skuPartNumber: 'SPE_E3',
        prepaidUnits: { enabled: 100 },
        servicePlans: [
          {
            servicePlanId: '7547a3fe-08ee-4ccb-b430-5077c5041653',
            servicePlanName: 'YAMMER_ENTERPRISE',
          },
          {
            servicePlanId: 'efb87545-963c-4e0d-99df-69c6916d9eb0',
            servicePlanName: 'EXCHANGE_S_ENTERPRISE',
          },
        ],
      },
      {
        skuId: EMS,
        skuPartNumber: 'EMS',
        prepaidUnits: { enabled: 100 },
        servicePlans: [
          { servicePlanId: 'c1ec4a95-1f05-45b3-a911-aa3fa01094f5', servicePlanName: 'INTUNE_A' },
        ],
      },
    ],
  };
}

/** A prepared workload: the tenant's state file at day 40 and the chaos config. */
export interface Workload {
  readonly dir: string;
  readonly statePath: string;
  readonly configPath: string;
  /** Clock time (virtual) the chaos plan is made at. */
  readonly now: number;
  /** The chaos config, loaded once. */
  readonly loaded?: LoadedConfig;
}

/** Runs the setup phases fault-free into `dir` (once per campaign). */
export async function prepareWorkload(dir: string): Promise<Workload> {
  mkdirSync(dir, { recursive: true });
  const csv = phases();
  const setupConfig = join(dir, 'setup', 'entrasync.yaml');
  const chaosConfig = join(dir, 'chaos', 'entrasync.yaml');
  mkdirSync(join(dir, 'setup'), { recursive: true });
  mkdirSync(join(dir, 'chaos'), { recursive: true });
  writeFileSync(setupConfig, config(''));
  writeFileSync(chaosConfig, config(CHAOS_GROUPS));
  writeFileSync(join(dir, 'chaos', 'employees.csv'), csv.chaos);
  const statePath = join(dir, 'tenant.db');
  const clock = createVirtualClock();
  const sim = await startSimulator({ statePath, clock, seed: seed() });
  try {
    const steps: [string, number][] = [
      [csv.setup, 0],
      [csv.leavers, DAY],
      [csv.leavers, 8 * DAY],
    ];
    for (const [hr, advance] of steps) {
      clock.advance(advance);
      writeFileSync(join(dir, 'setup', 'employees.csv'), hr);
      const loaded = await loadConfig(setupConfig);
      const { sources, target } = connect(loaded, sim, clock);
      const plan = await planRun(
        loaded.spec,
        { sources, target: target.reader },
        { now: clock.now() },
      );
      if (plan.blocked.length > 0) {
        throw new Error(`chaos setup: plan blocked: ${plan.blocked[0]?.message ?? ''}`);
      }
      const report = await applyRun(plan, loaded.spec, {
        target: target.reader,
        writer: target.writer,
      });
      const bad = report.ops.filter((o) => o.outcome !== 'applied');
      if (bad.length > 0) throw new Error(`chaos setup: ${JSON.stringify(bad[0])}`);
    }
    clock.advance(31 * DAY);
    const loaded = await loadConfig(chaosConfig);
    return { dir, statePath, configPath: chaosConfig, now: clock.now(), loaded };
  } finally {
    await sim.close();
  }
}

/** A fresh copy of the prepared tenant for one run, at `name`. */
export function copyState(workload: Workload, name: string): string {
  const target = join(workload.dir, `${name}.db`);
  copyFileSync(workload.statePath, target);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(workload.statePath + suffix)) {
      copyFileSync(workload.statePath + suffix, target + suffix);
    }
  }
  return target;
}

export function startChaosSimulator(
  workload: Workload,
  name: string,
  faultPlan: FaultPlan | undefined,
): Promise<{ sim: RunningSimulator; clock: VirtualClock }> {
  const clock = createVirtualClock(workload.now);
  return startSimulator({
    statePath: copyState(workload, name),
    clock,
    ...(faultPlan ? { faultPlan } : {}),
  }).then((sim) => ({ sim, clock }));
}
