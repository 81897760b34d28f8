/**
 * The two back ends of a checked `$filter` (filter.ts): SQL over the store's `objects` rows
 * (lists of users and groups, with the store's expression indexes), and a plain evaluator for
 * small document sets (role assignments, a group's members).
 */
import type { SqlFilter } from '../store.js';
import type {
  CheckedFilter,
  FilterableProperty,
  FilterNode,
  LambdaTerm,
  Literal,
} from './filter.js';

// ----------------------------------------------------------------------------------------
// Back end 1: SQL over the store's `objects` rows

const SAFE_JSON_PATH = /^\$(\.[A-Za-z_][\w]*)+$/;

/**
 * Compiles a checked filter to a SQL predicate. Positive terms are left bare (`expr = ?`) so
 * SQLite can use the store's expression indexes; a term over a missing property is NULL, which
 * WHERE treats as false, and `not` wraps its operand in coalesce(…, 0) so NULL never leaks
 * through a negation. `ne` counts a missing value as "not equal", as Graph does.
 */
export function filterToSql(checked: CheckedFilter): SqlFilter {
  const params: unknown[] = [];

  const valueSql = (property: FilterableProperty): string => {
    if (!SAFE_JSON_PATH.test(property.jsonPath)) {
      throw new Error(`unsafe JSON path in filter schema: ${property.jsonPath}`);
    }
    if (property.sql !== undefined) return `(${property.sql})`;
    if (property.column !== undefined) return property.column;
    const extract = `json_extract(doc, '${property.jsonPath}')`;
    return property.type === 'boolean' ? extract : `lower(${extract})`;
  };

  const literalSql = (property: FilterableProperty, value: Literal): string => {
    if (value.kind === 'boolean') {
      params.push(value.value ? 1 : 0);
      return '?';
    }
    params.push(
      value.kind === 'string' || value.kind === 'guid' ? value.value.toLowerCase() : null,
    );
    return property.type === 'boolean' ? '?' : '?';
  };

  const likeEscape = (text: string): string =>
    text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);

  const compile = (node: FilterNode): string => {
    switch (node.type) {
      case 'and':
        return `(${compile(node.left)} AND ${compile(node.right)})`;
      case 'or':
        return `(${compile(node.left)} OR ${compile(node.right)})`;
      case 'not':
        return `(NOT coalesce(${compile(node.operand)}, 0))`;
      case 'compare': {
        const property = checked.resolve(node.property);
        const column = valueSql(property);
        if (node.value.kind === 'null') {
          return node.op === 'eq' ? `(${column} IS NULL)` : `(${column} IS NOT NULL)`;
        }
        const literal = literalSql(property, node.value);
        return node.op === 'eq' ? `${column} = ${literal}` : `coalesce(${column} <> ${literal}, 1)`;
      }
      case 'in': {
        const property = checked.resolve(node.property);
        const column = valueSql(property);
        // As ORed equalities rather than IN (...): SQLite then uses the expression index for
        // each value instead of scanning in seq order.
        return `(${node.values.map((v) => `${column} = ${literalSql(property, v)}`).join(' OR ')})`;
      }
      case 'startsWith':
      case 'endsWith': {
        const property = checked.resolve(node.property);
        const text = node.value.kind === 'string' ? node.value.value : '';
        params.push(node.type === 'startsWith' ? `${likeEscape(text)}%` : `%${likeEscape(text)}`);
        return `${valueSql(property)} LIKE ? ESCAPE '\\'`;
      }
      case 'any': {
        const property = checked.resolve(node.property);
        if (!SAFE_JSON_PATH.test(property.jsonPath)) throw new Error('unsafe JSON path');
        const tests = node.terms.map((term) => termSql(term, property));
        // objectIdentity filtering: a userPrincipalName identity never matches.
        if (property.signInRules === true) {
          tests.push(`coalesce(${memberSql('signInType')} <> 'userprincipalname', 1)`);
        }
        return `EXISTS (SELECT 1 FROM json_each(doc, '${property.jsonPath}') WHERE ${tests.join(' AND ')})`;
      }
    }
  };

  const memberSql = (member: string | undefined): string =>
    member === undefined
      ? 'lower(value)'
      : `lower(json_extract(value, '$.${member.replace(/[^\w]/g, '')}'))`;

  const termSql = (term: LambdaTerm, property: FilterableProperty): string => {
    const signInRules = property.signInRules === true;
    const element = memberSql(canonicalMember(property, term.member));
    const value =
      term.value.kind === 'string' || term.value.kind === 'guid'
        ? term.value.value.toLowerCase()
        : '';
    if (term.test === 'startsWith') {
      params.push(`${likeEscape(value)}%`);
      return `${element} LIKE ? ESCAPE '\\'`;
    }
    params.push(value);
    const test = term.test === 'eq' ? `${element} = ?` : `${element} <> ?`;
    // The issuer of an emailAddress or userName identity is ignored ("by design").
    return signInRules && term.member?.toLowerCase() === 'issuer'
      ? `(${test} OR ${memberSql('signInType')} IN ('emailaddress', 'username'))`
      : test;
  };

  const sql = compile(checked.tree);
  return { sql, params };
}

