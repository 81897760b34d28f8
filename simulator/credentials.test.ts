/**
 * The token endpoint as @azure/identity v4 calls it for the two secretless credentials:
 * ClientCertificateCredential (a PS256 client assertion signed by a registered certificate)
 * and ClientAssertionCredential (workload identity federation: an external OIDC token matched
 * against a federated identity credential). Permissions travel in the token and are enforced:
 * a read-only plan identity gets 403 on writes (catalogue X4).
 */
import { webcrypto } from 'node:crypto';
import 'reflect-metadata';
import { PemConverter, X509CertificateGenerator } from '@peculiar/x509';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, test } from 'vitest';
import {
  createClientAssertionCredential,
  createClientCertificateCredential,
  createGraphClient,
  graphScope,
} from '../connectors/entra/graph-client.js';
import { connection, graphFailure, newUser, simulator } from './test-helpers/simulator.js';

const GITHUB = 'https://token.actions.githubusercontent.com';
const PROD = 'repo:contoso/entrasync-config:environment:production';
const PULL_REQUEST = 'repo:contoso/entrasync-config:pull_request';
const WRITER_ID = 'a1a1a1a1-0000-4000-8000-000000000001';
const PLANNER_ID = 'b2b2b2b2-0000-4000-8000-000000000002';

/** A self-signed RSA certificate and its key, as one PEM (what ClientCertificateCredential reads). */
async function rsaCertificate(): Promise<{ certPem: string; combinedPem: string }> {
  const algorithm = {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const provider = webcrypto as unknown as NonNullable<
    Parameters<typeof X509CertificateGenerator.createSelfSigned>[1]
  >;
  const cert = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01',
      name: 'CN=entrasync test app',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      signingAlgorithm: algorithm,
      keys,
    },
    provider,
  );
  const keyPem = PemConverter.encode(
    await webcrypto.subtle.exportKey('pkcs8', keys.privateKey),
    'PRIVATE KEY',
  );
  const certPem = cert.toString('pem');
  return { certPem, combinedPem: `${keyPem}\n${certPem}\n` };
}

describe('client certificate credential', () => {
  test('the real ClientCertificateCredential gets a token and calls Graph', async () => {
    const { certPem, combinedPem } = await rsaCertificate();
    const other = await rsaCertificate();
    const sim = await simulator({
      throttling: false,
      clients: [{ clientId: WRITER_ID, roles: ['User.ReadWrite.All'], certificates: [certPem] }],
    });
    const conn = connection(sim);
    const graph = createGraphClient(
      conn,
      createClientCertificateCredential(conn, WRITER_ID, combinedPem),
    );
    await expect(graph.api('/users').post(newUser(1))).resolves.toMatchObject({
      userPrincipalName: 'user1@contoso.example',
    });
    expect(sim.requestLog.at(-1)).toMatchObject({ clientId: WRITER_ID, status: 201 });

    const unknown = createClientCertificateCredential(conn, WRITER_ID, other.combinedPem);
    await expect(unknown.getToken(graphScope(sim.origin))).rejects.toThrow(/AADSTS700027/);
    const log = JSON.stringify(sim.requestLog);
    expect(log).not.toContain('client_assertion=');
    expect(log).not.toContain('PRIVATE KEY');
  });
});

describe('workload identity federation', () => {
  test('ClientAssertionCredential with a GitHub-style OIDC token; a fresh assertion per token', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'gh-1', alg: 'RS256', use: 'sig' };
    const sim = await simulator({
      throttling: false,
      tokenLifetimeSeconds: 1,
      clients: [
        {
          clientId: WRITER_ID,
          roles: ['User.ReadWrite.All'],
          federatedCredentials: [{ issuer: GITHUB, subject: PROD, jwks: { keys: [jwk] } }],
        },
        {
          clientId: PLANNER_ID,
          roles: ['User.Read.All', 'GroupMember.Read.All'],
          federatedCredentials: [{ issuer: GITHUB, subject: PULL_REQUEST, jwks: { keys: [jwk] } }],
        },
      ],
    });
    let assertions = 0;
    const githubToken = (subject: string) => async (): Promise<string> => {
      assertions += 1;
      return new SignJWT({ repository: 'contoso/entrasync-config' })
        .setProtectedHeader({ alg: 'RS256', kid: 'gh-1' })
        .setIssuer(GITHUB)
        .setSubject(subject)
        .setAudience('api://AzureADTokenExchange')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
    };
    const conn = connection(sim);
    const writer = createGraphClient(
      conn,
      createClientAssertionCredential(conn, WRITER_ID, githubToken(PROD)),
    );
    await writer.api('/users').post(newUser(2));
    const afterFirst = assertions;
    expect(afterFirst).toBeGreaterThanOrEqual(1);
    // Tokens live 1 s here, so the next call needs a new token: getAssertion is called again.
    await writer.api('/users').select('id').get();
    expect(assertions).toBeGreaterThan(afterFirst);

    // X4: the pull-request identity can read but not write.
    const planner = createGraphClient(
      conn,
      createClientAssertionCredential(conn, PLANNER_ID, githubToken(PULL_REQUEST)),
    );
    await expect(planner.api('/users').select('id').get()).resolves.toMatchObject({
      value: [expect.anything()],
    });
    const denied = await graphFailure(planner.api('/users').post(newUser(3)));
    expect([denied.statusCode, denied.code]).toEqual([403, 'Authorization_RequestDenied']);

    // A pull-request token cannot act as the write identity (subject mismatch).
    const spoof = createClientAssertionCredential(conn, WRITER_ID, githubToken(PULL_REQUEST));
    await expect(spoof.getToken(graphScope(sim.origin))).rejects.toThrow(/AADSTS70021/);
    expect(JSON.stringify(sim.requestLog)).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });
});
