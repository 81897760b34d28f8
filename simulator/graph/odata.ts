/**
 * The OData URL conventions Graph uses, parsed once so handlers see plain data: resource paths
 * (`users/{key}`, `users('{key}')`, later `groups(uniqueName='x')` and `$ref`) and system query
 * options. Unknown or unimplemented options fail loudly: a silently ignored `$filter` would
 * hand a client every user, which is worse than an error.
 */
import { graphErrors } from '../errors.js';

export interface PathSegment {
  /** The segment's name, percent-decoded: `users`, `$ref`, or a key-as-segment value. */
  readonly name: string;
  /** The segment as it appeared in the URL, for Graph's messages that echo it. */
  readonly raw: string;
  /** `name(key)` forms: the single unnamed key, or named keys such as `uniqueName='x'`. */
  readonly keys?: Readonly<Record<string, string>>;
}

const UNNAMED_KEY = '';

/** Splits the path under the version segment; a trailing slash is ignored. */
export function parseODataPath(path: string): PathSegment[] {
  return path
    .split('/')
    .filter((raw) => raw !== '')
    .map((raw) => {
      const decoded = decodeSegment(raw);
      const open = decoded.indexOf('(');
      if (open <= 0 || !decoded.endsWith(')')) return { name: decoded, raw };
      return {
        name: decoded.slice(0, open),
        raw,
        keys: parseKeys(decoded.slice(open + 1, -1), raw),
      };
    });
}

/** The key of `users('k')` / `users(k)`, or of `users(id='k')` when `name` is given. */
export function segmentKey(segment: PathSegment, name?: string): string | undefined {
  if (segment.keys === undefined) return undefined;
  return segment.keys[UNNAMED_KEY] ?? (name === undefined ? undefined : segment.keys[name]);
}

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw graphErrors.segmentNotFound(raw);
  }
}

// key-value list: k='v',k2='v2' | 'v' | v. Quotes inside a value are doubled ('').
function parseKeys(text: string, raw: string): Record<string, string> {
  const keys: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    let name = UNNAMED_KEY;
    const eq = /^([A-Za-z_][\w]*)\s*=\s*/.exec(text.slice(i));
    if (eq !== null) {
      name = eq[1] ?? UNNAMED_KEY;
      i += eq[0].length;
    }
    let value = '';
    if (text[i] === "'") {
      i += 1;
      for (;;) {
        if (i >= text.length) throw graphErrors.segmentNotFound(raw);
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        value += text[i];
        i += 1;
      }
    } else {
      const end = text.indexOf(',', i);
      value = text.slice(i, end === -1 ? text.length : end).trim();
      i = end === -1 ? text.length : end;
    }
    if (name in keys) throw graphErrors.segmentNotFound(raw);
    keys[name] = value;
    while (text[i] === ' ') i += 1;
    if (i < text.length) {
      if (text[i] !== ',') throw graphErrors.segmentNotFound(raw);
      i += 1;
    }
  }
  return keys;
}

const KNOWN_OPTIONS = new Set([
  '$select',
  '$top',
  '$skiptoken',
  '$filter',
  '$count',
  '$expand',
  '$deltatoken',
  '$orderby',
  '$search',
  '$skip',
  '$format',
  '$levels',
  '$apply',
  '$compute',
]);

export type SystemQueryOption =
  | '$select'
  | '$top'
  | '$skiptoken'
  | '$filter'
  | '$count'
  | '$expand'
  | '$deltatoken'
  | '$orderby'
  | '$search';

/**
 * The system query options of a request (`$`-prefixed; Graph v1.0 requires the prefix and
 * ignores other parameters). Each may appear once. An option Graph knows but this route does
 * not implement (`allowed`) is a 501, so it is never silently ignored.
 */
export function parseSystemQuery(
  params: URLSearchParams,
  allowed: readonly SystemQueryOption[] = ['$select', '$top', '$skiptoken'],
): Partial<Record<SystemQueryOption, string>> {
  const out: Partial<Record<SystemQueryOption, string>> = {};
  const seen = new Set<string>();
  for (const [rawName, value] of params) {
    if (!rawName.startsWith('$')) continue;
    const name = rawName.toLowerCase();
    if (seen.has(name)) {
      throw graphErrors.duplicateQueryOption(rawName);
    }
    seen.add(name);
    if ((allowed as readonly string[]).includes(name)) {
      out[name as SystemQueryOption] = value;
    } else if (KNOWN_OPTIONS.has(name)) {
      throw graphErrors.notImplemented(`the ${name} query option here`);
    } else {
      throw graphErrors.unsupportedQueryOption(rawName);
    }
  }
  return out;
}
