/**
 * Write-back to an LDAP directory or Active Directory (issue 26): one modify per record,
 * replacing the named attributes, over the same kind of connection the read uses (TLS first,
 * the certificate verified, then the bind; connection.ts). The bind is the source's own, or the
 * write bind `writeback.<source>.bindDn`/`password`, resolved only here, when apply writes.
 *
 * One session serves every write of the apply; it is opened at the first write. A session that
 * cannot be opened fails every write with the reason (bind refused, TLS, network), and a refused
 * modify fails its record only, with a line naming the DN and the LDAP result code
 * (`insufficientAccessRights (50)` when the bind may read but not write).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import type { LdapSourceOptions } from '../../config/sources/ldap-options.js';
import {
  DEFAULT_CONNECT_TIMEOUT_SECONDS,
  DEFAULT_TIMEOUT_SECONDS,
} from '../../config/sources/ldap-options.js';
import type { WritebackSourceConfig } from '../../config/writeback.js';
import type { WritebackChange, WritebackResult } from '../../engine/model/writeback.js';
import type { ConnectorContext, SourceWriter, WriterCheck } from '../../engine/ports.js';
import { PORT_API_VERSION } from '../../engine/ports.js';
import type { Secret } from '../../engine/secret.js';
import type { ConnectionSettings, Session } from './connection.js';
import { ConnectError, closeQuietly, openSession } from './connection.js';
import { describeFailure } from './result-codes.js';

type Opened =
  | { readonly ok: true; readonly session: Session }
  | { readonly ok: false; readonly code: string; readonly message: string };

export function createLdapWriteback(
  name: string,
  source: LdapSourceOptions,
  options: WritebackSourceConfig,
  context: ConnectorContext,
): SourceWriter {
  let opened: Promise<Opened> | undefined;
  const redact = (text: string) => context.redactor.redact(text);
  return {
    apiVersion: PORT_API_VERSION,
    source: name,
    async write(change: WritebackChange): Promise<WritebackResult> {
      const base = { changeId: change.id, source: name, key: change.record.key };
      const dn = change.record.dn;
      if (dn === undefined) {
        return {
          ...base,
          outcome: 'failed',
          error: {
            code: 'writeback.no-dn',
            message: `${name}:${change.record.key}: the plan names no DN for the record`,
          },
        };
      }
      opened ??= open(name, source, options, context);
      const session = await opened;
      if (!session.ok)
        return {
          ...base,
          outcome: 'failed',
          error: { code: session.code, message: redact(`${dn}: not written: ${session.message}`) },
        };
      try {
        await (session.session.client as Client).modify(
          dn,
          change.set.map(
            (s) =>
              new Change({
                operation: 'replace',
                modification: new Attribute({ type: s.field, values: [s.after] }),
              }),
          ),
        );
        return { ...base, outcome: 'applied' };
      } catch (err) {
        const failure = describeFailure(err);
        return {
          ...base,
          outcome: 'failed',
          error: {
            code: failure.resultCode === 50 ? 'writeback.access-denied' : 'writeback.ldap',
            message: redact(
              `${dn}: modify ${change.set.map((s) => s.field).join(', ')} refused: ${failure.text}`,
            ),
          },
        };
      }
    },
    async check(fields, sample) {
      opened ??= open(name, source, options, context);
      const session = await opened;
      if (!session.ok) {
        return {
          status: session.code === 'writeback.credentials' ? 'warn' : 'fail',
          message: redact(session.message),
        };
      }
      const bindDn = options.bindDn ?? source.bindDn ?? '';
      if (!session.session.rootDse?.activeDirectory || sample?.dn === undefined) {
        return {
          status: 'ok',
          message: `binds as ${JSON.stringify(bindDn)}; the directory does not say what it may write: the first apply proves it`,
        };
      }
      return effectiveRights(session.session, sample.dn, fields, bindDn);
    },
    async close() {
      const session = await opened;
      if (session?.ok) await closeQuietly(session.session.client);
    },
  };
}

/** Resolves the write credentials and opens the session; never throws. */
async function open(
  name: string,
  source: LdapSourceOptions,
  options: WritebackSourceConfig,
  context: ConnectorContext,
): Promise<Opened> {
  const bindDn = options.bindDn ?? source.bindDn;
  const passwordRef = options.bindDn !== undefined ? options.password : source.password;
  let password: Secret | undefined;
  try {
    password = passwordRef === undefined ? undefined : context.resolveSecret(passwordRef);
  } catch (err) {
    return {
      ok: false,
      code: 'writeback.credentials',
      message: `the write bind's password is not available: ${(err as Error).message}`,
    };
  }
  if (bindDn === undefined || password === undefined) {
    return {
      ok: false,
      code: 'writeback.credentials',
      message: `no bind to write with: give writeback.${name}.bindDn and password (or the source's own bindDn)`,
    };
  }
  const settings = await connectionSettings(source, bindDn, context.baseDir);
  if (!settings.ok) return settings;
  try {
    const session = await openSession(settings.settings, password, (o) => new Client(o));
    return { ok: true, session };
  } catch (err) {
    const failure =
      err instanceof ConnectError ? describeFailure(err.failure) : describeFailure(err);
    const step = err instanceof ConnectError ? err.step : 'connect';
    return {
      ok: false,
      code: step === 'bind' ? 'writeback.bind' : 'writeback.connect',
      message:
        step === 'bind'
          ? `bind as ${JSON.stringify(bindDn)} to ${source.url} failed: ${failure.text}`
          : `${step} with ${source.url} failed: ${failure.text}`,
    };
  }
}

