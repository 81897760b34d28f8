/** Literal builders for engine tests: plain data, no I/O. */
import { compileExpression } from '../../engine/expr/jsonata.js';
import { groupSlug } from '../../engine/expr/normalize.js';
import type { Expression } from '../../engine/expr/jsonata.js';
import type { SourceRecord, SourceSnapshot } from '../../engine/model/source.js';
import type {
  DeprovisionSpec,
  GroupSpec,
  LicenseSpec,
  MatchRule,
  SafetySpec,
  SyncSpec,
} from '../../engine/model/spec.js';
import { DEFAULT_DEPROVISION, DEFAULT_SAFETY, NO_APPROVALS } from '../../engine/model/spec.js';
import type { Approvals } from '../../engine/model/spec.js';
import type {
  AttributeValue,
  TenantGroup,
  TenantState,
  TenantUser,
} from '../../engine/model/tenant.js';
import type { Change, Plan } from '../../engine/model/plan.js';
import { subjectOf } from '../../engine/model/plan.js';
import { computePlan } from '../../engine/pipeline/plan.js';

export const MARKER = 'onPremisesExtensionAttributes.extensionAttribute15';

let line = 1;
export function expr(text: string, configPath = 'test'): Expression {
  const result = compileExpression(text, configPath, {
    file: 'entrasync.yaml',
    line: line++,
    column: 5,
  });
  if (!result.ok) throw new Error(`bad test expression ${text}: ${result.error.message}`);
  return result.expression;
}

export interface SpecOverrides {
  scope?: string;
  anchor?: string;
  match?: MatchRule[];
  attributes?: Record<string, string>;
  deprovision?: 'disable' | 'delete' | 'none' | Partial<DeprovisionSpec>;
  createOnly?: string[];
  manager?: string;
  groups?: (Partial<Omit<GroupSpec, 'name' | 'foreach' | 'members'>> & {
    name: string;
    foreach?: string;
    members?: string;
  })[];
  licenses?: (Partial<Omit<LicenseSpec, 'when'>> & { sku: string; when?: string })[];
  safety?: Partial<SafetySpec>;
  approvals?: Approvals;
}

export function aSpec(o: SpecOverrides = {}): SyncSpec {
  const attributes = o.attributes ?? {
    userPrincipalName: "$lowercase(first & '.' & last) & '@contoso.com'",
    displayName: "first & ' ' & last",
    department: 'department',
    accountEnabled: "status = 'active'",
  };
  return {
    configDigest: 'config-digest',
    primarySource: 'hr',
    links: [],
    marker: { attribute: MARKER, value: 'entrasync', groupPrefix: 'entrasync-' },
    users: {
      ...(o.scope ? { scope: expr(o.scope, 'users.scope') } : {}),
      anchor: expr(o.anchor ?? 'id', 'users.anchor'),
      anchorAttribute: 'employeeId',
      match: o.match ?? ['anchor', 'userPrincipalName'],
      attributes: Object.fromEntries(
        Object.entries(attributes).map(([k, v]) => [k, expr(v, `users.attributes.${k}`)]),
      ),
      deprovision: {
        ...DEFAULT_DEPROVISION,
        ...(typeof o.deprovision === 'string' ? { action: o.deprovision } : o.deprovision),
      },
      createOnly: o.createOnly ?? [],
      ...(o.manager ? { manager: expr(o.manager, 'users.manager') } : {}),
    },
    groups: (o.groups ?? []).map((g, i) => ({
      configPath: `groups[${i}]`,
      key: g.key ?? groupSlug(g.name),
      name: g.foreach ? expr(g.name, `groups[${i}].name`) : g.name,
      ...(g.foreach ? { foreach: expr(g.foreach, `groups[${i}].foreach`) } : {}),
      ...(g.members ? { members: expr(g.members, `groups[${i}].members`) } : {}),
      ...(g.description === undefined ? {} : { description: g.description }),
      type: g.type ?? 'security',
      owners: g.owners ?? [],
      licenses: g.licenses ?? [],
      ...(g.memberGroups ? { memberGroups: g.memberGroups } : {}),
    })),
    licenses: (o.licenses ?? []).map((l, i) => ({
      configPath: `licenses[${i}]`,
      sku: l.sku,
      disabledPlans: l.disabledPlans ?? [],
      ...(l.when ? { when: expr(l.when, `licenses[${i}].when`) } : {}),
      assignBy: l.assignBy ?? 'direct',
    })),
    safety: { ...DEFAULT_SAFETY, ...o.safety },
    approvals: o.approvals ?? NO_APPROVALS,
  };
}

