/**
 * The run's circuit breaker, like the provisioning service's quarantine (catalogue G10): when
 * the target as a whole is failing (consent revoked, credentials gone, Graph down), stop instead
 * of failing every remaining change one by one. Uses cockatiel's breakers (consecutive and
 * count-window), fed with outcomes rather than wrapped around calls, because the writer already
 * retried each call and only its final outcome says anything about the target.
 *
 * Only systemic failures count (`permission`, `auth`, `transient`, `throttled`). Per-object
 * final errors (400 validation, no seats, usageLocation), stale objects and tenant-protected
 * targets never trip it: one bad object never stops the others (invariant 6, G9, P4).
 */
import { CircuitState, ConsecutiveBreaker, CountBreaker } from 'cockatiel';
import type { FailureClass, OpResult, RunStopped } from '../model/report.js';

export interface BreakerSettings {
  /** Stop after this many systemic failures in a row. Default 10. */
  readonly maxConsecutiveFailures?: number;
  /** Stop when more than this share of the last `window` counted outcomes failed. Default 0.5. */
  readonly maxFailureRatio?: number;
  /** Size of the sliding window of counted outcomes. Default 50. */
  readonly window?: number;
  /** Outcomes needed before the ratio can trip. Default 20. */
  readonly minimumOutcomes?: number;
}

const SYSTEMIC: ReadonlySet<FailureClass> = new Set([
  'permission',
  'auth',
  'transient',
  'throttled',
]);

export interface RunBreaker {
  /** Feeds one outcome; returns why the run must stop once the breaker opens. */
  record(result: OpResult): RunStopped | undefined;
}

export function createRunBreaker(settings: BreakerSettings = {}): RunBreaker {
  const maxConsecutive = settings.maxConsecutiveFailures ?? 10;
  const ratio = settings.maxFailureRatio ?? 0.5;
  const consecutive = new ConsecutiveBreaker(maxConsecutive);
  const window = new CountBreaker({
    threshold: ratio,
    size: settings.window ?? 50,
    minimumNumberOfCalls: settings.minimumOutcomes ?? 20,
  });
  let open: RunStopped | undefined;
  return {
    record(result) {
      if (open) return open;
      if (result.outcome === 'applied') {
        consecutive.success();
        window.success(CircuitState.Closed);
        return undefined;
      }
      const failureClass = result.error?.class;
      if (result.outcome !== 'failed' || failureClass === undefined) return undefined;
      if (!SYSTEMIC.has(failureClass)) return undefined;
      const byRun = consecutive.failure();
      const byRatio = window.failure(CircuitState.Closed);
      if (byRun || byRatio) {
        const error = result.error;
        open = {
          code: 'circuit-open',
          message:
            `stopped: ${byRun ? `${maxConsecutive} consecutive failures` : `more than ${Math.round(ratio * 100)}% of recent changes failed`} (last: ${error?.status ?? ''} ${error?.code ?? ''} ${error?.message ?? ''}`.trimEnd() +
            '); the target looks unwell (consent revoked, credentials, outage). The journal allows a resume once it is fixed.',
        };
      }
      return open;
    },
  };
}
