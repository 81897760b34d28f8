/**
 * Anchors are identities (issue 17, class 2). An account's anchor says whose it is; a plan that
 * would give it another anchor moves an identity, and a source whose keys changed format (a
 * spreadsheet dropped leading zeros, wrote `1.23E+05`, trimmed or re-cased them) makes people
 * look new and their accounts look like leavers'. This module holds the pure parts:
 *
 * - `anchorForm`: the form two anchors share when they differ only by key format. Match uses it
 *   to tell a reformatted key of the same person (paired, and the anchor write is a `reanchor`
 *   that needs approval) from another person's anchor (never paired by a soft match, P7).
 * - `keyFormatCheck`: the evidence that the key format changed, named as a pattern, and the
 *   creates it taints. Safety blocks every deprovisioning change and those creates with the
 *   finding, whatever their count (P9), until the plan is approved.
 */
import type { Change, UpdateUserChange } from '../model/plan.js';
import type { AttributeValue } from '../model/tenant.js';
import { compareText } from './compare.js';

/**
 * A number written in exponent notation as spreadsheets rewrite long numeric keys (`1.23E+05`):
 * the exponent's sign is required, so an identifier such as `12E3456` is not one.
 */
const EXPONENT = /^[+-]?\d+(?:[.,]\d+)?e[+-]\d+$/i;

export function looksLikeExponent(key: string): boolean {
  return EXPONENT.test(key.trim());
}

/**
 * The key-format-blind form of an anchor: no whitespace, lower case, a number without leading
 * zeros, exponent notation expanded (`1.23E+05` -> `123000`). Equal forms with unequal anchors
 * are one key in two formats.
 */
export function anchorForm(anchor: string): string {
  const s = anchor.replace(/\s+/gu, '').toLowerCase();
  if (EXPONENT.test(s)) {
    const n = Number(s.replace(',', '.'));
    if (Number.isFinite(n) && Number.isInteger(n)) return String(n);
  }
  if (/^\d+$/.test(s)) return s.replace(/^0+(?=\d)/, '');
  return s;
}

export type KeyFormatPattern =
  | 'leading zeros lost'
  | 'leading zeros added'
  | 'exponent notation'
  | 'whitespace'
  | 'case'
  | 'format';

/** How `before` became `after`, when they are one key in two formats; undefined otherwise. */
export function keyFormatPattern(before: string, after: string): KeyFormatPattern | undefined {
  if (before === after || anchorForm(before) !== anchorForm(after)) return undefined;
  if (looksLikeExponent(after) && !looksLikeExponent(before)) return 'exponent notation';
  const b = before.trim();
  const a = after.trim();
  if (/^\d+$/.test(b) && /^\d+$/.test(a) && a !== b) {
    return a.length < b.length ? 'leading zeros lost' : 'leading zeros added';
  }
  if (b.replace(/\s+/gu, '') === a.replace(/\s+/gu, '')) return 'whitespace';
  if (b.toLowerCase() === a.toLowerCase()) return 'case';
  return 'format';
}

const PATTERN_WORDS: Record<KeyFormatPattern, string> = {
  'leading zeros lost': 'source keys lost their leading zeros',
  'leading zeros added': 'source keys gained leading zeros',
  'exponent notation': 'source keys were rewritten in exponent notation',
  whitespace: 'source keys changed whitespace',
  case: 'source keys changed case',
  format: 'source keys changed format',
};

const ONE_KEY_WORDS: Record<KeyFormatPattern, string> = {
  'leading zeros lost': 'the key lost its leading zeros',
  'leading zeros added': 'the key gained leading zeros',
  'exponent notation': 'the key was rewritten in exponent notation',
  whitespace: 'the key changed whitespace',
  case: 'the key changed case',
  format: 'the key changed format',
};

/** A key for people: bare when it is plain text, quoted when whitespace matters. */
function showKey(key: string): string {
  return /^[\p{L}\p{N}._@+-]+$/u.test(key) ? key : JSON.stringify(key);
}

/** `before -> after` of one anchor with the words for its pattern, for one change's message. */
export function describeAnchorMove(before: string, after: string): string {
  const pattern = keyFormatPattern(before, after);
  return pattern === undefined
    ? `${JSON.stringify(before)} -> ${JSON.stringify(after)}`
    : `${JSON.stringify(before)} -> ${JSON.stringify(after)}, ${ONE_KEY_WORDS[pattern]}`;
}

/** The anchor write of an update or adoption that moves an existing anchor, if any. */
export function anchorMove(
  change: Change,
  anchorAttribute: string,
): { readonly before: string; readonly after: string } | undefined {
  if (change.kind !== 'updateUser' && change.kind !== 'adoptUser') return undefined;
  return movedAnchor(change.set, anchorAttribute);
}

/**
 * The anchor entry of an attribute change list when it rewrites an anchor that is set: what a
 * `reanchor` is. Writing an anchor where there was none (a first adoption) moves nothing.
 */
