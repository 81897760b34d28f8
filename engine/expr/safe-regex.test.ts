/**
 * M3: mapping regexes run on RE2 (linear time), not on the backtracking RegExp. Ordinary
 * patterns must give exactly what the native RegExp gives (differential tests against plain
 * `jsonata` and against `RegExp` itself); a catastrophic pattern on a hostile value must finish
 * (a backtracking engine would hang this test worker, so finishing is the proof); and what RE2
 * cannot express must be a config error when the expression compiles.
 */
import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { compileFastPath } from './fast-path.js';
import {
  DEFAULT_EXPRESSION_LIMITS,
  UNSUPPORTED_REGEX_CODE,
  compileExpression,
  evaluateExpression,
} from './jsonata.js';
import { SafeRegExp, UnsupportedRegexError, translateRegex } from './safe-regex.js';

const AT = { file: 'entrasync.yaml', line: 3, column: 5 };

function compile(text: string) {
  const result = compileExpression(text, 'users.attributes.jobTitle', AT);
  if (!result.ok) throw new Error(`${result.error.code} ${result.error.message}`);
  return result.expression;
}

/** A deep copy of plain data, without JSONata's per-run sequence helpers (`push`). */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return Array.from(value, plain);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
}

/** What an evaluation gives: its value, or its JSONata error code. */
async function outcome(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return { value: plain(await run()) };
  } catch (err) {
    return { error: (err as { code?: string }).code ?? String(err) };
  }
}

/** Every match of `regex` in `text` with the `g` flag: index and captured groups. */
function allMatches(
  regex: { exec(s: string): RegExpExecArray | null; lastIndex: number },
  text: string,
) {
  const found: unknown[] = [];
  regex.lastIndex = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    found.push([m.index, ...m]);
    if (m[0] === '') regex.lastIndex += 1;
  }
  return found;
}

describe('M3: regexes in expressions give what the native RegExp gave', () => {
  const record = {
    mails: 'ada@contoso.com, Alan@FABRIKAM.com; grace@contoso.com',
    name: 'Ada \u00a0 Lovelace\t\n',
    lines: 'one\ntwo\n\nThree\nthree',
    phone: 'call 555-0100 or 555-0199',
    date: 'born 1815-12-10',
    title: 'Senior  Colour | Lead | Designer',
    crlf: 'a\rb\nc',
    accents: 'Émile Zoë ÉCOLE',
    empty: '',
  };
  it.each([
    // $match, with groups, optional groups, flags i and m
    ['$match(mails, /(\\w+)@(\\w+)\\.com/)'],
    ['$match(mails, /(\\w+)@(contoso|fabrikam)\\.com/i)'],
    ['$match(mails, /(x)?(\\w+)@/)'],
    ['$match(lines, /^\\w+$/m)'],
    ['$match(lines, /^t\\w*/im)'],
    ['$match(lines, /^\\w+$/)'],
    ['$match(phone, /\\d{3}-\\d{4}/)'],
    ['$match(phone, /\\d{3}-\\d{4}/, 1)'],
    ['$match(date, /(?<year>\\d{4})-(?<month>\\d{2})/)'],
    ['$match(title, /colou?r/i)'],
    ['$match(crlf, /./)'],
    ['$match(accents, /é\\w*/i)'],
    ['$match(empty, /a/)'],
    // $contains
    ['$contains(mails, /FABRIKAM/)'],
    ['$contains(mails, /fabrikam/)'],
    ['$contains(mails, /fabrikam/i)'],
    ['$contains(lines, /^three$/m)'],
    ['$contains(lines, /^three$/)'],
    ['$contains(name, /^\\S+\\s+\\S+\\s*$/)'],
    // $replace, with $n references, a limit, flags
    ['$replace(name, /\\s+/, " ")'],
    ['$replace(mails, /(\\w+)@(\\w+)/, "$2\\\\$1")'],
    ['$replace(title, /[aeiou]/i, "", 3)'],
    ['$replace(lines, /^(\\w)/m, "[$1]")'],
    ['$replace(accents, /é/i, "e")'],
    ['$replace(date, /\\.+$/, "")'],
    ['$replace(crlf, /\\r?\\n|\\r/, "|")'],
    ['$replace(mails, /x*/, "-")'],
    // $split, with a limit
    ['$split(mails, /[,;]\\s*/)'],
    ['$split(lines, /\\r?\\n/)'],
    ['$split(title, /\\s*\\|\\s*/, 2)'],
    ['$split(title, /\\s+/)'],
    ['$split(name, /\\s/)'],
  ])('M3: %s', async (text) => {
    // The same guardrails as compileExpression, and the native RegExp.
    const {
      timeoutMs: timeout,
      stackDepth: stack,
      sequenceLength: sequence,
    } = DEFAULT_EXPRESSION_LIMITS;
    const native = await outcome(() =>
      jsonata(text, { timeout, stack, sequence }).evaluate(record),
    );
    const safe = await outcome(() => compile(text).evaluate(record, {}));
    expect(safe).toEqual(native);
  });

  it('M3: the fast path never evaluates a regex itself: JSONata (and so RE2) does', () => {
    for (const text of [
      '$match(a, /x/)',
      '$contains(a, /x/i)',
      '$replace(a, /x/, "y")',
      '$split(a, /,/)',
      '$lowercase($replace(a, /x/, "y"))',
      'a & $string($contains(b, /x/m))',
    ])
      expect(compileFastPath(jsonata(text).ast())).toBeUndefined();
  });
});

