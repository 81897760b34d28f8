/**
 * M3 at config load: a mapping regex the linear-time engine cannot run (a backreference, a
 * lookaround) is rejected when the config loads, as a config error naming the expression's path
 * and pointing at the regex literal in the file, before any source is read.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { ConfigError } from '../../engine/errors.js';

const config = (jobTitle: string): string =>
  [
    'version: 1', // 1
    'target:', // 2
    '  auth:', // 3
    '    method: simulator', // 4
    'sources:', // 5
    '  hr: { kind: csv, path: hr.csv, key: employee_id }', // 6
    'users:', // 7
    '  anchor: employee_id', // 8
    '  attributes:', // 9
    "    userPrincipalName: \"$lowercase(first_name & '.' & last_name) & '@contoso.com'\"", // 10
    '    displayName: "first_name & \' \' & last_name"', // 11
    jobTitle, // 12
    '',
  ].join('\n');

describe('M3: a regex RE2 cannot run is a config error at load', () => {
  it.each([
    ['    jobTitle: \'$replace(title, /(\\w)\\1/, "$1")\'', '/(\\w)\\1/', 'backreferences'],
    ['    jobTitle: \'$contains(title, /lead(?!er)/i) ? "x" : "y"\'', '/lead(?!er)/i', 'lookahead'],
  ])('M3: %s', (line, literal, reason) => {
    let error: unknown;
    try {
      parseConfig(config(line), { file: 'entrasync.yaml' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const [d, ...rest] = (error as ConfigError).diagnostics;
    expect(rest).toEqual([]);
    expect(d).toMatchObject({
      code: 'expr.syntax',
      path: 'users.attributes.jobTitle',
      position: { file: 'entrasync.yaml', line: 12, column: line.indexOf('/') + 1 },
    });
    expect(d?.message).toContain('`users.attributes.jobTitle`');
    expect(d?.message).toContain(
      `regular expression ${literal} cannot run on the linear-time regex engine (RE2)`,
    );
    expect(d?.message).toContain(reason);
  });

  it('M3: an ordinary regex loads', () => {
    const loaded = parseConfig(config('    jobTitle: \'$replace(title, /\\s+/, " ")\''), {
      file: 'entrasync.yaml',
    });
    expect(loaded.config).toBeDefined();
  });
});
