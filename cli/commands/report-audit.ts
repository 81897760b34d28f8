/**
 * `entrasync report --audit`: the provisioning report from Entra's own directory audit log
 * instead of a history file, for a GitOps user whose applies ran elsewhere and left no history
 * here. Reads `/auditLogs/directoryAudits` through the config's target, filtered to the app
 * this config signs in as (the `appid` of its own token) and the `--since/--until` span, and
 * prints the same report as `report` does (connectors/entra/audit-log.ts reads; this module
 * maps audit activities to change kinds).
 *
 * What the audit log cannot say, the report leaves empty: the run (each entry's correlation id
 * stands in), the source record behind a change, and plans that were never applied.
 */
import { appIdOf, readDirectoryAudits } from '../../connectors/entra/index.js';
import type { DirectoryAuditEntry } from '../../connectors/entra/index.js';
import { graphScope } from '../../connectors/entra/graph-client.js';
import { EntrasyncError } from '../../engine/errors.js';
import type { ChangeKind } from '../../engine/model/plan.js';
import type { Redactor } from '../../engine/secret.js';
import type { ExitCode } from '../exit-codes.js';
import { EXIT } from '../exit-codes.js';
import type { HistoryOpOutcome } from '../history/history-store.js';
import type { Output } from '../output.js';
import { DEFAULT_CONFIG_PATH, openRuntime } from '../runtime.js';
// Types only: report.ts dispatches here and passes its parsers and renderer (no import cycle).
import type { ReportEvent, ReportFormat, ReportOptions } from './report.js';

/** Entra's activity names (audit activity reference, Core Directory) -> change kinds. */
const ACTIVITY_KINDS: Readonly<Record<string, ChangeKind>> = {
  'Add user': 'createUser',
  'Update user': 'updateUser',
  'Disable account': 'disableUser',
  'Enable account': 'enableUser',
  'Delete user': 'deleteUser',
  'Hard delete user': 'deleteUser',
  'Restore user': 'restoreUser',
  'Change user license': 'assignLicenses',
  'Set user manager': 'setManager',
  'Remove user manager': 'setManager',
  'Add group': 'createGroup',
  'Update group': 'updateGroup',
  'Add member to group': 'addMembers',
  'Remove member from group': 'removeMembers',
  'Add owner to group': 'addOwners',
  'Remove owner from group': 'removeOwners',
  'Set group license': 'assignGroupLicenses',
};

/** Pseudo-properties Entra lists beside the real ones on "Update user". */
const ENABLE_ONLY = new Set(['accountenabled', 'included updated properties']);

/** What `report` shares with this module: its option parsers and its renderer. */
export interface ReportParts {
  parseTime(text: string, now: number, flag: string): number;
  parseAction(text: string): ChangeKind;
  parseOutcome(text: string): HistoryOpOutcome;
  renderEvents(
    events: readonly ReportEvent[],
    format: ReportFormat,
    filters: Record<string, unknown>,
  ): string;
}

export interface AuditReportIO {
  /** Page size of the audit read; default Graph's. */
  readonly pageSize?: number;
  readonly env?: NodeJS.ProcessEnv;
}

