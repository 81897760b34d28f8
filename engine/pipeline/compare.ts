/**
 * Code-unit order: unlike `localeCompare`, it does not depend on the machine's ICU data or
 * locale, so the same inputs give a byte-identical plan everywhere.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
