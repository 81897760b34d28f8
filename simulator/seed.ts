/**
 * Seed files, applied once to a new state:
 *
 * ```json
 * {
 *   "users": [ { ...Graph user properties, "id"?: "<guid>", "manager"?: "<upn or id>" } ],
 *   "groups": [ { ...Graph group properties, "id"?: "<guid>", "members"?: ["<upn, id or group uniqueName>"] } ],
 *   "subscribedSkus": [ { "skuId": "<guid>", "skuPartNumber": "SPE_E3", "prepaidUnits": { "enabled": 25 },
 *                         "servicePlans"?: [ { "servicePlanId", "servicePlanName" } ] } ],
 *   "roleAssignments": [ { "principal": "<upn, id or group uniqueName>", "role": "Global Administrator" } ],
 *   "roleEligibilitySchedules": [ { "principal": "...", "roleDefinitionId": "<guid>" } ],
 *   "administrativeUnits": [ { "displayName": "...", "isMemberManagementRestricted": true, "members": ["..."] } ],
 *   "domains": [ { "id": "contoso.com", "isVerified"?: true, "isDefault"?: false, "authenticationType"?: "Managed",
 *                  "supportedServices"?: ["Email"] } ],
 *   "authenticationMethodsPolicy": { "authenticationMethodConfigurations": [ { "id": "TemporaryAccessPass", ... } ] }
 * }
 * ```
 *
 * `domains` replaces the default domains (domains.ts); the initial `contoso.onmicrosoft.com` is
 * added when no entry is `isInitial`, and every seeded user must be in a verified domain.
 *
 * Users and groups are checked with the rules of `POST /users` and `POST /groups` (no password
 * needed; read-only properties such as `onPremisesSyncEnabled`, `createdDateTime` and users'
 * `assignedLicenses` may be set), so a seed cannot hold a tenant Graph itself could not. Every
 * error names the file and the entry.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { PolicyError, seedAuthenticationMethodsPolicy } from './authentication-policy.js';
import {
  domainDocument,
  domainOf,
  DOMAIN_PROPERTIES,
  INITIAL_DOMAIN,
  isVerifiedDomain,
} from './domains.js';
import { GraphError, graphErrors } from './errors.js';
import {
  checkGroupShape,
  derivedGroupProperties,
  validateGroupWrite,
} from './graph/group-schema.js';
import {
  compactUser,
  isPlainObject,
  nowDateTimeOffset,
  validateUserWrite,
} from './graph/user-schema.js';
import { BUILT_IN_ROLES } from './roles.js';
import type { DirectoryDocument, DocKind, LinkRelation, SeedData, UserDocument } from './store.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOP_LEVEL = new Set([
  'users',
  'groups',
  'subscribedSkus',
  'roleAssignments',
  'roleEligibilitySchedules',
  'administrativeUnits',
  'domains',
  'authenticationMethodsPolicy',
]);
const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/i;

export class SeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedError';
  }
}

export async function loadSeed(seedPath: string, defaultDomain?: string): Promise<SeedData> {
  let text: string;
  try {
    text = await readFile(seedPath, 'utf8');
  } catch (error) {
    throw new SeedError(`Seed file ${seedPath} cannot be read: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SeedError(`Seed file ${seedPath} is not valid JSON: ${(error as Error).message}`);
  }
  return parseSeed(parsed, seedPath, defaultDomain);
}

/** Validates a parsed seed document; `source` names it in errors. */
export function parseSeed(seed: unknown, source: string, defaultDomain = INITIAL_DOMAIN): SeedData {
  if (!isPlainObject(seed) || !Array.isArray(seed['users'])) {
    throw new SeedError(`Seed file ${source}: expected an object with a "users" array.`);
  }
  const unknownKeys = Object.keys(seed).filter((k) => !TOP_LEVEL.has(k) && !k.startsWith('$'));
  if (unknownKeys.length > 0) {
    throw new SeedError(`Seed file ${source}: unknown top-level key "${unknownKeys[0]}".`);
  }
  const createdDateTime = nowDateTimeOffset();
  const links: { rel: LinkRelation; sourceId: string; targetId: string }[] = [];
  const pendingLinks: { rel: LinkRelation; sourceId: string; ref: string; where: string }[] = [];
  const byKey = new Map<string, string>();
  const seenId = new Set<string>();

  const remember = (key: string, id: string, what: string, where: string): void => {
    const lower = key.toLowerCase();
    if (byKey.has(lower))
      throw new SeedError(`${where}: ${what} is already used by another entry.`);
    byKey.set(lower, id);
  };
  const takeId = (raw: unknown, where: string): string => {
    if (raw !== undefined && (typeof raw !== 'string' || !GUID.test(raw))) {
      throw new SeedError(`${where}: "id" must be a GUID.`);
    }
    const id = (raw ?? randomUUID()).toLowerCase();
    if (seenId.has(id)) throw new SeedError(`${where}: id "${id}" is already used.`);
    seenId.add(id);
    byKey.set(id, id);
    return id;
  };

  const domains =
    seed['domains'] === undefined ? undefined : parseDomains(seed, source, defaultDomain);

  const users = (seed['users'] as unknown[]).map((entry, index): UserDocument => {
    const where = `Seed file ${source}: users[${index}]`;
    if (!isPlainObject(entry)) throw new SeedError(`${where}: expected an object.`);
    const { id: rawId, manager, ...properties } = entry;
    const changes = validate(() => validateUserWrite(properties, 'seed'), where);
    if (
      domains !== undefined &&
      !isVerifiedDomain(domains, domainOf(String(changes['userPrincipalName'])))
    ) {
      throw new SeedError(`${where}: ${graphErrors.unverifiedUpnDomain().message}`);
    }
    const id = takeId(rawId, where);
    const upn = String(changes['userPrincipalName']);
    const previous = byKey.get(upn.toLowerCase());
    if (previous !== undefined) {
      const first = (seed['users'] as Record<string, unknown>[]).findIndex(
        (u) => String(u['userPrincipalName'] ?? '').toLowerCase() === upn.toLowerCase(),
      );
      throw new SeedError(
        `${where}: userPrincipalName "${upn}" is already used by users[${first}].`,
      );
    }
    remember(upn, id, `userPrincipalName "${upn}"`, where);
    if (manager !== undefined) {
      if (typeof manager !== 'string') throw new SeedError(`${where}: "manager" must be a string.`);
      pendingLinks.push({ rel: 'manager', sourceId: id, ref: manager, where });
    }
    // Sessions are valid from the creation on, until a revoke (revokeSignInSessions) moves it.
    const created = changes['createdDateTime'] ?? createdDateTime;
    return compactUser({
      userType: 'Member',
      createdDateTime,
      signInSessionsValidFromDateTime: created,
      ...changes,
      id,
    }) as UserDocument;
  });
  const immutableIds = new Map<string, number>();
  for (const [index, user] of users.entries()) {
    const immutableId = user['onPremisesImmutableId'];
    if (typeof immutableId !== 'string') continue;
    const first = immutableIds.get(immutableId);
    if (first !== undefined) {
      throw new SeedError(
        `Seed file ${source}: users[${index}]: onPremisesImmutableId "${immutableId}" is already used by users[${first}].`,
      );
    }
    immutableIds.set(immutableId, index);
  }

  const groups = list(seed, 'groups', source).map((entry, index): DirectoryDocument => {
    const where = `Seed file ${source}: groups[${index}]`;
    const { id: rawId, members, owners, ...properties } = entry;
    const changes = validate(() => {
      const checked = validateGroupWrite(properties, 'seed');
      checkGroupShape(checked);
      return checked;
    }, where);
    const id = takeId(rawId, where);
    if (typeof changes['uniqueName'] === 'string') {
      remember(changes['uniqueName'], id, `uniqueName "${changes['uniqueName']}"`, where);
    }
    for (const [rel, refs] of [
      ['member', members],
      ['owner', owners],
    ] as const) {
      if (refs === undefined) continue;
      if (!Array.isArray(refs) || refs.some((r) => typeof r !== 'string')) {
        throw new SeedError(`${where}: "${rel}s" must be an array of strings.`);
      }
      for (const ref of refs as string[]) pendingLinks.push({ rel, sourceId: id, ref, where });
    }
    return {
      groupTypes: [],
      ...changes,
      ...derivedGroupProperties({ ...changes, id }, defaultDomain, createdDateTime),
      id,
    } as DirectoryDocument;
  });

  const skus = list(seed, 'subscribedSkus', source).map((entry, index) => {
    const where = `Seed file ${source}: subscribedSkus[${index}]`;
    const skuId = entry['skuId'];
    if (typeof skuId !== 'string' || !GUID.test(skuId)) {
      throw new SeedError(`${where}: "skuId" must be a GUID.`);
    }
    const prepaid = entry['prepaidUnits'];
    if (!isPlainObject(prepaid) || typeof prepaid['enabled'] !== 'number') {
      throw new SeedError(`${where}: "prepaidUnits.enabled" must be a number.`);
    }
    return { ...entry, skuId: skuId.toLowerCase() } as Record<string, unknown> & { skuId: string };
  });

  const docs: { kind: DocKind; doc: DirectoryDocument }[] = [];
  const resolve = (ref: string, where: string): string => {
    const id = byKey.get(ref.toLowerCase());
    if (id === undefined)
      throw new SeedError(`${where}: "${ref}" names no user or group in the seed.`);
    return id;
  };
  for (const [kind, key] of [
    ['roleAssignment', 'roleAssignments'],
    ['roleEligibilitySchedule', 'roleEligibilitySchedules'],
  ] as const) {
    for (const [index, entry] of list(seed, key, source).entries()) {
      const where = `Seed file ${source}: ${key}[${index}]`;
      const principalRef = entry['principal'] ?? entry['principalId'];
      if (typeof principalRef !== 'string')
        throw new SeedError(`${where}: "principal" is required.`);
      const roleDefinitionId = roleIdOf(entry, where);
      const principalId = resolve(principalRef, where);
      const id =
        typeof entry['id'] === 'string'
          ? entry['id']
          : `${roleDefinitionId}-${principalId}-${index}`;
      const base = {
        id,
        principalId,
        directoryScopeId:
          typeof entry['directoryScopeId'] === 'string' ? entry['directoryScopeId'] : '/',
        roleDefinitionId,
      };
      docs.push({
        kind,
        doc:
          kind === 'roleAssignment'
            ? { ...base, appScopeId: null, condition: null }
            : {
                ...base,
                appScopeId: null,
                createdUsing: id,
                createdDateTime,
                modifiedDateTime: null,
                status: 'Provisioned',
                memberType: 'Direct',
                scheduleInfo: {
                  startDateTime: createdDateTime,
                  recurrence: null,
                  expiration: { type: 'noExpiration', endDateTime: null, duration: null },
                },
              },
      });
    }
  }
  for (const [index, entry] of list(seed, 'administrativeUnits', source).entries()) {
    const where = `Seed file ${source}: administrativeUnits[${index}]`;
    const { members, id: rawId, ...rest } = entry;
    if (typeof rest['displayName'] !== 'string') {
      throw new SeedError(`${where}: "displayName" is required.`);
    }
    const id = takeId(rawId, where);
    docs.push({
      kind: 'administrativeUnit',
      doc: {
        id,
        description: null,
        isMemberManagementRestricted: false,
        membershipType: 'Assigned',
        visibility: null,
        ...rest,
      } as DirectoryDocument,
    });
    if (members !== undefined) {
      if (!Array.isArray(members) || members.some((m) => typeof m !== 'string')) {
        throw new SeedError(`${where}: "members" must be an array of strings.`);
      }
      for (const ref of members as string[]) {
        pendingLinks.push({ rel: 'auMember', sourceId: id, ref, where });
      }
    }
  }
  if (seed['authenticationMethodsPolicy'] !== undefined) {
    docs.push(...authenticationPolicyDocs(seed['authenticationMethodsPolicy'], source, groups));
  }
  for (const pending of pendingLinks) {
    links.push({
      rel: pending.rel,
      sourceId: pending.sourceId,
      targetId: resolve(pending.ref, pending.where),
    });
  }
  return { users, groups, skus, links, docs, ...(domains === undefined ? {} : { domains }) };
}

