/**
 * JSONata expressions as the config uses them: compiled once when config loads, evaluated
 * with guardrails (time, stack depth, sequence length), and inspected for the field paths they
 * read so the config can be checked against each source's declared fields before planning.
 */
import jsonata from 'jsonata';
import type { SourcePosition } from '../model/diagnostic.js';
import { UNDECIDED, compileFastPath } from './fast-path.js';
import { SafeRegexEngine, UnsupportedRegexError, compileSafeRegex } from './safe-regex.js';

export interface ExpressionLimits {
  /** Milliseconds one evaluation may run (D1012). */
  readonly timeoutMs: number;
  /** Maximum evaluation depth (D1011). */
  readonly stackDepth: number;
  /** Maximum sequence length (D2015). */
  readonly sequenceLength: number;
}

export const DEFAULT_EXPRESSION_LIMITS: ExpressionLimits = {
  timeoutMs: 1000,
  stackDepth: 500,
  sequenceLength: 100_000,
};

/**
 * A field an expression reads. `variable` is the source binding it goes through (`$hr.status`
 * reads `status` of `hr`); undefined means the evaluation input (the primary source's record).
 */
export interface FieldReference {
  readonly variable?: string;
  readonly field: string;
  /** Character offset of the reference inside the expression text. */
  readonly offset: number;
}

export interface Expression {
  readonly text: string;
  /** Config path, e.g. `users.attributes.displayName`. */
  readonly configPath: string;
  /** Position of the expression's first character in its config file. */
  readonly position: SourcePosition;
  readonly fieldReferences: readonly FieldReference[];
  /** Config-file position of a character offset inside the expression text. */
  positionAt(offset: number): SourcePosition;
  evaluate(input: unknown, bindings: Readonly<Record<string, unknown>>): Promise<unknown>;
  /**
   * The value, computed synchronously by the fast path, or `UNDECIDED` when only JSONata can
   * say (then call `evaluate`). Never runs JSONata and has no side effects, so trying it first
   * is always safe.
   */
  evaluateNow(input: unknown, bindings: Readonly<Record<string, unknown>>): unknown;
}

export { UNDECIDED };

export interface ExpressionSyntaxError {
  readonly message: string;
  /** JSONata's error code, e.g. S0202. */
  readonly code: string;
  /** Character offset inside the expression text where JSONata stopped. */
  readonly offset: number;
}

export type CompileResult =
  | { readonly ok: true; readonly expression: Expression }
  | { readonly ok: false; readonly error: ExpressionSyntaxError };

interface JsonataErrorLike {
  code?: string;
  message?: string;
  position?: number;
}

export function compileExpression(
  text: string,
  configPath: string,
  position: SourcePosition,
  limits: ExpressionLimits = DEFAULT_EXPRESSION_LIMITS,
  locate: (offset: number) => SourcePosition = (offset) => ({
    ...position,
    column: position.column + offset,
  }),
): CompileResult {
  let compiled: jsonata.Expression;
  try {
    compiled = jsonata(text, {
      timeout: limits.timeoutMs,
      stack: limits.stackDepth,
      sequence: limits.sequenceLength,
      // Regexes run on RE2 (linear time): a backtracking RegExp blocks the event loop, and
      // with it the timeout above (M3).
      RegexEngine: SafeRegexEngine,
    });
  } catch (err) {
    const e = err as JsonataErrorLike;
    return {
      ok: false,
      error: {
        code: e.code ?? 'S0000',
        message: e.message ?? String(err),
        offset: Math.max(0, (e.position ?? 1) - 1),
      },
    };
  }
  const ast = compiled.ast();
  const unsupportedRegex = checkRegexes(ast, text);
  if (unsupportedRegex) return { ok: false, error: unsupportedRegex };
  const fieldReferences = collectFieldReferences(ast);
  const fast = compileFastPath(ast);
  return {
    ok: true,
    expression: {
      text,
      configPath,
      position,
      fieldReferences,
      positionAt: locate,
      evaluateNow: fast ?? (() => UNDECIDED),
      evaluate: (input, bindings) => {
        const quick = fast ? fast(input, bindings) : UNDECIDED;
        return quick === UNDECIDED
          ? compiled.evaluate(input, { ...bindings })
          : Promise.resolve(quick);
      },
    },
  };
}

/** Code of a regex literal RE2 cannot run (backreferences, lookaround); in JSONata's 03xx range. */
export const UNSUPPORTED_REGEX_CODE = 'S0399';

/**
 * Compiles every regex literal for the safe engine now, so that one it cannot run is a config
 * error at load, pointing at the literal, instead of a failure on the first record.
 */
function checkRegexes(ast: jsonata.ExprNode, text: string): ExpressionSyntaxError | undefined {
  const seen = new Set<object>();
  const visit = (node: unknown): ExpressionSyntaxError | undefined => {
    if (node === null || typeof node !== 'object' || node instanceof RegExp || seen.has(node))
      return undefined;
    seen.add(node);
    const { type, value, position } = node as {
      type?: unknown;
      value?: unknown;
      position?: unknown;
    };
    if (type === 'regex' && value instanceof RegExp) {
      try {
        compileSafeRegex(value);
      } catch (err) {
        if (!(err instanceof UnsupportedRegexError)) throw err;
        return {
          code: UNSUPPORTED_REGEX_CODE,
          message: err.message,
          offset: regexStart(text, value, typeof position === 'number' ? position : 0),
        };
      }
    }
    for (const child of Object.values(node)) {
      const found = visit(child);
      if (found) return found;
    }
    return undefined;
  };
  return visit(ast);
}

