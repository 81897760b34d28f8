/**
 * The canonical JSON every digest and fingerprint rests on: its text must stay what it was
 * (`JSON.stringify` of a copy with keys sorted at every level), or every saved plan would turn
 * stale and every golden plan change, on an upgrade that changed nothing else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareText } from './compare.js';
import { canonicalDigest, canonicalJson, sha256 } from './fingerprint.js';

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
