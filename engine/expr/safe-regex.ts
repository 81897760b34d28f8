/**
 * The regex engine JSONata runs mapping regexes on (M3). A native RegExp backtracks, and while it
 * does the event loop is blocked: JSONata's timeout is checked between evaluation steps, so
 * `$match(x, /(a+)+$/)` on a hostile value would hang the process. `SafeRegExp` runs the same
 * pattern on RE2JS (a pure-JS port of RE2: linear time in the input, no native build), and
 * offers what JSONata uses of a RegExp: `new RegexEngine(regexLiteral)`, `lastIndex` and `exec`
 * with the `g` flag's semantics.
 *
 * JSONata's parser has already checked each literal as a JavaScript regex (no `u` flag; flags
 * `i` and `m` only). `translateRegex` turns that JavaScript syntax into RE2 syntax with the
 * JavaScript meaning: `.` and `\s` match what they match in JavaScript, identity escapes (`\a`,
 * `\p`, `\z`) stay literal letters, `\uXXXX`, `\cX`, legacy octal and `[]` / `[^]` are rewritten.
 * What RE2 cannot express, backreferences and lookaround, is an `UnsupportedRegexError`, which
 * `compileExpression` reports when config loads. Remaining differences, all outside ordinary
 * mapping patterns: with `i`, RE2 folds case by Unicode (`k` also matches KELVIN SIGN, `s` LONG S);
 * with `m`, `^` and `$` see only `\n` as a line break (not `\r`, U+2028, U+2029); RE2 matches
 * characters, not UTF-16 halves, so `.` takes a whole emoji; and a capture inside a repeated
 * group keeps its last match where JavaScript resets it on each repetition.
 */
import { RE2JS } from 're2js';
import type { Matcher } from 're2js';

export class UnsupportedRegexError extends Error {
  constructor(
    /** The regex as written, e.g. `/(a)\1/i`. */
    readonly regex: string,
    readonly reason: string,
  ) {
    super(
      `regular expression ${regex} cannot run on the linear-time regex engine (RE2): ${reason}`,
    );
    this.name = 'UnsupportedRegexError';
  }
}

// JavaScript's \s: WhiteSpace and LineTerminator (tab, LF, VT, FF, CR, space, NBSP, the Zs
// spaces, LS, PS, BOM), and its complement, as items of an RE2 character class.
const SPACE =
  '\\x{9}-\\x{d}\\x{20}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}';
const NON_SPACE =
  '\\x{0}-\\x{8}\\x{e}-\\x{1f}\\x{21}-\\x{9f}\\x{a1}-\\x{167f}\\x{1681}-\\x{1fff}\\x{200b}-\\x{2027}' +
  '\\x{202a}-\\x{202e}\\x{2030}-\\x{205e}\\x{2060}-\\x{2fff}\\x{3001}-\\x{fefe}\\x{ff00}-\\x{10ffff}';
// JavaScript's `.` without the `s` flag: anything but a line terminator.
const DOT = '[^\\n\\r\\x{2028}\\x{2029}]';
const NOTHING = '[^\\x{0}-\\x{10ffff}]';
const ANYTHING = '[\\x{0}-\\x{10ffff}]';
const CLASS_ESCAPES = 'dDwWsS';

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isOctal = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '7';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);
const isAsciiLetter = (c: string | undefined): boolean => c !== undefined && /^[a-zA-Z]$/.test(c);
const isAsciiAlnum = (c: string | undefined): boolean => c !== undefined && /^[a-zA-Z0-9]$/.test(c);
const hex = (code: number): string => `\\x{${code.toString(16)}}`;

interface Escape {
  readonly re2: string;
  /** Characters of the JavaScript source it takes, backslash included. */
  readonly length: number;
  /** `\d`, `\w`, `\s` and their negations: not a character, so not a range endpoint. */
  readonly classEscape?: boolean;
}

/**
 * RE2 syntax for a JavaScript regex (its `source` and `flags`; only `i`, `m` and `g` are
 * accepted), meaning what JavaScript means by it. Throws `UnsupportedRegexError`.
 */
