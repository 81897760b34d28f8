/**
 * `approvals.yaml`: what reviewers approved, kept in git beside the config so that approving is
 * a reviewed pull request (OneLogin's admin approval, made auditable). It is deliberately not part
 * of the config digest: approving a plan must not change the plan it approves.
 *
 * ```yaml
 * plans:                     # whole plans, by fingerprint (at least the first 12 characters)
 *   - 3f2a9c1d5e7b
 * changes:                   # one action on one account: UPN, object id or person key
 *   - { action: adoptions, subject: jane.doe@contoso.com }
 * ```
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, isMap, isSeq, parseDocument } from 'yaml';
import { ConfigError } from '../engine/errors.js';
import type { Diagnostic } from '../engine/model/diagnostic.js';
import type { ApprovalAction, Approvals } from '../engine/model/spec.js';
import { NO_APPROVALS } from '../engine/model/spec.js';
import {
  configError,
  createSourceLocator,
  positionOfKey,
  positionOfValue,
  sortDiagnostics,
} from './diagnostics.js';

export const APPROVAL_ACTIONS: readonly ApprovalAction[] = [
  'creates',
  'adoptions',
  'updates',
  'enables',
  'disables',
  'reanchors',
];
export const DEFAULT_APPROVALS_FILE = 'approvals.yaml';

/** Reads an approvals file; a missing optional file means no approvals. Throws ConfigError. */
export async function loadApprovals(
  path: string,
  displayPath: string,
  required: boolean,
): Promise<Approvals> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return NO_APPROVALS;
    throw new ConfigError([
      configError(
        'approvals.read',
        `cannot read approvals file \`${displayPath}\` (${code ?? 'error'})`,
        [],
        undefined,
      ),
    ]);
  }
  return parseApprovals(text, displayPath);
}

export function parseApprovals(text: string, file: string): Approvals {
  const lineCounter = new LineCounter();
  const locator = createSourceLocator(file, lineCounter);
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const diagnostics: Diagnostic[] = doc.errors.map((e) =>
    configError(
      'approvals.syntax',
      `YAML syntax error: ${e.message.split('\n')[0] ?? e.message}`,
      [],
      locator.position(e.pos[0]),
    ),
  );
  if (diagnostics.length > 0) throw new ConfigError(diagnostics);
  const root = doc.contents;
  if (root === null || root === undefined) return NO_APPROVALS;
  if (!isMap(root))
    throw new ConfigError([
      configError(
        'approvals.type',
        'the approvals file must be a mapping with `plans` and/or `changes`',
        [],
        locator.position(0),
      ),
    ]);

  const data = doc.toJS() as Record<string, unknown>;
  for (const key of Object.keys(data)) {
    if (key !== 'plans' && key !== 'changes') {
      diagnostics.push(
        configError(
          'approvals.unknown-key',
          `unknown key \`${key}\`: expected \`plans\` or \`changes\``,
          [key],
          positionOfKey(doc, locator, [key]),
        ),
      );
    }
  }
  const plans: string[] = [];
  const rawPlans = data['plans'] ?? [];
  if (!Array.isArray(rawPlans) || !isSeq(doc.get('plans', true) ?? doc.createNode([]))) {
    diagnostics.push(
      configError(
        'approvals.type',
        '`plans` must be a list of plan fingerprints',
        ['plans'],
        positionOfValue(doc, locator, ['plans']),
      ),
    );
  } else {
    rawPlans.forEach((p, i) => {
      const value = typeof p === 'number' ? String(p) : p;
      if (typeof value !== 'string' || !/^[0-9a-f]{12,64}$/i.test(value)) {
        diagnostics.push(
          configError(
            'approvals.fingerprint',
            'a plan fingerprint is 12 to 64 hexadecimal characters, as `plan` prints it',
            ['plans', i],
            positionOfValue(doc, locator, ['plans', i]),
          ),
        );
      } else plans.push(value.toLowerCase());
    });
  }
  const changes: { action: ApprovalAction; subject: string }[] = [];
  const rawChanges = data['changes'] ?? [];
  if (!Array.isArray(rawChanges)) {
    diagnostics.push(
      configError(
        'approvals.type',
        '`changes` must be a list of `{ action, subject }`',
        ['changes'],
        positionOfValue(doc, locator, ['changes']),
      ),
    );
  } else {
    rawChanges.forEach((c, i) => {
      const entry = (c ?? {}) as Record<string, unknown>;
      const action = entry['action'];
      const subject = entry['subject'];
      if (typeof action !== 'string' || !(APPROVAL_ACTIONS as readonly string[]).includes(action)) {
        diagnostics.push(
          configError(
            'approvals.action',
            `\`action\` must be one of ${APPROVAL_ACTIONS.map((a) => `\`${a}\``).join(', ')}`,
            ['changes', i, 'action'],
            positionOfValue(doc, locator, ['changes', i, 'action']),
          ),
        );
        return;
      }
      if (typeof subject !== 'string' || subject.trim() === '') {
        diagnostics.push(
          configError(
            'approvals.subject',
            '`subject` must name the account: a UPN, an object id or a person key such as `hr:1001`',
            ['changes', i, 'subject'],
            positionOfValue(doc, locator, ['changes', i, 'subject']),
          ),
        );
        return;
      }
      for (const key of Object.keys(entry)) {
        if (key !== 'action' && key !== 'subject' && key !== 'by' && key !== 'note') {
          diagnostics.push(
            configError(
              'approvals.unknown-key',
              `unknown key \`${key}\`: an approval has \`action\`, \`subject\` and optionally \`by\` and \`note\``,
              ['changes', i, key],
              positionOfKey(doc, locator, ['changes', i, key]),
            ),
          );
        }
      }
      changes.push({ action: action as ApprovalAction, subject: subject.trim() });
    });
  }
  if (diagnostics.length > 0) throw new ConfigError(sortDiagnostics(diagnostics));
  return { plans, changes };
}