/** A lambda's member as the schema spells it (`c/issuerassignedid` reads `issuerAssignedId`). */
function canonicalMember(
  property: FilterableProperty,
  name: string | undefined,
): string | undefined {
  if (name === undefined) return undefined;
  const lower = name.toLowerCase();
  return Object.keys(property.members ?? {}).find((m) => m.toLowerCase() === lower) ?? name;
}

// ----------------------------------------------------------------------------------------
// Back end 2: in-memory evaluation (small document sets such as role assignments)

export function evaluateFilter(
  checked: CheckedFilter,
  doc: Readonly<Record<string, unknown>>,
): boolean {
  const read = (property: FilterableProperty): unknown => {
    let value: unknown = doc;
    for (const part of property.jsonPath.slice(2).split('.')) {
      value =
        typeof value === 'object' && value !== null
          ? (value as Record<string, unknown>)[part]
          : undefined;
    }
    return value;
  };
  const norm = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : v);
  const lit = (v: Literal): unknown =>
    v.kind === 'null'
      ? null
      : v.kind === 'string' || v.kind === 'guid'
        ? v.value.toLowerCase()
        : v.value;

  const run = (node: FilterNode): boolean => {
    switch (node.type) {
      case 'and':
        return run(node.left) && run(node.right);
      case 'or':
        return run(node.left) || run(node.right);
      case 'not':
        return !run(node.operand);
      case 'compare': {
        const value = norm(read(checked.resolve(node.property))) ?? null;
        const equal = value === lit(node.value);
        return node.op === 'eq' ? equal : !equal;
      }
      case 'in': {
        const value = norm(read(checked.resolve(node.property))) ?? null;
        return node.values.some((v) => lit(v) === value);
      }
      case 'startsWith':
      case 'endsWith': {
        const value = norm(read(checked.resolve(node.property)));
        const test = lit(node.value);
        if (typeof value !== 'string' || typeof test !== 'string') return false;
        return node.type === 'startsWith' ? value.startsWith(test) : value.endsWith(test);
      }
      case 'any': {
        const property = checked.resolve(node.property);
        const items = read(property);
        if (!Array.isArray(items)) return false;
        return items.some((item: unknown) => elementMatches(item, node.terms, property));
      }
    }
  };

  const elementMatches = (
    item: unknown,
    terms: readonly LambdaTerm[],
    property: FilterableProperty,
  ): boolean => {
    const member = (name: string | undefined): unknown =>
      norm(
        name === undefined
          ? item
          : typeof item === 'object' && item !== null
            ? (item as Record<string, unknown>)[name]
            : undefined,
      );
    const signInType = property.signInRules === true ? member('signInType') : undefined;
    if (signInType === 'userprincipalname') return false;
    return terms.every((term) => {
      const value = member(canonicalMember(property, term.member));
      const test = lit(term.value);
      if (term.test === 'startsWith') {
        return typeof value === 'string' && typeof test === 'string' && value.startsWith(test);
      }
      const ignored =
        term.member?.toLowerCase() === 'issuer' &&
        (signInType === 'emailaddress' || signInType === 'username');
      return ignored || (term.test === 'eq' ? value === test : value !== test);
    });
  };
  return run(checked.tree);
}
