/**
 * `validate`: the header row of local CSV sources, and `--format json` diagnostics with file,
 * line, column, code and message. On a copy of the quickstart (no secrets, no network).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { cli as run } from '../test/helpers/cli.js';
import { exampleWorkspace, removeWorkspaces } from '../test/helpers/workspace.js';

afterAll(removeWorkspaces);

let work: string;
let config: string;
beforeEach(() => {
  ({ work, config } = exampleWorkspace('quickstart', 'entrasync-validate-'));
});

function editHeader(edit: (header: string) => string) {
  const path = join(work, 'employees.csv');
  const [header, ...rest] = readFileSync(path, 'utf8').split('\n');
  writeFileSync(path, [edit(header!), ...rest].join('\n'));
}

interface JsonResult {
  valid: boolean;
  diagnostics: {
    severity: string;
    code: string;
    message: string;
    file?: string;
    line?: number;
    column?: number;
  }[];
}

/** Line and column of the first `needle` in the config, 1-based. */
function configPosition(needle: string): { line: number; column: number } {
  const lines = readFileSync(config, 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes(needle));
  return { line: line + 1, column: lines[line]!.indexOf(needle) + 1 };
}

describe('validate: CSV headers', () => {
  it('a column the mapping reads that is not in the header: file, column, position, did-you-mean', async () => {
    editHeader((h) => h.replace('status', 'Status'));
    const r = await run('validate', '--config', config);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /entrasync\.yaml:\d+:\d+: column `status` is not in the header of employees\.csv \(source `hr`\); did you mean `Status`\?/,
    );
  });

  it('the same as JSON, pointing at the expression that reads the column', async () => {
    editHeader((h) => h.replace('status', 'state'));
    const r = await run('validate', '--config', config, '--format', 'json');
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout) as JsonResult;
    expect(result.valid).toBe(false);
    const unknown = result.diagnostics.filter((d) => d.code === 'source.unknown-column');
    expect(unknown.length).toBeGreaterThan(0);
    const first = unknown[0]!;
    expect(first.message).toContain('column `status` is not in the header of employees.csv');
    expect(first.file).toBe(config);
    const source = readFileSync(config, 'utf8').split('\n')[first.line! - 1]!;
    expect(source.slice(first.column! - 1)).toMatch(/^status/);
  });

  it('a key column missing from the header names the file and the column', async () => {
    editHeader((h) => h.replace('employee_id', 'emp_id'));
    const r = await run('validate', '--config', config, '--format', 'json');
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout) as JsonResult;
    const missing = result.diagnostics.find((d) => d.code === 'source.no-key-column');
    expect(missing).toMatchObject({ severity: 'error', file: 'employees.csv', line: 1 });
    expect(missing?.message).toContain('"employee_id"');
  });

  it("a join: the linked CSV source's key column and the primary's equals column are checked", async () => {
    writeFileSync(join(work, 'badges.csv'), 'badge_id,emp\n1,1001\n');
    const text = readFileSync(config, 'utf8')
      .replace(
        '    key: employee_id\n',
        '    key: employee_id\n  badges:\n    kind: csv\n    path: badges.csv\n    key: badge_id\n',
      )
      .replace(
        '\nusers:\n',
        '\njoin:\n  primary: hr\n  link:\n    badges:\n      key: employee\n      equals: employee_idd\n\nusers:\n',
      );
    writeFileSync(config, text);
    const r = await run('validate', '--config', config, '--format', 'json');
    expect(r.code).toBe(1);
    const messages = (JSON.parse(r.stdout) as JsonResult).diagnostics.map((d) => d.message);
    expect(messages).toContain(
      'column `employee` is not in the header of badges.csv (source `badges`); the header has badge_id, emp',
    );
    expect(messages).toContain(
      'column `employee_idd` is not in the header of employees.csv (source `hr`); did you mean `employee_id`?',
    );
  });

  it('a CSV file that is not there yet is a warning: the header is not checked, exit 0', async () => {
    rmSync(join(work, 'employees.csv'));
    const r = await run('validate', '--config', config);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: header of source `hr` not checked');
    expect(r.stdout).toContain('valid');
  });
});

describe('validate --format json', () => {
  it('a valid config: valid, no diagnostics, exit 0', async () => {
    const r = await run('validate', '--config', config, '--format', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ config, valid: true, diagnostics: [] });
  });

  it('a config error: its file, line, column, code and message', async () => {
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace('anchor: employee_id', 'anchr: employee_id'),
    );
    const r = await run('validate', '-c', config, '-f', 'json');
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout) as JsonResult;
    expect(result.valid).toBe(false);
    const where = configPosition('anchr');
    expect(result.diagnostics).toContainEqual(
      expect.objectContaining({
        severity: 'error',
        file: config,
        line: where.line,
        column: where.column,
        message: expect.stringContaining('did you mean `anchor`') as unknown,
      }),
    );
  });
});
