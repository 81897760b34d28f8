/**
 * What the simulator records about the requests it serves: one request-log entry per request and
 * per `$batch` item, carrying no secret (no body, no header values, query values other than OData
 * options redacted), and the live counters benchmarks read. Kept apart from router.ts, which
 * fills them.
 */

export interface RequestLogEntry {
  /** ISO 8601 time (of the simulator's clock) the response was sent. */
  readonly time: string;
  readonly method: string;
  /** Path and query; query values other than OData system options are `redacted`. */
  readonly path: string;
  /** Status the client saw; 0 when a fault reset the connection instead of answering. */
  readonly status: number;
  /** The app that made the request, when its token or client_id identified it. */
  readonly clientId?: string;
  readonly requestId: string;
  /** Set on requests that ran inside a `$batch`. */
  readonly batch?: true;
  /** Fault-plan rules that fired on this request (kinds), if any. */
  readonly faults?: readonly string[];
}

/** Live counters for benchmarks and tests (Graph requests, top-level and inside batches). */
export interface SimulatorCounters {
  /** Every HTTP request, identity endpoints included. */
  requests: number;
  /** Graph requests answered (batch items count one each; the `$batch` envelope does not). */
  graphRequests: number;
  reads: number;
  writes: number;
  /** 429 answers, from buckets or from the fault plan. */
  throttled: number;
  /** Requests on which at least one fault-plan rule fired. */
  faulted: number;
  tokensIssued: number;
}

export function createCounters(): SimulatorCounters {
  return {
    requests: 0,
    graphRequests: 0,
    reads: 0,
    writes: 0,
    throttled: 0,
    faulted: 0,
    tokensIssued: 0,
  };
}
