/**
 * `entrasync import -c start.yaml -o entrasync.yaml`: adopt an existing tenant. Reads the tenant
 * and the sources named in a config that has `target` and `sources` (a `users` section, if any,
 * is replaced), infers the `users` mapping (cli/import/infer.ts), writes the config, then plans
 * with it against the same tenant and sources and prints the report: which record matches which
 * account and how, what the mapping leaves out, and what the first plan will do. The plan is
 * made, never applied: adopting starts with a reviewed plan in which nothing is unexpected.
 */
import { subjectOf } from '../../engine/model/plan.js';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Command, Option } from 'commander';
import { isMap, parseDocument, YAMLMap } from 'yaml';
import type { YAMLSeq } from 'yaml';
import type { Document } from 'yaml';
import { loadConfig } from '../../config/load.js';
import { DEFAULT_MARKER_ATTRIBUTE, flattenExtensionAttribute } from '../../config/schema.js';
import type { ExtensionAttributeName } from '../../config/schema.js';
import { EntrasyncError } from '../../engine/errors.js';
import { planRun, readSources, summaryLine } from '../../engine/index.js';
import type { Plan } from '../../engine/index.js';
import { describeLocation } from '../../engine/model/source.js';
import type { SourceRecord } from '../../engine/model/source.js';
import type { Redactor } from '../../engine/secret.js';
import type { ExitCode } from '../exit-codes.js';
import { EXIT } from '../exit-codes.js';
import type { ImportProposal } from '../import/infer.js';
import { inferImport } from '../import/infer.js';
import type { Output } from '../output.js';
import type { Runtime } from '../runtime.js';
import { DEFAULT_CONFIG_PATH, openRuntime, planIO } from '../runtime.js';
import type { CommandContext } from './command-context.js';
import { snapshotReadRequest } from './snapshot.js';

export interface ImportOptions {
  /** Config with `target` and `sources` (and `join` when there are several sources). */
  readonly config: string;
  /** Config file to write; beside `config`, so relative paths keep their meaning. */
  readonly out: string;
  readonly report?: string;
  readonly force?: boolean;
  readonly format?: 'text' | 'json';
  /** Share of accounts an inferred expression must explain. Default 0.8. */
  readonly minAgreement?: number;
}

/** What a `users` section needs to load, for a start config that has none yet. */
const PLACEHOLDER_USERS = {
  anchor: "''",
  attributes: { userPrincipalName: "''", displayName: "''" },
};

export async function runImport(
  options: ImportOptions,
  output: Output,
  redactor: Redactor,
  env: NodeJS.ProcessEnv = process.env,
  now: number = Date.now(),
): Promise<ExitCode> {
  const configPath = resolve(options.config);
  const outPath = resolve(options.out);
  if (dirname(outPath) !== dirname(configPath)) {
    throw new EntrasyncError(
      'cli.usage',
      `write the imported config beside ${options.config} (${dirname(configPath)}): relative paths in it resolve against its directory`,
    );
  }
  if (existsSync(outPath) && !options.force) {
    throw new EntrasyncError('cli.usage', `${options.out} exists; pass --force to replace it`);
  }
  const originalText = await readFile(configPath, 'utf8');
  const doc = parseDocument(originalText);
  const hadUsers = doc.has('users');

  // A start config without `users` does not load; load a copy that has a placeholder one.
  let runtime: Runtime;
  if (hadUsers) {
    runtime = await openRuntime(configPath, redactor, env);
  } else {
    const work = parseDocument(originalText);
    work.set('users', PLACEHOLDER_USERS);
    const temp = join(dirname(configPath), `.entrasync-import-${randomUUID().slice(0, 8)}.yaml`);
    await writeFile(temp, work.toString(), { mode: 0o600 });
    try {
      runtime = await openRuntime(temp, redactor, env);
    } finally {
      await rm(temp, { force: true });
    }
  }

  try {
    const config = runtime.loaded.config;
    const sourceNames = Object.keys(config.sources);
    const primary = config.join?.primary ?? (sourceNames.length === 1 ? sourceNames[0] : undefined);
    if (!primary) {
      throw new EntrasyncError(
        'cli.usage',
        'with several sources, set `join.primary` before importing',
      );
    }
    const keyField = (config.sources[primary] as { key?: unknown }).key;
    if (typeof keyField !== 'string') {
      throw new EntrasyncError(
        'cli.usage',
        `source ${primary} has no \`key\` field to anchor people by`,
      );
    }
    const [snapshots, tenant] = await Promise.all([
      readSources(runtime.sources),
      runtime.target.reader.read(snapshotReadRequest(runtime.loaded.spec)),
    ]);
    const snapshot = snapshots.find((s) => s.name === primary);
    if (!snapshot || snapshot.status === 'failed') {
      const why = snapshot?.issues.find((i) => i.severity === 'error')?.message ?? 'not read';
      throw new EntrasyncError(
        'source.failed',
        `source ${primary} failed; nothing to import from: ${why}`,
      );
    }
    const marker = config.target.marker;
    const markerAttribute = flattenExtensionAttribute(
      (marker?.attribute ?? DEFAULT_MARKER_ATTRIBUTE) as ExtensionAttributeName,
    );
    const markerValue = runtime.loaded.spec.marker.value;
    const proposal = inferImport({
      source: primary,
      keyField,
      records: snapshot.records,
      tenant,
      markerAttribute,
      markerValue,
      ...(runtime.loaded.spec.marker.claimLegacy ? { claimLegacy: true } : {}),
      ...(options.minAgreement !== undefined ? { minAgreement: options.minAgreement } : {}),
    });

    writeUsers(doc, proposal, keyField, {
      source: options.config,
      at: new Date(now).toISOString(),
      replaced: hadUsers,
    });
    await writeFile(outPath, doc.toString(), { mode: 0o644 });

    // Prove it: the written config loads, and this is the plan it makes against this tenant.
    const written = await loadConfig(outPath);
    const plan = await planRun(written.spec, planIO(runtime));
    const report =
      options.format === 'json'
        ? JSON.stringify(importReportJson(proposal, plan, options.out), null, 2) + '\n'
        : renderImportReport(proposal, plan, primary, options.out);
    output.out(report);
    if (options.report) await writeFile(resolve(options.report), report, { mode: 0o600 });
    return EXIT.ok;
  } finally {
    await runtime.close();
  }
}

