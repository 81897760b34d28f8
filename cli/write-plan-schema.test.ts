/**
 * plan.schema.json and the README's plan reference are current, and the schema validates real
 * plan JSON (the golden plans, a plan with held changes and failed sources) with plain ajv, as
 * a consumer of the published file would, and refuses what is not a plan.
 */
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../config/write-schema.js';
import { aPerson, aSnapshot, aSpec, anAccount } from '../test/helpers/builders.js';
import { computePlan } from '../engine/pipeline/plan.js';
import { renderPlanJson } from '../engine/render/json.js';
import { renderPlanReference, replacePlanReference } from '../engine/render/plan-reference.js';
import {
  PLAN_SCHEMA_FILE_NAME,
  PLAN_SCHEMA_ID,
  renderPlanJsonSchema,
} from '../engine/render/plan-schema.js';

const root = packageRoot();
const committed = readFileSync(join(root, PLAN_SCHEMA_FILE_NAME), 'utf8');
const scenarios = join(root, 'test', 'scenarios');
const goldens = readdirSync(scenarios)
  .map((name) => join(scenarios, name, 'expected-plan.json'))
  .filter((file) => existsSync(file));

function validator() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats.default(ajv);
  return ajv.compile(JSON.parse(committed) as object);
}

describe('plan.schema.json', () => {
  it('is current: the committed file is the generated text (run `npm run schema` after a build)', () => {
    expect(committed).toBe(renderPlanJsonSchema());
    const schema = JSON.parse(committed) as Record<string, unknown>;
    expect(schema['$schema']).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema['$id']).toBe(PLAN_SCHEMA_ID);
    expect(committed).not.toMatch(/Symbol|\[Kind\]/);
  });

  it('validates every golden plan, whose summary counts its changes', () => {
    const validate = validator();
    expect(goldens.length).toBeGreaterThanOrEqual(3);
    for (const file of goldens) {
      const plan = JSON.parse(readFileSync(file, 'utf8')) as {
        changes: { kind: string }[];
        blocked: { code: string }[];
        summary: { total: number; byKind: Record<string, number> };
      };
      expect(validate(plan), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(plan.summary.total).toBe(plan.changes.length + plan.blocked.length);
      const counted = Object.values(plan.summary.byKind).reduce((a, b) => a + b, 0);
      expect(counted).toBe(plan.changes.length);
    }
  });

  it('validates a plan with held changes, a failed source and issues; refuses what is not a plan', async () => {
    const plan = await computePlan(
      aSpec({ safety: { minSourceRatio: 0.5 } }),
      [
        aSnapshot([aPerson('1', 'Ada', 'Lovelace'), aPerson('3', 'Grace', 'Hopper')]),
        aSnapshot([], {
          name: 'ad',
          kind: 'ldap',
          status: 'failed',
          issues: [{ severity: 'error', code: 'source.unreachable', message: 'boom' }],
        }),
      ],
      {
        users: [
          anAccount('alan.turing@contoso.com', { employeeId: '2' }, { id: 'id-alan' }),
          anAccount('admin@contoso.com', {}, { managed: false, id: 'id-admin' }),
        ],
      },
    );
    expect(plan.blocked.length).toBeGreaterThan(0);
    const json = JSON.parse(renderPlanJson(plan)) as Record<string, unknown>;
    const validate = validator();
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    expect(json['summary']).toMatchObject({ held: plan.blocked.length });

    expect(validate({ ...json, formatVersion: 2 })).toBe(false);
    expect(validate({ ...json, extra: true })).toBe(false);
    const { summary: _summary, ...withoutSummary } = json;
    expect(validate(withoutSummary)).toBe(false);
    const changes = [{ ...(plan.changes[0] as object), kind: 'launchRocket' }];
    expect(validate({ ...json, changes })).toBe(false);
    // A held change is checked as a change (the schema refers to changes[] for it).
    const held = plan.blocked[0] as object;
    const blocked = [{ ...held, change: { ...plan.blocked[0]?.change, kind: 'launchRocket' } }];
    expect(validate({ ...json, blocked })).toBe(false);
  });
});

describe('README plan reference', () => {
  it('is current (run `npm run docs` after a build) and lists every top-level key', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(replacePlanReference(readme)).toBe(readme);
    const reference = renderPlanReference();
    const schema = JSON.parse(committed) as { properties: Record<string, unknown> };
    for (const key of Object.keys(schema.properties)) expect(reference).toContain(`| \`${key}\` |`);
    expect(reference).toContain('| `blocked[].change` | object | yes | as `changes[]` |');
    expect(reference).toContain('| `changes[].attributes` |');
    expect(() => replacePlanReference('# no markers')).toThrow(/plan-reference:start/);
  });
});
