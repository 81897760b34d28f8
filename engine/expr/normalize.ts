/**
 * Normalisation shared by mapping and comparison, in one module so that "equal" means the same
 * thing everywhere (style practice 2).
 */

// eslint-disable-next-line no-control-regex -- ASCII is the range from NUL
const ASCII = /^[\x00-\x7f]*$/;

/** Removes diacritics (Zoë Ångström -> Zoe Angstrom) and folds ligatures Graph rejects in names. */
export function foldDiacritics(value: string): string {
  // ASCII has no decompositions and none of the letters below: most names, and every UPN.
  if (ASCII.test(value)) return value;
  return value
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/ß/g, 'ss')
    .replace(/æ/g, 'ae')
    .replace(/Æ/g, 'AE')
    .replace(/ø/g, 'o')
    .replace(/Ø/g, 'O')
    .replace(/œ/g, 'oe')
    .replace(/Œ/g, 'OE')
    .replace(/ł/g, 'l')
    .replace(/Ł/g, 'L')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D');
}

/** Lower-case letters, digits and `-`: the part of a uniqueName a name or value gives. */
export function groupSlug(text: string): string {
  const slug = foldDiacritics(text)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
  return slug === '' ? 'group' : slug;
}

/**
 * A mailNickname Graph accepts: ASCII, at most 64 characters, none of `@ ( ) \ [ ] " ; : < > ,`
 * or whitespace, and not starting or ending with a dot.
 */
export function toMailNickname(value: string): string {
  const cleaned = foldDiacritics(value)
    .replace(/[^\x21-\x7e]/g, '')
    .replace(/[@()\\[\]";:<>,]/g, '');
  return trimDots(trimDots(cleaned).slice(0, 64));
}

/**
 * `value` without leading or trailing dots. A loop: `/\.+$/` backtracks from every dot of a long
 * inner run, quadratic in its length (50,000 dots block the event loop for seconds; M3).
 */
function trimDots(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && value[start] === '.') start += 1;
  while (end > start && value[end - 1] === '.') end -= 1;
  return value.slice(start, end);
}

/** The default mailNickname for an account: its UPN's local part, cleaned. */
export function mailNicknameFromUpn(userPrincipalName: string): string {
  const at = userPrincipalName.lastIndexOf('@');
  return toMailNickname(at >= 0 ? userPrincipalName.slice(0, at) : userPrincipalName);
}

/** Attributes Graph compares without regard to case. */
const CASE_INSENSITIVE = new Set(['userPrincipalName', 'mail']);

export function isCaseInsensitiveAttribute(attribute: string): boolean {
  return CASE_INSENSITIVE.has(attribute);
}

/** Lookup key for case-insensitive identifiers (UPN, mail). */
export function identifierKey(value: string): string {
  return value.trim().toLowerCase();
}
