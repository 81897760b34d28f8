/**
 * The fast path must give exactly what JSONata gives: a differential property test over
 * generated expressions (of the modelled shapes and some that are not) and generated records
 * (strings, absent fields, and values the fast path must hand back to JSONata).
 */
import fc from 'fast-check';
import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { createUniquenessContext, functionBindings } from './functions.js';
import { UNDECIDED, compileFastPath } from './fast-path.js';

const field = fc.constantFrom('a', 'b', 'status', 'missing', 'constructor');
const literal = fc.constantFrom("'x'", "''", "'active'", "'Zoë Å'", "' '", 'true', 'false');
const leaf = fc.oneof(
  field,
  field.map((f) => `$hr.${f}`),
  literal,
  fc.constant('$nobody.a'),
);

const expression: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.tuple(tie('e'), tie('e')).map(([l, r]) => `(${l} & ${r})`),
    fc.tuple(tie('e'), tie('e')).map(([l, r]) => `(${l} = ${r})`),
    fc.tuple(tie('e'), tie('e')).map(([l, r]) => `(${l} != ${r})`),
    tie('e').map((x) => `$lowercase(${x})`),
    tie('e').map((x) => `$uppercase(${x})`),
    tie('e').map((x) => `$foldDiacritics(${x})`),
    tie('e').map((x) => `$mailNickname(${x})`),
    fc.tuple(tie('e'), tie('e')).map(([l, r]) => `$appendDomain(${l}, ${r})`),
    tie('e').map((x) => `$immutableId(${x})`),
  ),
})).e;

const value = fc.oneof(
  fc.string(),
  fc.constantFrom('active', 'ACTIVE', '', 'Zoë', '00112233-4455-6677-8899-aabbccddeeff'),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 2 }),
);
const record = fc.dictionary(fc.constantFrom('a', 'b', 'status'), value);

describe('fast path', () => {
  it('gives exactly what JSONata gives, or hands the evaluation back (property)', async () => {
    await fc.assert(
      fc.asyncProperty(expression, record, record, async (text, input, hr) => {
        const compiled = jsonata(text);
        const fast = compileFastPath(compiled.ast());
        const bindings = { hr, ...functionBindings(createUniquenessContext(new Map()), undefined) };
        let expected: unknown;
        let threw = false;
        try {
          expected = await compiled.evaluate(input, bindings);
        } catch {
          threw = true; // a JSONata error must reach the user: the fast path may not decide
        }
        if (!fast) return;
        const got = fast(input, bindings);
        if (got === UNDECIDED) return;
        expect(threw).toBe(false);
        expect(got).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('models the shapes real mappings use', () => {
    for (const text of [
      'first_name',
      '$hr.first_name',
      "first_name & ' ' & last_name",
      "$lowercase(first_name & '.' & last_name) & '@contoso.com'",
      "status = 'active'",
      "status != 'terminated'",
      '$foldDiacritics(first_name)',
      'true',
    ]) {
      expect(compileFastPath(jsonata(text).ast()), text).toBeDefined();
    }
    for (const text of [
      "$selectUnique([a, b], 'x.com')",
      'a ? b : c',
      '$string(a)',
      'a[0]',
      '$count(a)',
    ]) {
      expect(compileFastPath(jsonata(text).ast()), text).toBeUndefined();
    }
  });

  it('is actually taken for strings and absent fields', () => {
    const fast = compileFastPath(jsonata("$lowercase(first & '.' & last) & '@x.com'").ast());
    expect(fast?.({ first: 'Ada' }, {})).toBe('ada.@x.com');
    expect(fast?.({ first: 1 }, {})).toBe(UNDECIDED);
  });
});
