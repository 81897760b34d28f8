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
    return new GraphError(
      400,
      'Request_BadRequest',
      `Another object with the same value for property ${name} already exists.`,
      [{ code: 'ObjectConflict', target: name }],
    );
  },
  passwordComplexity(): GraphError {
    return new GraphError(
      400,
      'Request_BadRequest',
      'The specified password does not comply with password complexity requirements. Please provide a different password.',
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
