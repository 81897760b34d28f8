/**
 * The CSV source: one file with a header row, one person per record.
 *
 * The read is a stream: file -> decode-stream (any encoding -> checked UTF-8) -> csv-parse ->
 * records. Nothing here throws for a data problem; every problem becomes an issue and decides
 * the snapshot's status:
 *
 * - `failed`, no records: the file cannot be read, has no header, has an unusable header (empty
 *   or duplicate names, no key column), or is malformed anywhere (S7, S8). Records parsed before
 *   a malformed line are dropped too: `failed` means nothing trustworthy was read (ports.ts), and
 *   a file that is broken at line 43 may be a file that is being written. csv-parse runs strict:
 *   no `relax_quotes`, no `relax_column_count`, and never `skip_records_with_error`, which cannot
 *   tell a quoted line break from a real one, so one stray quote would swallow rows silently.
 * - `incomplete`: a row has data but an empty key. It cannot be returned (no one can tell whose it
 *   is), and it may be a person whose key an export lost; if the source said `complete`, that
 *   person's account would look like a leaver. `incomplete` makes the safety layer refuse every
 *   deprovisioning this source would cause until the row is fixed.
 * - `complete` otherwise, including a header with no rows (whether an empty source may
 *   deprovision is the safety layer's call, invariant 2).
 *
 * Values are exactly the characters between the delimiters: strings, never cast, never trimmed.
 * Line numbers come from csv-parse's `raw` text of each record (which runs from the end of the
 * previous record and so includes skipped blank lines), not from a row index or from its `lines`
 * counter, which counts a quoted CRLF twice.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import type { Options } from 'csv-parse';
import type {
  RecordLocation,
  SourceIssue,
  SourceRecord,
  SourceSnapshot,
} from '../../engine/model/source.js';
import { PORT_API_VERSION } from '../../engine/ports.js';
import type { ConnectorContext, SourceConnector } from '../../engine/ports.js';
import { DecodeError, createDecodeStream } from './decode-stream.js';
import type { CsvSourceOptions } from '../../config/sources/csv-options.js';
import {
  contentEnd,
  countLineBreaks,
  fieldStartOffset,
  leadingLineBreaks,
  positionIn,
} from './text-position.js';

/** Per-row issues of one code beyond this many are summed up in one last issue. */
export const MAX_ISSUES_PER_CODE = 100;

export function createCsvSource(
  name: string,
  options: CsvSourceOptions,
  context: ConnectorContext,
): SourceConnector {
  const path = resolve(context.baseDir, options.path);
  let last: { readonly digest: string; readonly snapshot: SourceSnapshot } | undefined;
  return {
    apiVersion: PORT_API_VERSION,
    kind: 'csv',
    name,
    /**
     * The same file bytes give the same snapshot object back without parsing again (the
     * daemon's no-change cycle). The digest is taken before the parse, so a file rewritten in
     * between is parsed again next time rather than missed.
     */
    async read() {
      const digest = await fileDigest(path).catch(() => undefined);
      if (digest !== undefined && last?.digest === digest) return last.snapshot;
      const snapshot = await readCsv(name, options, path);
      last = digest === undefined ? undefined : { digest, snapshot };
      return snapshot;
    },
  };
}

async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** One record as csv-parse gives it with `raw: true` and `columns: false`. */
interface ParsedRow {
  readonly record: string[];
  readonly raw: string;
}

