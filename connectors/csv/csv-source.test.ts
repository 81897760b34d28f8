import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeLocation } from '../../engine/model/source.js';
import type { SourceSnapshot } from '../../engine/model/source.js';
import { computePlan } from '../../engine/pipeline/plan.js';
import { aPerson, aSpec, accountOfRow } from '../../test/helpers/builders.js';
import { aConnectorContext } from '../../test/helpers/connector-context.js';
import { MAX_ISSUES_PER_CODE, createCsvSource } from './csv-source.js';
import { DecodeError, createDecodeStream } from './decode-stream.js';
import type { CsvEncoding } from './decode-stream.js';
import type { CsvSourceOptions } from '../../config/sources/csv-options.js';

let baseDir: string;
let counter = 0;

beforeAll(async () => {
  baseDir = await mkdtemp(join(tmpdir(), 'entrasync-csv-'));
  await mkdir(join(baseDir, 'hr'));
});
afterAll(async () => {
  await rm(baseDir, { recursive: true, force: true });
});

/** Writes `content` to a fresh file under hr/ and reads it as source `hr`. */
async function readCsv(
  content: string | Buffer,
  options: Partial<Omit<CsvSourceOptions, 'kind'>> = {},
): Promise<SourceSnapshot> {
  const path = options.path ?? `hr/file-${++counter}.csv`;
  await writeFile(join(baseDir, path), content);
  return readPath(path, options);
}

function readPath(
  path: string,
  options: Partial<Omit<CsvSourceOptions, 'kind'>> = {},
): Promise<SourceSnapshot> {
  const source = createCsvSource(
    'hr',
    { kind: 'csv', key: 'employee_id', ...options, path },
    aConnectorContext(baseDir),
  );
  return source.read();
}

function only<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

describe('createCsvSource', () => {
  it('declares itself as a csv source', () => {
    const source = createCsvSource(
      'hr',
      { kind: 'csv', path: 'x.csv', key: 'id' },
      aConnectorContext(baseDir),
    );
    expect(source).toMatchObject({ apiVersion: 1, kind: 'csv', name: 'hr' });
  });
});

describe('reading the same file again (the daemon cycle)', () => {
  it('gives the same snapshot object back while the bytes are the same, and parses again when they change', async () => {
    const path = `hr/file-${++counter}.csv`;
    const file = join(baseDir, path);
    await writeFile(file, 'employee_id,name\n1,Ada\n');
    const source = createCsvSource(
      'hr',
      { kind: 'csv', key: 'employee_id', path },
      aConnectorContext(baseDir),
    );
    const first = await source.read();
    expect(await source.read()).toBe(first);
    await writeFile(file, 'employee_id,name\n1,Ada\n'); // rewritten, same bytes
    expect(await source.read()).toBe(first);
    await writeFile(file, 'employee_id,name\n1,Ada\n2,Bob\n');
    const second = await source.read();
    expect(second).not.toBe(first);
    expect(second.records.map((r) => r.key)).toEqual(['1', '2']);
    await rm(file);
    const gone = await source.read();
    expect(gone.status).toBe('failed');
    await writeFile(file, 'employee_id,name\n1,Ada\n2,Bob\n');
    const back = await source.read();
    expect(back).not.toBe(gone);
    expect(back.status).toBe('complete');
  });
});

