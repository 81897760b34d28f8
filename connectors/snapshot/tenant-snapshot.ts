/**
 * Tenant snapshots: a tenant read saved to a file (`entrasync snapshot`), and a `TargetReader`
 * that serves it back (`plan --tenant-snapshot file`), so a plan can be made with no Graph
 * credentials (pull requests from forks) and replayed exactly.
 *
 * Contracts:
 * - The file holds the `TenantState` exactly as the live reader returned it (users in read order,
 *   `privileged` as read, or absent when the reader could not tell) plus the attribute paths
 *   every user was read with. Whatever `TenantState` grows (groups, members, SKUs, roles) is
 *   saved and served back as it is.
 * - The reader answers a request only if the snapshot holds every attribute it asks for, and
 *   then with exactly those attributes, in the order asked, as the live reader does; so a plan
 *   from a snapshot is byte-identical to the live plan made at the moment the snapshot was taken
 *   (same fingerprint), and `apply` of that plan still re-reads the live tenant and refuses if it
 *   moved since (StalePlanError).
 * - A snapshot that lacks an attribute, is of another format, or whose content does not match
 *   its digest (edited by hand, truncated) is a `TenantReadError`: never a plan from a guess.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { TenantReadError } from '../../engine/errors.js';
import type {
  AttributeValue,
  TenantClock,
  TenantReadRequest,
  TenantState,
} from '../../engine/model/tenant.js';
import { canonicalJson, sha256 } from '../../engine/pipeline/fingerprint.js';
import type { TargetReader } from '../../engine/ports.js';
import { PORT_API_VERSION } from '../../engine/ports.js';

export const TENANT_SNAPSHOT_KIND = 'entrasync.tenant-snapshot';
export const TENANT_SNAPSHOT_FORMAT_VERSION = 1 as const;

export interface TenantSnapshot {
  readonly kind: typeof TENANT_SNAPSHOT_KIND;
  readonly formatVersion: typeof TENANT_SNAPSHOT_FORMAT_VERSION;
  /** When it was read (ISO 8601). Informational: plans never depend on it. */
  readonly takenAt: string;
  /** Flattened Graph paths every user's `attributes` holds, sorted. */
  readonly userAttributes: readonly string[];
  readonly tenant: TenantState;
  /** sha256 of the canonical JSON of `userAttributes` and `tenant`. */
  readonly digest: string;
}

/** Reads the live tenant with `request` and wraps the result as a snapshot. */
export async function takeTenantSnapshot(
  reader: TargetReader,
  request: TenantReadRequest,
  now: number = Date.now(),
): Promise<TenantSnapshot> {
  const tenant = await reader.read(request);
  const userAttributes = [...new Set(request.userAttributes)].sort();
  return {
    kind: TENANT_SNAPSHOT_KIND,
    formatVersion: TENANT_SNAPSHOT_FORMAT_VERSION,
    takenAt: new Date(now).toISOString(),
    userAttributes,
    tenant,
    digest: snapshotDigest(userAttributes, tenant),
  };
}

/** Writes a snapshot (mode 0600: it holds directory data) atomically: temp file, then rename. */
export async function writeTenantSnapshot(path: string, snapshot: TenantSnapshot): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(snapshot, null, 2) + '\n', { mode: 0o600 });
  await rename(temp, path);
}

/** Parses and checks a snapshot file's text; `file` names it in errors. */
export function parseTenantSnapshot(text: string, file: string): TenantSnapshot {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new TenantReadError(
      `tenant snapshot ${file} is not JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const s = data as Partial<TenantSnapshot> | null;
  if (!s || typeof s !== 'object' || s.kind !== TENANT_SNAPSHOT_KIND) {
    throw new TenantReadError(`${file} is not an entrasync tenant snapshot`);
  }
  if (s.formatVersion !== TENANT_SNAPSHOT_FORMAT_VERSION) {
    throw new TenantReadError(
      `tenant snapshot ${file} has format ${String(s.formatVersion)}, not ${TENANT_SNAPSHOT_FORMAT_VERSION}; take it again with this entrasync`,
    );
  }
  if (
    !Array.isArray(s.userAttributes) ||
    !s.tenant ||
    !Array.isArray(s.tenant.users) ||
    typeof s.digest !== 'string'
  ) {
    throw new TenantReadError(`tenant snapshot ${file} is missing its users, attributes or digest`);
  }
  if (snapshotDigest(s.userAttributes, s.tenant) !== s.digest) {
    throw new TenantReadError(
      `tenant snapshot ${file} does not match its digest: it was edited or is damaged; take it again`,
    );
  }
  return s as TenantSnapshot;
}

export async function readTenantSnapshot(file: string): Promise<TenantSnapshot> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new TenantReadError(
      `cannot read tenant snapshot ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
  return parseTenantSnapshot(text, file);
}

/** Serves a snapshot as the tenant: the `--tenant-snapshot` target. Loads the file once. */
export function tenantSnapshotReader(file: string): TargetReader {
  let loaded: Promise<TenantSnapshot> | undefined;
  return {
    apiVersion: PORT_API_VERSION,
    async read(request) {
      loaded ??= readTenantSnapshot(file);
      return serveSnapshot(await loaded, request, file);
    },
  };
}

/** The tenant a live read with `request` would have returned when the snapshot was taken. */
export function serveSnapshot(
  snapshot: TenantSnapshot,
  request: TenantReadRequest,
  file = 'snapshot',
): TenantState {
  const held = new Set(snapshot.userAttributes);
  const paths = [...new Set(request.userAttributes)];
  const missing = paths.filter((p) => !held.has(p));
  if (missing.length > 0) {
    throw new TenantReadError(
      `tenant snapshot ${file} was taken without ${missing.join(', ')}, which this config reads; take the snapshot again with this config`,
    );
  }
  return {
    ...snapshot.tenant,
    users: snapshot.tenant.users.map((u) => {
      const attributes: Record<string, AttributeValue> = {};
      for (const path of paths) attributes[path] = u.attributes[path] ?? null;
      return { id: u.id, userPrincipalName: u.userPrincipalName, attributes };
    }),
    clock: snapshotClock(snapshot.tenant.clock),
  };
}

/**
 * A snapshot's tenant is of the instant it was read, so its time-based deprovisioning stages
 * are evaluated at the Graph time of that read (`recorded`), never at the local clock's now:
 * late, never early, and the same plan as the live one at that instant. A snapshot without a
 * Graph time (taken before entrasync recorded it) cannot say when it is: `unknown`, and those
 * stages are not planned from it.
 */
function snapshotClock(clock: TenantClock | undefined): TenantClock {
  if (clock?.status === 'read' || clock?.status === 'recorded') {
    return { status: 'recorded', serverTime: clock.serverTime };
  }
  return {
    status: 'unknown',
    reason: 'the tenant snapshot holds no Microsoft Graph time (take it again with this entrasync)',
  };
}

function snapshotDigest(userAttributes: readonly string[], tenant: TenantState): string {
  return sha256(canonicalJson({ userAttributes, tenant }));
}
