/**
 * Maps a character offset inside a YAML scalar's VALUE back to an offset in the file, so an
 * error at character 12 of a JSONata expression points at the file's line and column of that
 * character, whatever the scalar's style.
 *
 * The value and the source differ by style: quotes; `''` in single quotes; escapes in double
 * quotes; line folding (a line break becomes a space, blank lines become line breaks, leading
 * indentation goes) in plain, quoted and `>` scalars; indentation and the header in `|` and `>`
 * scalars. Each decoder below re-reads the source the way YAML does and records, for every
 * value character, the file offset it came from (the backslash for an escape, the line break
 * for a folded space).
 *
 * Safety net: the decoded text is compared with the value the `yaml` library produced. If they
 * differ (a construct these decoders do not model, e.g. an explicit indentation indicator), the
 * result is undefined and callers fall back to the scalar's start: a coarse position, never a
 * wrong one.
 */
import type { Scalar } from 'yaml';

/**
 * File offset of each character of the scalar's string value, plus one entry for the end of
 * the value (where "unexpected end of expression" points). Undefined when not a string scalar
 * or when decoding did not reproduce the value.
 */
export function scalarValueOffsets(source: string, node: Scalar): number[] | undefined {
  if (typeof node.value !== 'string' || !node.range) return undefined;
  const [start, end] = node.range;
  let decoded: Decoded | undefined;
  switch (node.type) {
    case 'PLAIN':
      decoded = foldFlow(source, start, end, 'none', end);
      break;
    case 'QUOTE_SINGLE':
      decoded = foldFlow(source, start + 1, end - 1, 'single', end - 1);
      break;
    case 'QUOTE_DOUBLE':
      decoded = foldFlow(source, start + 1, end - 1, 'double', end - 1);
      break;
    case 'BLOCK_LITERAL':
    case 'BLOCK_FOLDED':
      decoded = decodeBlock(source, start, end, node.type === 'BLOCK_FOLDED');
      break;
    default:
      return undefined;
  }
  if (!decoded) return undefined;
  if (decoded.text !== node.value) return undefined;
  return [...decoded.offsets, decoded.end];
}

interface Decoded {
  readonly text: string;
  /** File offset per UTF-16 unit of `text`. */
  readonly offsets: number[];
  /** File offset just after the value's content. */
  readonly end: number;
}

function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/** Length of the line break at `i` (`\n` or `\r\n`), 0 if none. */
function breakAt(source: string, i: number): number {
  if (source[i] === '\n') return 1;
  if (source[i] === '\r' && source[i + 1] === '\n') return 2;
  return 0;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
};
const HEX_ESCAPES: Readonly<Record<string, number>> = { x: 2, u: 4, U: 8 };

/**
 * Flow scalars (plain, single- and double-quoted) over [from, to): line folding, plus `''`
 * (single) or backslash escapes (double).
 */
function foldFlow(
  source: string,
  from: number,
  to: number,
  quoting: 'none' | 'single' | 'double',
  end: number,
): Decoded | undefined {
  let text = '';
  const offsets: number[] = [];
  const emit = (s: string, at: number): void => {
    text += s;
    for (let k = 0; k < s.length; k++) offsets.push(at);
  };
  // White space since the last content character on this line: kept only if content follows
  // on the same line (flow folding drops trailing white space).
  let pending: number[] = [];
  const flush = (): void => {
    for (const at of pending) emit(source[at] ?? ' ', at);
    pending = [];
  };
  /** After a line break at `i`: skip indentation and count blank lines; returns the next offset. */
  const afterBreak = (i: number, folded: boolean, breakPos: number): number => {
    let j = i;
    const blankLines: number[] = [];
    for (;;) {
      while (j < to && isBlank(source[j])) j++;
      const b = breakAt(source, j);
      if (b === 0 || j >= to) break;
      blankLines.push(j);
      j += b;
    }
    if (blankLines.length === 0) {
      if (folded) emit(' ', breakPos);
    } else {
      for (const at of blankLines) emit('\n', at);
    }
    return j;
  };

  let i = from;
  while (i < to) {
    const c = source[i] as string;
    const b = breakAt(source, i);
    if (b > 0) {
      pending = [];
      i = afterBreak(i + b, true, i);
      continue;
    }
    if (isBlank(c)) {
      pending.push(i);
      i++;
      continue;
    }
    flush();
    if (quoting === 'single' && c === "'" && source[i + 1] === "'") {
      emit("'", i);
      i += 2;
      continue;
    }
    if (quoting === 'double' && c === '\\') {
      const n = source[i + 1];
      const eb = breakAt(source, i + 1);
      if (eb > 0) {
        // Escaped line break: no space, the next line's indentation is dropped.
        i = afterBreak(i + 1 + eb, false, i);
        continue;
      }
      if (n === undefined) return undefined;
      const simple = SIMPLE_ESCAPES[n];
      if (simple !== undefined) {
        emit(simple, i);
        i += 2;
        continue;
      }
      const digits = HEX_ESCAPES[n];
      if (digits !== undefined) {
        const hex = source.slice(i + 2, i + 2 + digits);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== digits) return undefined;
        emit(String.fromCodePoint(parseInt(hex, 16)), i);
        i += 2 + digits;
        continue;
      }
      return undefined;
    }
    emit(c, i);
    i++;
  }
  flush();
  return { text, offsets, end };
}

