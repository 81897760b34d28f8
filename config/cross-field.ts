/**
 * The config's cross-field rules: what the schema cannot say (a key a rule names must exist, a
 * secret where only a secret may stand, staged offboarding's days in order, ...), each as a
 * diagnostic at the offending node. Split from load.ts, which parses, validates and builds the
 * spec.
 */
import { type Document } from 'yaml';
import type { Diagnostic } from '../engine/model/diagnostic.js';
import { APP_REGISTRATION_METHODS } from './auth-schema.js';
import {
  dynamicGroupDiagnostics,
  existingGroupLicenseDiagnostics,
  groupKeyOf,
  nestingDiagnostics,
} from './group-checks.js';
import {
  configError,
  positionOfKey,
  positionOfParent,
  positionOfValue,
  type SourceLocator,
} from './diagnostics.js';
import { onboardingDiagnostics } from './onboarding.js';
import { suggest } from './schema-errors.js';
import {
  EXTENSION_ATTRIBUTES,
  flattenExtensionAttribute,
  type AnchorAttribute,
  type ExtensionAttributeName,
} from './schema.js';

export function crossFieldDiagnostics(
  value: unknown,
  doc: Document,
  locator: SourceLocator,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (!isObject(value)) return out;
  const target = asObject(value['target']);
  const sources = asObject(value['sources']);
  const join = asObject(value['join']);
  const users = asObject(value['users']);

  // join.primary
  const names = sources ? Object.keys(sources) : [];
  const primary = join?.['primary'];
  if (typeof primary === 'string' && sources && names.length > 0 && !names.includes(primary)) {
    const guess = suggest(primary, names);
    out.push(
      configError(
        'config.unknown-source',
        `\`join.primary\` names \`${primary}\`, which is not a source${guess ? `; did you mean \`${guess}\`?` : ''} (sources: ${names.map((n) => `\`${n}\``).join(', ')})`,
        ['join', 'primary'],
        positionOfValue(doc, locator, ['join', 'primary']),
      ),
    );
  }
  if (primary === undefined && names.length > 1) {
    out.push(
      configError(
        'config.missing-key',
        `\`join.primary\` is required with several sources (${names.map((n) => `\`${n}\``).join(', ')}): it names the source whose records define who exists`,
        ['join', 'primary'],
        join ? positionOfKey(doc, locator, ['join']) : positionOfKey(doc, locator, ['sources']),
      ),
    );
  }

  // join.link: existing sources other than the primary
  const link = asObject(join?.['link']);
  for (const name of Object.keys(link ?? {})) {
    if (sources && !names.includes(name)) {
      const guess = suggest(name, names);
      out.push(
        configError(
          'config.unknown-source',
          `\`join.link\` names \`${name}\`, which is not a source${guess ? `; did you mean \`${guess}\`?` : ''}`,
          ['join', 'link', name],
          positionOfKey(doc, locator, ['join', 'link', name]),
        ),
      );
    } else if (name === (primary ?? names[0])) {
      out.push(
        configError(
          'config.not-applicable',
          `\`join.link\` names the primary source \`${name}\`; link the other sources to it`,
          ['join', 'link', name],
          positionOfKey(doc, locator, ['join', 'link', name]),
        ),
      );
    }
  }

  // target: what each auth method needs
  const auth = asObject(target?.['auth']);
  const method = auth?.['method'];
  if (
    target &&
    typeof method === 'string' &&
    (APP_REGISTRATION_METHODS as readonly string[]).includes(method)
  ) {
    for (const key of ['tenantId', 'clientId']) {
      if (target[key] !== undefined) continue;
      out.push(
        configError(
          'config.missing-key',
          `missing required key \`${key}\` in \`target\`: required with \`auth.method: ${method}\``,
          ['target', key],
          positionOfParent(doc, locator, ['target']),
        ),
      );
    }
  }
  if (
    method === 'workload-identity' &&
    auth?.['tokenFile'] !== undefined &&
    auth['provider'] !== 'file'
  ) {
    out.push(
      configError(
        'config.not-applicable',
        '`target.auth.tokenFile` applies only with `provider: file`',
        ['target', 'auth', 'tokenFile'],
        positionOfKey(doc, locator, ['target', 'auth', 'tokenFile']),
      ),
    );
  }
  if (
    target &&
    typeof method === 'string' &&
    method !== 'simulator' &&
    target['simulator'] !== undefined
  ) {
    out.push(
      configError(
        'config.not-applicable',
        `\`target.simulator\` applies only with \`auth.method: simulator\` (the method is \`${method}\`)`,
        ['target', 'simulator'],
        positionOfKey(doc, locator, ['target', 'simulator']),
      ),
    );
  }

  // users: the anchor and the marker own their attributes
  const attributes = asObject(users?.['attributes']);
  const anchorAttribute = users?.['anchorAttribute'];
  const markerAttribute = asObject(target?.['marker'])?.['attribute'];
  const anchorPath =
    typeof anchorAttribute === 'string'
      ? flattenAnchorAttribute(anchorAttribute as AnchorAttribute)
      : undefined;
  const markerPath = isExtensionAttribute(markerAttribute)
    ? flattenExtensionAttribute(markerAttribute)
    : undefined;
  if (attributes && anchorPath && Object.hasOwn(attributes, anchorPath)) {
    out.push(
      configError(
        'config.conflict',
        `\`${anchorPath}\` is written from \`users.anchor\` (\`users.anchorAttribute: ${String(anchorAttribute)}\`); remove it from \`users.attributes\``,
        ['users', 'attributes', anchorPath],
        positionOfKey(doc, locator, ['users', 'attributes', anchorPath]),
      ),
    );
  }
  if (attributes && markerPath && Object.hasOwn(attributes, markerPath)) {
    out.push(
      configError(
        'config.conflict',
        `\`${markerPath}\` holds entrasync's managed marker (\`target.marker.attribute\`); map this value to another attribute or move the marker`,
        ['users', 'attributes', markerPath],
        positionOfKey(doc, locator, ['users', 'attributes', markerPath]),
      ),
    );
  }
  const marker = asObject(target?.['marker']);
  if (marker && marker['id'] !== undefined && marker['value'] !== undefined) {
    out.push(
      configError(
        'config.conflict',
        '`target.marker.value` is the whole marker value and `target.marker.id` makes it `entrasync:<id>`: set one of them',
        ['target', 'marker', 'value'],
        positionOfKey(doc, locator, ['target', 'marker', 'value']),
      ),
    );
  }
  if (anchorPath && markerPath && anchorPath === markerPath) {
    out.push(
      configError(
        'config.conflict',
        `\`users.anchorAttribute\` and \`target.marker.attribute\` are both \`${String(markerAttribute)}\`: the anchor and the managed marker need different attributes`,
        ['users', 'anchorAttribute'],
        positionOfValue(doc, locator, ['users', 'anchorAttribute']),
      ),
    );
  }

  out.push(
    ...deprovisionDiagnostics(
      asObject(users?.['deprovision']),
      { attributes, markerPath, anchorPath },
      doc,
      locator,
    ),
  );

  out.push(...onboardingDiagnostics(value, doc, locator));

  // groups: foreach needs a key; keys are unique (they become uniqueNames)
  const keys = new Map<string, number>();
  const groups = Array.isArray(value['groups']) ? (value['groups'] as unknown[]) : [];
  groups.forEach((group, i) => {
    const g = asObject(group);
    if (!g) return;
    if (g['foreach'] !== undefined && g['key'] === undefined) {
      out.push(
        configError(
          'config.missing-key',
          `missing required key \`key\` in \`groups[${i}]\`: a \`foreach\` group needs a stable key (its groups are \`<groupPrefix><key>-<value>\`)`,
          ['groups', i, 'key'],
          positionOfParent(doc, locator, ['groups', i]),
        ),
      );
      return;
    }
    const key = groupKeyOf(g);
    if (key === undefined) return;
    const first = keys.get(key);
    if (first !== undefined) {
      out.push(
        configError(
          'config.conflict',
          `\`groups[${i}]\` has the key \`${key}\` of \`groups[${first}]\`: two rules would manage one group (set \`key\`)`,
          ['groups', i],
          positionOfParent(doc, locator, ['groups', i]),
        ),
      );
    } else keys.set(key, i);
  });
  out.push(...nestingDiagnostics(groups, keys, doc, locator));
  out.push(...dynamicGroupDiagnostics(groups, keys, doc, locator));
  out.push(...existingGroupLicenseDiagnostics(value['licenses'], doc, locator));
  const licenses = Array.isArray(value['licenses']) ? (value['licenses'] as unknown[]) : [];
  const skus = new Map<string, number>();
  licenses.forEach((license, i) => {
    const sku = asObject(license)?.['sku'];
    if (typeof sku !== 'string') return;
    // One SKU may go to several existing groups; per group it is one rule too.
    const group = asObject(license)?.['group'];
    const key =
      typeof group === 'string' ? `${sku.toUpperCase()} ${group.toLowerCase()}` : sku.toUpperCase();
    const first = skus.get(key);
    if (first !== undefined) {
      out.push(
        configError(
          'config.conflict',
          `\`licenses[${i}]\` names \`${sku}\` like \`licenses[${first}]\`: one rule per SKU (combine the conditions with \`or\`)`,
          ['licenses', i, 'sku'],
          positionOfValue(doc, locator, ['licenses', i, 'sku']),
        ),
      );
    } else skus.set(key, i);
  });
  return out;
}