function writeUsers(
  doc: Document,
  proposal: ImportProposal,
  keyField: string,
  meta: { source: string; at: string; replaced: boolean },
): void {
  const attributes = new YAMLMap();
  for (const a of proposal.attributes) {
    const value = doc.createNode(a.expression);
    if (a.agree < a.of) value.comment = ` gives the account's value for ${a.agree} of ${a.of}`;
    attributes.set(a.attribute, value);
  }
  const users = new YAMLMap();
  users.set('anchor', proposal.anchor);
  users.set('anchorAttribute', proposal.anchorAttribute);
  const match = doc.createNode([...proposal.match]) as YAMLSeq;
  match.flow = true;
  users.set('match', match);
  users.set('attributes', attributes);
  const deprovision = doc.createNode({ action: 'disable' });
  deprovision.commentBefore =
    ' Only accounts adopted or created by this config (marked) are ever disabled.';
  users.set('deprovision', deprovision);
  users.commentBefore = [
    ` Generated by \`entrasync import\` from ${meta.source} on ${meta.at}${meta.replaced ? ' (replacing its users section)' : ''}.`,
    ` Accounts were paired with records by ${proposal.pairedBy === 'anchor' ? `${proposal.anchorAttribute} = ${proposal.anchor}` : proposal.pairedBy}; the anchor is ${keyField === proposal.anchor ? 'the source key' : proposal.anchor}.`,
    ...(proposal.skipped.length > 0
      ? [
          ' Left out (no source field gives the values the accounts hold):',
          ...proposal.skipped.map((s) => `   ${s.attribute}: ${s.reason}`),
        ]
      : []),
  ].join('\n');
  if (isMap(doc.contents)) {
    doc.set('users', users);
  }
}

