import fc from 'fast-check';
import { EqualityFilter, ExtensibleFilter, FilterParser } from 'ldapts';
import { describe, expect, it } from 'vitest';
import {
  DnSyntaxError,
  escapeDnValue,
  escapeFilterValue,
  formatDn,
  isUnderDn,
  normalizeDn,
  parseDn,
} from './escape.js';
import type { Rdn } from './escape.js';

/** Characters that matter to filters and DNs, and any Unicode code point. */
const tricky = fc.constantFrom(
  '*',
  '(',
  ')',
  '\\',
  '\0',
  ',',
  '+',
  '"',
  ';',
  '<',
  '>',
  '=',
  '#',
  ' ',
  'é',
  '😀',
  'a',
);
const value = fc.string({
  unit: fc.oneof(tricky, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })),
  maxLength: 12,
});

describe('escapeFilterValue (RFC 4515)', () => {
  it('escapes the five special characters', () => {
    expect(escapeFilterValue('a*b(c)d\\e\0f')).toBe('a\\2ab\\28c\\29d\\5ce\\00f');
    expect(escapeFilterValue('*)(uid=*))(|(uid=*')).toBe(
      '\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a',
    );
  });

  it('round-trips: an RFC 4515 parser reads back exactly the value', () => {
    fc.assert(
      fc.property(
        value.filter((v) => v !== ''),
        (v) => {
          const filter = FilterParser.parseString(`(cn=${escapeFilterValue(v)})`);
          expect(filter).toBeInstanceOf(EqualityFilter);
          expect((filter as EqualityFilter).attribute).toBe('cn');
          expect((filter as EqualityFilter).value).toBe(v);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('round-trips inside an LDAP_MATCHING_RULE_IN_CHAIN filter', () => {
    fc.assert(
      fc.property(
        value.filter((v) => v !== ''),
        (v) => {
          const text = `(&(objectClass=user)(memberOf:1.2.840.113556.1.4.1941:=${escapeFilterValue(v)}))`;
          const and = FilterParser.parseString(text) as unknown as { filters: unknown[] };
          const chain = and.filters[1] as ExtensibleFilter;
          expect(chain).toBeInstanceOf(ExtensibleFilter);
          expect(chain.rule).toBe('1.2.840.113556.1.4.1941');
          expect(chain.value).toBe(v);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('DN escaping and parsing (RFC 4514)', () => {
  it('escapes what RFC 4514 requires', () => {
    expect(escapeDnValue('Doe, Jane')).toBe('Doe\\, Jane');
    expect(escapeDnValue('#1 ')).toBe('\\#1\\ ');
    expect(escapeDnValue(' a+b"c;d<e>f\\g=h')).toBe('\\ a\\+b\\"c\\;d\\<e\\>f\\\\g\\=h');
    expect(escapeDnValue('nul\0')).toBe('nul\\00');
  });

  it('parses hex escapes, UTF-8 and multi-valued RDNs', () => {
    expect(parseDn('cn=Doe\\2C Jane (x*) \\5C #1,ou=People , dc=example')).toEqual([
      [{ type: 'cn', value: 'Doe, Jane (x*) \\ #1' }],
      [{ type: 'ou', value: 'People' }],
      [{ type: 'dc', value: 'example' }],
    ]);
    expect(parseDn('cn=Z\\C3\\B6e+uid=z,dc=x')).toEqual([
      [
        { type: 'cn', value: 'Zöe' },
        { type: 'uid', value: 'z' },
      ],
      [{ type: 'dc', value: 'x' }],
    ]);
    expect(parseDn('1.3.6.1.4.1.1466.0=#04024869,dc=x')[0]).toEqual([
      { type: '1.3.6.1.4.1.1466.0', value: '#04024869' },
    ]);
    expect(parseDn('')).toEqual([]);
  });

  it('rejects text that is not a DN', () => {
    for (const text of ['cn', 'cn=a,', 'cn=a\\', '=a', 'c n=a']) {
      expect(() => parseDn(text), text).toThrow(DnSyntaxError);
    }
  });

  const rdn: fc.Arbitrary<Rdn> = fc.array(
    fc.record({
      type: fc.constantFrom('cn', 'ou', 'dc', 'uid', 'CN', '2.5.4.3'),
      value,
    }),
    { minLength: 1, maxLength: 3 },
  );

  it('round-trips: parseDn(formatDn(rdns)) gives back the RDNs', () => {
    fc.assert(
      fc.property(fc.array(rdn, { minLength: 1, maxLength: 4 }), (rdns) => {
        expect(parseDn(formatDn(rdns))).toEqual(rdns);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips a single value through escapeDnValue', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(parseDn(`cn=${escapeDnValue(v)},dc=example`)[0]).toEqual([{ type: 'cn', value: v }]);
      }),
      { numRuns: 500 },
    );
  });

  it('normalises DNs for comparison: case, spacing, escape style, AVA order', () => {
    expect(normalizeDn('UID=u1, OU=People,DC=Example')).toBe(
      normalizeDn('uid=u1,ou=people,dc=example'),
    );
    expect(normalizeDn('cn=Doe\\2C Jane,dc=x')).toBe(normalizeDn('cn=Doe\\, Jane,dc=x'));
    expect(normalizeDn('cn=a+uid=b,dc=x')).toBe(normalizeDn('uid=b+cn=a,dc=x'));
    expect(normalizeDn('cn=a,dc=x')).not.toBe(normalizeDn('cn=a\\,dc=x'));
  });

  it('tells whether a DN lies under another, escaped commas included', () => {
    expect(isUnderDn('uid=a,ou=People,dc=x', 'OU=people,DC=X')).toBe(true);
    expect(isUnderDn('ou=people,dc=x', 'ou=people,dc=x')).toBe(true);
    expect(isUnderDn('cn=a\\,dc=x', 'dc=x')).toBe(false);
    expect(isUnderDn('dc=x', 'ou=people,dc=x')).toBe(false);
  });
});
