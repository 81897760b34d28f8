/**
 * Entra's directory audit log as a provisioning record: `GET /auditLogs/directoryAudits`
 * filtered to one app's changes in a time span, every page followed. `report --audit` reads it
 * when there is no history file (a GitOps user's apply ran somewhere else): the tenant itself
 * remembers what this app changed, when, and to whom.
 *
 * Needs AuditLog.Read.All; without it the read fails with one error naming the permission.
 * Entra keeps 30 days of audit entries (7 on the free tier) and lists them newest first;
 * entries can take a few minutes to appear.
 */
import { EntrasyncError } from '../../engine/errors.js';
import { ACTION_PERMISSIONS } from './permissions.js';
import type { GraphTransport } from './transport.js';
import { graphErrorOf } from './transport.js';

export interface AuditTarget {
  readonly id: string | null;
  /** `User`, `Group`, ... as Entra types it. */
  readonly type: string | null;
  readonly displayName: string | null;
  readonly userPrincipalName: string | null;
  readonly modifiedProperties: readonly {
    readonly displayName: string;
    readonly oldValue: string | null;
    readonly newValue: string | null;
  }[];
}

/** One directory audit entry, as much of it as a report needs. */
export interface DirectoryAuditEntry {
  readonly id: string;
  readonly activityDisplayName: string;
  /** Milliseconds since the epoch. */
  readonly activityTime: number;
  readonly category: string;
  readonly correlationId: string | null;
  /** `success`, `failure`, `timeout`. */
  readonly result: string;
  readonly resultReason: string | null;
  readonly appId: string | null;
  readonly targets: readonly AuditTarget[];
}

export interface AuditLogQuery {
  /** Only entries this app initiated. */
  readonly appId: string;
  /** Inclusive bounds, milliseconds since the epoch. */
  readonly since?: number;
  readonly until?: number;
  /** `$top` per page; default Graph's. */
  readonly pageSize?: number;
}

/** The app may not read the audit log: one line naming the permission it needs. */
export class AuditLogForbiddenError extends EntrasyncError {
  constructor(graphMessage: string | undefined) {
    const least = (ACTION_PERMISSIONS['read the audit log'][0] ?? []).join(' + ');
    super(
      'permission.missing',
      `missing permission ${least} for action "read the audit log": grant the app the application permission ${least} (with admin consent), or report from a history file${graphMessage ? ` (Graph: ${graphMessage})` : ''}`,
    );
  }
}

/** The `$filter` of `query`: Graph's documented audit filters (ge/le on time, eq on appId). */
export function auditFilter(query: AuditLogQuery): string {
  const clauses = [
    ...(query.since === undefined ? [] : [`activityDateTime ge ${graphTime(query.since, 'down')}`]),
    ...(query.until === undefined ? [] : [`activityDateTime le ${graphTime(query.until, 'up')}`]),
    `initiatedBy/app/appId eq '${query.appId.replace(/'/g, "''")}'`,
  ];
  return clauses.join(' and ');
}

/** Every entry of `query`, newest first, following `@odata.nextLink` to the end. */
export async function readDirectoryAudits(
  transport: GraphTransport,
  query: AuditLogQuery,
): Promise<DirectoryAuditEntry[]> {
  const top = query.pageSize === undefined ? '' : `&$top=${query.pageSize}`;
  let url: string | undefined =
    `/auditLogs/directoryAudits?$filter=${encodeURIComponent(auditFilter(query))}${top}`;
  const seen = new Set<string>();
  const entries: DirectoryAuditEntry[] = [];
  for (let page = 1; url !== undefined; page++) {
    const response = await transport.get(url);
    if (response.status === 403) {
      throw new AuditLogForbiddenError(graphErrorOf(response.body).message);
    }
    const body = response.body as { value?: unknown; '@odata.nextLink'?: unknown } | undefined;
    if (response.status !== 200 || !Array.isArray(body?.value)) {
      const graph = graphErrorOf(response.body);
      throw new EntrasyncError(
        'audit.read-failed',
        `reading the audit log failed on page ${page} (${response.status} ${graph.code ?? ''}: ${graph.message ?? 'no "value" array'})`,
      );
    }
    entries.push(...body.value.map(toEntry));
    const next = typeof body['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : undefined;
    if (next !== undefined && seen.has(next)) {
      throw new EntrasyncError(
        'audit.read-failed',
        `reading the audit log: @odata.nextLink repeats on page ${page}`,
      );
    }
    if (next !== undefined) seen.add(next);
    url = next;
  }
  return entries;
}

function toEntry(raw: unknown): DirectoryAuditEntry {
  const item = record(raw);
  const app = record(record(item['initiatedBy'])['app']);
  const targets = Array.isArray(item['targetResources']) ? item['targetResources'] : [];
  return {
    id: text(item['id']) ?? '',
    activityDisplayName: text(item['activityDisplayName']) ?? '',
    activityTime: Date.parse(text(item['activityDateTime']) ?? ''),
    category: text(item['category']) ?? '',
    correlationId: text(item['correlationId']),
    result: text(item['result']) ?? 'unknown',
    resultReason: text(item['resultReason']),
    appId: text(app['appId']),
    targets: targets.map((t) => {
      const target = record(t);
      const modified = Array.isArray(target['modifiedProperties'])
        ? target['modifiedProperties']
        : [];
      return {
        id: text(target['id']),
        // Graph's own example spells it `Type`.
        type: text(target['type']) ?? text(target['Type']),
        displayName: text(target['displayName']),
        userPrincipalName: text(target['userPrincipalName']),
        modifiedProperties: modified.map((m) => {
          const p = record(m);
          return {
            displayName: text(p['displayName']) ?? '',
            oldValue: text(p['oldValue']),
            newValue: text(p['newValue']),
          };
        }),
      };
    }),
  };
}

/** To the second, rounded so the span is never narrower than asked. */
function graphTime(ms: number, round: 'down' | 'up'): string {
  const seconds = round === 'down' ? Math.floor(ms / 1000) : Math.ceil(ms / 1000);
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
