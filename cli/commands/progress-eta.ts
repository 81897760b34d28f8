/**
 * The time an apply has left, from the rate measured over the whole run so far (changes done per
 * elapsed millisecond). cli-progress's own ETA averages the last few updates, and writes come in
 * bursts of up to 20 (one `$batch`), so it swung between 0 s and twice the real time; its
 * formatter also printed `3m60s`. One figure for the bar and the plain progress line.
 *
 * `createProgress`: the bar (a terminal) or the progress lines (anything else) of `apply`.
 */
import cliProgress from 'cli-progress';
import type { OpResult } from '../../engine/index.js';
import { formatDuration } from '../daemon/duration.js';
import type { Output } from '../output.js';

/** `2m 30s`, or `-` before the first change is done. */
export function remainingText(done: number, total: number, elapsedMs: number): string {
  if (done <= 0 || elapsedMs <= 0) return '-';
  if (done >= total) return '0s';
  const left = ((total - done) * elapsedMs) / done;
  return left < 1000 ? '<1s' : formatDuration(left);
}

export interface Progress {
  update(result: OpResult): void;
  stop(): void;
}

/** A bar with rate and ETA on a terminal; a line every 10 s (and at the end) otherwise. */
export function createProgress(output: Output, total: number): Progress | undefined {
  if (total === 0) return undefined;
  let done = 0;
  let failed = 0;
  const started = Date.now();
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format:
          'Applying [{bar}] {percentage}% | {value}/{total} | {rate}/s | {failed} failed | ETA {remaining}',
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { rate: '0.0', failed: 0, remaining: remainingText(0, total, 0) });
    return {
      update(result) {
        done++;
        if (result.outcome === 'failed') failed++;
        const elapsed = Date.now() - started;
        const seconds = Math.max(0.001, elapsed / 1000);
        bar.update(done, {
          rate: (done / seconds).toFixed(1),
          failed,
          remaining: remainingText(done, total, elapsed),
        });
      },
      stop: () => bar.stop(),
    };
  }
  let lastLine = started;
  const line = (): void => {
    const elapsed = Date.now() - started;
    const rate = done / Math.max(0.001, elapsed / 1000);
    output.err(
      `progress: ${done}/${total} (${Math.floor((done / total) * 100)}%), ${failed} failed, ${rate.toFixed(1)} changes/s, ETA ${remainingText(done, total, elapsed)}\n`,
    );
  };
  return {
    update(result) {
      done++;
      if (result.outcome === 'failed') failed++;
      if (Date.now() - lastLine >= 10_000) {
        lastLine = Date.now();
        line();
      }
    },
    stop() {
      if (total >= 100) line();
    },
  };
}
