/**
 * JSONata is Turing-complete: expressions run with time, stack and sequence bounds (M3), cannot
 * reach Object.prototype (M4), and the jsonata release that fixed prototype pollution is the
 * floor (M4's dependency check).
 */
import { subjectOf } from '../model/plan.js';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { aPerson, aSnapshot, aSpec } from '../../test/helpers/builders.js';
import { ConfigError } from '../errors.js';
import { computePlan } from '../pipeline/plan.js';

const base = {
  userPrincipalName: "$lowercase(first & '.' & last) & '@contoso.com'",
  displayName: "first & ' ' & last",
};

describe('JSONata guardrails', () => {
  it.each([
    ['a sequence explosion', '$string($count([1..1e4].([1..1e4])))'],
    ['a tail-recursive loop', '($f := function($n){ $n = 0 ? "0" : $f($n - 1) }; $f(1e7))'],
    [
      'Ackermann',
      '($a := function($m, $n){ $m = 0 ? $n + 1 : ($n = 0 ? $a($m - 1, 1) : $a($m - 1, $a($m, $n - 1))) }; $string($a(3, 12)))',
    ],
  ])(
    'M3: %s ends within the bound as a config error at the expression, and stops the plan',
    async (_name, text) => {
      const spec = aSpec({ attributes: { ...base, jobTitle: text } });
      const started = Date.now();
      const error = await computePlan(spec, [aSnapshot([aPerson('1', 'Ada', 'Lovelace')])], {
        users: [],
      }).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(error).toBeInstanceOf(ConfigError);
      const [d] = (error as ConfigError).diagnostics;
      expect(d).toMatchObject({
        code: 'expr.runaway',
        path: 'users.attributes.jobTitle',
        position: { file: 'entrasync.yaml' },
      });
      expect(d?.message).toMatch(
        /stopped by the (time|stack depth|sequence length) bound \((D1011|D1012|D2015)\)/,
      );
    },
  );

  it.each([
    '$string($merge([{}, {"__proto__": {"polluted": "yes"}}]).polluted)',
    '($o := {}; $string($o.__proto__.polluted))',
    '$string($lookup({}, "__proto__"))',
    '$string(constructor)',
    '$string($hr.__proto__)',
  ])('M4: %s leaves Object.prototype and every other record untouched', async (text) => {
    const spec = aSpec({ attributes: { ...base, jobTitle: text } });
    const rows = [aPerson('1', 'Ada', 'Lovelace'), aPerson('2', 'Alan', 'Turing')];
    const plan = await computePlan(spec, [aSnapshot(rows)], { users: [] }).catch(() => undefined);
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(rows[1]).toEqual(aPerson('2', 'Alan', 'Turing'));
    if (plan)
      expect(plan.changes.map((c) => subjectOf(c).userPrincipalName).sort()).toEqual([
        'ada.lovelace@contoso.com',
        'alan.turing@contoso.com',
      ]);
  });

  it('M4: the installed jsonata is 2.2.2 or later (prototype-pollution fix)', () => {
    const require = createRequire(import.meta.url);
    const pkg = require('jsonata/package.json') as { version: string };
    const [major = 0, minor = 0, patch = 0] = pkg.version.split('.').map(Number);
    expect(major * 1e6 + minor * 1e3 + patch).toBeGreaterThanOrEqual(2 * 1e6 + 2 * 1e3 + 2);
  });
});
