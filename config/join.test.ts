import { describe, expect, it } from 'vitest';
import { ConfigError } from '../engine/errors.js';
import { parseConfig } from './load.js';

const base = (join: string) => `version: 1
target:
  auth: { method: simulator }
sources:
  hr: { kind: csv, path: hr.csv, key: employee_id }
  badges: { kind: csv, path: badges.csv, key: badge }
${join}
users:
  anchor: employee_id
  attributes:
    userPrincipalName: "employee_id & '@contoso.com'"
    displayName: name
`;

function errors(text: string): string[] {
  try {
    parseConfig(text, { file: 'entrasync.yaml' });
  } catch (err) {
    if (err instanceof ConfigError)
      return err.diagnostics.map((d) => `${d.position?.line}:${d.position?.column} ${d.message}`);
    throw err;
  }
  return [];
}

describe('join.link', () => {
  it('compiles both expressions of each link into the spec', () => {
    const loaded = parseConfig(
      base('join:\n  primary: hr\n  link:\n    badges: { key: "employee", equals: "employee_id" }'),
      { file: 'entrasync.yaml' },
    );
    expect(
      loaded.spec.links.map((l) => [l.source, l.key.text, l.equals.text, l.key.configPath]),
    ).toEqual([['badges', 'employee', 'employee_id', 'join.link.badges.key']]);
  });

  it('refuses a link to a source that does not exist, with did-you-mean, and a link to the primary', () => {
    expect(errors(base('join:\n  primary: hr\n  link:\n    badge: { key: a, equals: b }'))).toEqual(
      ['10:5 `join.link` names `badge`, which is not a source; did you mean `badges`?'],
    );
    expect(errors(base('join:\n  primary: hr\n  link:\n    hr: { key: a, equals: b }'))).toEqual([
      '10:5 `join.link` names the primary source `hr`; link the other sources to it',
    ]);
  });

  it('points a JSONata syntax error in a link at its line and column', () => {
    expect(
      errors(base('join:\n  primary: hr\n  link:\n    badges: { key: "employee ++", equals: b }')),
    ).toEqual([expect.stringMatching(/^10:31 JSONata syntax error in `join.link.badges.key`/)]);
  });
});
