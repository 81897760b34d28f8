/**
 * `users.onboarding` (issue 23): what a new account gets so its person can sign in on day one,
 * and who receives it. Absent: today's behaviour, a random password with forced change that
 * nobody receives (an admin resets it), and no onboarding step in the plan.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ExpressionString, SecretReference, StringEnum } from './schema-slots.js';

/** `90m`, `8h`, `1d`: minutes, hours or days (a Temporary Access Pass lives 10 minutes to 30 days). */
export const LIFETIME_PATTERN = '^[1-9][0-9]*(m|h|d)$';

/** Graph's own bounds for `lifetimeInMinutes`; the tenant's policy narrows them (plan-time check). */
export const TAP_MIN_MINUTES = 10;
export const TAP_MAX_MINUTES = 43_200;

export const DEFAULT_TAP_LIFETIME = '8h';

export const DEFAULT_ONBOARDING_STATE_ATTRIBUTE = 'extensionAttribute13';
const STATE_ATTRIBUTES = Array.from({ length: 15 }, (_, i) => `extensionAttribute${i + 1}`);

const Recipient = StringEnum(['manager', 'sponsor', 'personal'] as const, {
  default: 'manager',
  description:
    "Who receives the credential: `manager` (the person's manager, `users.manager`; their `mail`, else their userPrincipalName), `sponsor` (the address `sponsor` gives) or `personal` (the address `address` gives, e.g. a private mail from HR). A new hire without one is held, with a plan error.",
});

const sponsor = Type.Optional(
  ExpressionString(
    "With `to: sponsor`: the sponsor's mail address, a JSONata expression over the person (e.g. `$hr.buddy_email`).",
  ),
);
const address = Type.Optional(
  ExpressionString(
    "With `to: personal`: the person's own address outside the tenant, a JSONata expression over the person (e.g. `$hr.private_email`).",
  ),
);

export const EmailDeliveryConfig = Type.Object(
  {
    via: Type.Literal('email', { description: 'sent through Graph `sendMail`' }),
    from: Type.String({
      minLength: 3,
      pattern: '^[^@\\s]+@[^@\\s]+$',
      description:
        'userPrincipalName of the mailbox that sends (needs `Mail.Send`; the plan checks it exists). The mail is not saved to its Sent Items.',
    }),
    to: Type.Optional(Recipient),
    sponsor,
    address,
    template: Type.String({
      minLength: 1,
      description:
        'Template file, relative to the config file: the first line `Subject: ...`, a blank line, then the body (plain text). Placeholders `{{name}}`, `{{upn}}`, `{{credential}}` (required), `{{startAt}}`, `{{expiresAt}}`, `{{manager}}`, `{{recipient}}`.',
    }),
  },
  { additionalProperties: false, description: 'Deliver by mail.' },
);

export const WebhookDeliveryConfig = Type.Object(
  {
    via: Type.Literal('webhook', { description: 'a JSON `POST` to `url`' }),
    url: SecretReference(
      'Where the notice is posted, as a secret reference (`${env:ONBOARDING_WEBHOOK}`): such URLs often carry a token.',
    ),
    to: Type.Optional(Recipient),
    sponsor,
    address,
    includeCredential: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'Put the credential itself in the posted JSON. Default `false`: the receiver gets the new hire, the credential kind, its validity and the recipient address, and hands out the credential its own way (e.g. by the manager requesting a new pass).',
      }),
    ),
  },
  { additionalProperties: false, description: 'Deliver by webhook.' },
);

export const OnboardingConfig = Type.Object(
  {
    credential: StringEnum(['tap', 'password', 'none'] as const, {
      description:
        '`tap` (recommended): a Temporary Access Pass, made after the account exists and has its manager; `password`: a new random password with forced change; `none`: nothing (federated or passwordless tenants; the create still carries a random password Graph requires, which nobody receives).',
    }),
    lifetime: Type.Optional(
      Type.String({
        pattern: LIFETIME_PATTERN,
        description:
          "With `tap`: how long the pass is valid, `90m`, `8h`, `1d` (Graph: 10 minutes to 30 days; the plan checks the tenant's policy limits). Default `8h`, the longest Entra's default policy allows.",
      }),
    ),
    usableOnce: Type.Optional(
      Type.Boolean({
        description:
          'With `tap`: the pass signs in once (the tenant policy may require it). Default `false`.',
      }),
    ),
    startAt: Type.Optional(
      ExpressionString(
        'With `tap`: when the pass becomes valid, a JSONata expression over the person giving an ISO 8601 date or date-time (e.g. `$hr.hire_date`; a date is that day at 00:00 UTC). Never in the past: an earlier (or empty) value means "at once", and the plan says so.',
      ),
    ),
    stateAttribute: Type.Optional(
      StringEnum(STATE_ATTRIBUTES, {
        default: DEFAULT_ONBOARDING_STATE_ATTRIBUTE,
        description:
          'Extension attribute that marks a new account awaiting its credential: set by the create, cleared once the credential is delivered. While it is set, each plan onboards the account again with a new credential (a failed delivery, an apply that stopped in between); the old pass is deleted first.',
      }),
    ),
    delivery: Type.Optional(
      Type.Union([EmailDeliveryConfig, WebhookDeliveryConfig], {
        description:
          'How the credential reaches a person. Required with `tap` and `password`: a credential nobody receives is an account nobody can use.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'What a new account gets so its person can sign in on day one, and who receives it. The credential exists only in memory between its creation and its delivery: never in a plan, journal, history, log or report. Absent: each new account gets a random password with forced change that nobody receives (the behaviour before onboarding existed).',
  },
);
export type OnboardingConfig = Static<typeof OnboardingConfig>;
export type EmailDeliveryConfig = Static<typeof EmailDeliveryConfig>;
export type WebhookDeliveryConfig = Static<typeof WebhookDeliveryConfig>;

/** `8h` in minutes; the schema checked the text (LIFETIME_PATTERN). */
export function lifetimeMinutes(text: string): number {
  const match = /^([0-9]+)(m|h|d)$/.exec(text);
  if (!match) throw new Error(`not a lifetime: ${JSON.stringify(text)}`);
  return Number(match[1]) * { m: 1, h: 60, d: 1440 }[match[2] as 'm' | 'h' | 'd'];
}
