/**
 * Line and column arithmetic over decoded CSV text. A line break is CRLF, LF or a lone CR, each
 * ending one line, as editors count them, so `file:line:column` lands where a reviewer looks.
 * Columns are 1-based and count UTF-16 code units (what VS Code and most editors show).
 */

const CR = 13;
const LF = 10;
const QUOTE = '"';

/** Number of line breaks in `text[start, end)`; a CRLF counts once. */
export function countLineBreaks(text: string, start = 0, end = text.length): number {
  let breaks = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === LF) breaks++;
    else if (c === CR) {
      breaks++;
      if (i + 1 < end && text.charCodeAt(i + 1) === LF) i++;
    }
  }
  return breaks;
}

/**
 * Blank lines at the start of a raw record. csv-parse's `raw` text runs from the end of the
 * previous record, so the blank lines it skipped come first; a record's own text never starts
 * with a line break (an empty first field is followed by a delimiter, a quoted one by a quote).
 */
export function leadingLineBreaks(raw: string): {
  readonly breaks: number;
  readonly offset: number;
} {
  let breaks = 0;
  let i = 0;
  while (i < raw.length) {
    const c = raw.charCodeAt(i);
    if (c === LF) i++;
    else if (c === CR) i += raw.charCodeAt(i + 1) === LF ? 2 : 1;
    else break;
    breaks++;
  }
  return { breaks, offset: i };
}

/** Where `offset` falls in `text`: how many lines after the first, and the 1-based column. */
export function positionIn(
  text: string,
  offset: number,
): { readonly lineOffset: number; readonly column: number } {
  const end = Math.min(Math.max(offset, 0), text.length);
  let lineOffset = 0;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === LF || c === CR) {
      if (c === CR && i + 1 < end && text.charCodeAt(i + 1) === LF) i++;
      lineOffset++;
      lineStart = i + 1;
    }
  }
  return { lineOffset, column: end - lineStart + 1 };
}

/**
 * Offset where field `index` (0-based) of a record starts, or undefined if the record ends first.
 * Only valid for fields the parser already accepted: their quotes pair up, and unquoted fields
 * hold no quote, so toggling on every quote tracks "inside a quoted field" exactly.
 */
export function fieldStartOffset(
  record: string,
  index: number,
  delimiter: string,
): number | undefined {
  if (index === 0) return 0;
  let field = 0;
  let quoted = false;
  for (let i = 0; i < record.length; i++) {
    if (record[i] === QUOTE) {
      quoted = !quoted;
    } else if (!quoted && record.startsWith(delimiter, i)) {
      field++;
      i += delimiter.length - 1;
      if (field === index) return i + 1;
    } else if (!quoted && (record[i] === '\n' || record[i] === '\r')) {
      return undefined;
    }
  }
  return undefined;
}

/** Offset just past a record's content: before its one terminating line break, if any. */
export function contentEnd(record: string): number {
  const end = record.length;
  const last = record.charCodeAt(end - 1);
  if (last === LF) return record.charCodeAt(end - 2) === CR ? end - 2 : end - 1;
  if (last === CR) return end - 1;
  return end;
}
