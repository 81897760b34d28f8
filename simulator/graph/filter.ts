/**
 * OData `$filter` for directory objects: a small recursive-descent parser for the subset
 * Microsoft Graph supports on users and groups, a checker that applies Graph's per-property
 * rules (which operators work by default, which need advanced query parameters, which are not
 * supported at all), and two back ends (filter-backends.ts): SQL over the store's JSON
 * documents (users, groups; uses the store's expression indexes), and a plain evaluator for
 * small document sets (role assignments, a group's members). No maintained npm OData parser fits (the ones published target OData v2/v4
 * servers as a whole, are unmaintained, or have no TypeScript types), and this subset is small.
 *
 * Grammar (keywords and function names case-insensitive, as Graph accepts them):
 *
 *   expr       := and ('or' and)*
 *   and        := unary ('and' unary)*
 *   unary      := 'not' unary | primary
 *   primary    := '(' expr ')'
 *               | ('startsWith' | 'endsWith') '(' path ',' literal ')'
 *               | path '/' 'any' '(' var ':' lambdaBody ')'
 *               | path ('eq'|'ne'|'gt'|'ge'|'lt'|'le') literal
 *               | path 'in' '(' literal (',' literal)* ')'
 *   lambdaBody := lambdaTerm ('and' lambdaTerm)*
 *   lambdaTerm := var ['/' name] ('eq'|'ne') literal | 'startsWith' '(' var ',' literal ')'
 *   literal    := 'string' ('' escapes a quote) | true | false | null | number | GUID
 *
 * String comparisons are case-insensitive, as Entra compares directory strings. Anything the
 * checker does not know is a 400, never silently ignored (an ignored filter returns everyone).
 *
 * Graph's rules: https://learn.microsoft.com/graph/aad-advanced-queries (per-property operator
 * table, "in is supported by default whenever eq is", ne/not/endsWith need ConsistencyLevel:
 * eventual and $count=true) and the error bodies shown there.
 */
import { GraphError } from '../errors.js';

export type Literal =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'null' }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'guid'; readonly value: string };

export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export type FilterNode =
  | { readonly type: 'and' | 'or'; readonly left: FilterNode; readonly right: FilterNode }
  | { readonly type: 'not'; readonly operand: FilterNode }
  | {
      readonly type: 'compare';
      readonly op: CompareOp;
      readonly property: string;
      readonly value: Literal;
    }
  | { readonly type: 'in'; readonly property: string; readonly values: readonly Literal[] }
  | {
      readonly type: 'startsWith' | 'endsWith';
      readonly property: string;
      readonly value: Literal;
    }
  | {
      readonly type: 'any';
      readonly property: string;
      /** Tests one element must pass together (`c/a eq 'x' and c/b eq 'y'`). */
      readonly terms: readonly LambdaTerm[];
    };

export interface LambdaTerm {
  /** Sub-property of each element (`x/skuId`), or undefined for string collections. */
  readonly member: string | undefined;
  readonly test: 'eq' | 'ne' | 'startsWith';
  readonly value: Literal;
}

// ----------------------------------------------------------------------------------------
// Parser

type Token =
  | { readonly t: 'ident'; readonly v: string; readonly pos: number }
  | { readonly t: 'string'; readonly v: string; readonly pos: number }
  | { readonly t: 'number'; readonly v: number; readonly pos: number }
  | { readonly t: 'guid'; readonly v: string; readonly pos: number }
  | { readonly t: 'punct'; readonly v: '(' | ')' | ',' | '/' | ':'; readonly pos: number }
  | { readonly t: 'end'; readonly pos: number };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

