/**
 * Entra's directory audit log: `GET /auditLogs/directoryAudits` (AuditLog.Read.All), and the
 * entries committed writes add. Shapes follow the `directoryAudit` reference page (id,
 * category, correlationId, result, resultReason, activityDisplayName, activityDateTime,
 * loggedByService "Core Directory", operationType, initiatedBy.app, targetResources with
 * modifiedProperties); activity names and categories follow Entra's audit activity reference
 * ("Add user", "Update user", "Add member to group", "Change user license", ...).
 *
 * Handlers call `audit` inside the transaction of the write it records, so an entry exists
 * exactly when its write committed (a lost response still committed, so it is logged too).
 * Only successful writes are logged: the simulator records no failed attempts.
 *
 * Listing is newest first. `$filter` takes `activityDateTime ge|le <time>` and
 * `initiatedBy/app/appId eq '<id>'`, joined by `and`; any other clause is 501, as the
 * simulator answers every feature it lacks.
 */
import { createHash, randomUUID } from 'node:crypto';
import { graphErrors } from '../errors.js';
import type { SimResponse } from '../http.js';
import type { DirectoryDocument, ObjectKind } from '../store.js';
import type { GraphContext } from './context.js';
import {
  decodeSkipToken,
  DEFAULT_PAGE_SIZE,
  encodeSkipToken,
  GUID,
  nextLink,
  parseTop,
} from './context.js';
import { parseSystemQuery } from './odata.js';

export const AUDIT_LOG_READ = ['AuditLog.Read.All'] as const;

type Category = 'UserManagement' | 'GroupManagement';

const ACTIVITIES = {
  'Add user': ['UserManagement', 'Add'],
  'Update user': ['UserManagement', 'Update'],
  'Disable account': ['UserManagement', 'Update'],
  'Enable account': ['UserManagement', 'Update'],
  'Delete user': ['UserManagement', 'Delete'],
  'Hard delete user': ['UserManagement', 'Delete'],
  'Restore user': ['UserManagement', 'Restore'],
  'Change user license': ['UserManagement', 'Update'],
  'Set user manager': ['UserManagement', 'Assign'],
  'Remove user manager': ['UserManagement', 'Unassign'],
  'Add group': ['GroupManagement', 'Add'],
  'Update group': ['GroupManagement', 'Update'],
  'Delete group': ['GroupManagement', 'Delete'],
  'Hard delete group': ['GroupManagement', 'Delete'],
  'Restore group': ['GroupManagement', 'Restore'],
  'Add member to group': ['GroupManagement', 'Assign'],
  'Remove member from group': ['GroupManagement', 'Unassign'],
  'Add owner to group': ['GroupManagement', 'Assign'],
  'Remove owner from group': ['GroupManagement', 'Unassign'],
  'Set group license': ['GroupManagement', 'Assign'],
} as const satisfies Record<string, readonly [Category, string]>;

export type AuditActivity = keyof typeof ACTIVITIES;

/** A property a write changed, as Entra shows it: JSON-encoded old and new values. */
export interface ModifiedProperty {
  readonly displayName: string;
  readonly oldValue: unknown;
  readonly newValue: unknown;
}

/**
 * Appends one audit entry for `activity` by the calling app on `targets` (a user or group
 * document each, first the object acted on). `modified` goes on the first target.
 */
export function audit(
  ctx: GraphContext,
  activity: AuditActivity,
  targets: readonly { kind: ObjectKind; doc: DirectoryDocument }[],
  modified: readonly ModifiedProperty[] = [],
): void {
  const [category, operationType] = ACTIVITIES[activity];
  const now = ctx.clock.now();
  const correlationId = GUID.test(ctx.request.clientRequestId)
    ? ctx.request.clientRequestId
    : ctx.request.requestId;
  const appId = ctx.principal.appId;
  ctx.store.appendAudit(now, appId, {
    id: `Directory_${randomUUID()}`,
    category,
    correlationId,
    result: 'success',
    resultReason: '',
    activityDisplayName: activity,
    activityDateTime: new Date(now).toISOString(),
    loggedByService: 'Core Directory',
    operationType,
    initiatedBy: {
      user: null,
      // The simulator has no service principal objects: a stable id derived from the app id
      // stands in, and the display name is unknown.
      app: {
        appId,
        displayName: null,
        servicePrincipalId: derivedId(`servicePrincipal:${appId.toLowerCase()}`),
        servicePrincipalName: null,
      },
    },
    targetResources: targets.map((t, i) => targetResource(t.kind, t.doc, i === 0 ? modified : [])),
    additionalDetails: [],
  });
}