export function translateRegex(source: string, flags = ''): string {
  const literal = `/${source}/${flags.replace('g', '')}`;
  const unsupported = (reason: string): UnsupportedRegexError =>
    new UnsupportedRegexError(literal, reason);
  for (const flag of flags)
    if (!'gim'.includes(flag)) throw unsupported(`the \`${flag}\` flag is not supported`);

  const { groups, named } = captureGroups(source);

  const octal = (at: number): Escape => {
    // Annex B LegacyOctalEscapeSequence: up to three octal digits, at most \377.
    let digits = source[at + 1] ?? '';
    if (isOctal(source[at + 2])) {
      digits += source[at + 2];
      if (digits <= '37' && isOctal(source[at + 3])) digits += source[at + 3];
    }
    return { re2: hex(parseInt(digits, 8)), length: 1 + digits.length };
  };

  const escape = (at: number, inClass: boolean): Escape => {
    const c = source[at + 1];
    if (c === undefined) throw unsupported('it ends in a lone backslash');
    switch (c) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return { re2: `\\${c}`, length: 2, classEscape: true };
      case 's':
        return { re2: inClass ? SPACE : `[${SPACE}]`, length: 2, classEscape: true };
      case 'S':
        return { re2: inClass ? NON_SPACE : `[^${SPACE}]`, length: 2, classEscape: true };
      case 't':
      case 'n':
      case 'r':
      case 'f':
        return { re2: `\\${c}`, length: 2 };
      case 'v':
        return { re2: hex(0x0b), length: 2 };
      case 'b':
        return inClass ? { re2: hex(0x08), length: 2 } : { re2: '\\b', length: 2 };
      case 'B':
        return inClass ? { re2: 'B', length: 2 } : { re2: '\\B', length: 2 };
      case 'x':
        return isHex(source[at + 2]) && isHex(source[at + 3])
          ? { re2: hex(parseInt(source.slice(at + 2, at + 4), 16)), length: 4 }
          : { re2: 'x', length: 2 };
      case 'u': {
        const unit = (from: number): number | undefined => {
          const digits = source.slice(from, from + 4);
          return digits.length === 4 && [...digits].every(isHex) ? parseInt(digits, 16) : undefined;
        };
        const high = unit(at + 2);
        if (high === undefined) return { re2: 'u', length: 2 };
        if (high >= 0xd800 && high <= 0xdbff && source.startsWith('\\u', at + 6)) {
          const low = unit(at + 8);
          if (low !== undefined && low >= 0xdc00 && low <= 0xdfff)
            return { re2: hex((high - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000), length: 12 };
        }
        if (high >= 0xd800 && high <= 0xdfff)
          throw unsupported(
            `a lone surrogate (\\u${source.slice(at + 2, at + 6)}) is not supported`,
          );
        return { re2: hex(high), length: 6 };
      }
      case 'c': {
        const letter = source[at + 2];
        if (isAsciiLetter(letter) || (inClass && (isDigit(letter) || letter === '_')))
          return { re2: hex(letter!.charCodeAt(0) % 32), length: 3 };
        // Annex B: `\c` not followed by a control letter is a literal backslash.
        return { re2: '\\\\', length: 1 };
      }
      case 'k':
        if (named && !inClass) throw unsupported(`backreferences (\\k<name>) are not supported`);
        return { re2: 'k', length: 2 };
      case '0':
        return isDigit(source[at + 2]) ? octal(at) : { re2: hex(0), length: 2 };
      default:
        break;
    }
    if (isDigit(c)) {
      let digits = c;
      while (isDigit(source[at + 1 + digits.length])) digits += source[at + 1 + digits.length];
      if (!inClass && Number(digits) <= groups)
        throw unsupported(`backreferences (\\${digits}) are not supported`);
      // Not a backreference: legacy octal, or `\8` / `\9` standing for the digit itself.
      return isOctal(c) ? octal(at) : { re2: c, length: 2 };
    }
    const cp = source.codePointAt(at + 1)!;
    const char = String.fromCodePoint(cp);
    // Identity escapes: `\a`, `\p`, `\z` are the letters themselves in JavaScript (no `u` flag).
    if (isAsciiAlnum(char)) return { re2: char, length: 2 };
    if (cp < 0x80) return { re2: `\\${char}`, length: 2 };
    return { re2: hex(cp), length: 1 + char.length };
  };

  let out = '';
  let inClass = false;
  let afterClassEscape = false;
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') {
      const e = escape(i, inClass);
      out += e.re2;
      i += e.length;
      afterClassEscape = inClass && e.classEscape === true;
      continue;
    }
    if (inClass) {
      if (c === ']') {
        inClass = false;
        out += c;
      } else if (c === '[') {
        // RE2 reads `[:alpha:]` inside a class; JavaScript reads a `[`.
        out += '\\[';
      } else if (c === '-') {
        // Annex B: a `-` next to `\d`, `\w` or `\s` is a literal, not a range.
        const nextIsClassEscape =
          source[i + 1] === '\\' && CLASS_ESCAPES.includes(source[i + 2] ?? '');
        out += afterClassEscape || nextIsClassEscape ? '\\-' : '-';
      } else {
        out += c;
      }
      afterClassEscape = false;
      i += 1;
      continue;
    }
    if (c === '.') {
      out += DOT;
      i += 1;
    } else if (c === '[') {
      if (source.startsWith('[]', i)) {
        out += NOTHING;
        i += 2;
      } else if (source.startsWith('[^]', i)) {
        out += ANYTHING;
        i += 3;
      } else {
        inClass = true;
        out += source[i + 1] === '^' ? '[^' : '[';
        i += source[i + 1] === '^' ? 2 : 1;
      }
    } else if (c === '(' && source[i + 1] === '?') {
      if (source.startsWith('(?=', i) || source.startsWith('(?!', i))
        throw unsupported('lookahead ((?=...), (?!...)) is not supported');
      if (source.startsWith('(?<=', i) || source.startsWith('(?<!', i))
        throw unsupported('lookbehind ((?<=...), (?<!...)) is not supported');
      if (source.startsWith('(?<', i)) {
        out += '(?P<';
        i += 3;
      } else {
        out += '(?';
        i += 2;
      }
    } else {
      out += c;
      i += 1;
    }
  }
  const modes = (flags.includes('i') ? 'i' : '') + (flags.includes('m') ? 'm' : '');
  return modes ? `(?${modes})${out}` : out;
}

