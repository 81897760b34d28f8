/**
 * `users.onboarding` after the schema: the rules between its fields (config.onboarding), the
 * engine's `OnboardingSpec`, and the delivery settings the writer needs at apply time (the
 * sending mailbox, the template file, the webhook URL reference), which never enter a plan.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Document } from 'yaml';
import { ConfigError } from '../engine/errors.js';
import type { Expression } from '../engine/expr/jsonata.js';
import type { Diagnostic } from '../engine/model/diagnostic.js';
import type { OnboardingSpec } from '../engine/model/spec.js';
import type { DeliveryTemplate } from '../engine/render/onboarding-template.js';
import { parseDeliveryTemplate } from '../engine/render/onboarding-template.js';
import type { SourceLocator } from './diagnostics.js';
import { configError, positionOfKey, positionOfValue } from './diagnostics.js';
import type { OnboardingConfig } from './onboarding-schema.js';
import {
  DEFAULT_ONBOARDING_STATE_ATTRIBUTE,
  DEFAULT_TAP_LIFETIME,
  TAP_MAX_MINUTES,
  TAP_MIN_MINUTES,
  lifetimeMinutes,
} from './onboarding-schema.js';
import type { SecretRef } from './secrets.js';

const AT = ['users', 'onboarding'] as const;

/** The rules between `users.onboarding`'s fields, each at the key it is about. */
export function onboardingDiagnostics(
  config: Record<string, unknown>,
  doc: Document,
  locator: SourceLocator,
): Diagnostic[] {
  const users = objectAt(config, 'users');
  const onboarding = users?.['onboarding'];
  if (typeof onboarding !== 'object' || onboarding === null) return [];
  const o = onboarding as Record<string, unknown>;
  const out: Diagnostic[] = [];
  const error = (key: string[], message: string, at: 'key' | 'value' = 'key') =>
    out.push(
      configError(
        'config.onboarding',
        message,
        [...AT, ...key],
        (at === 'key' ? positionOfKey : positionOfValue)(doc, locator, [...AT, ...key]),
      ),
    );
  const credential = o['credential'];
  const delivery = o['delivery'] as Record<string, unknown> | undefined;
  if ((credential === 'tap' || credential === 'password') && delivery === undefined) {
    error(
      ['credential'],
      `\`users.onboarding.credential: ${credential}\` needs \`users.onboarding.delivery\`: a credential nobody receives is an account nobody can use`,
    );
  }
  if (credential === 'none' && delivery !== undefined) {
    error(
      ['delivery'],
      '`users.onboarding.credential: none` has nothing to deliver; remove `delivery`',
    );
  }
  for (const key of ['lifetime', 'usableOnce', 'startAt']) {
    if (o[key] !== undefined && credential !== 'tap') {
      error(
        [key],
        `\`users.onboarding.${key}\` is about a Temporary Access Pass: it needs \`credential: tap\``,
      );
    }
  }
  if (typeof o['lifetime'] === 'string' && /^[0-9]+(m|h|d)$/.test(o['lifetime'])) {
    const minutes = lifetimeMinutes(o['lifetime']);
    if (minutes < TAP_MIN_MINUTES || minutes > TAP_MAX_MINUTES) {
      error(
        ['lifetime'],
        `\`users.onboarding.lifetime\` ${o['lifetime']} is outside what Graph allows for a Temporary Access Pass (10m to 30d)`,
        'value',
      );
    }
  }
  if (credential === 'tap' || credential === 'password') {
    const state = String(o['stateAttribute'] ?? DEFAULT_ONBOARDING_STATE_ATTRIBUTE);
    const taken: [string, unknown][] = [
      [
        'target.marker.attribute',
        objectAt(objectAt(config, 'target'), 'marker')?.['attribute'] ?? 'extensionAttribute15',
      ],
      [
        'users.deprovision.stateAttribute',
        objectAt(users, 'deprovision')?.['stateAttribute'] ?? 'extensionAttribute14',
      ],
      ['users.anchorAttribute', users?.['anchorAttribute']],
    ];
    const clash = taken.find(([, v]) => v === state);
    const mapped = Object.keys(objectAt(users, 'attributes') ?? {}).includes(
      `onPremisesExtensionAttributes.${state}`,
    );
    if (clash || mapped) {
      error(
        o['stateAttribute'] === undefined ? ['credential'] : ['stateAttribute'],
        `\`users.onboarding.stateAttribute\` \`${state}\` is already ${clash ? `\`${clash[0]}\`` : 'mapped in `users.attributes`'}: pick another extension attribute`,
      );
    }
  }
  if (delivery) {
    const to = delivery['to'] ?? 'manager';
    if (to === 'manager' && users?.['manager'] === undefined) {
      error(
        ['delivery', 'to'],
        '`users.onboarding.delivery.to: manager` needs `users.manager`: without it no new hire has a manager to receive the credential',
        delivery['to'] === undefined ? 'key' : 'value',
      );
    }
    for (const [key, wanted] of [
      ['sponsor', 'sponsor'],
      ['address', 'personal'],
    ] as const) {
      if (to === wanted && delivery[key] === undefined) {
        error(
          ['delivery', 'to'],
          `\`users.onboarding.delivery.to: ${wanted}\` needs \`delivery.${key}\`, the expression giving the address`,
          'value',
        );
      }
      if (to !== wanted && delivery[key] !== undefined) {
        error(
          ['delivery', key],
          `\`users.onboarding.delivery.${key}\` is used only with \`to: ${wanted}\``,
        );
      }
    }
  }
  return out;
}

