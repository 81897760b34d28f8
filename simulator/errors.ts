/**
 * Microsoft Graph's error responses. Every failure the Graph surface returns is a `GraphError`
 * thrown by a handler and rendered once, in the router, as
 * `{"error":{"code","message","innerError":{"date","request-id","client-request-id"},"details"?}}`
 * (https://learn.microsoft.com/graph/errors).
 *
 * Messages are Graph's own wording where it is documented or widely observed; the few the
 * simulator had to invent say "simulator" so they are never mistaken for Graph's (see README).
 */

export interface GraphErrorDetail {
  readonly code: string;
  readonly target?: string;
  readonly message?: string;
}

export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: readonly GraphErrorDetail[],
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = 'GraphError';
  }
}

export interface GraphErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly innerError: {
      readonly date: string;
      readonly 'request-id': string;
      readonly 'client-request-id': string;
    };
    readonly details?: readonly GraphErrorDetail[];
  };
}

export function graphErrorBody(
  error: GraphError,
  requestId: string,
  clientRequestId: string,
  now: Date = new Date(),
): GraphErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      innerError: {
        // Graph writes the date without fraction or zone designator: 2024-05-08T04:49:55.
        date: now.toISOString().slice(0, 19),
        'request-id': requestId,
        'client-request-id': clientRequestId,
      },
      ...(error.details === undefined ? {} : { details: error.details }),
    },
  };
}

// Graph's WWW-Authenticate challenge on 401 from graph.microsoft.com.
const GRAPH_CHALLENGE =
  'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"';