/** Offset of a regex literal's opening `/`; JSONata's position is just past its flags. */
function regexStart(text: string, regex: RegExp, end: number): number {
  const closing = end - regex.flags.length; // `flags` has JSONata's added `g`
  const opening = closing - regex.source.length - 1;
  return opening >= 0 && text[opening] === '/' ? opening : Math.max(0, closing);
}

/** Thrown for a failed evaluation; carries the expression so the message can point at config. */
export class ExpressionEvaluationError extends Error {
  constructor(
    readonly expression: Expression,
    readonly jsonataCode: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ExpressionEvaluationError';
  }
}

export async function evaluateExpression(
  expression: Expression,
  input: unknown,
  bindings: Readonly<Record<string, unknown>>,
): Promise<unknown> {
  try {
    return await expression.evaluate(input, bindings);
  } catch (err) {
    const e = err as JsonataErrorLike;
    throw new ExpressionEvaluationError(
      expression,
      e.code,
      `${expression.configPath}: ${e.code ? `${e.code} ` : ''}${e.message ?? String(err)}`,
    );
  }
}

// The published typings omit node types the parser produces (`path`, `bind`, ...).
type Node = Omit<jsonata.ExprNode, 'type'> & {
  type: string;
  predicate?: Node[];
  group?: { lhs: [Node, Node][] };
  condition?: Node;
  then?: Node;
  else?: Node;
  pattern?: Node;
  update?: Node;
  delete?: Node;
  body?: Node;
  expr?: Node;
};

/**
 * The field paths an expression reads from its input or from a source binding. Conservative by
 * design: only the first step of a path evaluated against the root input (or `$source.`) is a
 * reference; steps after it, and paths inside predicates or lambdas, are relative to something
 * else and are not reported. A lint that flags a field that exists would be worse than one that
 * misses an exotic reference.
 */
export function collectFieldReferences(ast: jsonata.ExprNode): FieldReference[] {
  const refs: FieldReference[] = [];
  const visit = (node: Node | undefined, atRoot: boolean): void => {
    if (!node || typeof node !== 'object') return;
    switch (node.type) {
      case 'path': {
        const steps = (node.steps ?? []) as Node[];
        const [first, second] = steps;
        if (atRoot && first?.type === 'name' && typeof first.value === 'string') {
          refs.push({ field: first.value, offset: offsetOf(first) });
        } else if (
          atRoot &&
          first?.type === 'variable' &&
          typeof first.value === 'string' &&
          first.value !== '' &&
          second?.type === 'name' &&
          typeof second.value === 'string'
        ) {
          refs.push({ variable: first.value, field: second.value, offset: offsetOf(second) });
        }
        // Later steps, predicates and stages are relative to earlier steps: visit them only to
        // find root-level expressions such as function arguments, which JSONata evaluates against
        // the step's context; treat those as relative too.
        for (const step of steps) visitChildren(step, false);
        return;
      }
      case 'name':
        if (atRoot && typeof node.value === 'string')
          refs.push({ field: node.value, offset: offsetOf(node) });
        visitChildren(node, false);
        return;
      case 'lambda':
        // Lambda bodies see their parameters and whatever context they are applied to.
        visit(node.body, false);
        return;
      default:
        visitChildren(node, atRoot);
    }
  };
  const visitChildren = (node: Node, atRoot: boolean): void => {
    const n = node as Node;
    if (node.type !== 'path' && node.type !== 'name') {
      for (const child of [
        n.lhs,
        n.rhs,
        n.condition,
        n.then,
        n.else,
        n.expr,
        n.pattern,
        n.update,
        n.delete,
      ]) {
        if (Array.isArray(child)) {
          for (const c of child) {
            if (Array.isArray(c)) c.forEach((x) => visit(x as Node, atRoot));
            else visit(c as Node, atRoot);
          }
        } else visit(child as Node | undefined, atRoot);
      }
      for (const list of [n.arguments, n.expressions])
        for (const c of list ?? []) visit(c as Node, atRoot);
      if (n.procedure && n.procedure.type !== 'variable') visit(n.procedure as Node, atRoot);
    }
    for (const c of n.predicate ?? []) visit(c.expr ?? c, false);
    for (const c of n.stages ?? []) visit((c as Node).expr ?? (c as Node), false);
    for (const [k, v] of n.group?.lhs ?? []) {
      visit(k, false);
      visit(v, false);
    }
  };
  visit(ast as Node, true);
  return refs;
}

function offsetOf(node: Node): number {
  // JSONata positions point just past the token; convert to the token's first character.
  const end = node.position ?? 0;
  const len = typeof node.value === 'string' ? node.value.length : 0;
  return Math.max(0, end - len);
}
