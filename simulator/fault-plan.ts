/**
 * Fault plans: the failures a simulator injects, described as data (JSON or YAML) with a seed,
 * so a failing run becomes a regression test by saving its plan. Every random decision comes
 * from the plan's seed through one PRNG (random.ts); each rule draws from its own stream and
 * counts its own matching requests, so rules do not disturb each other and a sequential
 * client sees the same faults on every run.
 *
 * ```yaml
 * seed: 42
 * faults:
 *   - kind: lost-response          # the write commits, the client sees 504 (or a reset)
 *     match: { method: POST, path: '^/users$' }
 *     when: { nth: [3] }
 *   - kind: throttle               # a 429 storm with a long Retry-After
 *     when: { from: 100, times: 20 }
 *     retryAfterSeconds: 300
 *   - kind: status                 # 5xx before the handler runs (nothing commits)
 *     status: 503
 *     when: { probability: 0.05 }
 *   - kind: unauthorized           # a 401 at the 500th Graph request
 *     when: { nth: [500] }
 *     revokeTokens: true
 *   - kind: page                   # nextLink fails on page 7, or repeats page 3
 *     page: 7
 *     mode: fail
 *   - kind: batch-item             # inner $batch requests fail on their own
 *     status: 429
 *     retryAfterSeconds: 30
 *     when: { probability: 0.2 }
 *   - kind: latency                # 150 ms + 1 ms per object returned (latency.ts)
 *     ms: 150
 *     perObjectMs: 1
 *     jitterMs: 20
 *   - kind: replication-lag        # new objects 404 on read/reference for 5 s
 *     ms: 5000                     # (status: 400: writes naming them get 400 instead)
 *   - kind: status                 # 202 Accepted with no body on a read, as Graph under load
 *     status: 202
 *     match: { method: GET, path: '^/users/[^/]+$' }
 *   - kind: delta-page             # delta pages hold at most 3 objects, whatever is asked
 *     size: 3
 * ```
 *
 * `retryAfterSeconds` may be a decimal (`1.5`): Graph sends such values under load.
 *
 * `match` (all optional): `method` (one or a list), `path` (a regular expression over the path
 * after `/v1.0`, without the query), `clientId`. `when` (all optional, combined with AND):
 * `nth` (the rule's Nth matching requests, 1-based), `from` (the Nth match onward), `every`
 * (every Kth match from `from`), `probability` (seeded), `times` (fire at most this often).
 * Without `when`, a rule fires on every match. Default matches: lost-response and
 * replication-lag apply to writes (POST/PATCH/PUT/DELETE), page to GETs, batch-item only to
 * requests inside `$batch`; the others to every Graph request.
 */
import { readFile } from 'node:fs/promises';
import { type Static, Type } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import type { Random } from './random.js';
import { createRandomSource } from './random.js';

const Match = Type.Object(
  {
    method: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })])),
    path: Type.Optional(Type.String({ minLength: 1 })),
    clientId: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

const When = Type.Object(
  {
    nth: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1 })),
    from: Type.Optional(Type.Integer({ minimum: 1 })),
    every: Type.Optional(Type.Integer({ minimum: 1 })),
    probability: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    times: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

const common = {
  match: Type.Optional(Match),
  when: Type.Optional(When),
  description: Type.Optional(Type.String()),
};

// Decimal seconds allowed: Graph has answered `Retry-After: 1.5`, which clients must read.
const RetryAfterSeconds = Type.Number({ minimum: 0, maximum: 86_400 });
const RetryAfter = Type.Optional(RetryAfterSeconds);

export const FaultRuleSchema = Type.Union([
  Type.Object(
    {
      kind: Type.Literal('lost-response'),
      mode: Type.Optional(Type.Union([Type.Literal('gateway-timeout'), Type.Literal('reset')])),
      ...common,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('status'),
      // 202: Accepted with no body, which a client must read as "ask again".
      status: Type.Union([Type.Literal(202), Type.Integer({ minimum: 400, maximum: 599 })]),
      retryAfterSeconds: RetryAfter,
      ...common,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('throttle'),
      retryAfterSeconds: RetryAfterSeconds,
      ...common,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('unauthorized'),
      revokeTokens: Type.Optional(Type.Boolean()),
      ...common,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('page'),
      page: Type.Integer({ minimum: 1 }),
      mode: Type.Union([Type.Literal('fail'), Type.Literal('repeat')]),
      status: Type.Optional(Type.Integer({ minimum: 400, maximum: 599 })),
      ...common,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('batch-item'),
      status: Type.Integer({ minimum: 400, maximum: 599 }),
      retryAfterSeconds: RetryAfter,
      ...common,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('latency'),
      ms: Type.Integer({ minimum: 0, maximum: 600_000 }),
      perObjectMs: Type.Optional(Type.Number({ minimum: 0, maximum: 60_000 })),
      jitterMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
      ...common,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('replication-lag'),
      ms: Type.Integer({ minimum: 0, maximum: 86_400_000 }),
      /** What a write naming a lagging object gets: 404 (default) or 400 `Request_BadRequest`. */
      status: Type.Optional(Type.Union([Type.Literal(404), Type.Literal(400)])),
      ...common,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('delta-page'),
      /** Most objects one delta page holds (Graph's delta pages are smaller than asked). */
      size: Type.Integer({ minimum: 1, maximum: 999 }),
      ...common,
    },
    { additionalProperties: false },
  ),
]);