export function movedAnchor(
  set: UpdateUserChange['set'],
  anchorAttribute: string,
): { readonly before: string; readonly after: string } | undefined {
  const entry = set.find((c) => c.attribute === anchorAttribute);
  if (!entry) return undefined;
  const before = textOf(entry.before);
  if (before === undefined || before.trim() === '') return undefined;
  return { before, after: textOf(entry.after) ?? '' };
}

function textOf(value: AttributeValue): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** A managed account as the key-format check sees it. */
export interface AnchoredAccount {
  readonly id: string;
  readonly anchor: string;
}

export interface KeyFormatInput {
  readonly anchorAttribute: string;
  /** Managed accounts with an anchor. */
  readonly accounts: readonly AnchoredAccount[];
  /** Anchors of every person the sources know this run (in scope, out of scope, held). */
  readonly personAnchors: readonly string[];
  /** Keys of the primary source's records, as read. */
  readonly sourceKeys: readonly string[];
  /** The plan's changes (reanchors, creates). */
  readonly changes: readonly Change[];
}

export interface KeyFormatFinding {
  /** The patterns with examples: `source keys lost their leading zeros: 00113 -> 113, ...`. */
  readonly finding: string;
  /** Creates of people whose key is a reformatted key of a managed account, or in exponent notation. */
  readonly creates: ReadonlySet<string>;
}

const EXAMPLES = 3;

/**
 * Evidence that the source's key format changed, whatever its count:
 * - a reanchor whose before and after are one key in two formats;
 * - a managed account whose anchor no person has, while a person has the same key in another
 *   format (the account would be disabled and the person created);
 * - a source key or anchor in exponent notation (several keys may have collapsed into one, and
 *   their people are held as duplicates while their accounts look like leavers').
 */
export function keyFormatCheck(input: KeyFormatInput): KeyFormatFinding | undefined {
  const moves = new Map<KeyFormatPattern, string[]>();
  const note = (pattern: KeyFormatPattern, text: string): void => {
    const list = moves.get(pattern);
    if (list) list.push(text);
    else moves.set(pattern, [text]);
  };
  for (const change of input.changes) {
    const move = anchorMove(change, input.anchorAttribute);
    const pattern = move && keyFormatPattern(move.before, move.after);
    if (move && pattern) note(pattern, `${showKey(move.before)} -> ${showKey(move.after)}`);
  }

  const exactPersons = new Set(input.personAnchors);
  const exactAccounts = new Set(input.accounts.map((a) => a.anchor));
  const personsByForm = new Map<string, string[]>();
  for (const anchor of exactPersons) {
    if (exactAccounts.has(anchor)) continue; // that person has their own account
    const form = anchorForm(anchor);
    const list = personsByForm.get(form);
    if (list) list.push(anchor);
    else personsByForm.set(form, [anchor]);
  }
  const reformatted = new Set<string>();
  for (const account of input.accounts) {
    if (exactPersons.has(account.anchor)) continue;
    for (const anchor of personsByForm.get(anchorForm(account.anchor)) ?? []) {
      const pattern = keyFormatPattern(account.anchor, anchor);
      if (!pattern) continue;
      reformatted.add(anchor);
      note(pattern, `${showKey(account.anchor)} -> ${showKey(anchor)}`);
    }
  }

  const exponent = new Map<string, number>();
  for (const key of input.sourceKeys) {
    if (looksLikeExponent(key)) exponent.set(key.trim(), (exponent.get(key.trim()) ?? 0) + 1);
  }
  for (const anchor of exactPersons) {
    if (looksLikeExponent(anchor) && !exponent.has(anchor)) exponent.set(anchor, 1);
  }
  const parts: string[] = [];
  for (const [pattern, examples] of moves) {
    const unique = [...new Set(examples)].sort(compareText);
    parts.push(
      `${PATTERN_WORDS[pattern]}: ${unique.slice(0, EXAMPLES).join(', ')}` +
        (unique.length > EXAMPLES ? ` and ${unique.length - EXAMPLES} more` : ''),
    );
  }
  if (exponent.size > 0 && !moves.has('exponent notation')) {
    const keys = [...exponent.keys()];
    parts.push(
      `${PATTERN_WORDS['exponent notation']}: ${keys
        .slice(0, EXAMPLES)
        .map((k) => `${k}${exponent.get(k)! > 1 ? ` (${exponent.get(k)} times)` : ''}`)
        .join(', ')}${keys.length > EXAMPLES ? ` and ${keys.length - EXAMPLES} more` : ''}`,
    );
  }
  if (parts.length === 0) return undefined;

  const creates = new Set<string>();
  for (const change of input.changes) {
    if (change.kind !== 'createUser') continue;
    const anchor = textOf(change.attributes[input.anchorAttribute] ?? null);
    if (anchor !== undefined && (reformatted.has(anchor) || looksLikeExponent(anchor)))
      creates.add(change.id);
  }
  return { finding: parts.join('; '), creates };
}
