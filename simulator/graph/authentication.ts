/**
 * Temporary Access Pass methods and the authentication methods policy, as Graph v1.0's
 * reference pages document them:
 *
 * - `POST /users/{id|upn}/authentication/temporaryAccessPassMethods` (authentication-post-
 *   temporaryaccesspassmethods): body `startDateTime`, `lifetimeInMinutes`, `isUsableOnce`, all
 *   optional; 201 with the temporaryAccessPassAuthenticationMethod, the only answer that carries
 *   `temporaryAccessPass`. "A user can only have one Temporary Access Pass … the previous
 *   Temporary Access Pass will be deleted, and a new Temporary Access Pass will be created": a
 *   second create replaces the first.
 * - `GET …/temporaryAccessPassMethods` (a collection of at most one), `GET …/{id}`
 *   (`temporaryAccessPass` null), `DELETE …/{id}` (204).
 * - `GET /policies/authenticationMethodsPolicy` and
 *   `GET /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass`.
 *
 * Lifetimes default to and are bounded by the policy (authentication-policy.ts); `isUsable` and
 * `methodUsabilityReason` are computed from the simulator's clock at each read. The pass is
 * generated here and never stored: the store keeps everything else about it.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { TemporaryAccessPassPolicy } from '../authentication-policy.js';
import {
  policyCoversUser,
  PolicyError,
  TAP_CONFIGURATION_ID,
  temporaryAccessPassPolicy,
} from '../authentication-policy.js';
import { graphErrors } from '../errors.js';
import type { SimResponse } from '../http.js';
import { jsonObjectBody } from '../http.js';
import { onboardingErrors } from '../onboarding-errors.js';
import type { StoredObject, TemporaryAccessPassRecord } from '../store.js';
import type { GraphContext } from './context.js';
import { findUser, GUID } from './context.js';
import type { PathSegment } from './odata.js';
import { parseSystemQuery, segmentKey } from './odata.js';
import type { Route } from './routes.js';

const TAP_TYPE = '#microsoft.graph.temporaryAccessPassAuthenticationMethod';
const CONFIGURATION_TYPE = '#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration';

/** Application permissions (Graph permissions reference and the method pages). */
export const AUTHENTICATION_PERMISSIONS = {
  tapWrite: ['UserAuthenticationMethod.ReadWrite.All', 'UserAuthMethod-TAP.ReadWrite.All'],
  tapRead: [
    'UserAuthMethod-TAP.Read.All',
    'UserAuthMethod-TAP.ReadWrite.All',
    'UserAuthenticationMethod.Read.All',
    'UserAuthenticationMethod.ReadWrite.All',
  ],
  policyRead: [
    'Policy.Read.All',
    'Policy.Read.AuthenticationMethod',
    'Policy.ReadWrite.AuthenticationMethod',
  ],
  policyWrite: ['Policy.ReadWrite.AuthenticationMethod'],
} as const;

/** `/users/{key}/authentication/…`: `rest` is what follows `authentication`. */
export function authenticationRoute(key: PathSegment, rest: readonly PathSegment[]): Route {
  const [collection, id, extra] = rest;
  if (collection === undefined) {
    throw graphErrors.notImplemented('/users/{id}/authentication');
  }
  if (collection.name !== 'temporaryAccessPassMethods') {
    throw graphErrors.notImplemented(`/users/{id}/authentication/${collection.raw}`);
  }
  if (extra !== undefined) throw graphErrors.segmentNotFound(extra.raw);
  const read = AUTHENTICATION_PERMISSIONS.tapRead;
  const write = AUTHENTICATION_PERMISSIONS.tapWrite;
  if (id === undefined) {
    return {
      GET: { permission: read, run: (ctx) => listPasses(ctx, key) },
      POST: { permission: write, run: (ctx) => createPass(ctx, key) },
    };
  }
  return {
    GET: { permission: read, run: (ctx) => getPass(ctx, key, id.name) },
    DELETE: { permission: write, run: (ctx) => deletePass(ctx, key, id.name) },
  };
}

/** `/policies/…`: only the authentication methods policy and its TAP configuration. */
export function policiesRoute(rest: readonly PathSegment[]): Route {
  const [policy, collection, id, extra] = rest;
  if (policy?.name !== 'authenticationMethodsPolicy') {
    throw graphErrors.notImplemented(`/policies/${policy?.raw ?? ''}`);
  }
  const read = AUTHENTICATION_PERMISSIONS.policyRead;
  if (collection === undefined) return { GET: { permission: read, run: getPolicy } };
  if (collection.name !== 'authenticationMethodConfigurations' || extra !== undefined) {
    throw graphErrors.notImplemented(`/policies/authenticationMethodsPolicy/${collection.raw}`);
  }
  if (id === undefined) {
    throw graphErrors.notImplemented('listing authenticationMethodConfigurations');
  }
  const configurationId = id.keys?.[''] ?? id.name;
  if (configurationId.toLowerCase() !== TAP_CONFIGURATION_ID.toLowerCase()) {
    throw graphErrors.notImplemented(`the ${configurationId} authentication method configuration`);
  }
  return {
    GET: { permission: read, run: getTapConfiguration },
    PATCH: { permission: AUTHENTICATION_PERMISSIONS.policyWrite, run: updateTapConfiguration },
  };
}

