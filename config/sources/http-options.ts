import { Type, type Static } from '@sinclair/typebox';
import { SecretOrText, SecretReference, StringEnum } from '../schema-slots.js';

export const DEFAULT_PAGE_SIZE = 100;
export const DEFAULT_TIMEOUT_SECONDS = 30;
export const DEFAULT_MAX_PAGES = 10_000;
export const DEFAULT_RETRY_ATTEMPTS = 3;
export const DEFAULT_RETRY_INITIAL_DELAY_MS = 500;
export const DEFAULT_RETRY_MAX_DELAY_MS = 30_000;
export const DEFAULT_MAX_RETRY_AFTER_SECONDS = 120;

const HttpUrl = (description: string) =>
  Type.String({
    format: 'uri',
    pattern: '^[Hh][Tt][Tt][Pp][Ss]?://',
    patternErrorMessage: 'must be an http:// or https:// URL',
    description,
  });

/** A dotted path (`data.items`) or, for anything else, a JSONata expression. */
const Selector = (description: string) =>
  Type.String({
    minLength: 1,
    description: `${description} A dotted path (\`data.items\`, \`@odata.nextLink\`) is followed property by property; anything else is a JSONata expression.`,
  });

const LimitParam = (fallback: string | undefined, what: string) =>
  Type.Optional(
    Type.String({
      minLength: 1,
      ...(fallback === undefined ? {} : { default: fallback }),
      description: `Query parameter that carries \`pageSize\`${what}.${fallback === undefined ? ' Not sent when omitted.' : ''}`,
    }),
  );

const BearerAuth = Type.Object(
  {
    method: Type.Literal('bearer', { description: 'A static bearer token.' }),
    token: SecretReference(
      'The token, as a reference (`${env:HR_TOKEN}`); sent as `Authorization: Bearer <token>`.',
    ),
  },
  { additionalProperties: false, description: 'Bearer token authentication.' },
);

const BasicAuth = Type.Object(
  {
    method: Type.Literal('basic', { description: 'HTTP Basic authentication.' }),
    username: SecretOrText('User name, literal or a secret reference.'),
    password: SecretReference('Password, as a reference (`${env:HR_PASSWORD}`).'),
  },
  { additionalProperties: false, description: 'HTTP Basic authentication (RFC 7617).' },
);

