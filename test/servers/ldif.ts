/**
 * LDIF (RFC 2849) text from plain objects, for seeding test directories with slapadd / ldbadd.
 * Values that are not "safe strings" (leading space, colon or `<`, trailing space, non-ASCII,
 * control characters) and Buffers are written base64 (`attr:: ...`).
 */
export type LdifValue = string | number | Buffer;

export interface LdifEntry {
  readonly dn: string;
  readonly [attribute: string]: LdifValue | readonly LdifValue[];
}

/** RFC 2849 SAFE-STRING: ASCII without NUL, CR or LF, not starting with space, `:` or `<`, not ending with a space. */
function isSafe(text: string): boolean {
  if (/^[ :<]/.test(text) || text.endsWith(' ')) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || c === 10 || c === 13 || c > 127) return false;
  }
  return true;
}

function line(attribute: string, value: LdifValue): string {
  if (Buffer.isBuffer(value)) return `${attribute}:: ${value.toString('base64')}`;
  const text = String(value);
  return isSafe(text)
    ? `${attribute}: ${text}`
    : `${attribute}:: ${Buffer.from(text, 'utf8').toString('base64')}`;
}

export function toLdif(entries: Iterable<LdifEntry>): string {
  const blocks: string[] = [];
  for (const entry of entries) {
    const lines = [line('dn', entry.dn)];
    for (const [attribute, value] of Object.entries(entry)) {
      if (attribute === 'dn') continue;
      const values = Array.isArray(value) ? (value as readonly LdifValue[]) : [value as LdifValue];
      for (const v of values) lines.push(line(attribute, v));
    }
    blocks.push(lines.join('\n'));
  }
  return blocks.join('\n\n') + '\n';
}
