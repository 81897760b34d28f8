/**
 * Replays Microsoft's published request/response examples for the identity endpoints
 * (simulator/graph-examples/*.json, each naming its reference page) against a seeded simulator
 * over HTTPS, and checks what a real tenant would give back: the status, the `@odata.context`
 * form, `@odata.count` and paging links where the example has them, and at least the documented
 * properties (ids differ between tenants: shapes are compared, not values). Error examples check
 * Graph's code, message and `innerError` (`date`, `request-id`, `client-request-id`).
 *
 * An example marked `differs` is a known difference: it must fail (test.fails), so fixing it
 * means removing the mark, and the README lists every mark left.
 *
 * `not-modelled.json` is the simulator's own contract: a path Graph has and the simulator does
 * not model answers 501, never a Graph-like 400.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningSimulator } from './index.js';
import { startSimulator } from './index.js';
import { bearer, PASSWORD } from './test-helpers/simulator.js';
import { Agent } from 'undici';

interface ExampleRequest {
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

interface Example {
  readonly name: string;
  readonly source: string;
  /** A known difference from Graph: the replay is expected to fail (and fails the suite if it passes). */
  readonly differs?: string;
  readonly setup?: readonly ExampleRequest[];
  readonly request: ExampleRequest;
  readonly status: number;
  /** What follows `$metadata#` in `@odata.context`. */
  readonly context?: string;
  readonly contentType?: string;
  readonly count?: boolean;
  readonly properties?: readonly string[];
  readonly itemProperties?: readonly string[];
  /** Items a collection must hold (default 1 when itemProperties are given). */
  readonly minItems?: number;
  readonly oneOf?: readonly string[];
  readonly headers?: readonly string[];
  readonly batch?: Record<string, number>;
  readonly error?: {
    readonly code: string;
    readonly message?: string;
    readonly messageStartsWith?: string;
    readonly detail?: { readonly code: string; readonly target: string };
  };
}

const DIR = join(import.meta.dirname, 'graph-examples');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'seed.json');
const SEED = JSON.parse(readFileSync(join(DIR, 'seed.json'), 'utf8')) as Record<string, unknown>;

const FIXED: Record<string, string> = {
  adele: '11111111-0000-4000-8000-000000000001',
  oscar: '11111111-0000-4000-8000-000000000002',
  grady: '11111111-0000-4000-8000-000000000003',
  admin: '11111111-0000-4000-8000-000000000004',
  allStaff: '22222222-0000-4000-8000-000000000001',
  golf: '22222222-0000-4000-8000-000000000002',
  video: '22222222-0000-4000-8000-000000000003',
  licensed: '22222222-0000-4000-8000-000000000004',
  e3: '05e9a617-0261-4cee-bb44-138d3ef5d965',
  e5: '06ebc4ee-1bb5-47dd-8120-11324bc54e06',
};

let sim: RunningSimulator;
let token: string;
let dispatcher: Agent;
let serial = 0;

beforeAll(async () => {
  sim = await startSimulator({ seed: SEED as never, throttling: false });
  token = await bearer(sim);
  dispatcher = new Agent({ connect: { ca: sim.caPem } });
});

afterAll(async () => {
  await dispatcher.close();
  await sim.close();
});

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: Record<string, unknown> | undefined;
}

async function send(request: ExampleRequest, clientRequestId?: string): Promise<Answer> {
  const headers: Record<string, string> = { Authorization: token, ...request.headers };
  if (request.body !== undefined) headers['Content-Type'] = 'application/json';
  if (clientRequestId !== undefined) headers['client-request-id'] = clientRequestId;
  const response = await fetch(`${sim.origin}/v1.0${request.path}`, {
    method: request.method,
    headers,
    ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    dispatcher,
  } as unknown as RequestInit);
  const text = await response.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
}

async function ok(request: ExampleRequest, what: string): Promise<Answer> {
  const answer = await send(request);
  if (answer.status >= 300) throw new Error(`${what} failed: ${answer.status} ${answer.text}`);
  return answer;
}

