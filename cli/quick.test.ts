/**
 * `entrasync --help` and `--version` answered by cli/quick.ts are exactly what the full program
 * answers, and load none of the heavy modules (the reason the quick path exists).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli as run } from '../test/helpers/cli.js';
import { quickAnswer } from './quick.js';

function quick(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = quickAnswer(
    argv,
    { write: (t: string) => (stdout += t) },
    { write: (t: string) => (stderr += t) },
  );
  return { code, stdout, stderr };
}

describe('quick --help and --version', () => {
  it('answer byte for byte as the full program does', async () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['--version'], ['-V']]) {
      const full = await run(...argv);
      expect(quick(...argv), argv.join(' ')).toEqual(full);
    }
    expect(quick('--version').stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('leave everything else to the full program', () => {
    for (const argv of [[], ['plan'], ['help', 'plan'], ['plan', '--help'], ['--help', 'plan']]) {
      expect(quick(...argv).code, argv.join(' ')).toBeUndefined();
    }
  });

  /** The CommonJS packages a run of the built CLI loaded (ESM imports of them fill require.cache). */
  function packagesLoaded(...args: string[]): string[] {
    const entry = resolve('dist/cli/main.js');
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
    const script = [
      `process.argv = [process.argv[0], ${JSON.stringify(entry)}, ...${JSON.stringify(args)}];`,
      `await import(${JSON.stringify(entry)});`,
      `const { createRequire } = await import('node:module');`,
      `const cache = Object.keys(createRequire(import.meta.url).cache);`,
      `process.stderr.write(JSON.stringify(cache));`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: resolve('.'),
    });
    return JSON.parse(r.stderr.slice(r.stderr.lastIndexOf('['))) as string[];
  }

  const HEAVY =
    /node_modules\/(better-sqlite3|ldapts|jsonata|@microsoft\/microsoft-graph-client|@azure\/identity)\//;

  it('the built CLI loads no Graph client, ldapts, better-sqlite3 or jsonata for them', () => {
    for (const flag of ['--version', '--help']) {
      expect(
        packagesLoaded(flag).filter((p) => HEAVY.test(p)),
        flag,
      ).toEqual([]);
    }
    // The check can see them: a command that needs them loads them.
    expect(
      packagesLoaded('validate', '-c', 'examples/quickstart/entrasync.yaml').some((p) =>
        HEAVY.test(p),
      ),
    ).toBe(true);
  });
});