function createPass(ctx: GraphContext, key: PathSegment): SimResponse {
  const user = findUser(ctx, key);
  const body = jsonObjectBody(ctx.request);
  for (const name of Object.keys(body)) {
    if (!['startDateTime', 'lifetimeInMinutes', 'isUsableOnce', '@odata.type'].includes(name)) {
      throw graphErrors.invalidProperty(name);
    }
  }
  const policy = ctx.store.temporaryAccessPassPolicy();
  if (user.doc['userType'] === 'Guest') throw onboardingErrors.tapForGuest();
  if (!policyCoversUser(policy, ctx.store.linkSources('member', user.doc.id))) {
    throw onboardingErrors.tapNotAllowedByPolicy();
  }
  const nowMs = ctx.clock.now();
  const created = isoSeconds(nowMs);
  const start = body['startDateTime'] === undefined ? undefined : dateTime(body['startDateTime']);
  if (start !== undefined && start.ms < Math.floor(nowMs / 1000) * 1000) {
    throw onboardingErrors.tapStartInPast();
  }
  const lifetime = lifetimeOf(body['lifetimeInMinutes'], policy);
  const isUsableOnce = body['isUsableOnce'] ?? policy.isUsableOnce;
  if (typeof isUsableOnce !== 'boolean') throw graphErrors.cannotConvert('Edm.Boolean', undefined);
  if (policy.isUsableOnce && !isUsableOnce) throw onboardingErrors.tapMultiUseNotAllowed();
  const record: TemporaryAccessPassRecord = {
    id: randomUUID(),
    createdDateTime: created,
    startDateTime: start?.text ?? created,
    lifetimeInMinutes: lifetime,
    isUsableOnce,
  };
  ctx.store.putTemporaryAccessPass(user.doc.id, record);
  return {
    status: 201,
    headers: {
      Location: `${ctx.origin}/v1.0/users/${user.doc.id}/authentication/temporaryAccessPassMethods/${record.id}`,
    },
    body: {
      '@odata.context': `${contextOf(ctx, key)}/$entity`,
      ...render(ctx, record, policy, user, generatePass(policy.defaultLength)),
    },
  };
}

function listPasses(ctx: GraphContext, key: PathSegment): SimResponse {
  parseSystemQuery(ctx.request.url.searchParams, []);
  const user = findUser(ctx, key);
  const record = ctx.store.getTemporaryAccessPass(user.doc.id);
  const policy = ctx.store.temporaryAccessPassPolicy();
  return {
    status: 200,
    body: {
      '@odata.context': contextOf(ctx, key),
      value: record === undefined ? [] : [render(ctx, record, policy, user, null)],
    },
  };
}

function getPass(ctx: GraphContext, key: PathSegment, id: string): SimResponse {
  parseSystemQuery(ctx.request.url.searchParams, []);
  const user = findUser(ctx, key);
  const record = ctx.store.getTemporaryAccessPass(user.doc.id);
  if (record === undefined || record.id.toLowerCase() !== id.toLowerCase()) {
    throw onboardingErrors.tapNotFound(id);
  }
  return {
    status: 200,
    body: {
      '@odata.context': `${contextOf(ctx, key)}/$entity`,
      ...render(ctx, record, ctx.store.temporaryAccessPassPolicy(), user, null),
    },
  };
}

function deletePass(ctx: GraphContext, key: PathSegment, id: string): SimResponse {
  const user = findUser(ctx, key);
  if (!GUID.test(id) || !ctx.store.deleteTemporaryAccessPass(user.doc.id, id)) {
    throw onboardingErrors.tapNotFound(id);
  }
  return { status: 204 };
}

function getPolicy(ctx: GraphContext): SimResponse {
  parseSystemQuery(ctx.request.url.searchParams, []);
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#authenticationMethodsPolicy`,
      id: 'authenticationMethodsPolicy',
      displayName: 'Authentication Methods Policy',
      description:
        'The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings',
      lastModifiedDateTime: null,
      policyVersion: '1.5',
      registrationEnforcement: null,
      authenticationMethodConfigurations: [
        renderConfiguration(ctx.store.temporaryAccessPassPolicy()),
      ],
    },
  };
}

function getTapConfiguration(ctx: GraphContext): SimResponse {
  parseSystemQuery(ctx.request.url.searchParams, []);
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#authenticationMethodConfigurations/$entity`,
      ...renderConfiguration(ctx.store.temporaryAccessPassPolicy()),
    },
  };
}