/** The engine's view; undefined without onboarding or with `credential: none`. */
export function onboardingSpec(
  onboarding: OnboardingConfig | undefined,
  expression: (configPath: string) => Expression,
): OnboardingSpec | undefined {
  if (!onboarding || onboarding.credential === 'none' || !onboarding.delivery) return undefined;
  const { delivery } = onboarding;
  const to = delivery.to ?? 'manager';
  const addressKey = to === 'sponsor' ? 'sponsor' : to === 'personal' ? 'address' : undefined;
  return {
    credential: onboarding.credential,
    stateAttribute: `onPremisesExtensionAttributes.${onboarding.stateAttribute ?? DEFAULT_ONBOARDING_STATE_ATTRIBUTE}`,
    ...(onboarding.credential === 'tap'
      ? {
          tap: {
            lifetimeInMinutes: lifetimeMinutes(onboarding.lifetime ?? DEFAULT_TAP_LIFETIME),
            isUsableOnce: onboarding.usableOnce ?? false,
            ...(onboarding.startAt === undefined
              ? {}
              : { startAt: expression('users.onboarding.startAt') }),
          },
        }
      : {}),
    delivery: {
      channel: delivery.via,
      to,
      ...(addressKey ? { address: expression(`users.onboarding.delivery.${addressKey}`) } : {}),
      ...(delivery.via === 'email' ? { mailbox: delivery.from } : {}),
    },
  };
}

/** What the writer needs to deliver, beyond the plan: read at apply (and checked at plan). */
export type DeliverySettings =
  | {
      readonly channel: 'email';
      /** userPrincipalName of the sending mailbox. */
      readonly from: string;
      readonly template: DeliveryTemplate;
    }
  | {
      readonly channel: 'webhook';
      /** Unresolved: resolved (and registered with the redactor) when the writer is made. */
      readonly url: SecretRef;
      readonly includeCredential: boolean;
    };

/**
 * The delivery settings of a config, the template file read and checked; undefined without an
 * onboarding step. A missing or malformed template is a ConfigError naming the file.
 */
export async function loadDeliverySettings(
  onboarding: OnboardingConfig | undefined,
  baseDir: string,
): Promise<DeliverySettings | undefined> {
  if (!onboarding || onboarding.credential === 'none' || !onboarding.delivery) return undefined;
  const delivery = onboarding.delivery;
  if (delivery.via === 'webhook') {
    return {
      channel: 'webhook',
      url: delivery.url,
      includeCredential: delivery.includeCredential ?? false,
    };
  }
  const file = resolve(baseDir, delivery.template);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw templateError(
      `cannot read the onboarding template \`${delivery.template}\` (${(err as NodeJS.ErrnoException).code ?? 'read error'})`,
    );
  }
  const parsed = parseDeliveryTemplate(text);
  if (!parsed.ok)
    throw templateError(`onboarding template \`${delivery.template}\`: ${parsed.message}`);
  return { channel: 'email', from: delivery.from, template: parsed.template };
}

function templateError(message: string): ConfigError {
  return new ConfigError([
    {
      severity: 'error',
      code: 'config.onboarding-template',
      message,
      path: 'users.onboarding.delivery.template',
    },
  ]);
}

function objectAt(value: unknown, key: string): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const inner = (value as Record<string, unknown>)[key];
  return typeof inner === 'object' && inner !== null && !Array.isArray(inner)
    ? (inner as Record<string, unknown>)
    : undefined;
}
