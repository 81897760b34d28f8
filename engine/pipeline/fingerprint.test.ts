/**
 * The canonical JSON every digest and fingerprint rests on: its text must stay what it was
 * (`JSON.stringify` of a copy with keys sorted at every level), or every saved plan would turn
 * stale and every golden plan change, on an upgrade that changed nothing else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareText } from './compare.js';
import type { Change } from '../model/plan.js';
import type { TenantGroup, TenantState, TenantUser } from '../model/tenant.js';
import { canonicalDigest, canonicalJson, sha256, tenantDigest } from './fingerprint.js';

/**
 * The definition, written the obvious way (as canonicalJson was first written, except that the
 * copy has no prototype: the first version dropped an own `__proto__` key, M4).
 */
function reference(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === 'object') {
      const out = Object.create(null) as Record<string, unknown>;
      for (const key of Object.keys(v).sort(compareText)) {
        const member = (v as Record<string, unknown>)[key];
        if (member !== undefined) out[key] = sortKeys(member);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

describe('canonicalJson', () => {
  it('writes the same text as JSON.stringify of a key-sorted copy, for any JSON-like value', () => {
    const key = fc.oneof(
      fc.string(),
      fc.constantFrom('0', '1', '10', '2', '01', '-1', '4294967295', 'é', 'E', 'e', '__proto__'),
    );
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(
        fc.string(),
        fc.double(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.constant(undefined),
      ),
      node: fc.oneof(
        { depthSize: 'small' },
        tie('leaf'),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(key, tie('node'), { maxKeys: 5 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v)).toBe(reference(v));
        expect(canonicalDigest(v)).toBe(sha256(reference(v)));
      }),
      { numRuns: 2000 },
    );
  });

  it('objects already in canonical key order (the native fast path) write the same text', () => {
    const member = fc.oneof(
      fc.string(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.array(fc.oneof(fc.string(), fc.double(), fc.constant(null), fc.constant(undefined))),
      fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
    );
    const sortedCopy = (o: Record<string, unknown>) =>
      Object.fromEntries(
        Object.keys(o)
          .sort(compareText)
          .map((k) => [k, o[k]]),
      );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), member, { maxKeys: 8 }), (o) => {
        const ordered = sortedCopy(o);
        expect(canonicalJson(ordered)).toBe(reference(ordered));
        expect(canonicalJson([ordered, ordered])).toBe(reference([ordered, ordered]));
      }),
      { numRuns: 2000 },
    );
  });

  it('digests a large value piece by piece to the same sha256 as its whole text', () => {
    const users = Array.from({ length: 3000 }, (_, i) => ({
      id: `u${String(i)}`,
      attributes: { z: i, a: [i, null, 'x'], m: { b: undefined, a: true } },
    }));
    const value = { users, groups: [{ id: 'g', memberIds: ['u1', 'u2'] }], skip: undefined };
    expect(canonicalDigest(value)).toBe(sha256(reference(value)));
  });

  it('sorts keys at every level and leaves undefined members out', () => {
    expect(canonicalJson({ b: 1, a: [{ d: undefined, c: 'x' }], 10: true, 9: false })).toBe(
      '{"9":false,"10":true,"a":[{"c":"x"}],"b":1}',
    );
    expect(canonicalJson([undefined, () => 1, NaN])).toBe('[null,null,null]');
    // Key sets that would run together if joined: two shapes, not one.
    expect(canonicalJson([{ 'a\u0000b': 1 }, { a: 2, b: 3 }])).toBe(
      '[{"a\\u0000b":1},{"a":2,"b":3}]',
    );
  });
});

describe('tenantDigest', () => {
  const marker = { attribute: 'extensionAttribute15', value: 'entrasync', groupPrefix: 'es-' };

  /** The digest as first written: a copy of each relevant user, through canonicalDigest. */
  function referenceTenantDigest(tenant: TenantState, changes: readonly Change[]): string {
    const targeted = new Set(changes.flatMap((c) => ('user' in c && c.user.id ? [c.user.id] : [])));
    const created = new Set(
      changes.flatMap((c) =>
        'user' in c && !c.user.id ? [c.user.userPrincipalName.trim().toLowerCase()] : [],
      ),
    );
    const users = tenant.users
      .filter(
        (u) =>
          u.attributes[marker.attribute] === marker.value ||
          targeted.has(u.id) ||
          created.has(u.userPrincipalName.trim().toLowerCase()),
      )
      .map((u) => ({
        id: u.id,
        userPrincipalName: u.userPrincipalName,
        attributes: u.attributes,
        ...(u.licenses === undefined ? {} : { licenses: u.licenses }),
        ...(u.managerId === undefined ? {} : { managerId: u.managerId }),
      }))
      .sort((a, b) => compareText(a.id, b.id));
    const groups = [...(tenant.groups ?? [])]
      .map((g) => ({ ...g, memberIds: [...g.memberIds].sort(compareText) }))
      .sort((a, b) => compareText(a.id, b.id));
    return sha256(reference(groups.length === 0 ? users : { users, groups }));
  }

  it('is the digest of the relevant users (and groups) as plain objects, for any tenant', () => {
    const text = fc.string({ maxLength: 6 });
    const user: fc.Arbitrary<TenantUser> = fc.record(
      {
        id: fc.string({ minLength: 1, maxLength: 4 }),
        userPrincipalName: fc.constantFrom('a@x.org', 'B@x.org', ' b@x.org', 'c@x.org'),
        attributes: fc.record({
          extensionAttribute15: fc.constantFrom('entrasync', 'other', null),
          displayName: fc.oneof(text, fc.constant(null)),
          accountEnabled: fc.boolean(),
          businessPhones: fc.array(text, { maxLength: 2 }),
        }),
        licenses: fc.array(
          fc.record(
            { skuId: text, disabledPlans: fc.array(text, { maxLength: 2 }), viaGroup: text },
            { requiredKeys: ['skuId', 'disabledPlans'] },
          ),
          { maxLength: 2 },
        ),
        managerId: text,
      },
      { requiredKeys: ['id', 'userPrincipalName', 'attributes'] },
    ) as fc.Arbitrary<TenantUser>;
    const group: fc.Arbitrary<TenantGroup> = fc.record({
      id: text,
      uniqueName: text,
      displayName: text,
      description: fc.oneof(text, fc.constant(null)),
      mailEnabled: fc.boolean(),
      securityEnabled: fc.boolean(),
      groupTypes: fc.array(text, { maxLength: 1 }),
      isAssignableToRole: fc.boolean(),
      memberIds: fc.array(text, { maxLength: 3 }),
      licenses: fc.constant([]),
    });
    const change = fc.oneof(
      fc
        .record({ id: fc.string({ minLength: 1, maxLength: 4 }) })
        .map(
          ({ id }) =>
            ({ kind: 'updateUser', user: { id, userPrincipalName: 'x@x.org' } }) as Change,
        ),
      fc
        .constantFrom('a@x.org', 'b@x.org', 'D@x.org')
        .map((upn) => ({ kind: 'createUser', user: { userPrincipalName: upn } }) as Change),
    );
    fc.assert(
      fc.property(
        fc.array(user, { maxLength: 8 }),
        fc.option(fc.array(group, { maxLength: 3 }), { nil: undefined }),
        fc.array(change, { maxLength: 3 }),
        (users, groups, changes) => {
          const tenant = { users, ...(groups ? { groups } : {}) } as unknown as TenantState;
          expect(tenantDigest(tenant, marker, changes)).toBe(
            referenceTenantDigest(tenant, changes),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });
});