/**
 * `PATCH …/authenticationMethodConfigurations/TemporaryAccessPass` (update page): the body's
 * properties over the current ones, `@odata.type` required, 204. A target `id` is `all_users` or
 * an active group's id.
 */
function updateTapConfiguration(ctx: GraphContext): SimResponse {
  const body = jsonObjectBody(ctx.request);
  if (body['@odata.type'] !== CONFIGURATION_TYPE) {
    throw onboardingErrors.invalidPolicy(`"@odata.type" must be "${CONFIGURATION_TYPE}".`);
  }
  const resolveGroup = (id: string): string => {
    const group = GUID.test(id) ? ctx.store.getObject(id) : undefined;
    if (group?.kind !== 'group' || group.state !== 'active') {
      throw new PolicyError(`"${id}" is not the id of a group.`);
    }
    return group.doc.id;
  };
  let policy: TemporaryAccessPassPolicy;
  try {
    policy = temporaryAccessPassPolicy(
      { ...ctx.store.temporaryAccessPassPolicy(), ...body },
      resolveGroup,
    );
  } catch (error) {
    if (error instanceof PolicyError) throw onboardingErrors.invalidPolicy(error.message);
    throw error;
  }
  ctx.store.setTemporaryAccessPassPolicy(policy);
  return { status: 204 };
}

function renderConfiguration(policy: TemporaryAccessPassPolicy): Record<string, unknown> {
  return {
    '@odata.type': CONFIGURATION_TYPE,
    id: policy.id,
    state: policy.state,
    defaultLifetimeInMinutes: policy.defaultLifetimeInMinutes,
    defaultLength: policy.defaultLength,
    minimumLifetimeInMinutes: policy.minimumLifetimeInMinutes,
    maximumLifetimeInMinutes: policy.maximumLifetimeInMinutes,
    isUsableOnce: policy.isUsableOnce,
    includeTargets: policy.includeTargets,
    excludeTargets: policy.excludeTargets,
  };
}

/** The method as Graph renders it; `pass` only on creation, null on every read. */
function render(
  ctx: GraphContext,
  record: TemporaryAccessPassRecord,
  policy: TemporaryAccessPassPolicy,
  user: StoredObject,
  pass: string | null,
): Record<string, unknown> {
  const nowMs = ctx.clock.now();
  const startMs = Date.parse(record.startDateTime);
  const endMs = startMs + record.lifetimeInMinutes * 60_000;
  const reason = !policyCoversUser(policy, ctx.store.linkSources('member', user.doc.id))
    ? 'DisabledByPolicy'
    : nowMs < startMs
      ? 'NotYetValid'
      : nowMs >= endMs
        ? 'Expired'
        : 'EnabledByPolicy';
  return {
    '@odata.type': TAP_TYPE,
    id: record.id,
    temporaryAccessPass: pass,
    createdDateTime: record.createdDateTime,
    startDateTime: record.startDateTime,
    lifetimeInMinutes: record.lifetimeInMinutes,
    isUsableOnce: record.isUsableOnce,
    isUsable: reason === 'EnabledByPolicy',
    methodUsabilityReason: reason,
  };
}

function contextOf(ctx: GraphContext, key: PathSegment): string {
  const id = segmentKey(key, 'id') ?? key.name;
  return `${ctx.origin}/v1.0/$metadata#users('${encodeURIComponent(id)}')/authentication/temporaryAccessPassMethods`;
}

function lifetimeOf(raw: unknown, policy: TemporaryAccessPassPolicy): number {
  if (raw === undefined) return policy.defaultLifetimeInMinutes;
  if (typeof raw !== 'number' || !Number.isInteger(raw)) {
    throw graphErrors.cannotConvert('Edm.Int32', JSON.stringify(raw));
  }
  if (raw < policy.minimumLifetimeInMinutes || raw > policy.maximumLifetimeInMinutes) {
    throw onboardingErrors.tapLifetimeOutOfRange(
      policy.minimumLifetimeInMinutes,
      policy.maximumLifetimeInMinutes,
    );
  }
  return raw;
}

const DATE_TIME_OFFSET =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})$/;

function dateTime(raw: unknown): { ms: number; text: string } {
  const ms = typeof raw === 'string' && DATE_TIME_OFFSET.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(ms)) {
    throw graphErrors.cannotConvert(
      'Edm.DateTimeOffset',
      typeof raw === 'string' ? raw : JSON.stringify(raw),
    );
  }
  return { ms, text: isoSeconds(ms) };
}

/** Graph's `2022-06-05T00:00:00Z` form (whole seconds, UTC). */
function isoSeconds(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

// Letters, digits and a few symbols, as Graph's example pass (`+drkzqAD`) mixes them; no
// look-alikes (0/O, 1/l/I) so a pass read from a mail types correctly.
const PASS_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789+@#%&*=?';

function generatePass(length: number): string {
  let pass = '';
  for (let i = 0; i < length; i += 1) pass += PASS_ALPHABET[randomInt(PASS_ALPHABET.length)];
  return pass;
}