describe('reading a well-formed file', () => {
  it('returns every row with string values, the header as fields and the start line', async () => {
    const snap = await readCsv(
      'employee_id,first,last,active,started\n' +
        '007,James,Bond,TRUE,1962-10-05\n' +
        '1001, Jane ,Doe,false,\n',
      { path: 'hr/employees.csv' },
    );
    expect(snap).toMatchObject({ name: 'hr', kind: 'csv', status: 'complete', issues: [] });
    expect(snap.fields).toEqual(['employee_id', 'first', 'last', 'active', 'started']);
    expect(snap.records).toEqual([
      {
        source: 'hr',
        key: '007',
        fields: {
          employee_id: '007',
          first: 'James',
          last: 'Bond',
          active: 'TRUE',
          started: '1962-10-05',
        },
        location: { file: 'hr/employees.csv', line: 2 },
      },
      {
        source: 'hr',
        key: '1001',
        // Values are never trimmed or cast.
        fields: { employee_id: '1001', first: ' Jane ', last: 'Doe', active: 'false', started: '' },
        location: { file: 'hr/employees.csv', line: 3 },
      },
    ]);
  });

  it('reads a header-only file as a complete source with no records', async () => {
    const snap = await readCsv('employee_id,name\n');
    expect(snap).toMatchObject({ status: 'complete', records: [], issues: [] });
    expect(snap.fields).toEqual(['employee_id', 'name']);
  });

  it('reads quoted fields with line breaks, delimiters and doubled quotes', async () => {
    const snap = await readCsv(
      'employee_id,name,note\n' +
        '1,"Doe, Jane","line one\nline two\nline three"\n' +
        '2,"Say ""hi""",plain\n',
    );
    expect(snap.status).toBe('complete');
    expect(snap.records.map((r) => [r.location.line, r.fields])).toEqual([
      [2, { employee_id: '1', name: 'Doe, Jane', note: 'line one\nline two\nline three' }],
      // The first record spans lines 2-4, so this one starts on line 5.
      [5, { employee_id: '2', name: 'Say "hi"', note: 'plain' }],
    ]);
  });

  it('reads CRLF files: no \\r in values, one line per CRLF, even inside quotes', async () => {
    const snap = await readCsv('employee_id,note\r\n1,"a\r\nb"\r\n2,last\r\n\r\n3,after blank\r\n');
    expect(snap.status).toBe('complete');
    expect(snap.records.map((r) => [r.location.line, r.fields['note']])).toEqual([
      [2, 'a\r\nb'],
      [4, 'last'],
      [6, 'after blank'],
    ]);
  });

  it('skips blank lines and keeps counting them', async () => {
    const snap = await readCsv('\n\nemployee_id,name\n\n1,a\n\n\n2,b\n\n');
    expect(snap.status).toBe('complete');
    expect(snap.records.map((r) => [r.key, r.location.line])).toEqual([
      ['1', 5],
      ['2', 8],
    ]);
  });

  it('skips rows that have no value at all, with one warning', async () => {
    const snap = await readCsv('employee_id,name\n1,a\n,\n , \n2,b\n');
    expect(snap.status).toBe('complete');
    expect(snap.records.map((r) => r.key)).toEqual(['1', '2']);
    expect(only(snap.issues)).toMatchObject({
      severity: 'warning',
      code: 'source.empty-rows',
      location: { line: 3 },
    });
  });

  it('warns when the file does not end with a line break: the last row may be cut short (S8)', async () => {
    const snap = await readCsv('employee_id,status\n1,active\n2,ac', { path: 'hr/partial.csv' });
    expect(snap.status).toBe('complete');
    expect(snap.records).toHaveLength(2);
    expect(only(snap.issues)).toMatchObject({
      severity: 'warning',
      code: 'source.no-final-newline',
      location: { file: 'hr/partial.csv', line: 3 },
    });
  });

  it('accepts mixed line endings', async () => {
    const snap = await readCsv('employee_id,name\n1,a\r\n2,b\r3,c\n');
    expect(snap.records.map((r) => [r.fields['name'], r.location.line])).toEqual([
      ['a', 2],
      ['b', 3],
      ['c', 4],
    ]);
  });

  it('uses the configured delimiter', async () => {
    const snap = await readCsv('employee_id;name;city\n1;"Doe; Jane";Köln\n', { delimiter: ';' });
    expect(snap.status).toBe('complete');
    expect(snap.records[0]?.fields).toEqual({ employee_id: '1', name: 'Doe; Jane', city: 'Köln' });
  });

  it('returns both records of a duplicate key: the join reports duplicates (S11)', async () => {
    const snap = await readCsv('employee_id,name\n1,a\n1,b\n');
    expect(snap.status).toBe('complete');
    expect(snap.records.map((r) => r.fields['name'])).toEqual(['a', 'b']);
  });

  it('S16: a row repeated identically makes the source incomplete in the plan, not two people with one key', async () => {
    const snap = await readCsv(
      'id,first,last,department,status\n1,Ada,Lovelace,Sales,active\n1,Ada,Lovelace,Sales,active\n',
      { key: 'id' },
    );
    const plan = await computePlan(aSpec(), [snap], {
      users: [accountOfRow(aPerson('2', 'Alan', 'Turing'))],
    });
    expect(plan.sources[0]).toMatchObject({ name: 'hr', status: 'incomplete', records: 1 });
    expect(plan.changes.map((c) => c.kind)).toEqual(['createUser']);
    expect(plan.blocked.map((b) => b.code)).toEqual(['source-unhealthy']);
    const repeat = plan.issues.find((i) => i.code === 'source.repeated-record');
    expect(repeat?.message).toContain(':2, ');
    expect(plan.issues.map((i) => i.code)).not.toContain('source.duplicate-key');
  });

  it('keeps a column named __proto__ as a field', async () => {
    const snap = await readCsv('employee_id,__proto__\n1,x\n');
    expect(Object.keys(snap.records[0]?.fields ?? {})).toEqual(['employee_id', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(snap.records[0]?.fields, '__proto__')?.value).toBe('x');
  });
});

describe('encodings', () => {
  it('removes a UTF-8 byte-order mark from the first header', async () => {
    const snap = await readCsv('\uFEFFemployee_id,name\n1,Zoë\n');
    expect(snap.fields[0]).toBe('employee_id');
    expect(snap.records[0]?.key).toBe('1');
  });

  it('decodes latin1: Zoë is one byte 0xEB', async () => {
    const bytes = Buffer.from('employee_id,name\n1,Zoë\n', 'latin1');
    expect(bytes.includes(0xeb)).toBe(true);
    const snap = await readCsv(bytes, { encoding: 'latin1' });
    expect(snap.records[0]?.fields['name']).toBe('Zoë');
  });

  it('decodes latin1 as windows-1252, so 0x92 is an apostrophe, not a control code', async () => {
    const bytes = Buffer.concat([
      Buffer.from('employee_id,name\n1,O', 'latin1'),
      Buffer.from([0x92]),
      Buffer.from('Brien \x80\n', 'latin1'),
    ]);
    const snap = await readCsv(bytes, { encoding: 'latin1' });
    expect(snap.records[0]?.fields['name']).toBe('O’Brien €');
  });

  it('decodes UTF-16LE with its byte-order mark, and counts lines right around č (0D 01)', async () => {
    const text = '\uFEFFemployee_id,name\r\n1,Čapek č\r\n2,"Dvořák\r\nčč"\r\n3,Zoë\r\n';
    const snap = await readCsv(Buffer.from(text, 'utf16le'), { encoding: 'utf16le' });
    expect(snap.status).toBe('complete');
    expect(snap.fields).toEqual(['employee_id', 'name']);
    expect(snap.records.map((r) => [r.fields['name'], r.location.line])).toEqual([
      ['Čapek č', 2],
      ['Dvořák\r\nčč', 3],
      ['Zoë', 5],
    ]);
  });

  it('honours a UTF-16LE byte-order mark whatever encoding is configured', async () => {
    const snap = await readCsv(Buffer.from('\uFEFFemployee_id,name\n1,Zoë\n', 'utf16le'));
    expect(snap.records[0]?.fields).toEqual({ employee_id: '1', name: 'Zoë' });
  });

  it('fails on bytes that are not UTF-8, naming line and column', async () => {
    const bytes = Buffer.concat([
      Buffer.from('employee_id,name\n1,ok\n2,Zo', 'utf8'),
      Buffer.from([0xeb]), // latin1 ë in a UTF-8 file
      Buffer.from('\n', 'utf8'),
    ]);
    const snap = await readCsv(bytes, { path: 'hr/bad-utf8.csv' });
    expect(snap.status).toBe('failed');
    expect(snap.records).toEqual([]);
    const issue = only(snap.issues);
    expect(issue).toMatchObject({
      severity: 'error',
      code: 'source.parse',
      location: { file: 'hr/bad-utf8.csv', line: 3, column: 5 },
    });
    expect(issue.message).toMatch(
      /^hr\/bad-utf8\.csv:3:5: bytes that are not valid UTF-8 .*\(EB 0A\).*latin1/,
    );
  });

  it('fails on a file that ends in the middle of a UTF-8 character', async () => {
    const bytes = Buffer.concat([Buffer.from('employee_id,name\n1,Zo'), Buffer.from([0xc3])]);
    const snap = await readCsv(bytes);
    expect(snap.status).toBe('failed');
    expect(only(snap.issues).message).toMatch(
      /:2:5: the file ends in the middle of a UTF-8 character/,
    );
  });

  it('fails on a UTF-16 file read without its byte-order mark (NUL characters)', async () => {
    const snap = await readCsv(Buffer.from('employee_id,name\n1,a\n', 'utf16le'));
    expect(snap.status).toBe('failed');
    expect(only(snap.issues)).toMatchObject({
      code: 'source.parse',
      location: { line: 1, column: 2 },
    });
    expect(only(snap.issues).message).toMatch(/NUL character.*encoding: utf16le/);
  });

  it('fails on a UTF-16BE byte-order mark', async () => {
    const snap = await readCsv(Buffer.from([0xfe, 0xff, 0x00, 0x61]));
    expect(snap.status).toBe('failed');
    expect(only(snap.issues).message).toMatch(/UTF-16BE/);
  });
});

describe('malformed files fail the source', () => {
  function employees(rows: number, edit: (row: number, line: string) => string): string {
    const lines = ['employee_id,first,last,email,status'];
    for (let i = 1; i <= rows; i++) {
      lines.push(edit(i, `${1000 + i},First${i},Last${i},first${i}@example.com,active`));
    }
    return lines.join('\n') + '\n';
  }

  it('S7: an unclosed quote at row 42 of 5,000 fails the source at line 43 with a column', async () => {
    const text = employees(5000, (i, line) =>
      i === 42 ? '1042,"First42,Last42,first42@example.com,active' : line,
    );
    const snap = await readCsv(text, { path: 'hr/employees.csv' });
    expect(snap.status).toBe('failed');
    // Nothing is returned, so no row after 41 can be read as "left".
    expect(snap.records).toEqual([]);
    expect(snap.fields).toEqual(['employee_id', 'first', 'last', 'email', 'status']);
    const issue = only(snap.issues);
    expect(issue).toMatchObject({
      severity: 'error',
      code: 'source.parse',
      location: { file: 'hr/employees.csv', line: 43, column: 6 },
    });
    expect(describeLocation(issue.location)).toBe('hr/employees.csv:43:6');
    expect(issue.message).toMatch(
      /^hr\/employees\.csv:43:6: quote not closed: field 2 \("first"\)/,
    );
    expect(issue.message).toContain('line 5001');
  });

  it('S7: an unclosed quote that a later quoted field "closes" still points at its line', async () => {
    const text = employees(200, (i, line) =>
      i === 42
        ? '1042,"First42,Last42,first42@example.com,active'
        : i === 100
          ? '1100,"Doe, Jane",Last100,x@example.com,active'
          : line,
    );
    const snap = await readCsv(text, { path: 'hr/employees.csv' });
    expect(snap.status).toBe('failed');
    const issue = only(snap.issues);
    expect(issue.location).toEqual({ file: 'hr/employees.csv', line: 43, column: 6 });
    expect(issue.message).toMatch(/^hr\/employees\.csv:43:6: quote not closed on its line/);
    expect(issue.message).toContain('line 101 column 6');
  });

  it('S8: a file cut off mid-row fails with a wrong field count at that line', async () => {
    const text = employees(50, (_, line) => line) + '1051,First51,La';
    const snap = await readCsv(text);
    expect(snap.status).toBe('failed');
    expect(only(snap.issues)).toMatchObject({
      code: 'source.parse',
      location: { line: 52, column: 16 },
    });
    expect(only(snap.issues).message).toContain('has 3 fields but the header has 5');
  });

  it('fails on a row with too many fields, pointing at the first extra one', async () => {
    const text = employees(10, (i, line) => (i === 7 ? `${line},extra` : line));
    const snap = await readCsv(text, { path: 'hr/e.csv' });
    expect(snap.status).toBe('failed');
    const issue = only(snap.issues);
    expect(issue.location).toEqual({ file: 'hr/e.csv', line: 8, column: 45 });
    expect(issue.message).toMatch(/^hr\/e\.csv:8:45: .*has 6 fields but the header has 5/);
  });

  it('fails on a quote inside an unquoted field, at the quote', async () => {
    const snap = await readCsv('employee_id,name\n1,ok\n2,Jo"hn\n3,after\n');
    expect(snap.status).toBe('failed');
    expect(only(snap.issues)).toMatchObject({
      code: 'source.parse',
      location: { line: 3, column: 5 },
    });
    expect(only(snap.issues).message).toMatch(/quote inside the unquoted field 2 \("name"\)/);
  });

  it('fails on text after a closing quote', async () => {
    const snap = await readCsv('employee_id,name\n1,"Smith" Jr\n');
    expect(snap.status).toBe('failed');
    expect(only(snap.issues).location).toMatchObject({ line: 2, column: 3 });
    expect(only(snap.issues).message).toMatch(/text follows its closing quote at column 9/);
  });

  it('fails on a space-only line (one field where the header has several)', async () => {
    const snap = await readCsv('employee_id,name\n1,a\n   \n2,b\n');
    expect(snap.status).toBe('failed');
    expect(only(snap.issues).location).toMatchObject({ line: 3 });
  });

  it('counts lines of earlier multi-line records when reporting an error', async () => {
    const snap = await readCsv('employee_id,note\r\n1,"a\r\nb\r\nc"\r\n2,x,y\r\n');
    expect(only(snap.issues).location).toMatchObject({ line: 5, column: 5 });
  });
});

describe('header and key problems', () => {
  it('fails on an empty file', async () => {
    const snap = await readCsv('');
    expect(snap).toMatchObject({ status: 'failed', records: [], fields: [] });
    expect(only(snap.issues)).toMatchObject({ severity: 'error', code: 'source.no-header' });
  });

  it('fails on a file of blank lines or a lone byte-order mark', async () => {
    for (const content of ['\n\r\n\n', '\uFEFF']) {
      const snap = await readCsv(content);
      expect(snap.status).toBe('failed');
      expect(only(snap.issues).code).toBe('source.no-header');
    }
  });

  it('fails on empty and duplicate header names, naming the columns', async () => {
    const snap = await readCsv('employee_id,email,,name,email\n1,a,b,c,d\n');
    expect(snap.status).toBe('failed');
    const issue = only(snap.issues);
    expect(issue).toMatchObject({ code: 'source.header', location: { line: 1, column: 19 } });
    expect(issue.message).toContain('field 3 has no name');
    expect(issue.message).toContain('"email" names fields 2 and 5');
  });

  it('fails when the key column is not in the header, with a suggestion', async () => {
    const snap = await readCsv('Employee_ID,name\n1,a\n');
    expect(snap.status).toBe('failed');
    const issue = only(snap.issues);
    expect(issue.code).toBe('source.no-key-column');
    expect(issue.message).toContain('did you mean "Employee_ID"?');
    expect(snap.fields).toEqual(['Employee_ID', 'name']);
  });

  it('hints at the delimiter when the header is one column of semicolons', async () => {
    const snap = await readCsv('employee_id;name\n1;a\n');
    expect(only(snap.issues).message).toContain('is the delimiter ";"?');
  });

  it('leaves out a row with an empty key and marks the source incomplete', async () => {
    const snap = await readCsv('name,employee_id\na,1\nb,\nc,  \nd,4\n', { path: 'hr/k.csv' });
    expect(snap.status).toBe('incomplete');
    expect(snap.records.map((r) => r.key)).toEqual(['1', '4']);
    expect(snap.issues).toHaveLength(2);
    expect(snap.issues[0]).toMatchObject({
      severity: 'error',
      code: 'source.missing-key',
      location: { file: 'hr/k.csv', line: 3, column: 3 },
    });
    expect(snap.issues[0]?.message).toMatch(/^hr\/k\.csv:3:3: /);
    expect(snap.issues[1]?.location).toMatchObject({ line: 4 });
  });

  it('caps per-row issues and sums up the rest', async () => {
    const rows = Array.from({ length: MAX_ISSUES_PER_CODE + 5 }, (_, i) => `x${i},`);
    const snap = await readCsv(`name,employee_id\n${rows.join('\n')}\n`);
    expect(snap.status).toBe('incomplete');
    expect(snap.issues).toHaveLength(MAX_ISSUES_PER_CODE + 1);
    expect(snap.issues.at(-1)?.message).toContain(`5 more source.missing-key issue(s) not listed`);
  });

  it('keeps a key with surrounding spaces as written, with a warning', async () => {
    const snap = await readCsv('employee_id,name\n 1 ,a\n');
    expect(snap.status).toBe('complete');
    expect(snap.records[0]?.key).toBe(' 1 ');
    expect(only(snap.issues)).toMatchObject({ severity: 'warning', code: 'source.key-whitespace' });
  });

  it('refuses a delimiter that would make the file ambiguous', async () => {
    const snap = await readCsv('employee_id\n1\n', { delimiter: '"' });
    expect(snap.status).toBe('failed');
    expect(only(snap.issues).code).toBe('source.options');
  });
});

describe('files that cannot be read', () => {
  it('fails with source.unreadable naming the path for a missing file', async () => {
    const snap = await readPath('hr/missing.csv');
    expect(snap).toMatchObject({ status: 'failed', records: [], fields: [] });
    const issue = only(snap.issues);
    expect(issue.code).toBe('source.unreadable');
    expect(issue.message).toBe(
      `hr/missing.csv: cannot read ${join(baseDir, 'hr/missing.csv')}: no such file`,
    );
    expect(issue.location).toEqual({ file: 'hr/missing.csv' });
    expect(issue.message).not.toMatch(/\n\s+at /);
  });

  it('fails with source.unreadable for a directory', async () => {
    const snap = await readPath('hr');
    expect(only(snap.issues)).toMatchObject({ code: 'source.unreadable' });
    expect(only(snap.issues).message).toContain('it is a directory');
  });
});

describe('large files', () => {
  it('reads 100,000 rows with the right lines', async () => {
    const lines = ['employee_id,name,email'];
    for (let i = 1; i <= 100_000; i++) lines.push(`${i},"Name ${i}",n${i}@example.com`);
    const snap = await readCsv(lines.join('\r\n') + '\r\n');
    expect(snap).toMatchObject({ status: 'complete', issues: [] });
    expect(snap.records).toHaveLength(100_000);
    expect(snap.records[99_999]).toMatchObject({ key: '100000', location: { line: 100_001 } });
  });
});

describe('property: what a correct writer writes is read back exactly', () => {
  // Characters that stress the format, and any Unicode code point except NUL (refused by design).
  const cellChar = fc
    .oneof(
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          '"',
          ',',
          ';',
          '\t',
          '|',
          '\n',
          '\r',
          ' ',
          'a',
          'ë',
          'č',
          '😀',
          '\uFEFF',
        ),
      },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    )
    .filter((c) => c !== '\0');
  const cell = fc.string({ unit: cellChar, maxLength: 8 });
  const nonBlank = cell.filter((s) => s.trim() !== '');

  const table = fc.integer({ min: 1, max: 4 }).chain((width) =>
    fc.record({
      header: fc.uniqueArray(nonBlank, { minLength: width, maxLength: width }),
      keyColumn: fc.integer({ min: 0, max: width - 1 }),
      rows: fc.array(fc.array(cell, { minLength: width, maxLength: width }), { maxLength: 12 }),
      keys: fc.array(nonBlank, { minLength: 12, maxLength: 12 }),
      delimiter: fc.constantFrom(',', ';', '\t', '|'),
      eol: fc.constantFrom('\n', '\r\n', '\r'),
      quoteAll: fc.boolean(),
      bom: fc.boolean(),
      encoding: fc.constantFrom<CsvEncoding>('utf8', 'utf16le'),
    }),
  );

  it('round-trips values and start lines', async () => {
    await fc.assert(
      fc.asyncProperty(table, async (t) => {
        const rows = t.rows.map((r, i) =>
          r.map((v, j) => (j === t.keyColumn ? (t.keys[i] ?? 'k') : v)),
        );
        const quote = (v: string): string =>
          t.quoteAll || /["\r\n]/.test(v) || v.includes(t.delimiter)
            ? `"${v.replaceAll('"', '""')}"`
            : v;
        let text = t.header.map(quote).join(t.delimiter) + t.eol;
        const expectedLines: number[] = [];
        for (const r of rows) {
          expectedLines.push(1 + (text.match(/\r\n|\r|\n/g) ?? []).length);
          text += r.map(quote).join(t.delimiter) + t.eol;
        }
        // A leading U+FEFF in the data is a byte-order mark; a writer must add a real one first.
        const bom = t.bom || text.startsWith('\uFEFF') || t.encoding === 'utf16le';
        const snap = await readCsv(
          Buffer.from((bom ? '\uFEFF' : '') + text, t.encoding === 'utf16le' ? 'utf16le' : 'utf8'),
          { key: t.header[t.keyColumn] ?? '', delimiter: t.delimiter, encoding: t.encoding },
        );
        expect(snap.issues.filter((i) => i.severity === 'error')).toEqual([]);
        expect(snap.status).toBe('complete');
        expect(snap.fields).toEqual(t.header);
        expect(snap.records.map((r) => t.header.map((h) => r.fields[h]))).toEqual(rows);
        expect(snap.records.map((r) => r.location.line)).toEqual(expectedLines);
      }),
      { numRuns: 300 },
    );
  });
});