/** The source's connection (transport, CA, server name, timeouts) with the write bind. */
async function connectionSettings(
  source: LdapSourceOptions,
  bindDn: string,
  baseDir: string,
): Promise<
  { ok: true; settings: ConnectionSettings } | { ok: false; code: string; message: string }
> {
  const bad = (message: string) => ({ ok: false as const, code: 'writeback.options', message });
  let url: URL;
  try {
    url = new URL(source.url);
  } catch {
    return bad(`url ${JSON.stringify(source.url)} is not a URL`);
  }
  const scheme = url.protocol.toLowerCase();
  const transport =
    scheme === 'ldaps:'
      ? 'ldaps'
      : (source.startTls ?? true)
        ? 'starttls'
        : source.allowInsecure
          ? 'cleartext'
          : undefined;
  if (transport === undefined) return bad(`refusing to write to ${source.url} without TLS`);
  let ca: Buffer | undefined;
  if (source.caFile !== undefined) {
    try {
      ca = await readFile(resolve(baseDir, source.caFile));
    } catch (err) {
      return bad(
        `cannot read caFile ${source.caFile}: ${(err as NodeJS.ErrnoException).code ?? 'read error'}`,
      );
    }
  }
  return {
    ok: true,
    settings: {
      url: `${scheme}//${url.host}`,
      host: url.hostname.replace(/^\[|\]$/g, ''),
      transport,
      ...(ca && { ca }),
      ...(source.tlsServerName !== undefined && { tlsServerName: source.tlsServerName }),
      bindDn,
      timeoutMs: (source.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
      connectTimeoutMs: (source.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS) * 1000,
    },
  };
}

/** Active Directory: the attributes the bind may write on `dn` (allowedAttributesEffective). */
async function effectiveRights(
  session: Session,
  dn: string,
  fields: readonly string[],
  bindDn: string,
): Promise<WriterCheck> {
  try {
    const { searchEntries } = await session.client.search(dn, {
      scope: 'base',
      attributes: ['allowedAttributesEffective'],
    });
    const raw = searchEntries[0]?.['allowedAttributesEffective'];
    const allowed = new Set(
      (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((v) =>
        v.toString().toLowerCase(),
      ),
    );
    const denied = fields.filter((f) => !allowed.has(f.toLowerCase()));
    return denied.length === 0
      ? {
          status: 'ok',
          message: `${JSON.stringify(bindDn)} may write ${fields.join(', ')} on ${dn}`,
        }
      : {
          status: 'fail',
          message: `${JSON.stringify(bindDn)} may not write ${denied.join(', ')} on ${dn} (allowedAttributesEffective): apply would fail with insufficientAccessRights (50)`,
        };
  } catch (err) {
    return {
      status: 'fail',
      message: `reading the write rights on ${dn} failed: ${describeFailure(err).text}`,
    };
  }
}
