/**
 * `apply` without a saved plan is approved before anything is written: `--auto-approve`, or
 * `yes` typed on a terminal; where nobody can answer it is refused before anything is read.
 * `apply --format json` prints one JSON result. Against the quickstart and its embedded simulator.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { openTenantStore } from '../simulator/index.js';
import { cli as run } from '../test/helpers/cli.js';
import { main } from './program.js';
import type { Prompt } from './prompt.js';
import { exampleWorkspace, removeWorkspaces } from '../test/helpers/workspace.js';

afterAll(removeWorkspaces);

let work: string;
let config: string;
beforeEach(() => {
  ({ work, config } = exampleWorkspace('quickstart', 'entrasync-approval-'));
});

function userCount(): number {
  const store = openTenantStore(join(work, '.entrasync', 'tenant.db'));
  try {
    return store.listUsers().length;
  } finally {
    store.close();
  }
}

/** The CLI in-process with a terminal that answers `answer` and records the questions. */
async function onTerminal(answer: string, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const questions: string[] = [];
  const prompt: Prompt = {
    interactive: true,
    ask: (question) => {
      questions.push(question);
      stdout += question;
      return Promise.resolve(answer);
    },
  };
  const code = await main(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    prompt,
  });
  return { code, stdout, stderr, questions };
}

