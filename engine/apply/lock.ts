/**
 * One applier at a time per tenant state (catalogue A3): cron overlap or two daemons must not
 * both pass the stale-plan check and write. The storage is I/O and lives outside the engine
 * (cli/apply-store.ts); this is the contract.
 *
 * - `acquire` either returns a lease or throws LockHeldError naming the holder (lock id, owner,
 *   PID, host, start time, lease expiry).
 * - A lease expires unless renewed; a holder that was killed stops renewing, so its lock can be
 *   taken once the lease is over (or at once, when the holder's PID is provably gone on this
 *   host). Force-unlocking needs the lock id the holder printed, so it is never done by accident.
 */
import { EntrasyncError } from '../errors.js';

export interface LockHolder {
  readonly lockId: string;
  /** Who holds it, e.g. `apply` or `daemon`, with the user name. */
  readonly owner: string;
  readonly pid: number;
  readonly host: string;
  /** ISO 8601. */
  readonly startedAt: string;
  /** ISO 8601: after this the lock may be taken over. */
  readonly leaseUntil: string;
}

export interface LockLease {
  readonly holder: LockHolder;
  /** Extends the lease; throws if the lock was taken over (the lease had lapsed). */
  renew(): Promise<void>;
  release(): Promise<void>;
}

export interface ApplyLock {
  acquire(owner: string): Promise<LockLease>;
  /** Removes the lock only if its id is `lockId`; returns whether it did. */
  forceUnlock(lockId: string): Promise<boolean>;
}

export class LockHeldError extends EntrasyncError {
  constructor(readonly holder: LockHolder) {
    super(
      'apply.locked',
      `another apply holds the lock: ${describeHolder(holder)}. If that process is gone, wait for its lease to end or run \`entrasync apply --force-unlock ${holder.lockId}\``,
    );
  }
}

export function describeHolder(holder: LockHolder): string {
  return `lock ${holder.lockId} held by ${holder.owner} (PID ${holder.pid} on ${holder.host}) since ${holder.startedAt}, lease until ${holder.leaseUntil}`;
}