export const FaultPlanSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    seed: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    faults: Type.Array(FaultRuleSchema),
  },
  { additionalProperties: false },
);

export type FaultRule = Static<typeof FaultRuleSchema>;
export type FaultPlan = Static<typeof FaultPlanSchema>;

export class FaultPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultPlanError';
  }
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validatePlan = ajv.compile<FaultPlan>(FaultPlanSchema);

/** Validates a parsed plan (also every `path` regex); `source` names it in errors. */
export function parseFaultPlan(value: unknown, source = 'fault plan'): FaultPlan {
  if (!validatePlan(value)) {
    const problems = (validatePlan.errors ?? [])
      .filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'const')
      .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
    const unique = [...new Set(problems)];
    throw new FaultPlanError(
      `${source} is invalid: ${unique.length > 0 ? unique.join('; ') : 'unknown fault kind or shape'}`,
    );
  }
  for (const [index, rule] of value.faults.entries()) {
    if (rule.match?.path !== undefined) {
      try {
        new RegExp(rule.match.path);
      } catch (error) {
        throw new FaultPlanError(
          `${source}: faults[${index}].match.path is not a regular expression: ${(error as Error).message}`,
        );
      }
    }
  }
  return value;
}

/** Reads a plan from a `.json`, `.yaml` or `.yml` file. */
export async function loadFaultPlan(path: string): Promise<FaultPlan> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new FaultPlanError(`Fault plan ${path} cannot be read: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new FaultPlanError(`Fault plan ${path} cannot be parsed: ${(error as Error).message}`);
  }
  return parseFaultPlan(parsed, `Fault plan ${path}`);
}

// ---------------------------------------------------------------------------- engine

/** What the fault engine sees of a request. */
export interface FaultRequest {
  readonly method: string;
  /** Path after `/v1.0`, without the query: `/users`, `/groups/{id}/members/$ref`, `/$batch`. */
  readonly path: string;
  readonly clientId: string;
  /** True for a request inside `$batch`. */
  readonly inner: boolean;
  /** 1 for a first page, N for the request that follows N-1 nextLinks. */
  readonly page: number;
}

export interface FaultDecision {
  /** Kinds of the rules that fired, for the request log. */
  readonly fired: readonly string[];
  readonly unauthorized?: { readonly revokeTokens: boolean };
  /** Answer with this status instead of running the handler. */
  readonly respond?: {
    readonly status: number;
    readonly retryAfterSeconds?: number;
    readonly throttle: boolean;
  };
  /** Run the handler, then lose the response if it succeeded. */
  readonly lost?: 'gateway-timeout' | 'reset';
  /** Answer page N with a nextLink to page N again. */
  readonly repeatPage?: boolean;
  readonly latencyMs?: number;
  /** Delta pages hold at most this many objects. */
  readonly deltaPageSize?: number;
  /** Added latency per object the response returns (simulator/latency.ts). */
  readonly latencyPerObjectMs?: number;
}

/** Replication lag for an object a write created: how long, and what writes naming it get. */
export interface ReplicationLag {
  readonly ms: number;
  readonly status: 400 | 404;
}

export interface FaultEngine {
  readonly plan: FaultPlan | undefined;
  decide(request: FaultRequest): FaultDecision;
  /** Replication lag for an object created by `request`; `ms` 0 for none. */
  lagFor(request: FaultRequest): ReplicationLag;
}

const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

interface ActiveRule {
  readonly rule: FaultRule;
  readonly random: Random;
  readonly path: RegExp | undefined;
  readonly methods: readonly string[] | undefined;
  matches: number;
  fired: number;
}

export function createFaultEngine(plan: FaultPlan | undefined): FaultEngine {
  const source = createRandomSource(plan?.seed ?? 0);
  const rules: ActiveRule[] = (plan?.faults ?? []).map((rule, index) => ({
    rule,
    random: source.stream(index),
    path: rule.match?.path === undefined ? undefined : new RegExp(rule.match.path),
    methods:
      rule.match?.method === undefined
        ? undefined
        : (Array.isArray(rule.match.method) ? rule.match.method : [rule.match.method]).map((m) =>
            m.toUpperCase(),
          ),
    matches: 0,
    fired: 0,
  }));

  const applies = (active: ActiveRule, request: FaultRequest): boolean => {
    const { rule } = active;
    if (active.methods !== undefined && !active.methods.includes(request.method)) return false;
    if (active.path !== undefined && !active.path.test(request.path)) return false;
    if (
      rule.match?.clientId !== undefined &&
      rule.match.clientId.toLowerCase() !== request.clientId.toLowerCase()
    ) {
      return false;
    }
    switch (rule.kind) {
      case 'lost-response':
      case 'replication-lag':
        return active.methods !== undefined || WRITE_METHODS.has(request.method);
      case 'page':
        return (
          (active.methods !== undefined || request.method === 'GET') && request.page === rule.page
        );
      case 'batch-item':
        return request.inner;
      case 'delta-page':
        return request.method === 'GET' && /\/(microsoft\.graph\.)?delta$/.test(request.path);
      default:
        return true;
    }
  };

  // Counts the match, then decides; the PRNG is drawn only when every other condition holds,
  // so the draw sequence depends on nothing but the order of matching requests.
  const fires = (active: ActiveRule): boolean => {
    active.matches += 1;
    const n = active.matches;
    const when = active.rule.when;
    if (when?.times !== undefined && active.fired >= when.times) return false;
    if (when?.nth !== undefined && !when.nth.includes(n)) return false;
    const from = when?.from ?? 1;
    if (n < from) return false;
    if (when?.every !== undefined && (n - from) % when.every !== 0) return false;
    if (when?.probability !== undefined && !active.random.chance(when.probability)) return false;
    active.fired += 1;
    return true;
  };

  return {
    plan,
    decide(request) {
      const fired: string[] = [];
      let decision: {
        -readonly [K in keyof FaultDecision]: FaultDecision[K];
      } = { fired };
      for (const active of rules) {
        const { rule } = active;
        if (rule.kind === 'replication-lag' || !applies(active, request) || !fires(active))
          continue;
        fired.push(rule.kind);
        switch (rule.kind) {
          case 'unauthorized':
            decision.unauthorized ??= { revokeTokens: rule.revokeTokens === true };
            break;
          case 'status':
          case 'batch-item':
            decision.respond ??= {
              status: rule.status,
              throttle: rule.status === 429,
              ...(rule.retryAfterSeconds === undefined
                ? {}
                : { retryAfterSeconds: rule.retryAfterSeconds }),
            };
            break;
          case 'throttle':
            decision.respond ??= {
              status: 429,
              retryAfterSeconds: rule.retryAfterSeconds,
              throttle: true,
            };
            break;
          case 'page':
            if (rule.mode === 'fail')
              decision.respond ??= { status: rule.status ?? 500, throttle: false };
            else decision.repeatPage = true;
            break;
          case 'lost-response':
            decision.lost ??= rule.mode ?? 'gateway-timeout';
            break;
          case 'delta-page':
            decision.deltaPageSize = Math.min(decision.deltaPageSize ?? rule.size, rule.size);
            break;
          case 'latency': {
            const jitter = rule.jitterMs === undefined ? 0 : active.random.int(0, rule.jitterMs);
            decision = {
              ...decision,
              latencyMs: (decision.latencyMs ?? 0) + rule.ms + jitter,
              ...(rule.perObjectMs === undefined
                ? {}
                : { latencyPerObjectMs: (decision.latencyPerObjectMs ?? 0) + rule.perObjectMs }),
            };
            break;
          }
        }
      }
      return decision;
    },
    lagFor(request) {
      let lag: ReplicationLag = { ms: 0, status: 404 };
      for (const active of rules) {
        if (active.rule.kind !== 'replication-lag') continue;
        if (!applies(active, request) || !fires(active)) continue;
        if (active.rule.ms > lag.ms)
          lag = { ms: active.rule.ms, status: active.rule.status ?? 404 };
      }
      return lag;
    },
  };
}
