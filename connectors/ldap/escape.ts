/**
 * Escaping of values placed into LDAP filters (RFC 4515) and distinguished names (RFC 4514), and
 * a DN parser to compare DNs. Every value this connector writes into a filter or a DN goes
 * through here: a group DN with `(` or `*` in it must match that group, not widen the filter.
 *
 * Contracts (each has a round-trip property test):
 * - `escapeFilterValue(v)` placed in `(attr=...)` is read by an RFC 4515 parser as exactly `v`.
 * - `parseDn(formatDn(rdns))` gives back `rdns`; `escapeDnValue(v)` as an RDN value parses to `v`.
 */
import { Filter } from 'ldapts';

/** RFC 4515 section 3: `*` `(` `)` `\` and NUL become `\2a` `\28` `\29` `\5c` `\00`. */
export function escapeFilterValue(value: string): string {
  return Filter.escape(value);
}

/** One attribute-value pair of an RDN, value unescaped. */
export interface Ava {
  readonly type: string;
  readonly value: string;
}

/** An RDN: one or more AVAs joined by `+`. */
export type Rdn = readonly Ava[];

/**
 * RFC 4514 section 2.4: `"` `+` `,` `;` `<` `>` `\` anywhere, `#` or a space first, a space last,
 * and NUL are escaped. `=` is escaped too (allowed, and some servers insist on it in values).
 */
export function escapeDnValue(value: string): string {
  let out = '';
  const chars = [...value];
  chars.forEach((c, i) => {
    if (c === '\0') out += '\\00';
    else if ('"+,;<>\\='.includes(c)) out += `\\${c}`;
    else if (i === 0 && (c === ' ' || c === '#')) out += `\\${c}`;
    else if (i === chars.length - 1 && c === ' ') out += '\\ ';
    else out += c;
  });
  return out;
}

export function formatDn(rdns: readonly Rdn[]): string {
  return rdns
    .map((rdn) => rdn.map((ava) => `${ava.type}=${escapeDnValue(ava.value)}`).join('+'))
    .join(',');
}

export class DnSyntaxError extends Error {}

/**
 * Parses RFC 4514 text (and the RFC 2253 leniencies real servers produce: spaces around `,`,
 * `+` and `=`, and `;` as a separator). A `#hex` value (BER) is kept as written, `#` included.
 */
export function parseDn(text: string): Rdn[] {
  const rdns: Rdn[] = [];
  if (text.trim() === '') return rdns;
  let i = 0;
  let current: Ava[] = [];
  const n = text.length;
  const skipSpaces = () => {
    while (i < n && text[i] === ' ') i++;
  };
  for (;;) {
    skipSpaces();
    const typeStart = i;
    while (i < n && text[i] !== '=' && text[i] !== ',' && text[i] !== '+') i++;
    const type = text.slice(typeStart, i).trim();
    if (text[i] !== '=' || type === '' || !/^([A-Za-z][A-Za-z0-9-]*|\d+(\.\d+)*)$/.test(type)) {
      throw new DnSyntaxError(`not a DN: expected attribute=value at offset ${typeStart}`);
    }
    i++; // '='
    skipSpaces();
    let value: string;
    if (text[i] === '#') {
      const start = i;
      i++;
      while (i < n && /[0-9A-Fa-f]/.test(text[i] ?? '')) i++;
      value = text.slice(start, i);
      skipSpaces();
    } else {
      const bytes: number[] = [];
      let trailingSpaces = 0;
      while (i < n) {
        const c = text[i] as string;
        if (c === ',' || c === '+' || c === ';') break;
        if (c === '\\') {
          const next = text[i + 1];
          const hex = text.slice(i + 1, i + 3);
          if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
            bytes.push(Number.parseInt(hex, 16));
            i += 3;
          } else if (next !== undefined) {
            bytes.push(...Buffer.from(next, 'utf8'));
            i += 2;
          } else {
            throw new DnSyntaxError('not a DN: it ends with a lone backslash');
          }
          trailingSpaces = 0;
          continue;
        }
        // A surrogate pair is one code point: take both halves together.
        const cp = text.codePointAt(i) as number;
        const ch = String.fromCodePoint(cp);
        bytes.push(...Buffer.from(ch, 'utf8'));
        trailingSpaces = ch === ' ' ? trailingSpaces + 1 : 0;
        i += ch.length;
      }
      // Unescaped trailing spaces are not part of the value (RFC 4514 escapes a real one).
      value = Buffer.from(bytes.slice(0, bytes.length - trailingSpaces)).toString('utf8');
    }
    current.push({ type, value });
    if (i >= n) {
      rdns.push(current);
      return rdns;
    }
    const sep = text[i];
    i++;
    if (sep === ',' || sep === ';') {
      rdns.push(current);
      current = [];
    }
  }
}

/**
 * A DN in one canonical form for comparing: types and values lower-cased (the naming attributes
 * of people and groups, cn/ou/dc/uid, match case-insensitively), AVAs of an RDN sorted, values
 * re-escaped one way. Text that is not a DN comes back lower-cased and trimmed.
 */
export function normalizeDn(text: string): string {
  const rdns = tryParseDn(text);
  return rdns ? formatDn(rdns.map(normalizeRdn)) : text.trim().toLowerCase();
}

/** True when `dn` is `base` or lies under it; false when either is not a DN. */
export function isUnderDn(dn: string, base: string): boolean {
  const d = tryParseDn(dn);
  const b = tryParseDn(base);
  if (!d || !b || b.length > d.length) return false;
  const tail = d.slice(d.length - b.length);
  return tail.every(
    (rdn, i) => formatDn([normalizeRdn(rdn)]) === formatDn([normalizeRdn(b[i] ?? [])]),
  );
}

function tryParseDn(text: string): Rdn[] | undefined {
  try {
    return parseDn(text);
  } catch {
    return undefined;
  }
}

function normalizeRdn(rdn: Rdn): Rdn {
  return rdn
    .map((ava) => ({ type: ava.type.toLowerCase(), value: ava.value.toLowerCase() }))
    .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}
