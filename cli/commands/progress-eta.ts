/**
 * The time an apply has left, from the rate measured over the whole run so far (changes done per
 * elapsed millisecond). cli-progress's own ETA averages the last few updates, and writes come in
 * bursts of up to 20 (one `$batch`), so it swung between 0 s and twice the real time; its
 * formatter also printed `3m60s`. One figure for the bar and the plain progress line.
 */
import { formatDuration } from '../daemon/duration.js';

/** `2m 30s`, or `-` before the first change is done. */
export function remainingText(done: number, total: number, elapsedMs: number): string {
  if (done <= 0 || elapsedMs <= 0) return '-';
  if (done >= total) return '0s';
  const left = ((total - done) * elapsedMs) / done;
  return left < 1000 ? '<1s' : formatDuration(left);
}