function renderImportReport(
  proposal: ImportProposal,
  plan: Plan,
  source: string,
  out: string,
): string {
  const lines: string[] = [];
  const where = (r: SourceRecord) => {
    const loc = describeLocation(r.location);
    return `${source}:${r.key}${loc ? ` (${loc})` : ''}`;
  };
  lines.push(`Wrote ${out}.`, '');
  lines.push(
    `Paired ${proposal.pairs.length} record(s) with existing accounts by ${proposal.pairedBy === 'anchor' ? `${proposal.anchorAttribute} = ${proposal.anchor}` : proposal.pairedBy}; anchor: ${proposal.anchor} -> ${proposal.anchorAttribute}.`,
  );
  lines.push('', 'Mapping:');
  for (const a of proposal.attributes) {
    lines.push(`  ${a.attribute}: ${a.expression}  (${a.agree}/${a.of} accounts agree)`);
  }
  for (const s of proposal.skipped) lines.push(`  (left out) ${s.attribute}: ${s.reason}`);

  lines.push('', `Matches (${proposal.pairs.length}):`);
  for (const p of proposal.pairs) {
    const notes = [
      ...(p.alreadyManaged ? ['already managed'] : []),
      ...(p.privileged ? ['privileged: never adopted (P3)'] : []),
      ...p.differences,
    ];
    lines.push(
      `  ${where(p.record)} -> ${p.user.userPrincipalName}${notes.length ? `  [${notes.join('; ')}]` : ''}`,
    );
  }
  if (proposal.unmatchedRecords.length > 0) {
    lines.push(
      '',
      `Records without an account (the plan creates them) (${proposal.unmatchedRecords.length}):`,
    );
    for (const r of proposal.unmatchedRecords) lines.push(`  ${where(r)}`);
  }
  if (proposal.unmatchedAccounts.length > 0) {
    lines.push('', `Accounts no record matches (${proposal.unmatchedAccounts.length}):`);
    const why = {
      guest: 'guest: never touched',
      'synced-from-on-premises': 'synced from on-premises AD: owned by Entra Connect',
      'managed-no-record': "carries this config's marker: the plan DISABLES it",
      unmanaged: 'not managed: left alone',
      'other-config': "another config's (or the legacy) marker: left alone",
    } as const;
    for (const u of proposal.unmatchedAccounts) {
      lines.push(`  ${u.user.userPrincipalName}  [${why[u.reason]}]`);
    }
  }
  lines.push('', 'First plan with this config (not applied):');
  const counts: Record<string, number> = {};
  for (const c of plan.changes) counts[c.kind] = (counts[c.kind] ?? 0) + 1;
  const blocked: Record<string, number> = {};
  for (const b of plan.blocked) blocked[b.change.kind] = (blocked[b.change.kind] ?? 0) + 1;
  for (const kind of ['adoptUser', 'createUser', 'updateUser', 'enableUser', 'disableUser']) {
    const n = counts[kind] ?? 0;
    const b = blocked[kind] ?? 0;
    lines.push(`  ${kind}: ${n}${b ? ` (+${b} blocked)` : ''}`);
  }
  const fingerprint = plan.fingerprint.slice(0, 12);
  const adoptionsBlocked = plan.blocked.filter((b) => b.change.kind === 'adoptUser');
  if (adoptionsBlocked.some((b) => b.code === 'needs-approval')) {
    lines.push(
      `  Adopting accounts found by userPrincipalName or mail needs approval (P6): once the matches above are reviewed, approve this plan in approvals.yaml beside the config: \`plans: [${fingerprint}]\`.`,
    );
  }
  if (adoptionsBlocked.some((b) => b.code === 'threshold')) {
    lines.push(
      `  The adoptions exceed safety.maxAdoptions: after review, \`entrasync apply --allow-adoptions ${adoptionsBlocked.length} --plan ${fingerprint}\`.`,
    );
  }
  lines.push(`  ${summaryLine(plan).trim()}`);
  return lines.join('\n') + '\n';
}

function importReportJson(proposal: ImportProposal, plan: Plan, out: string) {
  return {
    config: out,
    pairedBy: proposal.pairedBy,
    anchor: proposal.anchor,
    anchorAttribute: proposal.anchorAttribute,
    match: proposal.match,
    attributes: proposal.attributes,
    skipped: proposal.skipped,
    matches: proposal.pairs.map((p) => ({
      record: `${p.record.source}:${p.record.key}`,
      location: p.record.location,
      account: p.user.userPrincipalName,
      accountId: p.user.id,
      alreadyManaged: p.alreadyManaged,
      privileged: p.privileged,
      differences: p.differences,
    })),
    unmatchedRecords: proposal.unmatchedRecords.map((r) => `${r.source}:${r.key}`),
    unmatchedAccounts: proposal.unmatchedAccounts.map((u) => ({
      account: u.user.userPrincipalName,
      reason: u.reason,
    })),
    plan: {
      fingerprint: plan.fingerprint,
      changes: plan.changes.map((c) => ({ kind: c.kind, user: subjectOf(c).userPrincipalName })),
      blocked: plan.blocked.map((b) => ({
        kind: b.change.kind,
        user: subjectOf(b.change).userPrincipalName,
        code: b.code,
      })),
    },
  };
}

export function buildImportCommand(context: CommandContext): Command {
  return new Command('import')
    .description(
      'adopt an existing tenant: infer the users mapping from the tenant and the sources, write the config, and report which record matches which account and what the first plan does',
    )
    .addOption(
      new Option(
        '-c, --config <file>',
        'config with target and sources (users is replaced)',
      ).default(DEFAULT_CONFIG_PATH),
    )
    .requiredOption('-o, --out <file>', 'config file to write, beside --config')
    .option('--report <file>', 'also write the report to this file')
    .option('--force', 'replace --out if it exists')
    .addOption(
      new Option('-f, --format <format>', 'report format')
        .choices(['text', 'json'])
        .default('text'),
    )
    .action(async (opts: ImportOptions) => {
      context.setExitCode(await runImport(opts, context.output, context.redactor));
    });
}

export function registerImportCommand(program: Command, context: CommandContext): void {
  // addCommand does not pass on the parent's settings (exitOverride, output): copy them.
  program.addCommand(buildImportCommand(context).copyInheritedSettings(program));
}