interface Position {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** Thrown from `on_record` to stop reading once the header makes the rest meaningless. */
class HeaderRejected extends Error {}

/** Thrown from `on_record` once the header is accepted, when only the header is wanted. */
class HeaderAccepted extends Error {}

/**
 * Only the header row of a CSV source, read as `read()` reads it (encoding, delimiter, the same
 * header checks and issues), for `validate`: `fields` are its column names, `records` is empty,
 * and `status` is `failed` when the header is unusable or the file cannot be read. Stops after
 * the header, so a large export costs one line.
 */
export function readCsvHeader(
  name: string,
  options: CsvSourceOptions,
  baseDir: string,
): Promise<SourceSnapshot> {
  return readCsv(name, options, resolve(baseDir, options.path), true);
}

async function readCsv(
  name: string,
  options: CsvSourceOptions,
  absolutePath: string,
  headerOnly = false,
): Promise<SourceSnapshot> {
  const file = options.path;
  const delimiter = options.delimiter ?? ',';
  const issues: SourceIssue[] = [];
  const records: SourceRecord[] = [];
  const issueCounts = new Map<string, number>();
  let header: string[] | undefined;
  let keyIndex = -1;
  // Line breaks in every raw record so far: the next record starts after them.
  let linesConsumed = 0;
  let missingKeys = 0;
  let emptyRows = 0;
  // The last data row: where it starts and whether a line break ends it.
  let lastRow: { readonly line: number; readonly terminated: boolean } | undefined;
  let firstEmptyRowLine = 0;

  const snapshot = (status: SourceSnapshot['status']): SourceSnapshot => ({
    name,
    kind: 'csv',
    status,
    fields: header ?? [],
    records: status === 'failed' ? [] : records,
    issues: [...issues, ...overflowIssues(issueCounts, file)],
  });
  const fail = (code: string, message: string, at?: RecordLocation): SourceSnapshot => {
    issues.push({ severity: 'error', code, message, ...(at && { location: at }) });
    return snapshot('failed');
  };
  /** Per-row issues, capped so a wholly empty key column does not produce 100k issues. */
  const rowIssue = (issue: SourceIssue): void => {
    const n = (issueCounts.get(issue.code) ?? 0) + 1;
    issueCounts.set(issue.code, n);
    if (n <= MAX_ISSUES_PER_CODE) issues.push(issue);
  };

  // The schema allows any one character; these three would make the file ambiguous.
  if (
    [...delimiter].length !== 1 ||
    delimiter === '"' ||
    delimiter === '\r' ||
    delimiter === '\n'
  ) {
    return fail(
      'source.options',
      `${file}: delimiter ${JSON.stringify(delimiter)} cannot be used: it must be one character other than a quote or a line break`,
    );
  }

  const at = (line: number, body: string, offset: number): Position => {
    const p = positionIn(body, offset);
    return { file, line: line + p.lineOffset, column: p.column };
  };

  function acceptHeader(names: string[], line: number, body: string): void {
    header = names;
    const problems: string[] = [];
    let first: number | undefined;
    const firstSeen = new Map<string, number>();
    const duplicates = new Map<string, number[]>();
    names.forEach((n, i) => {
      if (n.trim() === '') {
        problems.push(`field ${i + 1} has no name`);
        first ??= i;
        return;
      }
      const seen = firstSeen.get(n);
      if (seen === undefined) firstSeen.set(n, i);
      else {
        duplicates.set(n, [...(duplicates.get(n) ?? [seen]), i]);
        first ??= i;
      }
    });
    for (const [n, at] of duplicates) {
      problems.push(`${JSON.stringify(n)} names fields ${at.map((i) => i + 1).join(' and ')}`);
    }
    if (problems.length > 0) {
      const pos = at(line, body, fieldStartOffset(body, first ?? 0, delimiter) ?? 0);
      issues.push({
        severity: 'error',
        code: 'source.header',
        message: `${format(pos)}: the header row needs a unique name for every column: ${problems.join('; ')}`,
        location: pos,
      });
      throw new HeaderRejected();
    }
    keyIndex = names.indexOf(options.key);
    if (keyIndex === -1) {
      const pos = { file, line, column: 1 };
      const near = names.filter((n) => looseName(n) === looseName(options.key));
      issues.push({
        severity: 'error',
        code: 'source.no-key-column',
        message:
          `${format(pos)}: the key column ${JSON.stringify(options.key)} is not in the header` +
          (near.length > 0
            ? ` (did you mean ${near.map((n) => JSON.stringify(n)).join(' or ')}?)`
            : '') +
          `; the header has ${names.map((n) => JSON.stringify(n)).join(', ')}` +
          (names.length === 1 && delimiter !== ';' && names[0]?.includes(';')
            ? `; is the delimiter ";"?`
            : ''),
        location: pos,
      });
      throw new HeaderRejected();
    }
  }

  // Runs inside csv-parse (`on_record`), synchronously as each record completes, so the line
  // count is exact when the parser stops on an error later in the same chunk.
  function acceptRow(row: ParsedRow): void {
    const lead = leadingLineBreaks(row.raw);
    const line = linesConsumed + 1 + lead.breaks;
    linesConsumed += countLineBreaks(row.raw);
    const body = row.raw.slice(lead.offset);
    if (header === undefined) {
      acceptHeader(row.record, line, body);
      if (headerOnly) throw new HeaderAccepted();
      return;
    }
    lastRow = { line, terminated: /[\r\n]$/.test(row.raw) };
    const values = row.record;
    // A row with no value at all (`,,,,` from a spreadsheet's formatted range) holds no person.
    if (values.every((v) => v.trim() === '')) {
      emptyRows++;
      if (emptyRows === 1) firstEmptyRowLine = line;
      return;
    }
    const key = values[keyIndex] ?? '';
    const keyAt = () => at(line, body, fieldStartOffset(body, keyIndex, delimiter) ?? 0);
    if (key.trim() === '') {
      missingKeys++;
      const pos = keyAt();
      rowIssue({
        severity: 'error',
        code: 'source.missing-key',
        message:
          `${format(pos)}: the row starting at line ${line} has no value in key column ` +
          `${JSON.stringify(options.key)}; it is left out, and the source is incomplete so no ` +
          `account is deprovisioned while someone may be missing`,
        location: pos,
      });
      return;
    }
    if (key !== key.trim()) {
      const pos = keyAt();
      rowIssue({
        severity: 'warning',
        code: 'source.key-whitespace',
        message: `${format(pos)}: key ${JSON.stringify(key)} has leading or trailing whitespace; it is used as written`,
        location: pos,
        key,
      });
    }
    // fromEntries defines own properties, so a column named `__proto__` stays a field.
    const fields = Object.fromEntries(header.map((h, i) => [h, values[i] ?? '']));
    records.push({ source: name, key, fields, location: { file, line } });
  }

  const parser = parse({
    // We take the first record as the header ourselves, to know its raw text and line.
    columns: false,
    raw: true,
    delimiter,
    quote: '"',
    escape: '"',
    // LF, CRLF and a lone CR all end a record, in any mix; CRLF first so it is one break.
    record_delimiter: ['\r\n', '\n', '\r'],
    // Input is UTF-8 from decode-stream, with any byte-order mark already removed.
    encoding: 'utf8',
    bom: false,
    skip_empty_lines: true,
    cast: false,
    trim: false,
    ltrim: false,
    rtrim: false,
    relax_quotes: false,
    relax_column_count: false,
    skip_records_with_error: false,
    // Every record is handled here and dropped from the stream; a throw (HeaderRejected) stops
    // the parser and rejects the pipeline with it. The typings assume `raw: false` records.
    on_record: ((row: ParsedRow) => {
      acceptRow(row);
      return null;
    }) as unknown as Options['on_record'],
  });

  try {
    await pipeline(
      createReadStream(absolutePath),
      createDecodeStream(options.encoding ?? 'utf8'),
      parser,
      // Records are consumed in on_record; this drains the (empty) readable side.
      async (rows: AsyncIterable<unknown>) => {
        for await (const _ of rows);
      },
    );
  } catch (err) {
    if (err instanceof HeaderRejected) return snapshot('failed');
    if (err instanceof HeaderAccepted) return snapshot('complete');
    if (err instanceof DecodeError) {
      const pos = { file, line: err.line, column: err.column };
      return fail('source.parse', `${format(pos)}: ${err.message}`, pos);
    }
    if (err instanceof CsvError) {
      const { message, location } = describeCsvError(err, {
        file,
        delimiter,
        header,
        linesConsumed,
      });
      return fail('source.parse', message, location);
    }
    return fail('source.unreadable', describeReadError(err, file, absolutePath), { file });
  }

  if (header === undefined) {
    return fail(
      'source.no-header',
      `${file}: the file is empty; a header row naming the columns is required`,
      { file, line: 1, column: 1 },
    );
  }
  if (emptyRows > 0) {
    issues.push({
      severity: 'warning',
      code: 'source.empty-rows',
      message: `${file}:${firstEmptyRowLine}: skipped ${plural(emptyRows, 'row')} with no values, the first here`,
      location: { file, line: firstEmptyRowLine },
    });
  }
  if (lastRow !== undefined && !lastRow.terminated) {
    // Not an error: plenty of writers omit the final newline. But a file read while it is being
    // written ends like this too, possibly inside its last value, which no field count catches.
    issues.push({
      severity: 'warning',
      code: 'source.no-final-newline',
      message:
        `${file}:${lastRow.line}: the file does not end with a line break; if it was read while ` +
        `still being written, this last row may be cut short`,
      location: { file, line: lastRow.line },
    });
  }
  return snapshot(missingKeys > 0 ? 'incomplete' : 'complete');
}

interface ErrorContext {
  readonly file: string;
  readonly delimiter: string;
  readonly header: readonly string[] | undefined;
  /** Line breaks before the record the parser was in. */
  readonly linesConsumed: number;
}

/**
 * Turns a csv-parse error into a message that points at the character to look at. csv-parse
 * gives the raw text of the failing record so far (`raw`), the 0-based index of the field it was
 * in (`column`, with `columns: false`) and, for a wrong field count, the fields (`record`); its
 * own line number is where it gave up, which for an unclosed quote is the end of the file, so
 * positions are computed from the raw text instead.
 */
function describeCsvError(
  err: CsvError,
  ctx: ErrorContext,
): { readonly message: string; readonly location: Position } {
  const raw = typeof err['raw'] === 'string' ? err['raw'] : '';
  const lead = leadingLineBreaks(raw);
  const line = ctx.linesConsumed + 1 + lead.breaks;
  const body = raw.slice(lead.offset);
  const fieldIndex = typeof err['column'] === 'number' ? err['column'] : 0;
  const at = (offset: number): Position => {
    const p = positionIn(body, offset);
    return { file: ctx.file, line: line + p.lineOffset, column: p.column };
  };
  const fieldName = (i: number): string => {
    const n = ctx.header?.[i];
    return `field ${i + 1}${n === undefined ? '' : ` (${JSON.stringify(n)})`}`;
  };
  const fieldStart = fieldStartOffset(body, fieldIndex, ctx.delimiter) ?? 0;
  const done = (location: Position, text: string) => ({
    message: `${format(location)}: ${text} [${err.code}]`,
    location,
  });

  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED': {
      const open = at(fieldStart);
      const end = at(contentEnd(body));
      return done(
        open,
        `quote not closed: ${fieldName(fieldIndex)} opens a quote here that is never closed, so ` +
          `everything up to the end of the file (line ${end.line}) was read as one field`,
      );
    }
    case 'CSV_INVALID_CLOSING_QUOTE': {
      // The raw text ends with the quote that closed the field; text follows it.
      const open = at(fieldStart);
      const close = at(body.length - 1);
      return done(
        open,
        close.line === open.line
          ? `${fieldName(fieldIndex)} is quoted, but text follows its closing quote at column ` +
              `${close.column}; a quoted field must end at the delimiter or the line end (write a ` +
              `quote inside a field as "")`
          : `quote not closed on its line: ${fieldName(fieldIndex)} opens a quote here, and the ` +
              `next quote, at line ${close.line} column ${close.column}, is followed by text; ` +
              `lines ${open.line} to ${close.line} were read as one field`,
      );
    }
    case 'INVALID_OPENING_QUOTE':
      // The raw text ends with the stray quote.
      return done(
        at(Math.max(0, body.length - 1)),
        `quote inside the unquoted ${fieldName(fieldIndex)}; quote the whole field and write ` +
          `each quote inside it as ""`,
      );
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH': {
      const got = Array.isArray(err['record']) ? err['record'].length : undefined;
      const expected = ctx.header?.length;
      const counts =
        `the record starting at line ${line} has ${got === undefined ? 'a different number of fields' : plural(got, 'field')} ` +
        `but the header has ${expected === undefined ? 'another number' : expected}`;
      if (got !== undefined && expected !== undefined && got > expected) {
        const extra = fieldStartOffset(body, expected, ctx.delimiter) ?? contentEnd(body);
        return done(at(extra), `${counts}; the first extra field starts here`);
      }
      return done(at(contentEnd(body)), `${counts}; the record ends here`);
    }
    default:
      return done(at(fieldStart), `${fieldName(fieldIndex)}: ${err.message}`);
  }
}