export async function runAuditReport(
  options: ReportOptions,
  output: Output,
  redactor: Redactor,
  now: number,
  parts: ReportParts,
  io: AuditReportIO = {},
): Promise<ExitCode> {
  const { parseTime, parseAction, parseOutcome, renderEvents } = parts;
  if (options.runs) {
    throw new EntrasyncError(
      'cli.usage',
      '--runs reads a history file; it does not go with --audit',
    );
  }
  if (options.history !== undefined) {
    throw new EntrasyncError('cli.usage', '--history and --audit are two sources: give one');
  }
  const since = options.since !== undefined ? parseTime(options.since, now, '--since') : undefined;
  const until = options.until !== undefined ? parseTime(options.until, now, '--until') : undefined;
  const kinds = new Set((options.action ?? []).map(parseAction));
  const outcomes = new Set((options.outcome ?? []).map(parseOutcome));
  const runtime = await openRuntime(options.config ?? DEFAULT_CONFIG_PATH, redactor, io.env);
  try {
    const credential = runtime.target.credential;
    const token = await credential.getToken(graphScope(runtime.connection.graphUrl));
    const appId = token === null ? undefined : appIdOf(token.token);
    if (appId === undefined) {
      throw new EntrasyncError(
        'audit.app-unknown',
        'the access token names no application id (appid), so the audit log cannot be filtered to this app',
      );
    }
    const entries = await readDirectoryAudits(runtime.target.transport, {
      appId,
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      ...(io.pageSize !== undefined ? { pageSize: io.pageSize } : {}),
    });
    const user = options.user?.toLowerCase();
    // Graph lists newest first; the report reads oldest first, as from history (the reverse
    // keeps entries of one instant in the order they were made).
    const events = [...entries]
      .reverse()
      .flatMap(auditEvent)
      .filter(
        (e) =>
          (user === undefined ||
            e.userPrincipalName.toLowerCase() === user ||
            e.userId?.toLowerCase() === user) &&
          (kinds.size === 0 || kinds.has(e.action)) &&
          (outcomes.size === 0 || outcomes.has(e.outcome)),
      )
      .sort((a, b) => a.time.localeCompare(b.time));
    const limited = options.limit === undefined ? events : events.slice(0, options.limit);
    const filters = {
      source: 'audit',
      appId,
      ...(options.user !== undefined ? { user: options.user } : {}),
      ...(since !== undefined ? { since: new Date(since).toISOString() } : {}),
      ...(until !== undefined ? { until: new Date(until).toISOString() } : {}),
      ...(kinds.size ? { action: [...kinds] } : {}),
      ...(outcomes.size ? { outcome: [...outcomes] } : {}),
    };
    output.out(renderEvents(limited, options.format, filters));
    return EXIT.ok;
  } finally {
    await runtime.close();
  }
}

/**
 * The report event of one audit entry, or none: activities entrasync does not make, and an
 * "Update user" that only enabled or disabled the account (its "Enable/Disable account" entry
 * is the event).
 */
export function auditEvent(entry: DirectoryAuditEntry): ReportEvent[] {
  let action = ACTIVITY_KINDS[entry.activityDisplayName];
  if (action === undefined) return [];
  const [subject, other] = entry.targets;
  const modified = (subject?.modifiedProperties ?? []).map((p) => p.displayName);
  if (
    action === 'updateUser' &&
    modified.length > 0 &&
    modified.every((name) => ENABLE_ONLY.has(name.toLowerCase()))
  ) {
    return [];
  }
  if (action === 'assignLicenses' && fewerLicenses(subject?.modifiedProperties ?? [])) {
    action = 'removeLicenses';
  }
  const outcome: HistoryOpOutcome = entry.result === 'success' ? 'applied' : 'failed';
  const isUser = (subject?.type ?? '').toLowerCase() === 'user';
  const name = isUser
    ? (subject?.userPrincipalName ?? subject?.id ?? '')
    : (subject?.displayName ?? subject?.id ?? '');
  const shown = modified.filter((n) => n.toLowerCase() !== 'included updated properties');
  const detail = [
    ...(other?.displayName ? [other.displayName] : []),
    ...(shown.length > 0 ? [shown.join(', ')] : []),
  ].join(': ');
  return [
    {
      time: new Date(entry.activityTime).toISOString(),
      runId: entry.correlationId ?? entry.id,
      mode: 'audit',
      action,
      outcome,
      userPrincipalName: name,
      userId: subject?.id ?? null,
      people: [],
      reason: entry.activityDisplayName,
      message:
        detail === '' ? entry.activityDisplayName : `${entry.activityDisplayName}: ${detail}`,
      errorStatus: null,
      errorCode: outcome === 'failed' ? entry.result : null,
      errorMessage: outcome === 'failed' ? entry.resultReason : null,
      blockedCode: null,
    },
  ];
}

/** A license change that leaves fewer SKUs than before (GUIDs in Entra's JSON values). */
function fewerLicenses(
  properties: readonly { displayName: string; oldValue: string | null; newValue: string | null }[],
): boolean {
  const guids = (v: string | null) =>
    new Set((v ?? '').match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi));
  const licenses = properties.find((p) => /license/i.test(p.displayName));
  return licenses !== undefined && guids(licenses.newValue).size < guids(licenses.oldValue).size;
}