describe('apply approval', () => {
  it('on a terminal, asks after printing the plan; anything but `yes` writes nothing (exit 1)', async () => {
    await run('plan', '--config', config); // creates the simulated tenant from its seed
    const before = userCount();
    for (const answer of ['no', 'y', 'YES', '']) {
      const r = await onTerminal(answer, 'apply', '--config', config);
      expect(r.code).toBe(1);
      expect(r.questions).toEqual([
        "\nDo you want to apply these 10 change(s)? Only 'yes' will be accepted.\n  Enter a value: ",
      ]);
      expect(r.stdout.indexOf('Changes (10)')).toBeLessThan(r.stdout.indexOf('Do you want'));
      expect(r.stdout).not.toContain('Applying');
      expect(r.stderr).toBe('Apply cancelled: nothing was written.\n');
      expect(userCount()).toBe(before);
    }
  });

  it('on a terminal, `yes` applies; with nothing to apply nothing is asked', async () => {
    const r = await onTerminal('yes', 'apply', '--config', config);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('10 applied, 0 failed');
    const again = await onTerminal('no', 'apply', '--config', config);
    expect(again.code).toBe(0);
    expect(again.questions).toEqual([]);
    expect(again.stdout).toContain('Nothing to apply.');
  });

  it('never asks with --auto-approve or for a saved plan (it was reviewed)', async () => {
    const planFile = join(work, 'plan.json');
    expect((await run('plan', '--config', config, '--out', planFile)).code).toBe(2);
    const saved = await onTerminal('no', 'apply', planFile, '--config', config);
    expect(saved.questions).toEqual([]);
    expect(saved.code).toBe(0);
    expect(saved.stdout).toContain('10 applied');
  });

  it('not on a terminal, refuses without --auto-approve in one line, before reading anything', async () => {
    const r = await run('apply', '--config', config);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'error (cli.usage): apply without a saved plan needs --auto-approve when stdin is not a terminal (or apply a plan saved by `plan --out`)\n',
    );
    // The embedded simulator was never started: nothing was opened or read.
    expect(existsSync(join(work, '.entrasync', 'tenant.db'))).toBe(false);
  });

  it('the real CLI with stdin a pipe refuses without --auto-approve (exit 1, one line)', () => {
    const entry = resolve('dist/cli/main.js');
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
    const r = spawnSync(process.execPath, [entry, 'apply', '--config', config], {
      input: 'yes\n',
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('needs --auto-approve when stdin is not a terminal');
  });
});

/**
 * util-linux `script` runs a command on a pseudo-terminal: the real CLI sees a TTY. Debian has
 * it in an essential package (bsdutils); a machine without it fails here rather than skipping.
 */
const hasScript = spawnSync('script', ['--version']).status === 0;
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('apply approval on a pseudo-terminal (util-linux script)', () => {
  it('the real CLI asks on a TTY: `no` or Ctrl-D writes nothing, `yes` applies', () => {
    if (!hasScript) throw new Error('util-linux `script` is missing: apt-get install bsdutils');
    const entry = resolve('dist/cli/main.js');
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
    const command = [process.execPath, entry, 'apply', '-c', config].map(shellQuote).join(' ');
    const onPty = (typed: string) =>
      spawnSync('script', ['-qec', command, '/dev/null'], {
        input: typed,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
        timeout: 60_000,
      });
    const no = onPty('no\n');
    expect(no.status).toBe(1);
    expect(no.stdout).toContain(
      "Do you want to apply these 10 change(s)? Only 'yes' will be accepted.",
    );
    expect(no.stdout).toContain('Apply cancelled: nothing was written.');
    // Ctrl-D (end of input) answers nothing: a "no", not a wait for ever.
    const eof = onPty('\u0004');
    expect(eof.status).toBe(1);
    expect(eof.stdout).toContain('Apply cancelled: nothing was written.');
    const yes = onPty('yes\n');
    expect(yes.status).toBe(0);
    expect(yes.stdout).toContain('10 applied, 0 failed');
  });
});

describe('apply --format json', () => {
  it('prints one JSON result: counts, each change, the exit code', async () => {
    const r = await run('apply', '--auto-approve', '--format', 'json', '--config', config);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as {
      formatVersion: number;
      exitCode: number;
      counts: Record<string, number>;
      changes: { id: string; outcome: string; kind: string; userPrincipalName: string }[];
      held: unknown[];
    };
    expect(result.formatVersion).toBe(1);
    expect(result.exitCode).toBe(0);
    expect(result.counts).toEqual({ applied: 10, failed: 0, skipped: 0, notRun: 0, held: 0 });
    expect(result.changes).toHaveLength(10);
    expect(result.changes.every((c) => c.outcome === 'applied')).toBe(true);
    expect(result.changes.map((c) => c.kind)).toContain('disableUser');
    expect(result.held).toEqual([]);

    const nothing = await run('apply', '--auto-approve', '-f', 'json', '--config', config);
    expect(nothing.code).toBe(0);
    expect(JSON.parse(nothing.stdout)).toMatchObject({
      exitCode: 0,
      changes: [],
      counts: { applied: 0 },
    });
  });

  it('a plan that holds changes applies the rest and gives its held changes and exit 3 in the JSON result (issue 20)', async () => {
    const { readFileSync, writeFileSync } = await import('node:fs');
    const csv = join(work, 'employees.csv');
    const lines = readFileSync(csv, 'utf8').split('\n');
    lines[5] = lines[5]!.replace(/^\d+,/, ',');
    writeFileSync(csv, lines.join('\n'));
    const r = await run('apply', '--auto-approve', '--format', 'json', '--config', config);
    expect(r.code).toBe(3);
    const result = JSON.parse(r.stdout) as {
      exitCode: number;
      counts: { held: number; applied: number };
    };
    expect(result.exitCode).toBe(3);
    expect(result.counts.held).toBe(5);
    // The incomplete source holds the 5 disables; the creates and updates applied.
    expect(result.counts.applied).toBe(5);
  });

  it('of a saved plan needs no --auto-approve', async () => {
    const planFile = join(work, 'plan.json');
    expect((await run('plan', '--config', config, '--out', planFile)).code).toBe(2);
    const r = await run('apply', planFile, '--format', 'json', '--config', config);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ exitCode: 0, counts: { applied: 10, failed: 0 } });
  });

  it('needs --auto-approve without a saved plan (nothing can be asked while stdout is JSON)', async () => {
    const r = await run('apply', '--format', 'json', '--config', config);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--auto-approve');
  });
});