describe('M3: the RE2 translation keeps JavaScript meanings', () => {
  // Every BMP code point but the surrogates, so `\s`, `.` and the classes are checked whole.
  const bmp = Array.from({ length: 0x10000 }, (_, c) =>
    c >= 0xd800 && c <= 0xdfff ? '' : String.fromCharCode(c),
  ).join('');

  it.each([
    '\\s',
    '\\S',
    '.',
    '[\\s]',
    '[\\S]',
    '[^\\s]',
    '[\\s\\d]',
    '\\w',
    '\\W',
    '\\d',
    '\\D',
    '[^a-z]',
    '[\\s\\S]',
    '[^]',
    '[]',
  ])('M3: /%s/ matches the same characters as RegExp over the whole BMP', (pattern) => {
    expect(allMatches(new SafeRegExp(pattern, 'g'), bmp)).toEqual(
      allMatches(new RegExp(pattern, 'g'), bmp),
    );
  });

  // Latin-1 and Latin Extended-A without U+017F (LONG S), which RE2's Unicode folding matches
  // for `s` under `i` and JavaScript's non-unicode folding does not (documented difference).
  const latin = Array.from({ length: 0x250 }, (_, c) =>
    c === 0x17f ? '' : String.fromCharCode(c),
  ).join('');
  it.each(['[a-z]', '\\w', 'é', 'Ö+', '[à-ÿ]', 'ss', '^\\w', '\\w$'])(
    'M3: /%s/i folds case like RegExp over Latin-1 and Latin Extended-A',
    (pattern) => {
      expect(allMatches(new SafeRegExp(pattern, 'gi'), latin)).toEqual(
        allMatches(new RegExp(pattern, 'gi'), latin),
      );
    },
  );

  const sample =
    Array.from({ length: 0x80 }, (_, c) => String.fromCharCode(c)).join('') +
    ' éÉ\u00a0\u2028 ' +
    'u'.repeat(45) +
    ' p{L} \\c1 a{,2} xx xxx {} ]] [[ // -z 2024-05 ab\naB\nAb\n\nx\u00e9y';
  it.each([
    ['\\x41', ''],
    ['\\xZZ', ''],
    ['\\u00e9', 'i'],
    ['\\u{41}', ''],
    ['\\uD83D\\uDE00', ''],
    ['\\cJ', ''],
    ['[\\cJ]', ''],
    ['\\c1', ''],
    ['[\\c1]', ''],
    ['\\0', ''],
    ['\\101', ''],
    ['\\0101', ''],
    ['\\8', ''],
    ['[\\1]', ''],
    ['(a)\\2', ''],
    ['\\a\\e', ''],
    ['\\p{L}', ''],
    ['\\z', ''],
    ['[\\b]', ''],
    ['\\bab\\b', 'i'],
    ['\\Bb', ''],
    ['[\\d-z]', ''],
    ['[a-\\d]', ''],
    ['[[]', ''],
    ['[\\]]', ''],
    ['[\\^]', ''],
    ['a{,2}', ''],
    ['x{2}', ''],
    ['x{2,}?', ''],
    ['\\{\\}', ''],
    ['{', ''],
    [']', ''],
    ['\\/', ''],
    ['[/]', ''],
    ['\\-z', ''],
    ['(?:ab)+', 'i'],
    ['(?<y>\\d{4})-(?<m>\\d{2})', ''],
    ['(a)|(b)', 'i'],
    ['^ab$', 'm'],
    ['^ab$', 'im'],
    ['b$', ''],
    ['\\t\\v\\f', ''],
    ['\\$|\\^', ''],
    ['x.y', ''],
  ])('M3: /%s/%s matches like RegExp', (pattern, flags) => {
    expect(allMatches(new SafeRegExp(pattern, `g${flags}`), sample)).toEqual(
      allMatches(new RegExp(pattern, `g${flags}`), sample),
    );
  });

  it('M3: the documented differences from RegExp, pinned so that a change is seen', () => {
    const both = (pattern: string, flags: string, text: string) => [
      allMatches(new SafeRegExp(pattern, `g${flags}`), text),
      allMatches(new RegExp(pattern, `g${flags}`), text),
    ];
    // With `i`, RE2 folds by Unicode: KELVIN SIGN is a `k`, LONG S an `s`.
    expect(both('k', 'i', '\u212a')).toEqual([[[0, '\u212a']], []]);
    expect(both('s', 'i', '\u017f')).toEqual([[[0, '\u017f']], []]);
    // With `m`, only `\n` ends a line for `^` and `$`.
    expect(both('^b$', 'm', 'a\r\nb\rc')).toEqual([[], [[3, 'b']]]);
    // RE2 matches characters, not UTF-16 halves.
    expect(both('x.y', '', 'x\uD83D\uDE00y')).toEqual([[[0, 'x\uD83D\uDE00y']], []]);
    // A capture in a repeated group keeps its last match; JavaScript resets it.
    expect(both('(?:(a)|b)+', '', 'ab')).toEqual([[[0, 'ab', 'a']], [[0, 'ab', undefined]]]);
  });

  it('M3: exec follows RegExp for lastIndex, with and without the g flag', () => {
    for (const flags of ['g', '']) {
      const safe = new SafeRegExp('b+', flags);
      const native = new RegExp('b+', flags);
      const trace = (re: { exec(s: string): RegExpExecArray | null; lastIndex: number }) => {
        const steps: unknown[] = [];
        for (const start of [0, 2, 3, 7, 8, 100, -1]) {
          re.lastIndex = start;
          const m = re.exec('abbcbbbd');
          steps.push([m?.index, m?.[0], re.lastIndex]);
        }
        return steps;
      };
      expect(trace(safe)).toEqual(trace(native));
    }
    const named = new SafeRegExp('(?<first>\\w+) (?:(?<middle>\\w+) )?(?<last>\\w+)').exec(
      'Ada Lovelace',
    );
    expect({ ...named?.groups }).toEqual({ first: 'Ada', middle: undefined, last: 'Lovelace' });
    expect([...(named ?? [])]).toEqual(['Ada Lovelace', 'Ada', undefined, 'Lovelace']);
  });
});