/** The changed properties of `before` -> `after`, for `names`, Entra-style; never a password. */
export function modifiedProperties(
  before: DirectoryDocument | undefined,
  after: DirectoryDocument,
  names: readonly string[],
): ModifiedProperty[] {
  return names
    .filter((name) => name !== 'passwordProfile')
    .map((name) => ({
      displayName: name,
      oldValue: encodeValue(before?.[name]),
      newValue: encodeValue(after[name]),
    }));
}

function encodeValue(value: unknown): string {
  return JSON.stringify(value === undefined || value === null ? [] : [value]);
}

function targetResource(
  kind: ObjectKind,
  doc: DirectoryDocument,
  modified: readonly ModifiedProperty[],
): Record<string, unknown> {
  const common = {
    id: doc.id,
    displayName: typeof doc['displayName'] === 'string' ? doc['displayName'] : null,
    type: kind === 'user' ? 'User' : 'Group',
  };
  return kind === 'user'
    ? {
        ...common,
        userPrincipalName: doc['userPrincipalName'] ?? null,
        groupType: null,
        modifiedProperties: modified,
      }
    : {
        ...common,
        userPrincipalName: null,
        groupType: groupTypeOf(doc),
        modifiedProperties: modified,
      };
}

function groupTypeOf(doc: DirectoryDocument): string {
  const types = Array.isArray(doc['groupTypes']) ? (doc['groupTypes'] as unknown[]) : [];
  return types.includes('Unified') ? 'unifiedGroups' : 'azureAD';
}

function derivedId(seed: string): string {
  const hex = createHash('sha1').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

// ---------------------------------------------------------------------------- listing

interface AuditFilter {
  fromMs?: number;
  toMs?: number;
  appId?: string;
}

const TIME_CLAUSE =
  /^activityDateTime\s+(ge|le)\s+'?(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2}))'?$/i;
const APP_CLAUSE = /^initiatedBy\/app\/appId\s+eq\s+'([^']*)'$/i;

/** The `$filter` the simulator answers, or 501 naming the clause it does not. */
export function parseAuditFilter(raw: string | undefined): AuditFilter {
  const filter: AuditFilter = {};
  if (raw === undefined || raw.trim() === '') return filter;
  for (const clause of raw.trim().split(/\s+and\s+/i)) {
    const text = clause.trim();
    const time = TIME_CLAUSE.exec(text);
    const app = APP_CLAUSE.exec(text);
    if (time !== null) {
      const ms = Date.parse(time[2] ?? '');
      if (!Number.isFinite(ms))
        throw graphErrors.notImplemented(`the $filter clause "${text}" on directoryAudits`);
      if ((time[1] ?? '').toLowerCase() === 'ge') filter.fromMs = Math.max(filter.fromMs ?? ms, ms);
      else filter.toMs = Math.min(filter.toMs ?? ms, ms);
    } else if (app !== null) {
      filter.appId = app[1] ?? '';
    } else {
      throw graphErrors.notImplemented(`the $filter clause "${text}" on directoryAudits`);
    }
  }
  return filter;
}

/** `GET /auditLogs/directoryAudits`: newest first, `$filter`, `$top`, `@odata.nextLink`. */
export function listDirectoryAudits(ctx: GraphContext): SimResponse {
  const query = parseSystemQuery(ctx.request.url.searchParams, ['$filter', '$top', '$skiptoken']);
  const top = parseTop(query.$top);
  const filter = parseAuditFilter(query.$filter);
  const state = query.$skiptoken === undefined ? undefined : decodeSkipToken(query.$skiptoken);
  const pageSize = top ?? DEFAULT_PAGE_SIZE;
  const rows = ctx.store.pageAudits({
    ...filter,
    ...(state === undefined ? {} : { beforeSeq: state.after }),
    limit: pageSize + 1,
  });
  const page = rows.slice(0, pageSize);
  const body: Record<string, unknown> = {
    '@odata.context': `${ctx.origin}/v1.0/$metadata#auditLogs/directoryAudits`,
  };
  const last = page.at(-1);
  if (rows.length > pageSize && last !== undefined) {
    body['@odata.nextLink'] = nextLink(ctx, '/auditLogs/directoryAudits', [
      ['$filter', query.$filter],
      ['$top', top === undefined ? undefined : String(top)],
      ['$skiptoken', encodeSkipToken({ after: last.seq, page: (state?.page ?? 1) + 1 })],
    ]);
  }
  body['value'] = page.map((r) => r.doc);
  return { status: 200, body };
}