export function aRecord(fields: Record<string, string>, line = 2, source = 'hr'): SourceRecord {
  return { source, key: fields.id ?? '', fields, location: { file: 'hr.csv', line } };
}

export function aPerson(
  id: string,
  first: string,
  last: string,
  extra: Record<string, string> = {},
) {
  return { id, first, last, department: 'Sales', status: 'active', ...extra };
}

export function aSnapshot(
  rows: Record<string, string>[],
  overrides: Partial<SourceSnapshot> = {},
): SourceSnapshot {
  return {
    name: 'hr',
    kind: 'csv',
    status: 'complete',
    fields: ['id', 'first', 'last', 'department', 'status'],
    records: rows.map((r, i) => aRecord(r, i + 2)),
    issues: [],
    ...overrides,
  };
}

let seq = 0;
export function anAccount(
  upn: string,
  attributes: Record<string, AttributeValue> = {},
  options: { managed?: boolean; id?: string } = {},
): TenantUser {
  return {
    id: options.id ?? `00000000-0000-0000-0000-${String(++seq).padStart(12, '0')}`,
    userPrincipalName: upn,
    attributes: {
      userPrincipalName: upn,
      accountEnabled: true,
      userType: 'Member',
      onPremisesSyncEnabled: null,
      [MARKER]: options.managed === false ? null : 'entrasync',
      ...attributes,
    },
  };
}

/** A managed group as the reader returns it: a security group with no members or licenses. */
export function aGroup(uniqueName: string, overrides: Partial<TenantGroup> = {}): TenantGroup {
  return {
    id: `group-${uniqueName}`,
    uniqueName,
    displayName: uniqueName,
    description: null,
    mailEnabled: false,
    securityEnabled: true,
    groupTypes: [],
    isAssignableToRole: false,
    memberIds: [],
    licenses: [],
    ...overrides,
  };
}

/** A source row, e.g. `aPerson(...)`: column name to value. */
export type Row = Record<string, string>;

/** The snapshot of `rows`, declaring every field its rows have (lint checks the spec against them). */
export function rowsSnapshot(rows: Row[], overrides: Partial<SourceSnapshot> = {}): SourceSnapshot {
  const fields = [
    ...new Set(['id', 'first', 'last', 'department', 'status', ...rows.flatMap(Object.keys)]),
  ];
  return aSnapshot(rows, { fields, ...overrides });
}

/** The UPN `aSpec`'s default mapping gives a row. */
export const upnOf = (row: Row): string => `${row.first}.${row.last}@contoso.com`.toLowerCase();

/** A managed account in sync with `aSpec`'s default mapping of `row` (no attribute drift). */
export function accountOfRow(
  row: Row,
  extra: Record<string, string | boolean | null> = {},
  options: Partial<Pick<TenantUser, 'licenses' | 'managerId'>> & { id?: string } = {},
): TenantUser {
  const upn = upnOf(row);
  const account = anAccount(
    upn,
    {
      employeeId: row.id ?? '',
      displayName: `${row.first} ${row.last}`,
      department: row.department ?? null,
      mailNickname: upn.split('@')[0] ?? '',
      accountEnabled: row.status === 'active',
      ...extra,
    },
    options.id === undefined ? {} : { id: options.id },
  );
  return {
    ...account,
    ...(options.licenses ? { licenses: options.licenses } : {}),
    ...(options.managerId ? { managerId: options.managerId } : {}),
  };
}

/** The plan for `rows` (the primary source's snapshot) against `tenant`, with the clock at `now`. */
export function planRows(
  spec: SyncSpec,
  rows: Row[],
  tenant: TenantState,
  now: number,
  snapshotOverrides: Partial<SourceSnapshot> = {},
): Promise<Plan> {
  return computePlan(spec, [rowsSnapshot(rows, snapshotOverrides)], tenant, { now });
}

/** The change type(s) of one kind (`kind` may be a union in the model, e.g. enable/disable). */
export type OfKind<K extends Change['kind'], C = Change> = C extends { kind: infer X }
  ? K extends X
    ? C
    : never
  : never;

export const ofKind = <K extends Change['kind']>(p: Plan, kind: K): OfKind<K>[] =>
  p.changes.filter((c): c is OfKind<K> => c.kind === kind);

/** `kind subject` per change, in plan order. */
export const summary = (p: Plan): string[] =>
  p.changes.map((c) => `${c.kind} ${subjectOf(c).userPrincipalName}`);