/**
 * users.deprovision: the state attribute is entrasync's own (not the marker, the anchor or a
 * mapped attribute); the stages run in order, for leavers and for `whenDisabled` alike.
 */
function deprovisionDiagnostics(
  deprovision: Record<string, unknown> | undefined,
  owned: {
    readonly attributes: Record<string, unknown> | undefined;
    readonly markerPath: string | undefined;
    readonly anchorPath: string | undefined;
  },
  doc: Document,
  locator: SourceLocator,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const { attributes, markerPath, anchorPath } = owned;
  const stateAttribute = deprovision?.['stateAttribute'];
  const statePath = isExtensionAttribute(stateAttribute)
    ? flattenExtensionAttribute(stateAttribute)
    : undefined;
  if (statePath && (statePath === markerPath || statePath === anchorPath)) {
    out.push(
      configError(
        'config.conflict',
        `\`users.deprovision.stateAttribute\` \`${String(stateAttribute)}\` is already the ${statePath === markerPath ? 'managed marker' : 'anchor'}; pick another extension attribute`,
        ['users', 'deprovision', 'stateAttribute'],
        positionOfValue(doc, locator, ['users', 'deprovision', 'stateAttribute']),
      ),
    );
  }
  if (attributes && statePath && Object.hasOwn(attributes, statePath)) {
    out.push(
      configError(
        'config.conflict',
        `\`${statePath}\` holds when entrasync disabled an account (\`users.deprovision.stateAttribute\`); map this value to another attribute or move the state attribute`,
        ['users', 'attributes', statePath],
        positionOfKey(doc, locator, ['users', 'attributes', statePath]),
      ),
    );
  }
  const removeAfter = deprovision?.['removeAccessAfterDays'];
  const deleteAfter = deprovision?.['deleteAfterDays'];
  if (
    typeof removeAfter === 'number' &&
    typeof deleteAfter === 'number' &&
    deleteAfter < removeAfter
  ) {
    out.push(
      configError(
        'config.conflict',
        `\`users.deprovision.deleteAfterDays\` (${deleteAfter}) is before \`removeAccessAfterDays\` (${removeAfter}): access is removed before the account is deleted`,
        ['users', 'deprovision', 'deleteAfterDays'],
        positionOfValue(doc, locator, ['users', 'deprovision', 'deleteAfterDays']),
      ),
    );
  }
  // whenDisabled: each stage defaults to the leavers' one; the order must hold all the same
  const when = asObject(deprovision?.['whenDisabled']);
  if (when) {
    const own = (key: string) => when[key] !== undefined;
    const remove = own('removeAccessAfterDays')
      ? when['removeAccessAfterDays']
      : (removeAfter ?? 0);
    const del = own('deleteAfterDays') ? when['deleteAfterDays'] : deleteAfter;
    if (typeof remove === 'number' && typeof del === 'number' && del < remove) {
      const key = own('deleteAfterDays') ? 'deleteAfterDays' : 'removeAccessAfterDays';
      const path = ['users', 'deprovision', 'whenDisabled', key];
      out.push(
        configError(
          'config.conflict',
          `\`users.deprovision.whenDisabled\`: the account is deleted after ${del} day(s), before its access is removed after ${remove}`,
          path,
          positionOfValue(doc, locator, path),
        ),
      );
    }
  }
  if (
    deleteAfter !== undefined &&
    deprovision?.['action'] !== undefined &&
    deprovision['action'] !== 'disable'
  ) {
    out.push(
      configError(
        'config.not-applicable',
        `\`users.deprovision.deleteAfterDays\` applies only with \`action: disable\` (the action is \`${String(deprovision['action'])}\`)`,
        ['users', 'deprovision', 'deleteAfterDays'],
        positionOfKey(doc, locator, ['users', 'deprovision', 'deleteAfterDays']),
      ),
    );
  }

  return out;
}

export function isExtensionAttribute(value: unknown): value is ExtensionAttributeName {
  return typeof value === 'string' && (EXTENSION_ATTRIBUTES as readonly string[]).includes(value);
}

/** `employeeId` stays, `extensionAttribute3` becomes `onPremisesExtensionAttributes.extensionAttribute3`. */
export function flattenAnchorAttribute(attribute: AnchorAttribute): string {
  return isExtensionAttribute(attribute) ? flattenExtensionAttribute(attribute) : attribute;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asObject(value: unknown): Record<string, unknown> | undefined {
  return isObject(value) ? value : undefined;
}