/** `|` and `>` block scalars over [start, end), `start` at the indicator. */
function decodeBlock(
  source: string,
  start: number,
  end: number,
  folded: boolean,
): Decoded | undefined {
  // Header: indicator, chomping and indentation indicators, optional comment, line break.
  let i = start + 1;
  let chomping: 'strip' | 'clip' | 'keep' = 'clip';
  while (i < end && /[-+0-9]/.test(source[i] as string)) {
    // An explicit indentation indicator is relative to the parent's indentation, which this
    // decoder does not track: fall back.
    if (/[0-9]/.test(source[i] as string)) return undefined;
    chomping = source[i] === '-' ? 'strip' : 'keep';
    i++;
  }
  while (i < end && breakAt(source, i) === 0) i++;
  i += breakAt(source, i);

  interface Line {
    readonly start: number;
    readonly end: number;
  }
  const lines: Line[] = [];
  while (i < end) {
    let j = i;
    while (j < end && breakAt(source, j) === 0) j++;
    lines.push({ start: i, end: j });
    i = j + breakAt(source, j);
  }
  // Only spaces indent; a tab after the indentation is content.
  const spacesOnly = (l: Line): boolean => /^ *$/.test(source.slice(l.start, l.end));
  const firstContent = lines.find((l) => !spacesOnly(l));
  if (!firstContent) {
    // Only blank lines: the value is empty, or (keep) one line break per line.
    const offsets = chomping === 'keep' ? lines.map((l) => l.start) : [];
    return { text: '\n'.repeat(offsets.length), offsets, end };
  }
  let indent = 0;
  while (source[firstContent.start + indent] === ' ') indent++;

  let text = '';
  const offsets: number[] = [];
  const emit = (s: string, at: number): void => {
    text += s;
    for (let k = 0; k < s.length; k++) offsets.push(at);
  };
  const contentOf = (l: Line): { from: number; body: string } => {
    const from = Math.min(l.start + indent, l.end);
    return { from, body: source.slice(from, l.end) };
  };
  const isEmptyLine = (l: Line): boolean => l.end - l.start <= indent && spacesOnly(l);

  let contentEnd = end;
  let prevKind: 'normal' | 'more' | undefined;
  let prevEnd = 0;
  let blanks: number[] = [];
  for (const line of lines) {
    if (isEmptyLine(line)) {
      blanks.push(line.start);
      continue;
    }
    const { from, body } = contentOf(line);
    const kind: 'normal' | 'more' = isBlank(body[0]) ? 'more' : 'normal';
    if (prevKind === undefined) {
      for (const at of blanks) emit('\n', at);
    } else if (folded && prevKind === 'normal' && kind === 'normal') {
      if (blanks.length === 0) emit(' ', prevEnd);
      else for (const at of blanks) emit('\n', at);
    } else {
      emit('\n', prevEnd);
      for (const at of blanks) emit('\n', at);
    }
    for (let k = 0; k < body.length; k++) emit(body[k] as string, from + k);
    prevKind = kind;
    prevEnd = line.end;
    contentEnd = line.end;
    blanks = [];
  }
  // Trailing line breaks, by the chomping indicator.
  if (chomping !== 'strip') emit('\n', prevEnd);
  if (chomping === 'keep') for (const at of blanks) emit('\n', at);
  return { text, offsets, end: contentEnd };
}
