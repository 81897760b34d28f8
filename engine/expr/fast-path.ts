/**
 * A fast path for the expressions most mappings are made of: field paths (`first_name`,
 * `$hr.first_name`), string literals, `&` concatenation, `=` / `!=` against strings, `true` /
 * `false`, `$lowercase` / `$uppercase` and the pure bound functions. JSONata evaluates each of
 * these in tens of microseconds through its async machinery; as plain functions they take well
 * under one, which is most of a 100,000-person plan (issue 11).
 *
 * Contract: a fast evaluator returns exactly what JSONata would, or `UNDECIDED` when a value at
 * run time is outside what it models (a number, an array, an object, an unbound variable), and
 * the caller then asks JSONata. It never runs a side effect before deciding, so falling back is
 * always safe. `fast-path.test.ts` checks both paths give identical results on generated inputs.
 */
import type jsonata from 'jsonata';

export const UNDECIDED: unique symbol = Symbol('undecided');
type Result = string | boolean | undefined | typeof UNDECIDED;
export type FastEvaluator = (input: unknown, bindings: Readonly<Record<string, unknown>>) => Result;

/** Bound functions without side effects that the fast path may call directly. */
const PURE_BOUND_FUNCTIONS = new Set([
  'foldDiacritics',
  'mailNickname',
  'appendDomain',
  'immutableId',
]);

type Node = Omit<jsonata.ExprNode, 'type'> & { type: string; [key: string]: unknown };

const STEP_EXTRAS = [
  'predicate',
  'stages',
  'group',
  'focus',
  'index',
  'tuple',
  'keepArray',
  'consarray',
  'ancestor',
];

/** A fast evaluator for the expression, or undefined when its shape is not modelled. */
export function compileFastPath(ast: jsonata.ExprNode): FastEvaluator | undefined {
  return build(ast as Node);
}

function build(node: Node): FastEvaluator | undefined {
  if (STEP_EXTRAS.some((k) => node[k] !== undefined)) return undefined;
  switch (node.type) {
    case 'string': {
      const value = node.value;
      return typeof value === 'string' ? () => value : undefined;
    }
    case 'value': {
      const value = node.value;
      return typeof value === 'boolean' ? () => value : undefined;
    }
    case 'path':
      return buildPath(node);
    case 'binary':
      return buildBinary(node);
    case 'function':
      return buildCall(node);
    default:
      return undefined;
  }
}

function buildPath(node: Node): FastEvaluator | undefined {
  const steps = (node.steps ?? []) as Node[];
  if (steps.some((s) => STEP_EXTRAS.some((k) => s[k] !== undefined))) return undefined;
  const [first, second, ...rest] = steps;
  if (rest.length > 0 || !first) return undefined;
  if (first.type === 'name' && typeof first.value === 'string' && !second) {
    const field = first.value;
    return (input) => primitive(fieldOf(input, field));
  }
  if (
    first.type === 'variable' &&
    typeof first.value === 'string' &&
    first.value !== '' &&
    second?.type === 'name' &&
    typeof second.value === 'string'
  ) {
    const variable = first.value;
    const field = second.value;
    return (_input, bindings) => {
      if (!Object.hasOwn(bindings, variable)) return UNDECIDED;
      return primitive(fieldOf(bindings[variable], field));
    };
  }
  return undefined;
}

function buildBinary(node: Node): FastEvaluator | undefined {
  const lhs = node.lhs && !Array.isArray(node.lhs) ? build(node.lhs as Node) : undefined;
  const rhs = node.rhs ? build(node.rhs as Node) : undefined;
  if (!lhs || !rhs) return undefined;
  switch (node.value) {
    case '&':
      // JSONata: an undefined operand concatenates as ''.
      return (input, bindings) => {
        const a = lhs(input, bindings);
        if (a === UNDECIDED || typeof a === 'boolean') return UNDECIDED;
        const b = rhs(input, bindings);
        if (b === UNDECIDED || typeof b === 'boolean') return UNDECIDED;
        return (a ?? '') + (b ?? '');
      };
    case '=':
    case '!=': {
      const equal = node.value === '=';
      // JSONata: a comparison with an undefined operand is false, for `=` and for `!=` alike.
      return (input, bindings) => {
        const a = lhs(input, bindings);
        if (a === UNDECIDED) return UNDECIDED;
        const b = rhs(input, bindings);
        if (b === UNDECIDED) return UNDECIDED;
        if (a === undefined || b === undefined) return false;
        if (typeof a !== typeof b) return !equal;
        return equal ? a === b : a !== b;
      };
    }
    default:
      return undefined;
  }
}

function buildCall(node: Node): FastEvaluator | undefined {
  const procedure = node.procedure as Node | undefined;
  if (procedure?.type !== 'variable' || typeof procedure.value !== 'string') return undefined;
  const name = procedure.value;
  const args = ((node.arguments ?? []) as Node[]).map(build);
  if (args.some((a) => a === undefined)) return undefined;
  const evaluators = args as FastEvaluator[];
  if ((name === 'lowercase' || name === 'uppercase') && evaluators.length === 1) {
    const [arg] = evaluators as [FastEvaluator];
    return (input, bindings) => {
      if (Object.hasOwn(bindings, name)) return UNDECIDED;
      const v = arg(input, bindings);
      if (v === UNDECIDED || typeof v === 'boolean') return UNDECIDED;
      if (v === undefined) return undefined;
      return name === 'lowercase' ? v.toLowerCase() : v.toUpperCase();
    };
  }
  if (PURE_BOUND_FUNCTIONS.has(name)) {
    return (input, bindings) => {
      const fn = bindings[name];
      if (typeof fn !== 'function') return UNDECIDED;
      const values: unknown[] = [];
      for (const evaluate of evaluators) {
        const v = evaluate(input, bindings);
        if (v === UNDECIDED) return UNDECIDED;
        values.push(v);
      }
      const out: unknown = (fn as (...a: unknown[]) => unknown)(...values);
      return typeof out === 'string' || out === undefined ? out : UNDECIDED;
    };
  }
  return undefined;
}

function fieldOf(value: unknown, field: string): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return value === undefined ? undefined : UNDECIDED;
  }
  if (Object.hasOwn(value, field)) return (value as Record<string, unknown>)[field];
  // An inherited name (`constructor`, `__proto__`) is JSONata's business, not ours.
  return field in value ? UNDECIDED : undefined;
}

/** Strings and absent values are modelled; anything else goes to JSONata. */
function primitive(value: unknown): Result {
  return typeof value === 'string' || value === undefined ? value : UNDECIDED;
}
