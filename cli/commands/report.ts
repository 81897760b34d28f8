/**
 * `entrasync report`: the provisioning report from run history, by user, action and time span
 * (what miniOrange's provisioning report gives): every change planned, blocked, applied or
 * failed, with the run it belonged to, the source record behind it and Graph's error code.
 * `--runs` lists the runs themselves.
 *
 * Reads the history file only (never the tenant or the sources), read-only.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { loadConfig } from '../../config/load.js';
import { EntrasyncError } from '../../engine/errors.js';
import type { ChangeKind } from '../../engine/model/plan.js';
import { renderReportHtml } from '../../engine/render/report-html.js';
import type { Redactor } from '../../engine/secret.js';
import { parseDuration } from '../daemon/duration.js';
import { historyPathFor, operationsConfig } from '../daemon/run-daemon.js';
import type { ExitCode } from '../exit-codes.js';
import { EXIT } from '../exit-codes.js';
import type { HistoryOpOutcome, OpRow, RunRow } from '../history/history-store.js';
import { HISTORY_OP_OUTCOMES, openHistoryStore } from '../history/history-store.js';
import type { Output } from '../output.js';
import { DEFAULT_CONFIG_PATH } from '../runtime.js';
import type { CommandContext } from './command-context.js';
import { runAuditReport } from './report-audit.js';

export type ReportFormat = 'text' | 'json' | 'csv' | 'html';

export const REPORT_FORMAT_VERSION = 1 as const;

const ACTION_ALIASES: Readonly<Record<string, ChangeKind>> = {
  create: 'createUser',
  adopt: 'adoptUser',
  update: 'updateUser',
  enable: 'enableUser',
  disable: 'disableUser',
};
const KINDS: readonly ChangeKind[] = Object.values(ACTION_ALIASES);

export interface ReportOptions {
  readonly config?: string;
  readonly history?: string;
  readonly user?: string;
  readonly since?: string;
  readonly until?: string;
  readonly action?: readonly string[];
  readonly outcome?: readonly string[];
  readonly format: ReportFormat;
  readonly runs?: boolean;
  readonly limit?: number;
  /** Read Entra's directory audit log instead of a history file (report-audit.ts). */
  readonly audit?: boolean;
}

export interface ReportEvent {
  readonly time: string;
  readonly runId: string;
  readonly mode: string;
  readonly action: ChangeKind;
  readonly outcome: HistoryOpOutcome;
  readonly userPrincipalName: string;
  readonly userId: string | null;
  readonly people: readonly string[];
  readonly reason: string;
  readonly message: string;
  readonly errorStatus: number | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly blockedCode: string | null;
}

export async function runReport(
  options: ReportOptions,
  output: Output,
  redactor: Redactor,
  now: number = Date.now(),
): Promise<ExitCode> {
  if (options.audit) {
    const parts = { parseTime, parseAction, parseOutcome, renderEvents };
    return runAuditReport(options, output, redactor, now, parts);
  }
  const since = options.since !== undefined ? parseTime(options.since, now, '--since') : undefined;
  const until = options.until !== undefined ? parseTime(options.until, now, '--until') : undefined;
  const kinds = (options.action ?? []).map(parseAction);
  const outcomes = (options.outcome ?? []).map(parseOutcome);
  const path = await locateHistory(options);
  const store = openHistoryStore(path, redactor, { readonly: true });
  try {
    const span = {
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
    };
    if (options.runs && options.format !== 'html') {
      output.out(renderRuns(store.runs(span), options.format, span));
      return EXIT.ok;
    }
    const rows = store.ops({
      ...span,
      ...(options.user !== undefined ? { user: options.user } : {}),
      ...(kinds.length ? { kinds } : {}),
      ...(outcomes.length ? { outcomes } : {}),
    });
    const filters = {
      ...(options.user !== undefined ? { user: options.user } : {}),
      ...(since !== undefined ? { since: iso(since) } : {}),
      ...(until !== undefined ? { until: iso(until) } : {}),
      ...(kinds.length ? { action: kinds } : {}),
      ...(outcomes.length ? { outcome: outcomes } : {}),
    };
    const runs = options.format === 'html' ? store.runs(span) : [];
    output.out(renderEvents(rows.map(toEvent), options.format, filters, runs));
    return EXIT.ok;
  } finally {
    store.close();
  }
}