describe('decode stream', () => {
  async function decodeInChunks(
    bytes: Buffer,
    cuts: number[],
    encoding: CsvEncoding,
  ): Promise<string> {
    const chunks: Buffer[] = [];
    let from = 0;
    for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
      chunks.push(bytes.subarray(from, cut));
      from = cut;
    }
    chunks.push(bytes.subarray(from));
    const out: Buffer[] = [];
    for await (const b of Readable.from(chunks).pipe(createDecodeStream(encoding))) {
      out.push(b as Buffer);
    }
    return Buffer.concat(out).toString('utf8');
  }

  it('decodes the same text however the bytes are chunked', async () => {
    const text = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0'));
    await fc.assert(
      fc.asyncProperty(
        text,
        fc.constantFrom<CsvEncoding>('utf8', 'utf16le'),
        fc.array(fc.nat({ max: 200 }), { maxLength: 6 }),
        async (s, encoding, cuts) => {
          const body = s.startsWith('\uFEFF') ? `x${s}` : s;
          const bytes = Buffer.from(body, encoding === 'utf8' ? 'utf8' : 'utf16le');
          const inRange = cuts.map((c) => Math.min(c, bytes.length));
          expect(await decodeInChunks(bytes, inRange, encoding)).toBe(body);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports a lone surrogate in UTF-16LE with its position', async () => {
    const bytes = Buffer.concat([
      Buffer.from('ab\ncd', 'utf16le'),
      Buffer.from([0x00, 0xdc]), // a low surrogate with no high one
      Buffer.from('e', 'utf16le'),
    ]);
    const err = await decodeInChunks(bytes, [3, 7], 'utf16le').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecodeError);
    expect(err).toMatchObject({ line: 2, column: 3 });
  });
});