function syntaxError(text: string, pos: number): GraphError {
  return new GraphError(
    400,
    'BadRequest',
    `Invalid filter clause: Syntax error at position ${pos} in '${text}'.`,
  );
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === '(' || c === ')' || c === ',' || c === '/' || c === ':') {
      tokens.push({ t: 'punct', v: c, pos: i });
      i += 1;
      continue;
    }
    if (c === "'") {
      const start = i;
      let value = '';
      i += 1;
      for (;;) {
        if (i >= text.length) throw syntaxError(text, start);
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        value += text[i];
        i += 1;
      }
      tokens.push({ t: 'string', v: value, pos: start });
      continue;
    }
    const guid = GUID.exec(text.slice(i));
    if (guid !== null && !/[\w-]/.test(text[i + guid[0].length] ?? '')) {
      tokens.push({ t: 'guid', v: guid[0].toLowerCase(), pos: i });
      i += guid[0].length;
      continue;
    }
    const number = /^-?\d+(?:\.\d+)?/.exec(text.slice(i));
    if (number !== null && !/[A-Za-z_]/.test(text[i + number[0].length] ?? '')) {
      tokens.push({ t: 'number', v: Number(number[0]), pos: i });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_$][\w$.]*/.exec(text.slice(i));
    if (ident !== null) {
      tokens.push({ t: 'ident', v: ident[0], pos: i });
      i += ident[0].length;
      continue;
    }
    throw syntaxError(text, i);
  }
  tokens.push({ t: 'end', pos: text.length });
  return tokens;
}