/** Fills `{name}` placeholders: fixed seed ids, fresh objects per example, `{n}` a serial. */
async function resolver(): Promise<(value: unknown) => Promise<unknown>> {
  serial += 1;
  const n = serial;
  const made = new Map<string, string>();
  const make = async (kind: string, key: string): Promise<string> => {
    const known = made.get(`${kind}:${key}`);
    if (known !== undefined) return known;
    const tag = `x${n}${kind.replace(/\W/g, '')}${key}`;
    const isUser = kind.endsWith('user');
    const body = isUser
      ? {
          accountEnabled: true,
          displayName: `Replay ${tag}`,
          mailNickname: tag,
          userPrincipalName: `${tag}@contoso.com`,
          passwordProfile: { forceChangePasswordNextSignIn: true, password: PASSWORD },
        }
      : {
          displayName: `Replay ${tag}`,
          mailNickname: tag,
          mailEnabled: kind.endsWith('m365'),
          securityEnabled: !kind.endsWith('m365'),
          groupTypes: kind.endsWith('m365') ? ['Unified'] : [],
        };
    const created = await ok(
      { method: 'POST', path: isUser ? '/users' : '/groups', body },
      `create ${kind}`,
    );
    const id = String(created.body?.['id']);
    if (kind.startsWith('deleted')) {
      await ok({ method: 'DELETE', path: `/${isUser ? 'users' : 'groups'}/${id}` }, 'delete');
    }
    made.set(`${kind}:${key}`, id);
    return id;
  };
  const fill = async (text: string): Promise<string> => {
    let out = '';
    let last = 0;
    for (const match of text.matchAll(/\{([\w-]+)(?::(\w+))?\}/g)) {
      const [whole, name = '', key] = match;
      out += text.slice(last, match.index);
      last = match.index + whole.length;
      if (name === 'n') out += String(n);
      else if (key !== undefined) out += await make(name, key);
      else out += FIXED[name] ?? whole;
    }
    return out + text.slice(last);
  };
  const walk = async (value: unknown): Promise<unknown> => {
    if (typeof value === 'string') return fill(value);
    if (Array.isArray(value)) return Promise.all(value.map(walk));
    if (value !== null && typeof value === 'object') {
      const entries = await Promise.all(
        Object.entries(value).map(async ([k, v]) => [await fill(k), await walk(v)] as const),
      );
      return Object.fromEntries(entries);
    }
    return value;
  };
  return walk;
}

async function replay(example: Example): Promise<void> {
  const resolve = await resolver();
  for (const step of example.setup ?? []) {
    await ok((await resolve(step)) as ExampleRequest, 'setup');
  }
  const request = (await resolve(example.request)) as ExampleRequest;
  const clientRequestId = `replay-${serial}`;
  const answer = await send(request, clientRequestId);
  const where = `${request.method} ${request.path} -> ${answer.status} ${answer.text.slice(0, 300)}`;
  expect(answer.status, where).toBe(example.status);
  if (example.error !== undefined) {
    checkError(example.error, answer, clientRequestId, where);
    return;
  }
  if (example.contentType !== undefined) {
    expect(answer.headers.get('content-type') ?? '', where).toContain(example.contentType);
    expect(answer.text, where).toMatch(/^\d+$/);
    return;
  }
  for (const name of example.headers ?? []) expect(answer.headers.has(name), where).toBe(true);
  const body = answer.body;
  if (example.status === 204) {
    expect(answer.text, where).toBe('');
    return;
  }
  expect(body, where).toBeDefined();
  if (body === undefined) return;
  if (example.context !== undefined) {
    expect(body['@odata.context'], where).toBe(`${sim.origin}/v1.0/$metadata#${example.context}`);
  }
  if (example.count === true) expect(typeof body['@odata.count'], where).toBe('number');
  if (example.oneOf !== undefined) {
    expect(
      example.oneOf.some((k) => k in body),
      where,
    ).toBe(true);
  }
  for (const name of example.properties ?? []) expect(Object.keys(body), where).toContain(name);
  if (example.itemProperties !== undefined) {
    const items = body['value'] as Record<string, unknown>[] | undefined;
    expect(Array.isArray(items), where).toBe(true);
    expect(items?.length ?? 0, where).toBeGreaterThanOrEqual(example.minItems ?? 1);
    for (const item of items ?? []) {
      for (const name of example.itemProperties) expect(Object.keys(item), where).toContain(name);
    }
  }
  if (example.batch !== undefined) {
    const responses = body['responses'] as { id: string; status: number }[];
    const statuses = Object.fromEntries(responses.map((r) => [r.id, r.status]));
    expect(statuses, where).toEqual(example.batch);
  }
}

function checkError(
  expected: NonNullable<Example['error']>,
  answer: Answer,
  clientRequestId: string,
  where: string,
): void {
  const error = answer.body?.['error'] as Record<string, unknown> | undefined;
  expect(error?.['code'], where).toBe(expected.code);
  const message = String(error?.['message']);
  if (expected.message !== undefined) expect(message, where).toBe(expected.message);
  if (expected.messageStartsWith !== undefined) {
    expect(message.startsWith(expected.messageStartsWith), where).toBe(true);
  }
  const inner = error?.['innerError'] as Record<string, unknown> | undefined;
  expect(inner?.['date'], where).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  expect(inner?.['request-id'], where).toBe(answer.headers.get('request-id'));
  expect(inner?.['client-request-id'], where).toBe(clientRequestId);
  if (expected.detail !== undefined) {
    const details = error?.['details'] as Record<string, unknown>[] | undefined;
    expect(details?.[0], where).toMatchObject(expected.detail);
  }
}

for (const file of FILES) {
  const { area, examples } = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as {
    area: string;
    examples: Example[];
  };
  describe(`SIM-R1 Graph examples replay: ${area} (${file})`, () => {
    for (const example of examples) {
      const title = `${example.name} [${example.source}]`;
      if (example.differs === undefined) test(title, () => replay(example));
      else test.fails(`${title} (known difference: ${example.differs})`, () => replay(example));
    }
  });
}
