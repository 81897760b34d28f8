/**
 * Config file -> validated `Config` + the engine's `SyncSpec`, or a `ConfigError` carrying every
 * problem found, each at file:line:column.
 *
 * Order, and why:
 * 1. YAML syntax. If the file does not parse, only syntax errors are reported: anything said
 *    about the structure of a half-parsed document would be noise.
 * 2. `version`. A file for another language version is not checked against this one.
 * 3. Everything else at once: schema errors (ajv, `allErrors`), secret-reference syntax, every
 *    JSONata expression compiled, and cross-field rules. Each step tolerates what the others
 *    reject, so one typo does not hide the next problem.
 *
 * Secrets are never resolved here (see `secrets.ts`): a config validates without them.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError } from '../engine/errors.js';
import type { WritebackSpec } from '../engine/model/writeback.js';
import {
  compileExpression,
  DEFAULT_EXPRESSION_LIMITS,
  type Expression,
} from '../engine/expr/jsonata.js';
import { groupSlug } from '../engine/expr/normalize.js';
import type { Diagnostic, SourcePosition } from '../engine/model/diagnostic.js';
import type {
  ApprovalAction,
  GroupSpec,
  LicenseSpec,
  MatchRule,
  SafetySpec,
  SyncSpec,
  ThresholdAction,
} from '../engine/model/spec.js';
import {
  DEFAULT_MIN_SOURCE_RATIO,
  DEFAULT_THRESHOLDS,
  NO_APPROVALS,
} from '../engine/model/spec.js';
import { DEFAULT_APPROVALS_FILE, loadApprovals } from './approvals.js';
import {
  configError,
  createSourceLocator,
  findNode,
  formatConfigPath,
  positionOfValue,
  sortDiagnostics,
  type PathSegment,
  type SourceLocator,
} from './diagnostics.js';
import {
  asObject,
  crossFieldDiagnostics,
  flattenAnchorAttribute,
  isObject,
} from './cross-field.js';

export { flattenAnchorAttribute } from './cross-field.js';
import { normalizeValue } from './normalize.js';

import { onboardingSpec } from './onboarding.js';

import { scalarValueOffsets } from './scalar-offsets.js';

import { scheduleDiagnostics } from './schedule.js';

import { buildWritebackSpecs, writebackDiagnostics } from './writeback.js';

import { listSchemaEntries } from './schema-entries.js';

import { schemaDiagnostics, unsupportedVersion } from './schema-errors.js';

import {
  CONFIG_VERSION,
  Config,
  DEFAULT_DEPROVISION_STATE_ATTRIBUTE,
  DEFAULT_GROUP_PREFIX,
  DEFAULT_MARKER_ATTRIBUTE,
  flattenExtensionAttribute,
  markerValueOf,
} from './schema.js';

import {
  createSecretRef,
  isSecretRef,
  looksLikeSecretReference,
  parseSecretReference,
  type SecretRef,
} from './secrets.js';

export interface LoadedConfig {
  /** Absolute path of the config file. */
  readonly path: string;
  /** Directory relative paths in the config resolve against. */
  readonly baseDir: string;
  /** Validated, defaults filled in, secret references as `SecretRef` (unresolved). */
  readonly config: Config;
  /** What the engine needs, expressions compiled. */
  readonly spec: SyncSpec;
  /** Every secret reference in the config, in file order. */
  readonly secretRefs: readonly SecretRef[];
  /** Problems that do not stop loading (YAML warnings). */
  readonly warnings: readonly Diagnostic[];
}

export interface LoadConfigOptions {
  /** Reads the file; defaults to `fs.readFile(path, 'utf8')`. */
  readonly readFile?: (path: string) => Promise<string>;
}

export interface ParseConfigOptions {
  /** File name as diagnostics should show it (usually as the user typed it). */
  readonly file: string;
  /** Directory relative paths resolve against; defaults to the file's directory. */
  readonly baseDir?: string;
}