const COMPARE_OPS = new Set<string>(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

export function parseFilter(text: string): FilterNode {
  const tokens = tokenize(text);
  let index = 0;
  const peek = (): Token => tokens[index] ?? { t: 'end', pos: text.length };
  const next = (): Token => {
    const token = peek();
    index += 1;
    return token;
  };
  const isWord = (token: Token, word: string): boolean =>
    token.t === 'ident' && token.v.toLowerCase() === word;
  const expectPunct = (v: string): void => {
    const token = next();
    if (token.t !== 'punct' || token.v !== v) throw syntaxError(text, token.pos);
  };

  function parseOr(): FilterNode {
    let left = parseAnd();
    while (isWord(peek(), 'or')) {
      next();
      left = { type: 'or', left, right: parseAnd() };
    }
    return left;
  }

  function parseAnd(): FilterNode {
    let left = parseUnary();
    while (isWord(peek(), 'and')) {
      next();
      left = { type: 'and', left, right: parseUnary() };
    }
    return left;
  }

  function parseUnary(): FilterNode {
    if (isWord(peek(), 'not')) {
      next();
      return { type: 'not', operand: parseUnary() };
    }
    return parsePrimary();
  }

  function parseLiteral(): Literal {
    const token = next();
    switch (token.t) {
      case 'string':
        return { kind: 'string', value: token.v };
      case 'number':
        return { kind: 'number', value: token.v };
      case 'guid':
        return { kind: 'guid', value: token.v };
      case 'ident': {
        const word = token.v.toLowerCase();
        if (word === 'true' || word === 'false') return { kind: 'boolean', value: word === 'true' };
        if (word === 'null') return { kind: 'null' };
        throw syntaxError(text, token.pos);
      }
      default:
        throw syntaxError(text, token.pos);
    }
  }

  function parsePath(): string {
    const first = next();
    if (first.t !== 'ident') throw syntaxError(text, first.pos);
    const parts = [first.v];
    while (peek().t === 'punct' && (peek() as { v: string }).v === '/') {
      const after = tokens[index + 1];
      if (after?.t === 'ident' && after.v.toLowerCase() === 'any') break;
      next();
      const part = next();
      if (part.t !== 'ident') throw syntaxError(text, part.pos);
      parts.push(part.v);
    }
    return parts.join('/');
  }

  function parsePrimary(): FilterNode {
    const token = peek();
    if (token.t === 'punct' && token.v === '(') {
      next();
      const inner = parseOr();
      expectPunct(')');
      return inner;
    }
    if (token.t !== 'ident') throw syntaxError(text, token.pos);
    const word = token.v.toLowerCase();
    if ((word === 'startswith' || word === 'endswith') && tokens[index + 1]?.t === 'punct') {
      next();
      expectPunct('(');
      const property = parsePath();
      expectPunct(',');
      const value = parseLiteral();
      expectPunct(')');
      return { type: word === 'startswith' ? 'startsWith' : 'endsWith', property, value };
    }
    const property = parsePath();
    const after = peek();
    if (after.t === 'punct' && after.v === '/') {
      next();
      const any = next();
      if (!isWord(any, 'any')) throw syntaxError(text, any.pos);
      return parseLambda(property);
    }
    const op = next();
    if (op.t !== 'ident') throw syntaxError(text, op.pos);
    const opWord = op.v.toLowerCase();
    if (opWord === 'in') {
      expectPunct('(');
      const values = [parseLiteral()];
      while (peek().t === 'punct' && (peek() as { v: string }).v === ',') {
        next();
        values.push(parseLiteral());
      }
      expectPunct(')');
      return { type: 'in', property, values };
    }
    if (!COMPARE_OPS.has(opWord)) throw syntaxError(text, op.pos);
    return { type: 'compare', op: opWord as CompareOp, property, value: parseLiteral() };
  }

  function parseLambda(property: string): FilterNode {
    expectPunct('(');
    const variable = next();
    if (variable.t !== 'ident') throw syntaxError(text, variable.pos);
    expectPunct(':');
    const terms = [parseLambdaTerm(variable.v)];
    while (isWord(peek(), 'and')) {
      next();
      terms.push(parseLambdaTerm(variable.v));
    }
    expectPunct(')');
    return { type: 'any', property, terms };
  }

  function parseLambdaTerm(variable: string): LambdaTerm {
    const head = next();
    if (head.t !== 'ident') throw syntaxError(text, head.pos);
    if (head.v.toLowerCase() === 'startswith') {
      expectPunct('(');
      const target = next();
      if (target.t !== 'ident' || target.v !== variable) throw syntaxError(text, target.pos);
      expectPunct(',');
      const value = parseLiteral();
      expectPunct(')');
      return { member: undefined, test: 'startsWith', value };
    }
    if (head.v !== variable) throw syntaxError(text, head.pos);
    let member: string | undefined;
    if (peek().t === 'punct' && (peek() as { v: string }).v === '/') {
      next();
      const name = next();
      if (name.t !== 'ident') throw syntaxError(text, name.pos);
      member = name.v;
    }
    const op = next();
    const opWord = op.t === 'ident' ? op.v.toLowerCase() : '';
    if (opWord !== 'eq' && opWord !== 'ne') throw syntaxError(text, op.pos);
    return { member, test: opWord, value: parseLiteral() };
  }

  const tree = parseOr();
  const end = peek();
  if (end.t !== 'end') throw syntaxError(text, end.pos);
  return tree;
}

// ----------------------------------------------------------------------------------------
// Checker: Graph's per-property rules

/** Where an operator works: by default, only with advanced query parameters, or not at all. */
export type Support = 'default' | 'advanced';

export interface FilterableProperty {
  /** Canonical name as written in `$filter` (`onPremisesExtensionAttributes/extensionAttribute1`). */
  readonly name: string;
  readonly type: 'string' | 'boolean' | 'guid' | 'stringCollection' | 'objectCollection';
  /** JSON path inside the stored document. */
  readonly jsonPath: string;
  /** A store column holding the lowercased value (faster, indexed). */
  readonly column?: 'id' | 'key';
  /**
   * A computed property's value as a SQL expression over the `objects` row (schema constants
   * only, never request text). The in-memory evaluator reads `jsonPath` instead.
   */
  readonly sql?: string;
  readonly eq?: Support;
  readonly startsWith?: Support;
  readonly endsWith?: Support;
  /** `eq null` / `ne null`. */
  readonly nullValues?: Support;
  /**
   * `identities`' rules (objectIdentity page, "Filtering"): a lambda needs both `issuer` and
   * `issuerAssignedId` compared with `eq`; entries of signInType `userPrincipalName` never
   * match; for `emailAddress` and `userName` entries the issuer value is ignored.
   */
  readonly signInRules?: boolean;
  /** For objectCollection: the element members usable in a lambda, with their types. */
  readonly members?: Readonly<Record<string, 'guid' | 'string'>>;
}

export interface FilterSchema {
  /** `microsoft.graph.user`, for "Could not find a property" messages. */
  readonly typeName: string;
  /** `User`, for "Unsupported or invalid query filter clause" messages. */
  readonly resourceName: string;
  readonly properties: readonly FilterableProperty[];
  /** Every property name of the type (lowercased -> canonical), to tell unknown from unfilterable. */
  readonly knownProperty: (name: string) => string | undefined;
}

export interface CheckedFilter {
  readonly tree: FilterNode;
  /** Properties resolved to their schema entry, keyed by the path as written. */
  readonly resolve: (path: string) => FilterableProperty;
}

/** Graph's limit on child clauses of one OR (including `in` values). */
const MAX_OR_CLAUSES = 15;

export function unsupportedClause(property: string, resource: string): GraphError {
  return new GraphError(
    400,
    'Request_UnsupportedQuery',
    `Unsupported or invalid query filter clause specified for property '${property}' of resource '${resource}'.`,
  );
}

function advancedRequired(operator: string): GraphError {
  return new GraphError(
    400,
    'Request_UnsupportedQuery',
    `Operator '${operator}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information`,
  );
}

function incompatibleTypes(left: string, right: string, op: string): GraphError {
  const kind: Record<string, string> = {
    eq: 'Equal',
    ne: 'NotEqual',
    gt: 'GreaterThan',
    ge: 'GreaterThanOrEqual',
    lt: 'LessThan',
    le: 'LessThanOrEqual',
    in: 'In',
  };
  return new GraphError(
    400,
    'BadRequest',
    `A binary operator with incompatible types was detected. Found operand types '${left}' and '${right}' for operator kind '${kind[op] ?? op}'.`,
  );
}

const EDM: Record<FilterableProperty['type'], string> = {
  string: 'Edm.String',
  boolean: 'Edm.Boolean',
  guid: 'Edm.Guid',
  stringCollection: 'Collection(Edm.String)',
  objectCollection: 'Collection',
};

function literalEdm(value: Literal): string {
  switch (value.kind) {
    case 'string':
      return 'Edm.String';
    case 'boolean':
      return 'Edm.Boolean';
    case 'number':
      return Number.isInteger(value.value) ? 'Edm.Int32' : 'Edm.Double';
    case 'guid':
      return 'Edm.Guid';
    case 'null':
      return 'null';
  }
}

/**
 * Parses and checks `text` against `schema`. `advanced` is true when the request carries
 * `ConsistencyLevel: eventual` and `$count=true`.
 */
export function checkFilter(text: string, schema: FilterSchema, advanced: boolean): CheckedFilter {
  const tree = parseFilter(text);
  const byName = new Map(schema.properties.map((p) => [p.name.toLowerCase(), p]));

  const resolve = (path: string): FilterableProperty => {
    const found = byName.get(path.toLowerCase());
    if (found !== undefined) return found;
    const [head] = path.split('/');
    if (schema.knownProperty(head ?? path) === undefined) {
      throw new GraphError(
        400,
        'BadRequest',
        `Could not find a property named '${head ?? path}' on type '${schema.typeName}'.`,
      );
    }
    throw unsupportedClause(path.split('/').at(-1) ?? path, schema.resourceName);
  };

  const need = (support: Support | undefined, property: FilterableProperty, op: string): void => {
    if (support === undefined) throw unsupportedClause(property.name, schema.resourceName);
    if (support === 'advanced' && !advanced) {
      throw op === 'eq'
        ? unsupportedClause(property.name, schema.resourceName)
        : advancedRequired(op);
    }
  };

  const checkValue = (property: FilterableProperty, value: Literal, op: string): void => {
    if (value.kind === 'null') {
      need(property.nullValues, property, op);
      return;
    }
    const ok =
      (property.type === 'string' && value.kind === 'string') ||
      (property.type === 'boolean' && value.kind === 'boolean') ||
      (property.type === 'guid' && (value.kind === 'guid' || value.kind === 'string'));
    if (!ok) throw incompatibleTypes(EDM[property.type], literalEdm(value), op);
  };

  const orClauses = (node: FilterNode): number =>
    node.type === 'or'
      ? orClauses(node.left) + orClauses(node.right)
      : node.type === 'in'
        ? node.values.length
        : 1;

  const visit = (node: FilterNode, negated: boolean): void => {
    switch (node.type) {
      case 'and':
        visit(node.left, negated);
        visit(node.right, negated);
        return;
      case 'or': {
        const clauses = orClauses(node);
        if (clauses > MAX_OR_CLAUSES) throw tooManyClauses(clauses);
        visit(node.left, negated);
        visit(node.right, negated);
        return;
      }
      case 'not':
        if (!advanced) throw advancedRequired('not');
        visit(node.operand, !negated);
        return;
      case 'compare': {
        const property = resolve(node.property);
        if (property.type === 'stringCollection' || property.type === 'objectCollection') {
          throw unsupportedClause(property.name, schema.resourceName);
        }
        if (node.op !== 'eq' && node.op !== 'ne') {
          throw unsupportedClause(property.name, schema.resourceName);
        }
        need(property.eq, property, 'eq');
        if (node.op === 'ne' && !advanced) throw advancedRequired('ne');
        checkValue(property, node.value, node.op);
        return;
      }
      case 'in': {
        const property = resolve(node.property);
        need(property.eq, property, 'eq');
        if (node.values.length > MAX_OR_CLAUSES) throw tooManyClauses(node.values.length);
        for (const value of node.values) {
          if (value.kind === 'null') throw incompatibleTypes(EDM[property.type], 'null', 'in');
          checkValue(property, value, 'in');
        }
        return;
      }
      case 'startsWith':
      case 'endsWith': {
        const property = resolve(node.property);
        need(
          node.type === 'startsWith' ? property.startsWith : property.endsWith,
          property,
          node.type,
        );
        if (node.value.kind !== 'string') {
          throw new GraphError(
            400,
            'BadRequest',
            `No function signature for the function with name '${node.type.toLowerCase()}' matches the specified arguments. The function signatures considered are: ${node.type.toLowerCase()}(Edm.String Nullable=true, Edm.String Nullable=true).`,
          );
        }
        return;
      }
      case 'any':
        checkLambda(node.property, node.terms);
        return;
    }
  };

  const checkLambda = (path: string, terms: readonly LambdaTerm[]): void => {
    const property = resolve(path);
    if (property.type !== 'stringCollection' && property.type !== 'objectCollection') {
      throw unsupportedClause(property.name, schema.resourceName);
    }
    if (property.signInRules === true) {
      checkIdentityLambda(property, terms, schema.resourceName);
      return;
    }
    const [term, ...rest] = terms;
    if (term === undefined || rest.length > 0) {
      throw unsupportedClause(property.name, schema.resourceName);
    }
    if (term.test === 'ne' && !advanced) throw advancedRequired('ne');
    if (term.test === 'startsWith') need(property.startsWith, property, 'startsWith');
    else need(property.eq, property, 'eq');
    if (property.type === 'objectCollection') {
      const memberType = term.member === undefined ? undefined : property.members?.[term.member];
      if (memberType === undefined) {
        throw unsupportedClause(term.member ?? property.name, schema.resourceName);
      }
      if (memberType === 'guid' && term.value.kind !== 'guid' && term.value.kind !== 'string') {
        throw incompatibleTypes('Edm.Guid', literalEdm(term.value), 'eq');
      }
    } else if (term.member !== undefined || term.value.kind !== 'string') {
      throw unsupportedClause(property.name, schema.resourceName);
    }
  };
  visit(tree, false);
  return { tree, resolve };
}

/** `identities/any(c:c/issuerAssignedId eq 'x' and c/issuer eq 'y')`, in either order. */
function checkIdentityLambda(
  property: FilterableProperty,
  terms: readonly LambdaTerm[],
  resource: string,
): void {
  const members = terms.map((t) => t.member?.toLowerCase());
  const valid =
    terms.length === 2 &&
    members.includes('issuer') &&
    members.includes('issuerassignedid') &&
    terms.every((t) => t.test === 'eq' && t.value.kind === 'string');
  if (!valid) throw unsupportedClause(property.name, resource);
}

function tooManyClauses(count: number): GraphError {
  return new GraphError(
    400,
    'Request_UnsupportedQuery',
    `Too many child clauses specified in search filter expression containing 'OR' operators: ${count}. Max allowed: ${MAX_OR_CLAUSES}.`,
  );
}