function describeReadError(err: unknown, file: string, absolutePath: string): string {
  const e = err as NodeJS.ErrnoException;
  const reason =
    e.code === 'ENOENT'
      ? 'no such file'
      : e.code === 'EACCES' || e.code === 'EPERM'
        ? 'permission denied'
        : e.code === 'EISDIR'
          ? 'it is a directory'
          : // Node's text is "CODE: reason, syscall 'path'"; keep the reason.
            `${String(e.message ?? err)
              .replace(/^[A-Z0-9_]+: /, '')
              .replace(/, \w+ '.*'$/, '')}${e.code ? ` (${e.code})` : ''}`;
  return `${file}: cannot read ${absolutePath}: ${reason}`;
}

function overflowIssues(counts: ReadonlyMap<string, number>, file: string): SourceIssue[] {
  const out: SourceIssue[] = [];
  for (const [code, n] of counts) {
    if (n <= MAX_ISSUES_PER_CODE) continue;
    out.push({
      severity: code === 'source.missing-key' ? 'error' : 'warning',
      code,
      message: `${file}: ${n - MAX_ISSUES_PER_CODE} more ${code} issue(s) not listed (${n} in all)`,
      location: { file },
    });
  }
  return out;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function format(p: Position): string {
  return `${p.file}:${p.line}:${p.column}`;
}

/** Header names compared the way a person would misread them: case, spaces, `_` and `-`. */
function looseName(name: string): string {
  return name.toLowerCase().replace(/[\s_-]+/g, '');
}
