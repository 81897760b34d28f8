/** Process exit codes, stable for scripts and CI (catalogue conventions). */
export const EXIT = {
  /** No changes, or everything applied. */
  ok: 0,
  /** An error: bad config, a failed source, a stale plan, a failed operation. */
  error: 1,
  /** `plan` only: changes are planned. */
  changes: 2,
  /**
   * Safety checks held changes: the rest was applied (`safety.onBlocked: hold-changes`, the
   * default), or nothing was (`hold-plan`).
   */
  blocked: 3,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
