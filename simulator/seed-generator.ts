/**
 * Generated tenants for benchmarks and demos (`entrasync simulator seed --users N --groups M`).
 * Everything derives from one seed through the simulator's PRNG, ids included, so the same
 * options always produce the same tenant.
 *
 * What a generated tenant holds: users with names, UPNs, mail, employeeId, department, job
 * title, usage location, an extension attribute, a manager (one of the first 1% of users), and
 * for most an E3 license; security and Microsoft 365 groups (one in five unified, one
 * role-assignable) with 5-45 members each; two SKUs with seats to spare; one Global
 * Administrator, one PIM-eligible Privileged Role Administrator, and one restricted-management
 * administrative unit holding a few users.
 */
import type { Random } from './random.js';
import { createRandomSource } from './random.js';
import type {
  DirectoryDocument,
  DocKind,
  LinkRelation,
  TenantStore,
  UserDocument,
} from './store.js';

export interface SeedTenantOptions {
  readonly users: number;
  readonly groups: number;
  /** PRNG seed; default 1. */
  readonly seed?: number;
  /** UPN and mail domain; default `contoso.example`. */
  readonly domain?: string;
}

export interface SeedTenantResult {
  readonly users: number;
  readonly groups: number;
  readonly memberships: number;
  readonly durationMs: number;
}

/** The SKUs a generated tenant subscribes to (skuIds are Microsoft's, for realism). */
export const DEFAULT_SKUS = [
  {
    skuId: '05e9a617-0261-4cee-bb44-138d3ef5d965',
    skuPartNumber: 'SPE_E3',
    servicePlans: [
      {
        servicePlanId: '7547a3fe-08ee-4ccb-b430-5077c5041653',
        servicePlanName: 'YAMMER_ENTERPRISE',
        provisioningStatus: 'Success',
        appliesTo: 'User',
      },
      {
        servicePlanId: 'efb87545-963c-4e0d-99df-69c6916d9eb0',
        servicePlanName: 'EXCHANGE_S_ENTERPRISE',
        provisioningStatus: 'Success',
        appliesTo: 'User',
      },
    ],
  },
  {
    skuId: '06ebc4ee-1bb5-47dd-8120-11324bc54e06',
    skuPartNumber: 'SPE_E5',
    servicePlans: [
      {
        servicePlanId: 'efb87545-963c-4e0d-99df-69c6916d9eb0',
        servicePlanName: 'EXCHANGE_S_ENTERPRISE',
        provisioningStatus: 'Success',
        appliesTo: 'User',
      },
    ],
  },
] as const;

const GIVEN = [
  'Ada',
  'Alan',
  'Amara',
  'Ana',
  'Ben',
  'Chen',
  'Dara',
  'Elif',
  'Emma',
  'Farah',
  'Grace',
  'Hana',
  'Ines',
  'Ivan',
  'Jamal',
  'Jonas',
  'Kai',
  'Lea',
  'Liam',
  'Maya',
  'Mei',
  'Nia',
  'Noah',
  'Omar',
  'Priya',
  'Ravi',
  'Rosa',
  'Sam',
  'Sara',
  'Taro',
  'Una',
  'Vera',
  'Wei',
  'Yara',
  'Zoe',
];
const FAMILY = [
  'Abe',
  'Baker',
  'Costa',
  'Diaz',
  'Evans',
  'Fischer',
  'Garcia',
  'Hughes',
  'Ito',
  'Jensen',
  'Kim',
  'Larsen',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Patel',
  'Quinn',
  'Rossi',
  'Silva',
  'Tanaka',
  'Ueda',
  'Varga',
  'Weber',
  'Xu',
  'Yilmaz',
  'Zhang',
];
const DEPARTMENTS = [
  'Engineering',
  'Finance',
  'Sales',
  'Marketing',
  'Support',
  'Legal',
  'Operations',
  'Research',
  'People',
  'Security',
  'Design',
  'Facilities',
];
const TITLES = ['Engineer', 'Analyst', 'Manager', 'Specialist', 'Director', 'Associate', 'Lead'];
const LOCATIONS = ['US', 'GB', 'DE', 'FR', 'NL', 'JP', 'IN', 'BR'];
const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const PRIVILEGED_ROLE_ADMIN = 'e8611ab8-c189-46e8-94e1-60213ab1f814';
const CREATED = '2025-01-01T00:00:00Z';

/**
 * Fills a new (never seeded, empty) tenant; refuses a tenant that already holds users, so a
 * seed never mixes with real test data. Returns counts and how long it took.
 */
