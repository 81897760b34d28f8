/**
 * Write-back to an HTTP source (issue 26): one PATCH per record. A SCIM source (`api: scim`)
 * gets a SCIM PatchOp (RFC 7644 §3.5.2, `replace` per attribute; the enterprise extension's
 * attributes, which the read lifts to the top level, by their full URN path) at
 * `<Users endpoint>/<id>`; any other source a JSON object of the fields at the URL
 * `writeback.<source>.url` gives (`{id}` replaced).
 *
 * The source's own settings carry over (headers, query parameters, TLS rules, timeouts, retries,
 * auth); `writeback.<source>.token` replaces the auth with a bearer token for writes only.
 * Secrets are resolved at the first write, so planning never needs them. A 4xx or 5xx fails its
 * record only, with a line naming the record key and the status.
 */
import type { HttpSourceOptions } from '../../config/sources/http-options.js';
import type { WritebackSourceConfig } from '../../config/writeback.js';
import type { WritebackChange, WritebackResult } from '../../engine/model/writeback.js';
import type { ConnectorContext, SourceWriter } from '../../engine/ports.js';
import { PORT_API_VERSION } from '../../engine/ports.js';
import { createAuthenticator } from './auth.js';
import type { Authenticator } from './auth.js';
import { createHttpClient } from './http-client.js';
import type { HttpClient } from './http-client.js';
import { describeErrorBody } from './http-source.js';
import type { HttpSettings } from './prepare.js';
import { prepareSettings } from './prepare.js';
import { redactUrl } from './redact.js';
import { SCIM_ENTERPRISE_USER, SCIM_ENTERPRISE_USER_ATTRIBUTES } from './scim.js';

export const SCIM_PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const MAX_RESPONSE_BYTES = 1024 * 1024;

interface Ready {
  readonly settings: HttpSettings;
  readonly client: HttpClient;
  readonly auth: Authenticator;
  readonly template: string;
}

type Opened =
  { readonly ok: true; readonly ready: Ready } | { readonly ok: false; readonly message: string };

export function createHttpWriteback(
  name: string,
  source: HttpSourceOptions,
  options: WritebackSourceConfig,
  context: ConnectorContext,
): SourceWriter {
  let opened: Opened | undefined;
  return {
    apiVersion: PORT_API_VERSION,
    source: name,
    async write(change: WritebackChange): Promise<WritebackResult> {
      const base = { changeId: change.id, source: name, key: change.record.key };
      const fail = (code: string, message: string): WritebackResult => ({
        ...base,
        outcome: 'failed',
        error: { code, message: context.redactor.redact(message) },
      });
      opened ??= prepare(name, source, options, context);
      if (!opened.ok)
        return fail(
          'writeback.credentials',
          `${name}:${change.record.key}: not written: ${opened.message}`,
        );
      const { settings, client, auth, template } = opened.ready;
      const id = change.record.id ?? change.record.key;
      const url = new URL(template.replace('{id}', encodeURIComponent(id)));
      for (const [param, value] of settings.query) url.searchParams.set(param, value);
      const shown = redactUrl(url, context.redactor, settings.secretParams);
      const scim = settings.api === 'scim';
      const body = scim
        ? scimPatch(change)
        : Object.fromEntries(change.set.map((s) => [s.field, s.after]));
      for (let tries = 0; ; tries++) {
        const authorization = await auth.authorization();
        if (!authorization.ok)
          return fail(
            'writeback.credentials',
            `${name}:${change.record.key}: ${authorization.message}`,
          );
        const outcome = await client.send({
          method: 'PATCH',
          url,
          headers: {
            ...settings.headers,
            'content-type': scim ? 'application/scim+json' : 'application/json',
            ...(authorization.header === undefined ? {} : { authorization: authorization.header }),
          },
          body: JSON.stringify(body),
        });
        if (!outcome.ok)
          return fail(
            'writeback.unreachable',
            `${name}:${change.record.key}: PATCH ${shown}: no answer: ${outcome.reason}`,
          );
        const status = outcome.response.status;
        if (status === 401 && tries === 0 && auth.invalidate()) continue;
        if (status >= 200 && status < 300) return { ...base, outcome: 'applied' };
        let detail: string | undefined;
        try {
          detail = describeErrorBody(JSON.parse(outcome.response.text));
        } catch {
          detail = undefined;
        }
        return fail(
          status === 401 || status === 403 ? 'writeback.access-denied' : 'writeback.http-status',
          `${name}:${change.record.key}: PATCH ${shown} answered HTTP ${status}${detail ? `: ${detail}` : ''}`,
        );
      }
    },
    async check() {
      opened ??= prepare(name, source, options, context);
      if (!opened.ok) return { status: 'warn', message: context.redactor.redact(opened.message) };
      return {
        status: 'ok',
        message: `write credentials resolve; PATCH ${redactUrl(opened.ready.template, context.redactor)} (an HTTP API does not say what it may write: the first apply proves it)`,
      };
    },
    async close() {
      if (opened?.ok) await opened.ready.client.close();
    },
  };
}

/** The SCIM PatchOp that replaces each field; enterprise attributes by their URN path. */
export function scimPatch(change: WritebackChange): Record<string, unknown> {
  return {
    schemas: [SCIM_PATCH_OP],
    Operations: change.set.map((s) => ({
      op: 'replace',
      path: SCIM_ENTERPRISE_USER_ATTRIBUTES.includes(s.field)
        ? `${SCIM_ENTERPRISE_USER}:${s.field}`
        : s.field,
      value: s.after,
    })),
  };
}

function prepare(
  name: string,
  source: HttpSourceOptions,
  options: WritebackSourceConfig,
  context: ConnectorContext,
): Opened {
  let prepared;
  try {
    prepared = prepareSettings(name, source, context);
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
  if (!prepared.ok) return { ok: false, message: prepared.message };
  let settings = prepared.settings;
  if (options.token !== undefined) {
    try {
      settings = {
        ...settings,
        auth: { method: 'bearer', token: context.resolveSecret(options.token) },
      };
    } catch (err) {
      return { ok: false, message: `the write token is not available: ${(err as Error).message}` };
    }
  }
  const collection = new URL(settings.base.href);
  collection.search = '';
  const template = options.url ?? `${collection.href.replace(/\/$/, '')}/{id}`;
  const client = createHttpClient({
    timeoutMs: settings.timeoutMs,
    retry: settings.retry,
    maxBodyBytes: MAX_RESPONSE_BYTES,
  });
  const show = (u: URL) => redactUrl(u, context.redactor, settings.secretParams);
  return {
    ok: true,
    ready: {
      settings,
      client,
      auth: createAuthenticator(settings.auth, client, context.redactor, show),
      template,
    },
  };
}