export async function loadConfig(
  path: string,
  options: LoadConfigOptions = {},
): Promise<LoadedConfig> {
  const read = options.readFile ?? ((p: string) => readFile(p, 'utf8'));
  let text: string;
  try {
    text = await read(resolve(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new ConfigError([
      configError('config.read', `cannot read config file \`${path}\` (${code})`, [], undefined),
    ]);
  }
  const loaded = parseConfig(text, { file: path });
  // Approvals live beside the config, in their own reviewed file (config/approvals.ts).
  const named = loaded.config.safety?.approvals;
  const file = named ?? DEFAULT_APPROVALS_FILE;
  const approvals = await loadApprovals(
    resolve(loaded.baseDir, file),
    join(dirname(path), file),
    named !== undefined && named !== DEFAULT_APPROVALS_FILE,
  );
  return { ...loaded, spec: { ...loaded.spec, approvals } };
}

/** Parses and validates config text; no I/O. Throws `ConfigError`. */
export function parseConfig(text: string, options: ParseConfigOptions): LoadedConfig {
  const path = resolve(options.file);
  const baseDir = options.baseDir ?? dirname(path);
  const lineCounter = new LineCounter();
  const locator = createSourceLocator(options.file, lineCounter);
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });

  const syntax: Diagnostic[] = doc.errors.map((e) =>
    configError(
      'config.yaml-syntax',
      `YAML syntax error: ${e.message}`,
      [],
      locator.position(e.pos[0]),
    ),
  );
  if (syntax.length > 0) throw new ConfigError(sortDiagnostics(syntax));
  const warnings: Diagnostic[] = doc.warnings.map((w) => ({
    severity: 'warning',
    code: 'config.yaml-warning',
    message: w.message,
    path: '',
    position: locator.position(w.pos[0]),
  }));

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    throw new ConfigError([
      configError(
        'config.yaml-syntax',
        `YAML error: ${(err as Error).message}`,
        [],
        locator.position(0),
      ),
    ]);
  }
  if (data === null || data === undefined) {
    throw new ConfigError([
      configError(
        'config.empty',
        'the config file is empty: it needs at least `version: 1`, `target`, `sources` and `users`',
        [],
        locator.position(0),
      ),
    ]);
  }
  if (isObject(data) && 'version' in data && data['version'] !== CONFIG_VERSION) {
    const v = data['version'];
    if (typeof v === 'number' && Number.isInteger(v)) {
      throw new ConfigError([unsupportedVersion(v, doc, locator)]);
    }
  }

  const diagnostics: Diagnostic[] = [];
  const validate = configValidator();
  if (!validate(data)) {
    diagnostics.push(...schemaDiagnostics(validate.errors ?? [], data, doc, locator));
  }

  const expressions = new Map<string, Expression>();
  const secretRefs: SecretRef[] = [];
  const normalized = normalizeValue(Config, data, {
    slot(kind, value, segments) {
      if (kind === 'expression') {
        // `${env:X}` happens to be valid JSONata (an object constructor applied to `$`), so
        // without this check a misplaced reference would silently map to an object.
        if (parseSecretReference(value)?.ok) {
          diagnostics.push(
            configError(
              'config.secret-reference',
              `\`${formatConfigPath(segments)}\` is a JSONata expression, where a secret reference is not allowed; references are allowed in ${secretSlotList()}`,
              segments,
              positionOfValue(doc, locator, segments),
            ),
          );
          return value;
        }
        const compiled = compileAt(value, segments, doc, text, locator);
        if (compiled.ok) expressions.set(compiled.expression.configPath, compiled.expression);
        else diagnostics.push(compiled.diagnostic);
        return value;
      }
      const parsed = parseSecretReference(value);
      if (parsed?.ok) {
        const ref = createSecretRef(
          parsed.scheme,
          parsed.name,
          formatConfigPath(segments),
          positionOfValue(doc, locator, segments),
        );
        secretRefs.push(ref);
        return ref;
      }
      // A `secret` slot that is not a reference is reported by the schema (pattern).
      if (kind === 'secret-or-text' && parsed && !parsed.ok) {
        diagnostics.push(
          configError(
            'config.secret-reference',
            parsed.message,
            segments,
            positionOfValue(doc, locator, segments),
          ),
        );
      }
      return value;
    },
    plain(value, segments) {
      if (!looksLikeSecretReference(value)) return;
      diagnostics.push(
        configError(
          'config.secret-reference',
          `a secret reference is not allowed in \`${formatConfigPath(segments)}\` (it would be used as literal text); references are allowed in ${secretSlotList()}`,
          segments,
          positionOfValue(doc, locator, segments),
        ),
      );
    },
  });

  // With `foreach`, a group's `name` is an expression (`'Dept - ' & $value`); without, literal text.
  const groups = asObject(normalized)?.['groups'];
  if (Array.isArray(groups)) {
    groups.forEach((group: unknown, i) => {
      const g = asObject(group);
      if (g?.['foreach'] === undefined || typeof g['name'] !== 'string') return;
      const compiled = compileAt(g['name'], ['groups', i, 'name'], doc, text, locator);
      if (compiled.ok) expressions.set(compiled.expression.configPath, compiled.expression);
      else diagnostics.push(compiled.diagnostic);
    });
  }

  diagnostics.push(...crossFieldDiagnostics(normalized, doc, locator));
  diagnostics.push(...scheduleDiagnostics(asObject(normalized)?.['schedule'], doc, locator));
  diagnostics.push(
    ...writebackDiagnostics(
      asObject(asObject(normalized)?.['writeback']),
      asObject(asObject(normalized)?.['sources']),
      doc,
      locator,
    ),
  );

  if (diagnostics.some((d) => d.severity === 'error')) {
    throw new ConfigError(sortDiagnostics(diagnostics));
  }

  const config = normalized as Config;
  const spec = buildSpec(config, expressions);
  return {
    path,
    baseDir,
    config,
    spec,
    secretRefs,
    warnings,
  };
}

