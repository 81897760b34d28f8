/**
 * How entrasync authenticates to Microsoft Graph (`target.auth`), discriminated by `method`.
 * Microsoft's advice, strongest first: workload identity federation (no secret at all; GitHub
 * Actions OIDC), a managed identity (Azure-hosted runners), a certificate, and only then a client
 * secret. Every credential goes through `@azure/identity`; secrets are references
 * (`${env:…}`, `${file:…}`), never literals.
 */
import { Type, type Static } from '@sinclair/typebox';
import { SecretReference, StringEnum } from './schema-slots.js';

export const DEFAULT_FEDERATION_AUDIENCE = 'api://AzureADTokenExchange';

const SimulatorAuth = Type.Object(
  {
    method: Type.Literal('simulator', {
      description: 'The embedded simulated tenant: nothing leaves this machine.',
    }),
  },
  {
    additionalProperties: false,
    description: 'Use the embedded simulator as the tenant (see `target.simulator`).',
  },
);

const ClientSecretAuth = Type.Object(
  {
    method: Type.Literal('secret', {
      description: 'An app registration with a client secret.',
    }),
    clientSecret: SecretReference(
      'Client secret of the app registration, as a reference: `${env:NAME}` or `${file:path}`.',
    ),
  },
  {
    additionalProperties: false,
    description:
      'Client credentials with a client secret. Needs `target.tenantId` and `target.clientId`.',
  },
);

const CertificateAuth = Type.Object(
  {
    method: Type.Literal('certificate', {
      description: 'An app registration with a certificate (recommended over a secret).',
    }),
    certificate: SecretReference(
      'PEM holding the certificate and its private key, as a reference: `${file:path}` or `${env:NAME}`. The key signs a short-lived assertion per token and never leaves the process.',
    ),
    sendCertificateChain: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'Send the certificate chain (`x5c`) with each assertion, for subject-name/issuer authentication.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Client credentials with a certificate. Needs `target.tenantId` and `target.clientId`.',
  },
);

const WorkloadIdentityAuth = Type.Object(
  {
    method: Type.Literal('workload-identity', {
      description:
        'Workload identity federation: a token from another identity provider (GitHub Actions OIDC) is exchanged; no secret exists.',
    }),
    provider: StringEnum(['github-actions', 'file'] as const, {
      description:
        '`github-actions`: a fresh GitHub OIDC token for every assertion (the job needs `permissions: id-token: write`); `file`: the token in `tokenFile`, read again for every assertion (Kubernetes).',
    }),
    audience: Type.Optional(
      Type.String({
        minLength: 1,
        default: DEFAULT_FEDERATION_AUDIENCE,
        description: 'Audience the federated credential expects.',
      }),
    ),
    tokenFile: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'With `provider: file`: the file holding the federated token, relative to the config file. Default: the `AZURE_FEDERATED_TOKEN_FILE` environment variable.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Workload identity federation. Needs `target.tenantId` and `target.clientId` (the app registration with the federated credential).',
  },
);

const ManagedIdentityAuth = Type.Object(
  {
    method: Type.Literal('managed-identity', {
      description: 'The managed identity of the Azure resource entrasync runs on.',
    }),
    clientId: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Client id of a user-assigned managed identity; omitted: system-assigned.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'A managed identity: no secret, no `target.clientId` needed.',
  },
);

export const TargetAuth = Type.Union(
  [SimulatorAuth, ClientSecretAuth, CertificateAuth, WorkloadIdentityAuth, ManagedIdentityAuth],
  {
    description:
      'How entrasync authenticates to Microsoft Graph, chosen by `method`: `simulator`, `secret`, `certificate`, `workload-identity` or `managed-identity`.',
  },
);
export type TargetAuth = Static<typeof TargetAuth>;
export type AuthMethod = TargetAuth['method'];

/** Methods that authenticate as an app registration and so need `tenantId` and `clientId`. */
export const APP_REGISTRATION_METHODS: readonly AuthMethod[] = [
  'secret',
  'certificate',
  'workload-identity',
];

export const DEFAULT_WRITES_PER_SECOND = 20;
export const DEFAULT_WRITE_CONCURRENCY = 4;

export const WritesConfig = Type.Object(
  {
    perSecond: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 200,
        default: DEFAULT_WRITES_PER_SECOND,
        description:
          "Sustained writes per second for this app and tenant (Graph's ceiling is 3,000 per 150 s, i.e. 20). entrasync also slows down when Graph reports more than 80% of a limit used.",
      }),
    ),
    concurrency: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 16,
        default: DEFAULT_WRITE_CONCURRENCY,
        description: 'Batches of up to 20 writes in flight at once; halved while Graph throttles.',
      }),
    ),
  },
  { additionalProperties: false, description: 'Pacing of writes to Microsoft Graph.' },
);
export type WritesConfig = Static<typeof WritesConfig>;

// No schema default: a filled-in default would change every existing config's digest (and so
// every saved plan's); absent means `warn`.
export const ExcessPrivilege = StringEnum(['warn', 'refuse'] as const, {
  description:
    'What to do when the app holds more than entrasync needs (Directory.ReadWrite.All, any directory role): `warn` (when absent) or `refuse` to apply.',
});
