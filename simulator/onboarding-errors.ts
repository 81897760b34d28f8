/**
 * Graph's errors for Temporary Access Pass methods, the authentication methods policy and
 * `sendMail` (the surfaces new hires' onboarding uses), kept apart from errors.ts because they
 * come from other Graph workloads (the authentication methods service answers lowercase codes
 * such as `badRequest`; Exchange answers `Error…` codes). Each says where its text comes from;
 * texts the simulator had to invent say "simulator" (see README, "What differs").
 */
import { GraphError } from './errors.js';

export const onboardingErrors = {
  /**
   * TAP create while the policy is disabled or does not target the user. Text observed from
   * Entra (MicrosoftDocs/azure-docs#111778; client code matches on it); status and code chosen
   * (the authentication methods service's `badRequest`, as in the lifetime error).
   */
  tapNotAllowedByPolicy(): GraphError {
    return new GraphError(
      400,
      'badRequest',
      'Converged UserCredentialPolicy does not allow creating or updating this authentication method. AuthMethodType [TemporaryAccessPass].',
    );
  },
  /** Observed text and code (microsoftgraph/microsoft-graph-docs#12187). */
  tapLifetimeOutOfRange(minimum: number, maximum: number): GraphError {
    return new GraphError(
      400,
      'badRequest',
      `Invalid LifetimeInMinutes specified. The valid range between ${minimum} and ${maximum}.`,
    );
  },
  /** Observed text (client code matching Graph's answer); status and code chosen. */
  tapForGuest(): GraphError {
    return new GraphError(
      400,
      'badRequest',
      'Temporary Access Pass cannot be added to an external guest user.',
    );
  },
  /** Graph's answer to a start in the past is not documented: the simulator's own text. */
  tapStartInPast(): GraphError {
    return new GraphError(
      400,
      'badRequest',
      'The entrasync simulator refuses a startDateTime in the past (Graph does not document its answer).',
    );
  },
  /** The create page says a multi-use pass needs the policy to allow it; the wording is the simulator's. */
  tapMultiUseNotAllowed(): GraphError {
    return new GraphError(
      400,
      'badRequest',
      'The entrasync simulator refuses isUsableOnce false: the Temporary Access Pass policy allows one-time passes only.',
    );
  },
  /** A policy update the simulator cannot accept; Graph's texts are not documented. */
  invalidPolicy(detail: string): GraphError {
    return new GraphError(
      400,
      'badRequest',
      `The entrasync simulator refuses this Temporary Access Pass policy: ${detail}`,
    );
  },
  tapNotFound(id: string): GraphError {
    return new GraphError(
      404,
      'itemNotFound',
      `The entrasync simulator found no Temporary Access Pass method '${id}' for this user.`,
    );
  },
  /** Exchange's answer for a mailbox key that names no user (observed; see README). */
  invalidUser(key: string): GraphError {
    return new GraphError(404, 'ErrorInvalidUser', `The requested user '${key}' is invalid.`);
  },
  /** Exchange's answer for a user without an Exchange Online mailbox (observed; see README). */
  mailboxNotEnabled(): GraphError {
    return new GraphError(
      404,
      'MailboxNotEnabledForRESTAPI',
      'The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
    );
  },
  /** Exchange's text for a message without recipients (observed). */
  noRecipients(): GraphError {
    return new GraphError(
      400,
      'ErrorInvalidRecipients',
      "At least one recipient isn't valid., A message can't be sent because it contains no recipients.",
    );
  },
  /** Exchange's text for an address it cannot resolve (observed). */
  unresolvedRecipient(address: string): GraphError {
    return new GraphError(
      400,
      'ErrorInvalidRecipients',
      `At least one recipient is not valid., Recipient '${address}' is not resolved. All recipients must be resolved before a message can be submitted.`,
    );
  },
  /** `message` missing or not an object: Graph's wording is not documented. */
  invalidMessage(detail: string): GraphError {
    return new GraphError(
      400,
      'ErrorInvalidRequest',
      `The entrasync simulator refuses this sendMail request: ${detail}`,
    );
  },
};