let validator: ValidateFunction | undefined;

function configValidator(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
    // Editor-only keywords the schema carries (VS Code, yaml-language-server).
    ajv.addVocabulary(['patternErrorMessage']);
    addFormats.default(ajv, ['uri']);
    validator = ajv.compile(Config);
  }
  return validator;
}

let secretSlots: string | undefined;

function secretSlotList(): string {
  secretSlots ??= listSchemaEntries()
    .filter((e) => e.slot === 'secret' || e.slot === 'secret-or-text')
    .map((e) => `\`${e.path}\``)
    .join(', ');
  return secretSlots;
}

// ---------------------------------------------------------------------------------------------
// expressions

type CompileAtResult =
  | { readonly ok: true; readonly expression: Expression }
  | { readonly ok: false; readonly diagnostic: Diagnostic };

/**
 * Compiles an expression and places it in the file: its first character, and on a syntax error
 * the offending character, mapped through the scalar's quoting, escapes and folding.
 */
function compileAt(
  text: string,
  segments: readonly PathSegment[],
  doc: Document,
  source: string,
  locator: SourceLocator,
): CompileAtResult {
  const configPath = formatConfigPath(segments);
  const { value: node } = findNode(doc, segments);
  // A default (`accountEnabled: "true"`) has no node of its own: it sits at its parent.
  const written = isScalar(node) && node.value === text && node.range ? node : undefined;
  const offsets = written ? scalarValueOffsets(source, written) : undefined;
  const fallback: SourcePosition = written?.range
    ? locator.position(written.range[0])
    : (positionOfValue(doc, locator, segments) ?? locator.position(0));
  const positionOf = (offset: number): SourcePosition => {
    const at = offsets?.[Math.min(offset, offsets.length - 1)];
    return at === undefined ? fallback : locator.position(at);
  };

  // `positionOf` becomes the expression's `positionAt`, so lints of field references point
  // into the file as exactly as syntax errors do.
  const result = compileExpression(
    text,
    configPath,
    positionOf(0),
    DEFAULT_EXPRESSION_LIMITS,
    positionOf,
  );
  if (result.ok) return result;
  const { error } = result;
  const where = offsets ? '' : ` at character ${error.offset + 1} of the expression`;
  return {
    ok: false,
    diagnostic: configError(
      'expr.syntax',
      `JSONata syntax error in \`${configPath}\`${where}: ${error.message} (${error.code})`,
      configPath,
      positionOf(error.offset),
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// SyncSpec

function buildSpec(config: Config, expressions: ReadonlyMap<string, Expression>): SyncSpec {
  const expression = (configPath: string): Expression => {
    const e = expressions.get(configPath);
    // Unreachable after validation: every expression slot was compiled or reported.
    if (!e) throw new Error(`internal: expression \`${configPath}\` was not compiled`);
    return e;
  };
  const { users, target } = config;
  const attributes: Record<string, Expression> = {};
  for (const key of Object.keys(users.attributes)) {
    attributes[key] = expression(formatConfigPath(['users', 'attributes', key]));
  }
  const scope = users.scope === undefined ? undefined : expression('users.scope');
  const primarySource = config.join?.primary ?? Object.keys(config.sources)[0] ?? '';
  const markerAttribute = target.marker?.attribute ?? DEFAULT_MARKER_ATTRIBUTE;
  return {
    configDigest: configDigest(config),
    primarySource,
    links: Object.keys(config.join?.link ?? {}).map((source) => ({
      source,
      key: expression(formatConfigPath(['join', 'link', source, 'key'])),
      equals: expression(formatConfigPath(['join', 'link', source, 'equals'])),
    })),
    marker: {
      attribute: flattenExtensionAttribute(markerAttribute),
      value: markerValueOf(target.marker, primarySource),
      groupPrefix: target.marker?.groupPrefix ?? DEFAULT_GROUP_PREFIX,
      ...(target.marker?.claimLegacy === true ? { claimLegacy: true } : {}),
    },
    users: {
      ...(scope ? { scope } : {}),
      anchor: expression('users.anchor'),
      anchorAttribute: flattenAnchorAttribute(users.anchorAttribute ?? 'employeeId'),
      match: (users.match ?? ['anchor', 'userPrincipalName']) as readonly MatchRule[],
      attributes,
      deprovision: {
        action: users.deprovision?.action ?? 'disable',
        revokeSessions: users.deprovision?.revokeSessions ?? true,
        removeAccessAfterDays: users.deprovision?.removeAccessAfterDays ?? 0,
        ...(users.deprovision?.deleteAfterDays === undefined
          ? {}
          : { deleteAfterDays: users.deprovision.deleteAfterDays }),
        stateAttribute: flattenExtensionAttribute(
          users.deprovision?.stateAttribute ?? DEFAULT_DEPROVISION_STATE_ATTRIBUTE,
        ),
        ...(users.deprovision?.whenDisabled === undefined
          ? {}
          : { whenDisabled: users.deprovision.whenDisabled }),
      },
      createOnly: [...(users.createOnly ?? [])],
      ...(users.create === false ? { create: false as const } : {}),
      ...(users.manager === undefined ? {} : { manager: expression('users.manager') }),
      ...withOnboarding(onboardingSpec(users.onboarding, expression)),
    },
    groups: (config.groups ?? []).map((g, i): GroupSpec => {
      const path = `groups[${i}]`;
      return {
        configPath: path,
        key: g.key ?? groupSlug(g.name),
        name: g.foreach === undefined ? g.name : expression(`${path}.name`),
        ...(g.foreach === undefined ? {} : { foreach: expression(`${path}.foreach`) }),
        ...(g.members === undefined ? {} : { members: expression(`${path}.members`) }),
        ...(g.description === undefined ? {} : { description: g.description }),
        type: g.type ?? 'security',
        owners: [...(g.owners ?? [])],
        ...(g.membershipRule === undefined ? {} : { membershipRule: g.membershipRule }),
        ...(g.membershipRuleProcessingState === undefined
          ? {}
          : { membershipRuleProcessingState: g.membershipRuleProcessingState }),
        licenses: (g.licenses ?? []).map((l) => ({
          sku: l.sku,
          disabledPlans: [...(l.disabledPlans ?? [])],
        })),
        ...(g.memberGroups === undefined ? {} : { memberGroups: [...g.memberGroups] }),
      };
    }),
    licenses: (config.licenses ?? []).map((l, i): LicenseSpec => ({
      configPath: `licenses[${i}]`,
      sku: l.sku,
      disabledPlans: [...(l.disabledPlans ?? [])],
      ...(l.when === undefined ? {} : { when: expression(`licenses[${i}].when`) }),
      ...(l.group === undefined
        ? { assignBy: l.assignBy ?? 'direct' }
        : { assignBy: 'existing-group' as const, group: l.group.toLowerCase() }),
    })),
    safety: buildSafety(config.safety),
    approvals: NO_APPROVALS,
    ...writebackSpecs(config),
  };
}

function withOnboarding(
  onboarding: SyncSpec['users']['onboarding'],
): Pick<SyncSpec['users'], 'onboarding'> {
  return onboarding ? { onboarding } : {};
}

function writebackSpecs(config: Config): { writeback?: WritebackSpec[] } {
  const specs = buildWritebackSpecs(config.writeback, config.sources);
  return specs === undefined ? {} : { writeback: specs };
}

function buildSafety(safety: Config['safety']): SafetySpec {
  const threshold = (
    action: ThresholdAction,
    given: { count?: number; percent?: number } | undefined,
  ) => ({
    count: given?.count ?? DEFAULT_THRESHOLDS[action].count,
    percent: given?.percent ?? DEFAULT_THRESHOLDS[action].percent,
  });
  return {
    thresholds: {
      creates: threshold('creates', safety?.maxCreates),
      adoptions: threshold('adoptions', safety?.maxAdoptions),
      updates: threshold('updates', safety?.maxUpdates),
      enables: threshold('enables', safety?.maxEnables),
      disables: threshold('disables', safety?.maxDisables),
      deletes: threshold('deletes', safety?.maxDeletes),
      licenseRemovals: threshold('licenseRemovals', safety?.maxLicenseRemovals),
      membershipRemovals: threshold('membershipRemovals', safety?.maxMembershipRemovals),
      writebacks: threshold('writebacks', safety?.maxWritebacks),
    },
    minSourceRatio: safety?.minSourceRatio ?? DEFAULT_MIN_SOURCE_RATIO,
    protect: (safety?.protect ?? []).map((p) => p.toLowerCase()),
    allowPrivileged: (safety?.allowPrivileged ?? []).map((p) => p.toLowerCase()),
    requireApproval: (safety?.requireApproval ?? []) as ApprovalAction[],
    ...(safety?.maxClockSkew === undefined
      ? {}
      : { maxClockSkewMs: durationMs(safety.maxClockSkew) }),
    ...(safety?.onBlocked === undefined ? {} : { onBlocked: safety.onBlocked }),
  };
}

const DURATION_UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `5m` in ms; the schema checked the text (DURATION_PATTERN). */
function durationMs(text: string): number {
  const match = /^([0-9]+)(ms|s|m|h|d)$/.exec(text);
  if (!match) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  return Number(match[1]) * DURATION_UNIT_MS[match[2] as keyof typeof DURATION_UNIT_MS];
}

/**
 * sha256 (hex) of the canonical JSON of the validated config: keys sorted, defaults filled in,
 * secret references as their reference text (values are never resolved here), so the digest
 * changes exactly when the effective configuration does.
 */
export function configDigest(config: Config): string {
  // How and when entrasync runs (schedule, daemon, history) does not change what a plan does, so
  // changing a port or a cron line must not make a reviewed plan stale.
  const { schedule: _schedule, daemon: _daemon, history: _history, ...effective } = config;
  return createHash('sha256').update(canonicalJson(effective)).digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (isSecretRef(value)) return JSON.stringify(value.text);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
