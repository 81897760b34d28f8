/**
 * Scenario fixtures (style practice 14): each directory under test/scenarios/ names a config
 * (with its sources and tenant seed) and holds the expected plan as JSON. Each runs through the
 * real CLI runtime: the real Graph SDK and @azure/identity against the simulator over HTTPS.
 * Plan -> compare with expected-plan.json -> apply -> re-plan in a fresh runtime (a new simulator
 * process on the same state) -> the plan must be empty (A4); the first plan, applied again, must
 * be refused as stale (A2).
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
import { StalePlanError, applyRun, planRun, renderPlanJson } from '../../engine/index.js';
import { Redactor } from '../../engine/secret.js';

const here = dirname(fileURLToPath(import.meta.url));
const scenarios = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(here, d.name, 'scenario.json')))
  .map((d) => d.name);

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

describe.each(scenarios)('scenario %s', (name) => {
  const dir = join(here, name);
  const scenario = JSON.parse(readFileSync(join(dir, 'scenario.json'), 'utf8')) as {
    config: string;
  };

  it('plans as expected, applies, then re-plans to nothing (A4) and refuses the old plan (A2)', async () => {
    const source = join(dir, scenario.config);
    const work = mkdtempSync(join(tmpdir(), `entrasync-scenario-${name}-`));
    temps.push(work);
    cpSync(dirname(source), work, { recursive: true, filter: (p) => basename(p) !== '.entrasync' });
    const configPath = join(work, basename(source));

    const first = await openRuntime(configPath, new Redactor());
    let plan;
    try {
      plan = await planRun(first.loaded.spec, {
        sources: first.sources,
        target: first.target.reader,
      });
      const expectedFile = join(dir, 'expected-plan.json');
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(expectedFile, renderPlanJson(plan));
      expect(JSON.parse(renderPlanJson(plan))).toEqual(
        JSON.parse(readFileSync(expectedFile, 'utf8')),
      );

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
      const again = await planRun(second.loaded.spec, {
        sources: second.sources,
        target: second.target.reader,
      });
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
