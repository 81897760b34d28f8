/**
 * Scenario fixtures (style practice 14): each directory under test/scenarios/ names a config
 * (with its sources and tenant seed) and holds the expected plan as JSON. Each runs through the
 * real CLI runtime: the real Graph SDK and @azure/identity against the simulator over HTTPS.
 * Plan -> compare with expected-plan.json -> apply -> re-plan in a fresh runtime (a new simulator
 * process on the same state) -> the plan must be empty (A4); the first plan, applied again, must
 * be refused as stale (A2).
 *
 * A scenario with `"expect": "blocked"` instead checks that the plan blocks changes and that
 * apply refuses it whole, leaving the simulated tenant exactly as it was.
 *
 * UPDATE_GOLDEN=1 rewrites expected-plan.json; review the diff before committing it.
 */
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openRuntime } from '../../cli/runtime.js';
import {
  SafetyBlockedError,
  StalePlanError,
  applyRun,
  planRun,
  renderPlanJson,
} from '../../engine/index.js';
import { openTenantStore } from '../../simulator/index.js';
import { Redactor } from '../../engine/secret.js';
import { createHash } from 'node:crypto';

const here = dirname(fileURLToPath(import.meta.url));
const scenarios = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(here, d.name, 'scenario.json')))
  .map((d) => d.name);

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

function tenantUsers(statePath: string) {
  const store = openTenantStore(statePath);
  try {
    return store.listUsers();
  } finally {
    store.close();
  }
}

describe.each(scenarios)('scenario %s', (name) => {
  const dir = join(here, name);
  const scenario = JSON.parse(readFileSync(join(dir, 'scenario.json'), 'utf8')) as {
    config: string;
    expect?: 'converge' | 'blocked';
    /** The plan's clock (ISO 8601), for grace periods: goldens must not depend on the day. */
    now?: string;
  };
  const planOptions = scenario.now === undefined ? {} : { now: Date.parse(scenario.now) };
  const blocked = scenario.expect === 'blocked';
  const title = blocked
    ? 'plans as expected, holds, applies only the rest (held targets unchanged), re-plans to the held part; with onBlocked: hold-plan refuses the plan whole'
    : 'plans as expected, applies, then re-plans to nothing (A4) and refuses the old plan (A2)';

  it(title, async () => {
    const source = join(dir, scenario.config);
    const work = mkdtempSync(join(tmpdir(), `entrasync-scenario-${name}-`));
    temps.push(work);
    cpSync(dirname(source), work, { recursive: true, filter: (p) => basename(p) !== '.entrasync' });
    const configPath = join(work, basename(source));

    const first = await openRuntime(configPath, new Redactor());
    let plan;
    try {
      plan = await planRun(
        first.loaded.spec,
        { sources: first.sources, target: first.target.reader },
        planOptions,
      );
      const expectedFile = join(dir, 'expected-plan.json');
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(expectedFile, renderPlanJson(plan));
      expect(JSON.parse(renderPlanJson(plan))).toEqual(
        JSON.parse(readFileSync(expectedFile, 'utf8')),
      );

      if (blocked) {
        expect(plan.blocked.length).toBeGreaterThan(0);
        const db = join(work, '.entrasync', 'tenant.db');
        const before = tenantUsers(db);
        const spec = first.loaded.spec;
        const io = { target: first.target.reader, writer: first.target.writer };
        const holdPlan = { ...spec, safety: { ...spec.safety, onBlocked: 'hold-plan' as const } };
        await expect(applyRun(plan, holdPlan, io)).rejects.toBeInstanceOf(SafetyBlockedError);
        expect(tenantUsers(db)).toEqual(before);

        const report = await applyRun(plan, spec, io);
        expect(report.ops.filter((op) => op.outcome !== 'applied')).toEqual([]);
        expect(report.ops).toHaveLength(plan.changes.length);
        const held = new Set(
          plan.blocked.flatMap((b) =>
            'user' in b.change && b.change.user.id ? [b.change.user.id] : [],
          ),
        );
        expect(held.size).toBeGreaterThan(0);
        const after = tenantUsers(db);
        for (const user of before.filter((u) => held.has(String(u.id))))
          expect(after).toContainEqual(user);
        const again = await planRun(
          spec,
          { sources: first.sources, target: first.target.reader },
          planOptions,
        );
        expect(again.changes).toEqual([]);
        expect(again.blocked.map((b) => b.change.id)).toEqual(plan.blocked.map((b) => b.change.id));
        return;
      }
      const report = await applyRun(plan, first.loaded.spec, {
        target: first.target.reader,
        writer: first.target.writer,
      });
      expect(report.ops.filter((op) => op.outcome !== 'applied')).toEqual([]);
      expect(report.ops).toHaveLength(plan.changes.length);
    } finally {
      await first.close();
    }

    const second = await openRuntime(configPath, new Redactor());
    try {
      // The apply dated its disables in Graph's (real) time, so the re-plan comes after them:
      // a date later than the plan's clock would be re-recorded as unknown (A8).
      const again = await planRun(
        second.loaded.spec,
        { sources: second.sources, target: second.target.reader },
        planOptions.now === undefined ? {} : { now: Math.max(planOptions.now, Date.now()) },
      );
      expect(again.changes).toEqual([]);
      expect(again.blocked).toEqual([]);
      await expect(
        applyRun(plan, second.loaded.spec, {
          target: second.target.reader,
          writer: second.target.writer,
        }),
      ).rejects.toBeInstanceOf(StalePlanError);
    } finally {
      await second.close();
    }
  });
});

describe('golden plans across versions (M7)', () => {
  const changelog = readFileSync(join(here, '..', '..', 'CHANGELOG.md'), 'utf8');
  it.each(scenarios)('%s: its expected-plan.json is named in CHANGELOG.md', (name) => {
    const golden = readFileSync(join(here, name, 'expected-plan.json'));
    const line = `golden: ${name} ${createHash('sha256').update(golden).digest('hex').slice(0, 12)}`;
    // A golden plan changes only with a changelog entry naming it: add this line under
    // "Unreleased" together with what changed and why.
    expect(changelog).toContain(line);
  });
});