/** The seed's authentication methods policy (authentication-policy.ts); targets name seeded groups. */
function authenticationPolicyDocs(
  raw: unknown,
  source: string,
  groups: readonly DirectoryDocument[],
): { kind: DocKind; doc: DirectoryDocument }[] {
  const resolveGroup = (ref: string, where: string): string => {
    const group = groups.find(
      (g) =>
        g.id === ref.toLowerCase() ||
        String(g['uniqueName'] ?? '').toLowerCase() === ref.toLowerCase(),
    );
    if (group === undefined) throw new SeedError(`${where}: "${ref}" names no group in the seed.`);
    return group.id;
  };
  try {
    return seedAuthenticationMethodsPolicy(
      raw,
      `Seed file ${source}: authenticationMethodsPolicy`,
      resolveGroup,
    ).map((doc) => ({ kind: 'authenticationMethodConfiguration', doc }));
  } catch (error) {
    throw error instanceof PolicyError ? new SeedError(error.message) : error;
  }
}

/**
 * The seed's `domains`: names unique, known properties only, at most one default and one
 * initial; the initial domain is added (initial, and default when none is) if no entry is.
 */
function parseDomains(
  seed: Record<string, unknown>,
  source: string,
  initialDomain: string,
): DirectoryDocument[] {
  const known = new Set(DOMAIN_PROPERTIES);
  const seen = new Set<string>();
  const out = list(seed, 'domains', source).map((entry, index) => {
    const where = `Seed file ${source}: domains[${index}]`;
    const id = entry['id'];
    if (typeof id !== 'string' || !DOMAIN_NAME.test(id)) {
      throw new SeedError(`${where}: "id" must be a domain name such as "contoso.com".`);
    }
    if (seen.has(id.toLowerCase()))
      throw new SeedError(`${where}: domain "${id}" is already listed.`);
    seen.add(id.toLowerCase());
    for (const [name, value] of Object.entries(entry)) {
      if (!known.has(name)) throw new SeedError(`${where}: unknown domain property "${name}".`);
      if (name.startsWith('is') && typeof value !== 'boolean') {
        throw new SeedError(`${where}: "${name}" must be true or false.`);
      }
    }
    const type = entry['authenticationType'];
    if (type !== undefined && type !== 'Managed' && type !== 'Federated') {
      throw new SeedError(`${where}: "authenticationType" must be "Managed" or "Federated".`);
    }
    const services = entry['supportedServices'];
    if (
      services !== undefined &&
      (!Array.isArray(services) || services.some((v) => typeof v !== 'string'))
    ) {
      throw new SeedError(`${where}: "supportedServices" must be an array of strings.`);
    }
    return domainDocument({ ...entry, id });
  });
  for (const flag of ['isInitial', 'isDefault']) {
    if (out.filter((d) => d[flag] === true).length > 1) {
      throw new SeedError(`Seed file ${source}: more than one domain has "${flag}": true.`);
    }
  }
  if (out.some((d) => d['isDefault'] === true && d['isVerified'] !== true)) {
    throw new SeedError(`Seed file ${source}: the default domain must be verified.`);
  }
  if (!out.some((d) => d['isInitial'] === true)) {
    if (seen.has(initialDomain.toLowerCase())) {
      throw new SeedError(
        `Seed file ${source}: domain "${initialDomain}" is the tenant's initial domain; mark it "isInitial": true.`,
      );
    }
    const isDefault = !out.some((d) => d['isDefault'] === true);
    out.unshift(
      domainDocument({
        id: initialDomain,
        isInitial: true,
        isDefault,
        supportedServices: ['Email', 'OfficeCommunicationsOnline'],
      }),
    );
  }
  return out;
}

function list(
  seed: Record<string, unknown>,
  key: string,
  source: string,
): Record<string, unknown>[] {
  const value = seed[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => !isPlainObject(v))) {
    throw new SeedError(`Seed file ${source}: "${key}" must be an array of objects.`);
  }
  return value as Record<string, unknown>[];
}

function validate<T>(fn: () => T, where: string): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof GraphError) throw new SeedError(`${where}: ${error.message}`);
    throw error;
  }
}

function roleIdOf(entry: Record<string, unknown>, where: string): string {
  const id = entry['roleDefinitionId'];
  if (typeof id === 'string' && GUID.test(id)) return id.toLowerCase();
  const name = entry['role'];
  if (typeof name === 'string') {
    const found = BUILT_IN_ROLES.find((r) => r.displayName.toLowerCase() === name.toLowerCase());
    if (found !== undefined) return found.id;
  }
  throw new SeedError(
    `${where}: "roleDefinitionId" (a GUID) or a built-in "role" name is required.`,
  );
}