const OAuth2ClientCredentials = Type.Object(
  {
    method: Type.Literal('oauth2', {
      description: 'OAuth 2.0 client credentials; the token is fetched, cached and refreshed.',
    }),
    tokenUrl: HttpUrl('Token endpoint of the authorization server.'),
    clientId: SecretOrText('Client id, literal or a secret reference.'),
    clientSecret: SecretReference('Client secret, as a reference (`${env:HR_CLIENT_SECRET}`).'),
    scope: Type.Optional(
      Type.String({ minLength: 1, description: 'Space-separated scopes to request, if any.' }),
    ),
    audience: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          '`audience` form field some servers (Auth0, Okta) require; not sent when omitted.',
      }),
    ),
    clientAuth: Type.Optional(
      StringEnum(['basic', 'body'] as const, {
        default: 'basic',
        description:
          'How the client authenticates to the token endpoint: `basic` (HTTP Basic, which RFC 6749 requires servers to support) or `body` (`client_id` and `client_secret` form fields).',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'OAuth 2.0 client credentials grant (RFC 6749 §4.4). The access token is cached until 60 s before `expires_in` and fetched again once after a 401.',
  },
);

const NoPaging = Type.Object(
  { style: Type.Literal('none', { description: 'One request returns every record.' }) },
  { additionalProperties: false, description: 'No paging.' },
);

const NextLinkPaging = Type.Object(
  {
    style: Type.Literal('next-link', {
      description: 'Each page names the URL of the next one in its body.',
    }),
    path: Selector('Where the next page URL is in the body; absent, null or "" ends the read.'),
    limitParam: LimitParam(undefined, ' on the first request (next links carry their own)'),
  },
  { additionalProperties: false, description: 'Next link in the response body.' },
);

const LinkHeaderPaging = Type.Object(
  {
    style: Type.Literal('link-header', {
      description: 'Each page names the next one in a `Link: <url>; rel="next"` header.',
    }),
    limitParam: LimitParam(undefined, ' on the first request (next links carry their own)'),
  },
  { additionalProperties: false, description: 'RFC 8288 `Link` header with `rel="next"`.' },
);

const CursorPaging = Type.Object(
  {
    style: Type.Literal('cursor', {
      description: 'Each page gives a cursor that the next request sends as a query parameter.',
    }),
    path: Selector('Where the cursor is in the body; absent, null, false or "" ends the read.'),
    param: Type.Optional(
      Type.String({
        minLength: 1,
        default: 'cursor',
        description: 'Query parameter that carries the cursor.',
      }),
    ),
    limitParam: LimitParam(undefined, ' on every request'),
  },
  { additionalProperties: false, description: 'Cursor paging.' },
);

const OffsetPaging = Type.Object(
  {
    style: Type.Literal('offset', {
      description:
        'Offset and limit query parameters; the offset advances by the records received, and an empty page ends the read.',
    }),
    offsetParam: Type.Optional(
      Type.String({ minLength: 1, default: 'offset', description: 'Offset query parameter.' }),
    ),
    limitParam: LimitParam('limit', ' on every request'),
    start: Type.Optional(
      Type.Integer({ minimum: 0, default: 0, description: 'Offset of the first record.' }),
    ),
  },
  { additionalProperties: false, description: 'Offset/limit paging.' },
);

const PagePaging = Type.Object(
  {
    style: Type.Literal('page', {
      description: 'A page number query parameter; an empty page ends the read.',
    }),
    pageParam: Type.Optional(
      Type.String({ minLength: 1, default: 'page', description: 'Page number query parameter.' }),
    ),
    limitParam: LimitParam('per_page', ' on every request'),
    first: Type.Optional(
      Type.Integer({ minimum: 0, default: 1, description: 'Number of the first page.' }),
    ),
  },
  { additionalProperties: false, description: 'Page-number paging.' },
);

export const HttpSourceOptions = Type.Object(
  {
    kind: Type.Literal('http', { description: 'A JSON REST or SCIM 2.0 API, e.g. an HR system.' }),
    url: HttpUrl(
      'URL of the first page. `http://` is refused except to a loopback address or with `allowInsecureHttp`. It must not hold credentials (user info, `?token=`): put them in `auth`, `headers` or `query` as secret references.',
    ),
    api: Type.Optional(
      StringEnum(['rest', 'scim'] as const, {
        default: 'rest',
        description:
          '`rest`: a JSON API described by `records`, `paging` and `totalPath`. `scim`: a SCIM 2.0 `/Users` endpoint: ListResponse pages by `startIndex`/`count`, `totalResults` checked, core and enterprise User schema known; `records`, `paging` and `totalPath` must then be left out.',
      }),
    ),
    key: Selector(
      'Field that identifies a person uniquely within this source (a string or number), e.g. `id`, `employeeNumber`. A record without one is left out and makes the source incomplete.',
    ),
    method: Type.Optional(
      StringEnum(['GET', 'POST'] as const, {
        default: 'GET',
        description:
          'HTTP method. GET requests are retried on transient failures; POST requests only on 429 (the server refused them unprocessed).',
      }),
    ),
    body: Type.Optional(
      Type.Unknown({ description: 'JSON body sent with `method: POST`, the same on every page.' }),
    ),
    headers: Type.Optional(
      Type.Record(
        Type.String({ minLength: 1 }),
        SecretOrText(
          'Header value. A header that carries a credential (`Authorization`, `Cookie`, a name with `token`, `key`, `secret` or `password`) must be a secret reference.',
        ),
        {
          description:
            'Extra request headers, sent on every page request (never to the OAuth token endpoint).',
        },
      ),
    ),
    query: Type.Optional(
      Type.Record(
        Type.String({ minLength: 1 }),
        SecretOrText(
          'Parameter value. A parameter that carries a credential (`api_key`, `token`, `sig`, ...) must be a secret reference; its value is redacted wherever the URL is shown.',
        ),
        {
          description:
            'Query parameters added to every page request, next links included (e.g. an API key the server expects in the URL).',
        },
      ),
    ),
    auth: Type.Optional(
      Type.Union([BearerAuth, BasicAuth, OAuth2ClientCredentials], {
        description: 'How requests authenticate; none when omitted.',
      }),
    ),
    records: Type.Optional(
      Selector(
        'Where the records are in each page body. When omitted the body itself must be the array (`rest`); `scim` always reads `Resources`.',
      ),
    ),
    requiredFields: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        default: [],
        description:
          'Dotted paths every record must have (not null): a record that lacks one is left out with an error and the source is incomplete, so a changed API shape never reads as people leaving.',
      }),
    ),
    paging: Type.Optional(
      Type.Union(
        [NoPaging, NextLinkPaging, LinkHeaderPaging, CursorPaging, OffsetPaging, PagePaging],
        {
          description:
            'How to get from one page to the next. Default `{ style: none }`; not allowed with `api: scim`, which pages by `startIndex`.',
        },
      ),
    ),
    pageSize: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10_000,
        default: DEFAULT_PAGE_SIZE,
        description:
          "Records to ask for per page, sent in the paging style's limit parameter (`count` for SCIM). A server may send fewer; paging never takes a short page for the last one.",
      }),
    ),
    totalPath: Type.Optional(
      Selector(
        'Where the page body declares the total number of records, if the API does. When it does, a read that ends with a different count, or a total that changes between pages, makes the source incomplete (S8). SCIM uses `totalResults`.',
      ),
    ),
    filter: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'SCIM filter sent as `filter=` (only with `api: scim`), e.g. `active eq true`.',
      }),
    ),
    timeoutSeconds: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 600,
        default: DEFAULT_TIMEOUT_SECONDS,
        description:
          'Time one request may take, headers and body; a timeout is retried like a 503.',
      }),
    ),
    maxPages: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: DEFAULT_MAX_PAGES,
        description:
          'Upper bound on requests for pages; reaching it with more pages announced makes the source incomplete.',
      }),
    ),
    retry: Type.Optional(
      Type.Object(
        {
          attempts: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: 10,
              default: DEFAULT_RETRY_ATTEMPTS,
              description: 'Retries after the first try of one request (0 disables retrying).',
            }),
          ),
          initialDelayMs: Type.Optional(
            Type.Integer({
              minimum: 0,
              default: DEFAULT_RETRY_INITIAL_DELAY_MS,
              description: 'First backoff delay; later delays grow exponentially, with jitter.',
            }),
          ),
          maxDelayMs: Type.Optional(
            Type.Integer({
              minimum: 0,
              default: DEFAULT_RETRY_MAX_DELAY_MS,
              description: 'Longest backoff delay when the server sends no `Retry-After`.',
            }),
          ),
          maxRetryAfterSeconds: Type.Optional(
            Type.Number({
              minimum: 0,
              default: DEFAULT_MAX_RETRY_AFTER_SECONDS,
              description:
                'Longest `Retry-After` (seconds or HTTP date) that is waited out. A longer one is never cut short: the read fails instead, naming the wait asked for.',
            }),
          ),
        },
        {
          additionalProperties: false,
          description:
            'Bounded retries with exponential backoff on 408, 429, 500, 502, 503, 504, timeouts and network errors, honouring `Retry-After`.',
        },
      ),
    ),
    allowInsecureHttp: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'Allow `http://` to a host other than loopback. Personal data and credentials then cross the network in clear text.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'An HR system over HTTP: a JSON REST API or a SCIM 2.0 endpoint, read page by page. A page that is not what was expected (HTML, an error object, a repeated cursor, a 5xx after retries, a count that disagrees with the declared total) fails the source or makes it incomplete; it is never read as a shorter list.',
  },
);
export type HttpSourceOptions = Static<typeof HttpSourceOptions>;
export type HttpAuthOptions = NonNullable<HttpSourceOptions['auth']>;
export type HttpPagingOptions = NonNullable<HttpSourceOptions['paging']>;