describe('M3: a catastrophic regex on a hostile value finishes', () => {
  // On a backtracking engine each of these takes exponential time in the input length: the
  // evaluation would never return and this worker would hang. RE2 is linear.
  const hostile = `${'a'.repeat(50_000)}!`;
  it.each([
    ['$match(x, /(a+)+$/)', hostile, undefined],
    ['$contains(x, /(a+)+$/)', hostile, false],
    ['$contains(x, /(a+)+$/)', 'a'.repeat(50_000), true],
    ['$contains(x, /^(a|aa)+$/i)', hostile, false],
    ['$contains(x, /(a*)*b/)', hostile, false],
    ['$replace(x, /(a+)+$/, "")', hostile, hostile],
    ['$count($split(x, /(a|a?)+b/))', hostile, 1],
    ['$match(x, /(a+)+!/).match = x', hostile, true],
  ])('M3: %s on a 50,001-character value', async (text, x, expected) => {
    expect(await evaluateExpression(compile(text), { x }, {})).toEqual(expected);
  });
});

describe('M3: a regex RE2 cannot run is an error when the expression compiles', () => {
  it.each([
    ['$match(x, /(\\w)\\1/)', '/(\\w)\\1/', 'backreferences (\\1)'],
    ['$replace(x, /(?<c>\\w)\\k<c>/i, "")', '/(?<c>\\w)\\k<c>/i', 'backreferences (\\k<name>)'],
    ['$contains(x, /foo(?=bar)/)', '/foo(?=bar)/', 'lookahead'],
    ['$contains(x, /foo(?!bar)/m)', '/foo(?!bar)/m', 'lookahead'],
    ['$split(x, /(?<=a)b/)', '/(?<=a)b/', 'lookbehind'],
    ['$split(x, /(?<!a)b/)', '/(?<!a)b/', 'lookbehind'],
    ['$match(x, /a{1001}/)', '/a{1001}/', 'invalid repeat count'],
  ])('M3: %s', (text, literal, reason) => {
    const expression = `first & $string(${text})`;
    const result = compileExpression(expression, 'users.attributes.jobTitle', AT);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(UNSUPPORTED_REGEX_CODE);
    expect(result.error.message).toContain(
      `regular expression ${literal} cannot run on the linear-time regex engine (RE2): `,
    );
    expect(result.error.message).toContain(reason);
    // The offset is the literal's opening slash, so the config error points at it.
    expect(expression.slice(result.error.offset)).toMatch(new RegExp(`^${escape(literal)}`));
  });

  it('M3: translateRegex names the pattern and the reason', () => {
    expect(() => translateRegex('(a)\\1', 'g')).toThrow(UnsupportedRegexError);
    expect(() => translateRegex('(a)\\1', 'gi')).toThrow(
      'regular expression /(a)\\1/i cannot run on the linear-time regex engine (RE2): backreferences (\\1) are not supported',
    );
    // Not a backreference: no group 1, so it is the octal escape \1 (U+0001), as in JavaScript.
    expect(translateRegex('a\\1')).toBe('a\\x{1}');
    // A lone UTF-16 surrogate is no character RE2 can match.
    expect(() => translateRegex('\\uD83D')).toThrow('a lone surrogate (\\uD83D)');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