export function seedTenant(store: TenantStore, options: SeedTenantOptions): SeedTenantResult {
  const { users: userCount, groups: groupCount } = options;
  if (!Number.isInteger(userCount) || userCount < 1 || userCount > 1_000_000) {
    throw new Error('seedTenant: users must be an integer between 1 and 1,000,000.');
  }
  if (!Number.isInteger(groupCount) || groupCount < 0 || groupCount > 100_000) {
    throw new Error('seedTenant: groups must be an integer between 0 and 100,000.');
  }
  const started = Date.now();
  const source = createRandomSource(options.seed ?? 1);
  const random = source.stream(0);
  const ids = source.stream(1);
  const domain = options.domain ?? 'contoso.example';
  const [e3, e5] = DEFAULT_SKUS;

  const users: UserDocument[] = [];
  const links: { rel: LinkRelation; sourceId: string; targetId: string }[] = [];
  const managers = Math.max(1, Math.floor(userCount / 100));
  for (let i = 0; i < userCount; i += 1) {
    const given = random.pick(GIVEN);
    const family = random.pick(FAMILY);
    const nickname = `${given}.${family}.${i}`.toLowerCase();
    const upn = `${nickname}@${domain}`;
    const licensed = random.chance(0.8);
    const user: Record<string, unknown> = {
      id: guid(ids),
      accountEnabled: random.chance(0.97),
      displayName: `${given} ${family}`,
      givenName: given,
      surname: family,
      mailNickname: nickname,
      userPrincipalName: upn,
      mail: upn,
      employeeId: `E${String(100000 + i)}`,
      department: random.pick(DEPARTMENTS),
      jobTitle: random.pick(TITLES),
      usageLocation: random.pick(LOCATIONS),
      userType: 'Member',
      createdDateTime: CREATED,
      onPremisesExtensionAttributes: {
        extensionAttribute1: random.chance(0.85) ? 'FTE' : 'Contractor',
      },
      passwordProfile: { forceChangePasswordNextSignIn: true },
      ...(licensed ? { assignedLicenses: [{ skuId: e3.skuId, disabledPlans: [] }] } : {}),
    };
    users.push(user as UserDocument);
    if (i >= managers) {
      const manager = users[random.int(0, managers - 1)];
      if (manager !== undefined)
        links.push({ rel: 'manager', sourceId: user['id'] as string, targetId: manager.id });
    }
  }

  const groups: DirectoryDocument[] = [];
  let memberships = 0;
  for (let g = 0; g < groupCount; g += 1) {
    const id = guid(ids);
    const unified = random.chance(0.2);
    const department = random.pick(DEPARTMENTS);
    const nickname = `group${g}`;
    const roleAssignable = g === 0;
    groups.push({
      id,
      displayName: `${department} ${unified ? 'Team' : 'Access'} ${g}`,
      description: `Generated group ${g}`,
      mailNickname: nickname,
      mailEnabled: unified,
      securityEnabled: !unified || random.chance(0.5),
      groupTypes: unified ? ['Unified'] : [],
      uniqueName: `sim-group-${g}`,
      createdDateTime: CREATED,
      renewedDateTime: CREATED,
      ...(roleAssignable
        ? { isAssignableToRole: true, securityEnabled: true, mailEnabled: false, groupTypes: [] }
        : {}),
      ...(unified && !roleAssignable
        ? {
            mail: `${nickname}@${domain}`,
            proxyAddresses: [`SMTP:${nickname}@${domain}`],
            visibility: 'Public',
          }
        : {}),
    });
    const size = Math.min(userCount, random.int(5, 45));
    const chosen = new Set<number>();
    while (chosen.size < size) chosen.add(random.int(0, userCount - 1));
    for (const index of chosen) {
      const member = users[index];
      if (member !== undefined) links.push({ rel: 'member', sourceId: id, targetId: member.id });
    }
    memberships += chosen.size;
  }

  const licensed = users.filter((u) => u['assignedLicenses'] !== undefined).length;
  const admin = users[0];
  const eligible = users[1] ?? users[0];
  const restrictedUnit = guid(ids);
  const docs: { kind: DocKind; doc: DirectoryDocument }[] = [];
  if (admin !== undefined) {
    docs.push({
      kind: 'roleAssignment',
      doc: {
        id: `${GLOBAL_ADMIN}-${admin.id}`,
        principalId: admin.id,
        directoryScopeId: '/',
        roleDefinitionId: GLOBAL_ADMIN,
        appScopeId: null,
        condition: null,
      },
    });
  }
  if (eligible !== undefined) {
    docs.push({
      kind: 'roleEligibilitySchedule',
      doc: {
        id: `${PRIVILEGED_ROLE_ADMIN}-${eligible.id}`,
        principalId: eligible.id,
        directoryScopeId: '/',
        roleDefinitionId: PRIVILEGED_ROLE_ADMIN,
        appScopeId: null,
        createdUsing: `${PRIVILEGED_ROLE_ADMIN}-${eligible.id}`,
        createdDateTime: CREATED,
        modifiedDateTime: null,
        status: 'Provisioned',
        memberType: 'Direct',
        scheduleInfo: {
          startDateTime: CREATED,
          recurrence: null,
          expiration: { type: 'noExpiration', endDateTime: null, duration: null },
        },
      },
    });
  }
  docs.push({
    kind: 'administrativeUnit',
    doc: {
      id: restrictedUnit,
      displayName: 'Restricted: executives',
      description: 'Generated restricted-management administrative unit',
      isMemberManagementRestricted: true,
      membershipType: 'Assigned',
      visibility: null,
    },
  });
  for (const user of users.slice(2, 7)) {
    links.push({ rel: 'auMember', sourceId: restrictedUnit, targetId: user.id });
  }

  const seeded = store.seedIfNew({
    users,
    groups,
    links,
    docs,
    skus: [
      {
        ...e3,
        servicePlans: [...e3.servicePlans],
        prepaidUnits: {
          enabled: Math.ceil(licensed * 1.1) + 10,
          suspended: 0,
          warning: 0,
          lockedOut: 0,
        },
      },
      {
        ...e5,
        servicePlans: [...e5.servicePlans],
        prepaidUnits: {
          enabled: Math.ceil(userCount * 0.05) + 5,
          suspended: 0,
          warning: 0,
          lockedOut: 0,
        },
      },
    ],
  });
  if (!seeded) {
    throw new Error(
      'seedTenant: the tenant already holds users or was seeded; use a new state file.',
    );
  }
  return { users: userCount, groups: groupCount, memberships, durationMs: Date.now() - started };
}

/** A version-4-shaped GUID from the PRNG, so generated ids repeat with the seed. */
function guid(random: Random): string {
  const hex = Array.from({ length: 32 }, () => random.int(0, 15).toString(16));
  hex[12] = '4';
  hex[16] = ((random.int(0, 3) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
