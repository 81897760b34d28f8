/**
 * Durations as config and the command line write them: a whole number and a unit (`90s`, `10m`,
 * `6h`, `7d`). One parser for both, so `daemon.backoff.max: 1d` and `report --since 1d` agree.
 * Also how the daemon's logs and health write an instant (`isoTime`).
 */
import { DURATION_PATTERN } from '../../config/operations-schema.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = new RegExp(DURATION_PATTERN);

/** Milliseconds of `10m`, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  const match = /^([0-9]+)(ms|s|m|h|d)$/.exec(text);
  if (!match) return undefined;
  const unit = match[2] as keyof typeof UNIT_MS;
  return Number(match[1]) * UNIT_MS[unit];
}

/** Like `parseDuration`, for values the schema already checked: throws on anything else. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  return ms;
}

/** `90m` -> `1h 30m`; for log lines and health reasons. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.slice(0, 2).join(' ');
}

/** An instant (ms since epoch) as ISO 8601 for logs and health; undefined stays undefined. */
export function isoTime(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
