/**
 * The Temporary Access Pass part of the tenant's authentication methods policy
 * (temporaryAccessPassAuthenticationMethodConfiguration, Graph v1.0): whether TAPs may be
 * created, for whom, with which lifetimes and whether only one-time passes are allowed.
 *
 * Entra's defaults (policy reference page and its example): lifetime default 60 minutes,
 * minimum 60, maximum 480, length 8, multi-use allowed. The one difference, chosen: a tenant
 * without a stored configuration has the method **enabled for all users** (`all_users`), where a
 * new Entra tenant has it disabled, so entrasync's quickstart can onboard with TAPs against a
 * simulator started without a seed. A seed (or `TenantStore.setTemporaryAccessPassPolicy`) sets
 * it to anything else, disabled included.
 *
 * Seed format (`authenticationMethodsPolicy`, Graph's shape; every property optional; a target
 * `id` is `all_users` or a seeded group's `uniqueName` or id):
 *
 * ```json
 * "authenticationMethodsPolicy": {
 *   "authenticationMethodConfigurations": [
 *     { "id": "TemporaryAccessPass", "state": "enabled", "defaultLifetimeInMinutes": 60,
 *       "defaultLength": 8, "minimumLifetimeInMinutes": 60, "maximumLifetimeInMinutes": 480,
 *       "isUsableOnce": false,
 *       "includeTargets": [{ "targetType": "group", "id": "all_users" }],
 *       "excludeTargets": [] }
 *   ]
 * }
 * ```
 */
import type { DirectoryDocument } from './store/model.js';

export const TAP_CONFIGURATION_ID = 'TemporaryAccessPass';
export const ALL_USERS = 'all_users';
/** Documented bounds of any lifetime (10 minutes to 30 days) and of the pass length. */
export const LIFETIME_BOUNDS = { min: 10, max: 43_200 } as const;
export const LENGTH_BOUNDS = { min: 8, max: 48 } as const;

export interface PolicyTarget {
  readonly targetType: 'group';
  readonly id: string;
  readonly isRegistrationRequired?: boolean;
}

export interface TemporaryAccessPassPolicy {
  readonly id: typeof TAP_CONFIGURATION_ID;
  readonly state: 'enabled' | 'disabled';
  readonly defaultLifetimeInMinutes: number;
  readonly defaultLength: number;
  readonly minimumLifetimeInMinutes: number;
  readonly maximumLifetimeInMinutes: number;
  readonly isUsableOnce: boolean;
  readonly includeTargets: readonly PolicyTarget[];
  readonly excludeTargets: readonly PolicyTarget[];
}

export const DEFAULT_TAP_POLICY: TemporaryAccessPassPolicy = {
  id: TAP_CONFIGURATION_ID,
  state: 'enabled',
  defaultLifetimeInMinutes: 60,
  defaultLength: 8,
  minimumLifetimeInMinutes: 60,
  maximumLifetimeInMinutes: 480,
  isUsableOnce: false,
  includeTargets: [{ targetType: 'group', id: ALL_USERS, isRegistrationRequired: false }],
  excludeTargets: [],
};

export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

/**
 * A complete, checked TAP configuration from a partial one (defaults filled in). `resolveGroup`
 * turns a target's `id` (other than `all_users`) into a group id, or throws.
 */
export function temporaryAccessPassPolicy(
  input: Readonly<Record<string, unknown>>,
  resolveGroup: (ref: string) => string = (ref) => ref,
): TemporaryAccessPassPolicy {
  const known = new Set([...Object.keys(DEFAULT_TAP_POLICY), '@odata.type']);
  for (const name of Object.keys(input)) {
    if (!known.has(name)) throw new PolicyError(`unknown property "${name}".`);
  }
  if (input['id'] !== undefined && String(input['id']).toLowerCase() !== 'temporaryaccesspass') {
    throw new PolicyError(`"id" must be "${TAP_CONFIGURATION_ID}".`);
  }
  const state = input['state'] ?? DEFAULT_TAP_POLICY.state;
  if (state !== 'enabled' && state !== 'disabled') {
    throw new PolicyError('"state" must be "enabled" or "disabled".');
  }
  const minutes = (name: keyof TemporaryAccessPassPolicy): number =>
    integerIn(input, name, DEFAULT_TAP_POLICY[name] as number, LIFETIME_BOUNDS);
  const minimum = minutes('minimumLifetimeInMinutes');
  const maximum = minutes('maximumLifetimeInMinutes');
  const defaultLifetime = minutes('defaultLifetimeInMinutes');
  if (minimum > maximum || defaultLifetime < minimum || defaultLifetime > maximum) {
    throw new PolicyError(
      'lifetimes must satisfy minimumLifetimeInMinutes <= defaultLifetimeInMinutes <= maximumLifetimeInMinutes.',
    );
  }
  const isUsableOnce = input['isUsableOnce'] ?? DEFAULT_TAP_POLICY.isUsableOnce;
  if (typeof isUsableOnce !== 'boolean') throw new PolicyError('"isUsableOnce" must be a boolean.');
  return {
    id: TAP_CONFIGURATION_ID,
    state,
    defaultLifetimeInMinutes: defaultLifetime,
    defaultLength: integerIn(
      input,
      'defaultLength',
      DEFAULT_TAP_POLICY.defaultLength,
      LENGTH_BOUNDS,
    ),
    minimumLifetimeInMinutes: minimum,
    maximumLifetimeInMinutes: maximum,
    isUsableOnce,
    includeTargets: targets(input, 'includeTargets', resolveGroup),
    excludeTargets: targets(input, 'excludeTargets', resolveGroup),
  };
}