async function locateHistory(options: ReportOptions): Promise<string> {
  if (options.history) return historyPathFor('.', {}, options.history);
  const loaded = await loadConfig(options.config ?? DEFAULT_CONFIG_PATH);
  return historyPathFor(loaded.baseDir, operationsConfig(loaded.config));
}

/** `7d` (that long before now), or an ISO 8601 date or date-time. */
export function parseTime(text: string, now: number, flag: string): number {
  const ago = parseDuration(text);
  if (ago !== undefined) return now - ago;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) {
    throw new EntrasyncError(
      'cli.usage',
      `${flag} ${text}: give a duration before now (\`7d\`, \`12h\`, \`30m\`) or an ISO 8601 date or time (\`2026-01-31\`, \`2026-01-31T08:00:00Z\`)`,
    );
  }
  return ms;
}

export function parseAction(text: string): ChangeKind {
  const kind = ACTION_ALIASES[text] ?? (KINDS as readonly string[]).find((k) => k === text);
  if (!kind) {
    throw new EntrasyncError(
      'cli.usage',
      `--action ${text}: one of ${Object.keys(ACTION_ALIASES).join(', ')} (or ${KINDS.join(', ')})`,
    );
  }
  return kind as ChangeKind;
}

export function parseOutcome(text: string): HistoryOpOutcome {
  const outcome = HISTORY_OP_OUTCOMES.find((o) => o === text);
  if (!outcome) {
    throw new EntrasyncError(
      'cli.usage',
      `--outcome ${text}: one of ${HISTORY_OP_OUTCOMES.join(', ')}`,
    );
  }
  return outcome;
}

function toEvent(op: OpRow): ReportEvent {
  return {
    time: iso(op.at),
    runId: op.runId,
    mode: op.mode,
    action: op.kind,
    outcome: op.outcome,
    userPrincipalName: op.userPrincipalName,
    userId: op.userId,
    people: op.people,
    reason: op.reason,
    message: op.message,
    errorStatus: op.errorStatus,
    errorCode: op.errorCode,
    errorMessage: op.errorMessage,
    blockedCode: op.blockedCode,
  };
}

const EVENT_COLUMNS = [
  'time',
  'runId',
  'mode',
  'action',
  'outcome',
  'userPrincipalName',
  'userId',
  'people',
  'reason',
  'message',
  'errorStatus',
  'errorCode',
  'errorMessage',
  'blockedCode',
] as const satisfies readonly (keyof ReportEvent)[];

/** `runs`: the runs of the span, for the HTML page's slowest runs (the audit log has none). */
export function renderEvents(
  events: readonly ReportEvent[],
  format: ReportFormat,
  filters: Record<string, unknown> = {},
  runs: readonly RunRow[] = [],
): string {
  const scope = Object.entries(filters)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
    .join(', ');
  if (format === 'html') return renderReportHtml(events, runs, scope);
  const summary: Record<string, number> = {};
  for (const e of events) summary[e.outcome] = (summary[e.outcome] ?? 0) + 1;
  if (format === 'json') {
    return (
      JSON.stringify({ formatVersion: REPORT_FORMAT_VERSION, filters, summary, events }, null, 2) +
      '\n'
    );
  }
  if (format === 'csv') {
    return csv(
      [...EVENT_COLUMNS],
      events.map((e) => EVENT_COLUMNS.map((c) => (c === 'people' ? e.people.join(' ') : e[c]))),
    );
  }
  const lines: string[] = [];
  lines.push(`Provisioning report${scope ? ` (${scope})` : ''}: ${events.length} change(s)`);
  if (events.length > 0) {
    lines.push('');
    lines.push(
      ...table(
        ['TIME', 'ACTION', 'OUTCOME', 'USER', 'SOURCE RECORD', 'RUN', 'DETAIL'],
        events.map((e) => [
          e.time.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z'),
          e.action,
          e.outcome,
          e.userPrincipalName,
          e.people.join(' ') || '-',
          `${e.runId} (${e.mode})`,
          detail(e),
        ]),
      ),
    );
  }
  lines.push('');
  const counts = Object.entries(summary)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  lines.push(`Summary: ${counts || 'nothing in this span'}.`);
  return lines.join('\n') + '\n';
}