/** Capturing groups in a JavaScript regex source, and whether any is named. */
function captureGroups(source: string): { groups: number; named: boolean } {
  let groups = 0;
  let named = false;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i += 1;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') {
      if (source[i + 1] !== '?') groups += 1;
      else if (source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') {
        groups += 1;
        named = true;
      }
    }
  }
  return { groups, named };
}

// JSONata's parser makes one RegExp per literal and hands that same object to the engine on every
// evaluation, so compiled patterns are kept per RegExp: compiled once, dropped with the expression.
const compiledByRegExp = new WeakMap<RegExp, RE2JS>();

/** The RE2 program for a JavaScript regex. Throws `UnsupportedRegexError`. */
export function compileSafeRegex(regex: RegExp): RE2JS {
  const cached = compiledByRegExp.get(regex);
  if (cached) return cached;
  const translated = translateRegex(regex.source, regex.flags);
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(translated);
  } catch (err) {
    throw new UnsupportedRegexError(
      `/${regex.source}/${regex.flags.replace('g', '')}`,
      err instanceof Error ? err.message : String(err),
    );
  }
  compiledByRegExp.set(regex, compiled);
  return compiled;
}

/**
 * A RegExp look-alike on RE2JS, for `jsonata(text, { RegexEngine })`. Constructed from a RegExp
 * (as JSONata does) or from a pattern and flags; `exec` follows `RegExp.prototype.exec`,
 * including `lastIndex` under the `g` flag, which JSONata uses to walk successive matches.
 */
export class SafeRegExp {
  lastIndex = 0;
  readonly source: string;
  readonly flags: string;
  readonly global: boolean;
  readonly ignoreCase: boolean;
  readonly multiline: boolean;
  readonly #program: RE2JS;
  readonly #groupNames: readonly (readonly [string, number])[];
  #input: string | undefined;
  #matcher: Matcher | undefined;

  constructor(pattern: RegExp | string, flags?: string) {
    // The native RegExp only checks syntax and normalises `source`; it never runs.
    const regex =
      pattern instanceof RegExp && flags === undefined ? pattern : new RegExp(pattern, flags);
    this.source = regex.source;
    this.flags = regex.flags;
    this.global = regex.global;
    this.ignoreCase = regex.ignoreCase;
    this.multiline = regex.multiline;
    this.#program = compileSafeRegex(regex);
    this.#groupNames = Object.entries(this.#program.namedGroups());
  }

  exec(input: string): RegExpExecArray | null {
    const text = String(input);
    const from = this.global ? Math.max(0, Math.trunc(Number(this.lastIndex)) || 0) : 0;
    if (from > text.length) {
      this.lastIndex = 0;
      return null;
    }
    if (this.#input !== text || !this.#matcher) {
      this.#input = text;
      this.#matcher = this.#program.matcher(text);
    }
    const m = this.#matcher;
    if (!m.find(from)) {
      if (this.global) this.lastIndex = 0;
      return null;
    }
    // Like RegExp: a group that took no part in the match is undefined (RE2JS says null).
    const values: (string | undefined)[] = [];
    for (let g = 0; g <= m.groupCount(); g++) values.push(m.group(g) ?? undefined);
    let groups: Record<string, string | undefined> | undefined;
    if (this.#groupNames.length > 0) {
      groups = Object.create(null) as Record<string, string | undefined>;
      for (const [name, index] of this.#groupNames) groups[name] = values[index];
    }
    if (this.global) this.lastIndex = m.end();
    return Object.assign(values, { index: m.start(), input: text, groups }) as RegExpExecArray;
  }

  test(input: string): boolean {
    return this.exec(input) !== null;
  }

  toString(): string {
    return `/${this.source}/${this.flags}`;
  }
}

/** `SafeRegExp` typed as JSONata's `RegexEngine` option expects. */
export const SafeRegexEngine = SafeRegExp as unknown as RegExpConstructor;