/** Factories for the errors the simulator returns, one place for every message text. */
export const graphErrors = {
  invalidToken(message: string): GraphError {
    return new GraphError(401, 'InvalidAuthenticationToken', message, undefined, {
      'WWW-Authenticate': GRAPH_CHALLENGE,
    });
  },
  insufficientPrivileges(): GraphError {
    return new GraphError(
      403,
      'Authorization_RequestDenied',
      'Insufficient privileges to complete the operation.',
    );
  },
  resourceNotFound(key: string): GraphError {
    return new GraphError(
      404,
      'Request_ResourceNotFound',
      `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
    );
  },
  segmentNotFound(segment: string): GraphError {
    return new GraphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);
  },
  invalidVersion(version: string): GraphError {
    return new GraphError(400, 'BadRequest', `Invalid version: ${version}`);
  },
  methodNotAllowed(): GraphError {
    return new GraphError(
      405,
      'Request_BadRequest',
      'Specified HTTP method is not allowed for the request target.',
    );
  },
  unreadableJson(): GraphError {
    return new GraphError(
      400,
      'BadRequest',
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
    );
  },
  payloadTooLarge(): GraphError {
    return new GraphError(413, 'Request_EntityTooLarge', 'The request payload is too large.');
  },
  unsupportedQueryOption(name: string): GraphError {
    return new GraphError(400, 'BadRequest', `The query parameter '${name}' is not supported.`);
  },
  duplicateQueryOption(name: string): GraphError {
    return new GraphError(
      400,
      'BadRequest',
      `Query option '${name}' was specified more than once, but it must be specified at most once.`,
    );
  },
  unknownSelectProperty(name: string, type: string): GraphError {
    return new GraphError(
      400,
      'BadRequest',
      `Could not find a property named '${name}' on type '${type}'.`,
    );
  },
  invalidTop(raw: string): GraphError {
    return new GraphError(
      400,
      'BadRequest',
      `Invalid value '${raw}' for $top query option found. The $top query option requires a non-negative integer value.`,
    );
  },
  pageSizeOutOfRange(raw: string): GraphError {
    return new GraphError(
      400,
      'Request_UnsupportedQuery',
      `Invalid page size specified: '${raw}'. Must be between 1 and 999 inclusive.`,
    );
  },
  invalidSkipToken(): GraphError {
    return new GraphError(
      400,
      'Request_BadRequest',
      'The $skiptoken value is not one the simulator issued.',
    );
  },
  notImplemented(feature: string): GraphError {
    return new GraphError(
      501,
      'NotImplemented',
      `The entrasync simulator does not implement ${feature}.`,
    );
  },
  invalidProperty(name: string): GraphError {
    return new GraphError(400, 'Request_BadRequest', `Invalid property '${name}'.`);
  },
  unknownComplexProperty(name: string, type: string): GraphError {
    return new GraphError(
      400,
      'BadRequest',
      `The property '${name}' does not exist on type '${type}'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
    );
  },
  readOnlyProperty(name: string): GraphError {
    return new GraphError(
      400,
      'Request_BadRequest',
      `Property '${name}' is read-only and cannot be set.`,
    );
  },
  /** `literal` is omitted for values that may be secret (passwords). */
  cannotConvert(edmType: string, literal: string | undefined): GraphError {
    return new GraphError(
      400,
      'BadRequest',
      literal === undefined
        ? `Cannot convert the value to the expected type '${edmType}'.`
        : `Cannot convert the literal '${literal}' to the expected type '${edmType}'.`,
    );
  },
  propertyRequired(name: string, resource: string): GraphError {
    return new GraphError(
      400,
      'Request_BadRequest',
      `A value is required for property '${name}' of resource '${resource}'.`,
    );
  },
  invalidValue(name: string, resource: string): GraphError {
    return new GraphError(
      400,
      'Request_BadRequest',
      `Invalid value specified for property '${name}' of resource '${resource}'.`,
      [{ code: 'InvalidValue', target: name }],
    );
  },
  objectConflict(name: string): GraphError {
    const message = `Another object with the same value for property ${name} already exists.`;
    // A proxyAddresses conflict's detail carries the message too, as observed
    // (microsoftgraph/microsoft-graph-docs-contrib#8421).
    return new GraphError(400, 'Request_BadRequest', message, [
      name === 'proxyAddresses'
        ? { code: 'ObjectConflict', message, target: name }
        : { code: 'ObjectConflict', target: name },
    ]);
  },
  /**
   * A userPrincipalName outside the tenant's verified domains (create or update). Observed
   * text (Graph's answer to POST/PATCH /users), not on a reference page.
   */
  unverifiedUpnDomain(): GraphError {
    return new GraphError(
      400,
      'Request_BadRequest',
      'The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.',
    );
  },
  passwordComplexity(): GraphError {
    return new GraphError(
      400,
      'Request_BadRequest',
      'The specified password does not comply with password complexity requirements. Please provide a different password.',
    );
  },
  invalidReference(reference: string): GraphError {
    return new GraphError(400, 'Request_BadRequest', `Invalid object identifier '${reference}'.`);
  },
  /** Adding a member (or owner) that is already there; Graph answers this for $ref and bind. */
  referenceExists(property: 'members' | 'owners'): GraphError {
    return new GraphError(
      400,
      'Request_BadRequest',
      `One or more added object references already exist for the following modified properties: '${property}'.`,
    );
  },
  /** A dynamic group's rule that does not parse; Graph's exact wording is not documented. */
  invalidMembershipRule(problem: string): GraphError {
    return new GraphError(
      400,
      'Request_BadRequest',
      `The entrasync simulator refuses this membershipRule: ${problem}.`,
    );
  },
  /** A member write to a dynamic group; Graph refuses it, with a wording not documented. */
  dynamicGroupMembers(): GraphError {
    return new GraphError(
      400,
      'Request_BadRequest',
      'The entrasync simulator refuses member writes to a dynamic group: its members come from its membershipRule, as in Entra.',
    );
  },
  /** Graph's answer to removing a group's last user owner (api group-delete-owners). */
  lastOwner(): GraphError {
    return new GraphError(
      400,
      'Request_BadRequest',
      'The group must have at least one owner, hence this owner cannot be removed.',
    );
  },
  tooManyReferences(): GraphError {
    // Graph documents the limit (20 per request) but not the wording; simulator's own text.
    return new GraphError(
      400,
      'Request_BadRequest',
      'The entrasync simulator allows at most 20 references in one request, as Graph documents.',
    );
  },
  countNotSupported(): GraphError {
    return new GraphError(400, 'Request_BadRequest', '$count is not currently supported.');
  },
  mailEnabledSecurityGroup(): GraphError {
    return new GraphError(
      400,
      'Request_BadRequest',
      'The service does not currently support writes of mail-enabled groups. Please ensure that the mail-enablement property is unset or set to false.',
    );
  },
  invalidUsageLocation(): GraphError {
    return new GraphError(
      400,
      'Request_BadRequest',
      'License assignment cannot be done for user with invalid usage location.',
    );
  },
  noAvailableLicenses(skuId: string): GraphError {
    return new GraphError(
      400,
      'Request_BadRequest',
      `Subscription with SKU ${skuId} does not have any available licenses.`,
    );
  },
  invalidLicense(skuId: string): GraphError {
    return new GraphError(
      400,
      'Request_BadRequest',
      `License ${skuId} does not correspond to a valid company License.`,
    );
  },
  /** Observed (not documented) answer to removing a group-inherited SKU with user assignLicense. */
  licenseInheritedFromGroup(): GraphError {
    return new GraphError(
      400,
      'Request_BadRequest',
      'User license is inherited from a group membership and it cannot be removed directly from the user.',
    );
  },
  licensedGroupNotSecurityEnabled(): GraphError {
    // Entra documents group-based licensing for security-enabled groups only; the wording of
    // Graph's refusal is not documented.
    return new GraphError(
      400,
      'Request_BadRequest',
      'The entrasync simulator assigns licenses only to security-enabled groups, as Entra documents for group-based licensing.',
    );
  },
  /** Microsoft.OData.Core's text for `$expand` of a structural property. */
  notNavigationProperty(name: string, type: string): GraphError {
    return new GraphError(
      400,
      'BadRequest',
      `Property '${name}' on type '${type}' is not a navigation property or complex property. Only navigation properties can be expanded.`,
    );
  },
  expandWithAdvancedQuery(): GraphError {
    // Documented as unsupported (advanced-queries page); the wording is not documented.
    return new GraphError(
      400,
      'Request_UnsupportedQuery',
      'The entrasync simulator refuses $expand with advanced queries (ConsistencyLevel: eventual and $count=true), which Graph documents as not supported.',
    );
  },
  nestedExpand(): GraphError {
    // Documented as unsupported for directory objects (one level of $expand); wording not documented.
    return new GraphError(
      400,
      'Request_UnsupportedQuery',
      'The entrasync simulator refuses nested $expand: Graph expands directory objects one level deep.',
    );
  },
  /** Graph's 429 body (throttling guidance page); `Retry-After` carries the wait. */
  throttled(
    retryAfterSeconds: number,
    extraHeaders: Readonly<Record<string, string>> = {},
  ): GraphError {
    return new GraphError(429, 'TooManyRequests', 'Please retry again later.', undefined, {
      'Retry-After': String(retryAfterSeconds),
      ...extraHeaders,
    });
  },
  serviceFault(status: number, retryAfterSeconds?: number): GraphError {
    const known: Record<number, [string, string]> = {
      500: ['UnknownError', 'An internal server error occurred.'],
      502: ['BadGateway', 'Bad Gateway.'],
      503: ['ServiceUnavailable', 'The service is currently unavailable.'],
      504: ['GatewayTimeout', 'The operation timed out.'],
    };
    const [code, message] = known[status] ?? ['UnknownError', 'An error occurred.'];
    return new GraphError(
      status,
      code,
      message,
      undefined,
      retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(retryAfterSeconds) },
    );
  },
  failedDependency(): GraphError {
    return new GraphError(424, 'FailedDependency', 'Failed dependency.');
  },
  invalidBatch(message: string): GraphError {
    return new GraphError(400, 'BadRequest', message);
  },
  deltaTokenExpired(): GraphError {
    // The delta-query overview names a 40X with code syncStateNotFound for expired tokens,
    // and 410 Gone with a Location header for "resync required"; the simulator answers both
    // at once: 410, syncStateNotFound, Location = the initial delta query.
    return new GraphError(
      410,
      'syncStateNotFound',
      'The delta token has expired. A full synchronization is required.',
    );
  },
  onPremisesMastered(): GraphError {
    return new GraphError(
      400,
      'Request_BadRequest',
      'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.',
    );
  },
};