function detail(e: ReportEvent): string {
  if (e.errorCode) {
    return `${e.errorStatus !== null ? `${e.errorStatus} ` : ''}${e.errorCode}: ${e.errorMessage ?? ''}`;
  }
  if (e.outcome === 'blocked') return `blocked (${e.blockedCode ?? 'safety'}): ${e.message}`;
  return e.message;
}

const RUN_COLUMNS = [
  'id',
  'startedAt',
  'finishedAt',
  'trigger',
  'mode',
  'outcome',
  'read',
  'changes',
  'blocked',
  'applied',
  'failed',
  'planFingerprint',
  'errorCode',
  'errorMessage',
] as const satisfies readonly (keyof RunRow)[];

function renderRuns(runs: readonly RunRow[], format: ReportFormat, span: object): string {
  const shaped = runs.map((r) => ({
    ...r,
    startedAt: iso(r.startedAt),
    finishedAt: r.finishedAt === null ? null : iso(r.finishedAt),
  }));
  if (format === 'json') {
    return (
      JSON.stringify(
        { formatVersion: REPORT_FORMAT_VERSION, filters: span, runs: shaped },
        null,
        2,
      ) + '\n'
    );
  }
  if (format === 'csv') {
    return csv(
      [...RUN_COLUMNS],
      shaped.map((r) => RUN_COLUMNS.map((c) => r[c])),
    );
  }
  const lines = [`Runs: ${runs.length}`, ''];
  lines.push(
    ...table(
      [
        'STARTED',
        'RUN',
        'MODE',
        'OUTCOME',
        'READ',
        'CHANGES',
        'BLOCKED',
        'APPLIED',
        'FAILED',
        'PLAN',
        'ERROR',
      ],
      shaped.map((r) => [
        r.startedAt.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z'),
        r.id,
        r.mode,
        r.outcome ?? 'interrupted',
        r.read ?? '-',
        String(r.changes),
        String(r.blocked),
        String(r.applied),
        String(r.failed),
        r.planFingerprint?.slice(0, 12) ?? '-',
        r.errorCode ? `${r.errorCode}: ${r.errorMessage ?? ''}` : '',
      ]),
    ),
  );
  return lines.join('\n') + '\n';
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (i === header.length - 1 ? 0 : (r[i] ?? '').length))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/**
 * CSV for spreadsheets: a cell that starts with `=`, `+`, `-`, `@`, tab or CR is prefixed with
 * `'` so a spreadsheet shows it as text instead of running it as a formula (CSV injection).
 */
function csv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cell = (v: unknown): string | number => {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number') return v;
    const s = String(v);
    return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  };
  return stringify([header, ...rows.map((r) => r.map(cell))], { eof: true });
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function collect(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== ''),
  ];
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('not a positive whole number');
  return n;
}

export function buildReportCommand(context: CommandContext): Command {
  return new Command('report')
    .description(
      'provisioning report from run history: changes by user, action and time span (or --runs)',
    )
    .addOption(
      new Option('-c, --config <file>', 'config file (locates history.path)').default(
        DEFAULT_CONFIG_PATH,
      ),
    )
    .option('--history <file>', 'history file (default: history.path of the config)')
    .option('-u, --user <user>', 'UPN, object id, person key (hr:1005) or primary key (1005)')
    .option('--since <when>', 'from this time: a duration before now (7d, 12h) or an ISO date/time')
    .option('--until <when>', 'before this time: a duration before now or an ISO date/time')
    .option(
      '-a, --action <action>',
      'create, adopt, update, enable, disable (repeat or comma-separate)',
      collect,
    )
    .option(
      '--outcome <outcome>',
      `${HISTORY_OP_OUTCOMES.join(', ')} (repeat or comma-separate)`,
      collect,
    )
    .option(
      '--audit',
      "read Entra's directory audit log (this app's changes; needs AuditLog.Read.All) instead of history",
    )
    .option('--runs', 'list runs instead of changes')
    .option('--limit <n>', 'at most n rows', parseLimit)
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['text', 'json', 'csv', 'html'])
        .default('text'),
    )
    .action(async (opts: ReportOptions) => {
      context.setExitCode(await runReport(opts, context.output, context.redactor));
    });
}

export function registerReportCommand(program: Command, context: CommandContext): void {
  // addCommand does not pass on the parent's settings (exitOverride, output): copy them.
  program.addCommand(buildReportCommand(context).copyInheritedSettings(program));
}
