/**
 * Opening a connection the only safe way: TLS first (ldaps://, or StartTLS on ldap://), the
 * server certificate verified, then the bind. Nothing here falls back:
 *
 * - `ldap://` without StartTLS is refused before any socket is opened, unless the config says
 *   `allowInsecure: true` (X2);
 * - a server that refuses StartTLS, or a certificate that does not verify, fails the read: the
 *   connection is closed before the bind, so the password is never sent (X2);
 * - the password is revealed only as the argument of `bind` (X1).
 *
 * ldapts subtleties this relies on: the client connects lazily, so connection and certificate
 * errors surface from the first operation; `tlsOptions` given to the constructor would make an
 * `ldap://` URL use TLS from the first byte (not StartTLS), so they are passed only for ldaps://.
 * After an unexpected disconnect, ldapts reconnects on the next operation silently, without TLS
 * upgrade and without bind (autoRebind is off): `assertSession` catches that before each
 * operation, since an anonymous, cleartext search would return nothing with success.
 */
import { isIP } from 'node:net';
import { checkServerIdentity, connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import type { ConnectionOptions } from 'node:tls';
import { Client } from 'ldapts';
import type { ClientOptions } from 'ldapts';
import type { Secret } from '../../engine/secret.js';

export type Transport = 'ldaps' | 'starttls' | 'cleartext';

export interface ConnectionSettings {
  readonly url: string;
  readonly host: string;
  readonly transport: Transport;
  readonly ca?: Buffer;
  readonly tlsServerName?: string;
  readonly bindDn?: string;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
}

/** The subset of the ldapts client the source uses; a test double implements it. */
export type LdapClient = Pick<
  Client,
  'startTLS' | 'bind' | 'search' | 'searchPaginated' | 'unbind' | 'isConnected' | 'isBound'
>;

export type ClientFactory = (options: ClientOptions) => LdapClient;

export const createLdaptsClient: ClientFactory = (options) => new Client(options);

export class SessionLost extends Error {}

export type Step = 'connect' | 'starttls' | 'bind' | 'root-dse';

export class ConnectError extends Error {
  constructor(
    readonly step: Step,
    readonly failure: unknown,
  ) {
    super(`${step} failed`);
  }
}

export function tlsOptions(settings: ConnectionSettings): ConnectionOptions {
  const options: ConnectionOptions = {
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    host: settings.host,
  };
  if (settings.ca) options.ca = settings.ca;
  const name = settings.tlsServerName ?? settings.host;
  // SNI carries host names only (RFC 6066); the identity check uses `servername` when set.
  if (isIP(name) === 0) options.servername = name;
  if (settings.tlsServerName !== undefined) {
    const expected = settings.tlsServerName;
    // Node's own check, against the configured name instead of the URL host.
    options.checkServerIdentity = (_host, cert) => checkServerIdentity(expected, cert);
  }
  return options;
}

/** What the server says about itself (the root DSE), as far as the read needs it. */
export interface RootDse {
  readonly activeDirectory: boolean;
  readonly namingContexts: readonly string[];
  readonly defaultNamingContext?: string;
  readonly dnsHostName?: string;
  readonly highestCommittedUSN?: string;
  readonly pagedResults: boolean;
}

export interface Session {
  readonly client: LdapClient;
  readonly bound: boolean;
  /** True once the TLS layer of a StartTLS session closed (see `watchUpgradedSocket`). */
  readonly lost: () => boolean;
  /** Undefined when the server would not show its root DSE (an LDAP error, not a lost link). */
  readonly rootDse: RootDse | undefined;
}

const LDAP_CAP_ACTIVE_DIRECTORY_OID = '1.2.840.113556.1.4.800';
const PAGED_RESULTS_OID = '1.2.840.113556.1.4.319';

/**
 * Connects, upgrades, binds and reads the root DSE (which also makes an anonymous ldaps://
 * session connect here, so TLS failures surface as connection failures). Throws `ConnectError`
 * naming the step that failed; the client is closed on failure.
 */
export async function openSession(
  settings: ConnectionSettings,
  password: Secret | undefined,
  createClient: ClientFactory,
): Promise<Session> {
  const upgraded = { closed: false };
  const client = createClient({
    url: settings.url,
    timeout: settings.timeoutMs,
    connectTimeout: settings.connectTimeoutMs,
    ...(settings.transport === 'ldaps' ? { tlsOptions: tlsOptions(settings) } : {}),
    createSecureConnection: watchUpgradedSocket(upgraded),
  });
  let step: Step = 'connect';
  try {
    if (settings.transport === 'starttls') {
      step = 'starttls';
      await client.startTLS(tlsOptions(settings));
    }
    if (settings.bindDn !== undefined) {
      step = 'bind';
      // An empty password would be an "unauthenticated bind" (RFC 4513 5.1.2): a success that
      // reads as anonymous. Secrets are never empty (resolveSecret refuses that), but make sure.
      const secret = password?.reveal() ?? '';
      if (secret === '') throw new Error('no password to bind with');
      await client.bind(settings.bindDn, secret);
    }
    step = 'root-dse';
    const rootDse = await readRootDse(client);
    return { client, bound: settings.bindDn !== undefined, rootDse, lost: () => upgraded.closed };
  } catch (err) {
    // ldaps:// connects inside the first operation: a failure there before the socket was up
    // is a connect failure.
    const failedStep =
      (step === 'bind' || step === 'root-dse') && !client.isConnected ? 'connect' : step;
    await closeQuietly(client);
    throw new ConnectError(failedStep, err);
  }
}

async function readRootDse(client: LdapClient): Promise<RootDse | undefined> {
  let entry;
  try {
    const result = await client.search('', {
      scope: 'base',
      filter: '(objectClass=*)',
      attributes: [
        'supportedCapabilities',
        'supportedControl',
        'namingContexts',
        'defaultNamingContext',
        'dnsHostName',
        'highestCommittedUSN',
      ],
    });
    entry = result.searchEntries[0];
  } catch (err) {
    // A lost connection or TLS failure is the caller's business; a refusal to show the root
    // DSE is not fatal (the read then assumes a plain LDAP directory).
    if (!client.isConnected) throw err;
    return undefined;
  }
  if (!entry) return undefined;
  const list = (name: string): string[] => {
    const v = entry[name];
    return (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((x) => x.toString());
  };
  const one = (name: string): string | undefined => list(name)[0];
  const dnsHostName = one('dnsHostName');
  const defaultNamingContext = one('defaultNamingContext');
  const highestCommittedUSN = one('highestCommittedUSN');
  return {
    activeDirectory: list('supportedCapabilities').includes(LDAP_CAP_ACTIVE_DIRECTORY_OID),
    namingContexts: list('namingContexts'),
    pagedResults: list('supportedControl').includes(PAGED_RESULTS_OID),
    ...(dnsHostName !== undefined && { dnsHostName }),
    ...(defaultNamingContext !== undefined && { defaultNamingContext }),
    ...(highestCommittedUSN !== undefined && { highestCommittedUSN }),
  };
}

/**
 * ldapts listens for `close` on the plain socket only. After StartTLS the TLS socket replaces it
 * and the plain one never reports the connection dropping, so a request in flight would wait for
 * its timeout (120 s by default) and the client would still claim to be connected. This factory
 * (ldapts' `createSecureConnection` seam, also used for ldaps://) passes the TLS socket's `close`
 * on to the plain socket, which makes ldapts reject what is pending at once, and records it.
 */
function watchUpgradedSocket(state: { closed: boolean }): typeof tlsConnect {
  return ((...args: unknown[]): TLSSocket => {
    const secure = (tlsConnect as (...a: unknown[]) => TLSSocket)(...args);
    const first = args[0];
    // StartTLS passes the connection to upgrade as `socket`; ldaps:// passes port and host.
    const plain =
      typeof first === 'object' && first !== null ? (first as ConnectionOptions).socket : undefined;
    if (plain) {
      let plainClosed = false;
      plain.once('close', () => {
        plainClosed = true;
      });
      secure.once('close', () => {
        state.closed = true;
        if (!plainClosed) plain.emit('close', false);
      });
    }
    return secure;
  }) as typeof tlsConnect;
}

/** Throws `SessionLost` when the connection dropped (or lost its bind) since it was opened. */
export function assertSession(session: Session): void {
  if (session.lost() || !session.client.isConnected || (session.bound && !session.client.isBound)) {
    throw new SessionLost('the connection to the server was lost during the read');
  }
}

/** True when the connection is gone: nothing more can be read on it. */
export function sessionLost(session: Session): boolean {
  try {
    assertSession(session);
    return false;
  } catch {
    return true;
  }
}

/**
 * Unbinds and closes, best effort: the read's outcome is already decided. ldapts waits for the
 * unbind to be written, which on a connection that silently died can take until the operation
 * timeout, so the wait is capped.
 */
export async function closeQuietly(client: LdapClient): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.unbind(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, UNBIND_WAIT_MS);
      }),
    ]);
  } catch {
    // Nothing to do: the connection is being dropped either way.
  } finally {
    clearTimeout(timer);
  }
}

const UNBIND_WAIT_MS = 2_000;