function integerIn(
  input: Readonly<Record<string, unknown>>,
  name: string,
  fallback: number,
  bounds: { readonly min: number; readonly max: number },
): number {
  const value = input[name] ?? fallback;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < bounds.min ||
    value > bounds.max
  ) {
    throw new PolicyError(`"${name}" must be an integer from ${bounds.min} to ${bounds.max}.`);
  }
  return value;
}

function targets(
  input: Readonly<Record<string, unknown>>,
  name: 'includeTargets' | 'excludeTargets',
  resolveGroup: (ref: string) => string,
): PolicyTarget[] {
  const raw = input[name];
  if (raw === undefined) return [...DEFAULT_TAP_POLICY[name]];
  if (!Array.isArray(raw)) throw new PolicyError(`"${name}" must be an array.`);
  return raw.map((entry: unknown, index) => {
    const target = entry as Record<string, unknown> | null;
    const id = target?.['id'];
    if (typeof id !== 'string' || (target?.['targetType'] ?? 'group') !== 'group') {
      throw new PolicyError(`"${name}[${index}]" must be { "targetType": "group", "id": "..." }.`);
    }
    return id.toLowerCase() === ALL_USERS
      ? { targetType: 'group', id: ALL_USERS, isRegistrationRequired: false }
      : { targetType: 'group', id: resolveGroup(id), isRegistrationRequired: false };
  });
}

/**
 * Whether the policy lets `groupIds` (the groups a user is a direct member of) have a TAP: the
 * method is enabled, an include target is `all_users` or one of the groups, and no exclude
 * target is one of them.
 */
export function policyCoversUser(
  policy: TemporaryAccessPassPolicy,
  groupIds: readonly string[],
): boolean {
  if (policy.state !== 'enabled') return false;
  const inGroup = (t: PolicyTarget): boolean =>
    t.id === ALL_USERS || groupIds.some((g) => g.toLowerCase() === t.id.toLowerCase());
  return policy.includeTargets.some(inGroup) && !policy.excludeTargets.some(inGroup);
}

/**
 * The seed's `authenticationMethodsPolicy` as documents for the `docs` table. Only the
 * TemporaryAccessPass configuration is modelled; any other configuration id is refused.
 */
export function seedAuthenticationMethodsPolicy(
  raw: unknown,
  where: string,
  resolveGroup: (ref: string, where: string) => string,
): DirectoryDocument[] {
  const policy = raw as Record<string, unknown> | null;
  const configurations = policy?.['authenticationMethodConfigurations'];
  if (
    typeof policy !== 'object' ||
    policy === null ||
    Object.keys(policy).some((k) => k !== 'authenticationMethodConfigurations') ||
    !Array.isArray(configurations)
  ) {
    throw new PolicyError(
      `${where}: expected { "authenticationMethodConfigurations": [ ... ] } (the simulator models the TemporaryAccessPass configuration only).`,
    );
  }
  if (configurations.length > 1) {
    throw new PolicyError(`${where}: the TemporaryAccessPass configuration is listed twice.`);
  }
  return configurations.map((entry: unknown, index) => {
    const at = `${where}.authenticationMethodConfigurations[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new PolicyError(`${at}: expected an object.`);
    }
    try {
      return {
        ...temporaryAccessPassPolicy(entry as Record<string, unknown>, (ref) =>
          resolveGroup(ref, at),
        ),
      };
    } catch (error) {
      if (error instanceof PolicyError) throw new PolicyError(`${at}: ${error.message}`);
      throw error;
    }
  });
}
