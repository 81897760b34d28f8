/**
 * Options -> the settings one read works with: defaults applied, combinations checked,
 * selectors compiled, secret references resolved. Runs at the start of every `read()`, so
 * secrets are resolved when requests are about to be made (and not at all when the options are
 * already wrong), and an unset variable fails the source before any connection (M6).
 *
 * The schema cannot say everything: which options go with `api: scim`, that a credential must
 * not be written into the URL or a literal header, that http:// is for loopback only. Those
 * checks are here, each a `source.options` problem naming the option, never a value.
 */
import { ConfigError } from '../../engine/errors.js';
import type { SecretRef } from '../../engine/secret.js';
import type { ConnectorContext } from '../../engine/ports.js';
import type { ResolvedAuth } from './auth.js';
import type { RetrySettings } from './http-client.js';
import {
  DEFAULT_MAX_PAGES,
  DEFAULT_MAX_RETRY_AFTER_SECONDS,
  DEFAULT_PAGE_SIZE,
  DEFAULT_RETRY_ATTEMPTS,
  DEFAULT_RETRY_INITIAL_DELAY_MS,
  DEFAULT_RETRY_MAX_DELAY_MS,
  DEFAULT_TIMEOUT_SECONDS,
} from '../../config/sources/http-options.js';
import type { HttpSourceOptions } from '../../config/sources/http-options.js';
import type { ResolvedPaging } from './paging.js';
import { credentialsInUrl, isSensitiveHeader, isSensitiveParam, registerSecret } from './redact.js';
import { compileSelector } from './select.js';
import type { Selector } from './select.js';

export interface HttpSettings {
  readonly api: 'rest' | 'scim';
  readonly method: 'GET' | 'POST';
  /** Configured URL plus the SCIM filter; paging adds its parameters. */
  readonly base: URL;
  readonly key: Selector;
  readonly records?: Selector;
  readonly total?: Selector;
  readonly required: readonly Selector[];
  readonly paging: ResolvedPaging;
  readonly pageSize: number;
  readonly maxPages: number;
  readonly timeoutMs: number;
  readonly retry: RetrySettings;
  /** Request headers other than Authorization, secrets revealed. */
  readonly headers: Readonly<Record<string, string>>;
  /** Query parameters set on every request, secrets revealed. */
  readonly query: readonly (readonly [string, string])[];
  /** Query parameter names shown redacted whatever their name (their value was a reference). */
  readonly secretParams: ReadonlySet<string>;
  readonly body?: string;
  readonly auth: ResolvedAuth;
}

export type PrepareResult =
  | { readonly ok: true; readonly settings: HttpSettings }
  | { readonly ok: false; readonly code: string; readonly message: string };

type Value = string | SecretRef;

export function prepareSettings(
  name: string,
  options: HttpSourceOptions,
  context: ConnectorContext,
): PrepareResult {
  const problems: string[] = [];
  const at = (key: string) => `sources.${name}.${key}`;
  const api = options.api ?? 'rest';
  const method = options.method ?? 'GET';

  const base = parseUrl(options.url);
  if (!base) return optionsProblem(`\`${at('url')}\` is not a valid URL`);
  checkUrl(base, at('url'), options.allowInsecureHttp ?? false, problems);

  if (api === 'scim') {
    for (const key of ['records', 'paging', 'totalPath'] as const) {
      if (options[key] !== undefined) {
        problems.push(
          `\`${at(key)}\` does not apply with \`api: scim\`, which reads SCIM ListResponse pages`,
        );
      }
    }
  } else if (options.filter !== undefined) {
    problems.push(`\`${at('filter')}\` applies only with \`api: scim\``);
  }
  if (options.body !== undefined && method !== 'POST') {
    problems.push(`\`${at('body')}\` is sent only with \`method: POST\``);
  }

  for (const [header, value] of Object.entries(options.headers ?? {})) {
    const lower = header.toLowerCase();
    if (lower === 'authorization' && options.auth !== undefined) {
      problems.push(
        `\`${at(`headers.${header}`)}\` conflicts with \`${at('auth')}\`, which sets Authorization`,
      );
    } else if (isSensitiveHeader(header) && typeof value === 'string') {
      problems.push(
        `\`${at(`headers.${header}`)}\` carries a credential, so it must be a secret reference (\`\${env:NAME}\`), not text written in the config`,
      );
    }
  }
  for (const [param, value] of Object.entries(options.query ?? {})) {
    if (isSensitiveParam(param) && typeof value === 'string') {
      problems.push(
        `\`${at(`query.${param}`)}\` carries a credential, so it must be a secret reference (\`\${env:NAME}\`), not text written in the config`,
      );
    }
  }
  let tokenUrl: URL | undefined;
  if (options.auth?.method === 'oauth2') {
    tokenUrl = parseUrl(options.auth.tokenUrl);
    if (!tokenUrl) problems.push(`\`${at('auth.tokenUrl')}\` is not a valid URL`);
    else checkUrl(tokenUrl, at('auth.tokenUrl'), options.allowInsecureHttp ?? false, problems);
  }

  const compile = (text: string | undefined, key: string): Selector | undefined => {
    if (text === undefined) return undefined;
    const result = compileSelector(text, at(key));
    if (result.ok) return result.selector;
    problems.push(result.message);
    return undefined;
  };
  const key = compile(options.key, 'key');
  const records = compile(options.records ?? (api === 'scim' ? 'Resources' : undefined), 'records');
  const total = compile(
    options.totalPath ?? (api === 'scim' ? 'totalResults' : undefined),
    'totalPath',
  );
  const required = (options.requiredFields ?? []).flatMap((text, i) => {
    const s = compile(text, `requiredFields[${i}]`);
    return s ? [s] : [];
  });
  const paging = resolvePaging(options, api, compile);

  if (problems.length > 0 || !key || !paging) {
    return optionsProblem(problems.join('; '));
  }

  // Secrets last: nothing is resolved for options that are wrong anyway.
  const secretParams = new Set<string>();
  let headers: Record<string, string>;
  let query: [string, string][];
  let auth: ResolvedAuth;
  const reveal = (value: Value): string => {
    if (typeof value === 'string') return value;
    const secret = context.resolveSecret(value);
    registerSecret(context.redactor, secret.reveal());
    return secret.reveal();
  };
  try {
    headers = {
      accept: api === 'scim' ? 'application/scim+json, application/json' : 'application/json',
      'user-agent': 'entrasync',
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    };
    for (const [header, value] of Object.entries(options.headers ?? {})) {
      headers[header.toLowerCase()] = reveal(value);
    }
    query = Object.entries(options.query ?? {}).map(([param, value]) => {
      if (typeof value !== 'string') secretParams.add(param);
      return [param, reveal(value)];
    });
    auth = resolveAuth(options.auth, tokenUrl, reveal, context);
  } catch (err) {
    if (err instanceof ConfigError) {
      return { ok: false, code: 'source.secret', message: err.message };
    }
    throw err;
  }

  if (options.filter !== undefined) base.searchParams.set('filter', options.filter);
  const retry = options.retry ?? {};
  return {
    ok: true,
    settings: {
      api,
      method,
      base,
      key,
      ...(records ? { records } : {}),
      ...(total ? { total } : {}),
      required,
      paging,
      pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE,
      maxPages: options.maxPages ?? DEFAULT_MAX_PAGES,
      timeoutMs: (options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
      retry: {
        attempts: retry.attempts ?? DEFAULT_RETRY_ATTEMPTS,
        initialDelayMs: retry.initialDelayMs ?? DEFAULT_RETRY_INITIAL_DELAY_MS,
        maxDelayMs: retry.maxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS,
        maxRetryAfterSeconds: retry.maxRetryAfterSeconds ?? DEFAULT_MAX_RETRY_AFTER_SECONDS,
      },
      headers,
      query,
      secretParams,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      auth,
    },
  };
}

function optionsProblem(message: string): PrepareResult {
  return { ok: false, code: 'source.options', message };
}

function resolvePaging(
  options: HttpSourceOptions,
  api: 'rest' | 'scim',
  compile: (text: string | undefined, key: string) => Selector | undefined,
): ResolvedPaging | undefined {
  if (api === 'scim') return { style: 'scim' };
  const p = options.paging ?? { style: 'none' as const };
  const limit = (param: string | undefined) => (param === undefined ? {} : { limitParam: param });
  switch (p.style) {
    case 'none':
      return { style: 'none' };
    case 'next-link': {
      const path = compile(p.path, 'paging.path');
      return path && { style: 'next-link', path, ...limit(p.limitParam) };
    }
    case 'link-header':
      return { style: 'link-header', ...limit(p.limitParam) };
    case 'cursor': {
      const path = compile(p.path, 'paging.path');
      return path && { style: 'cursor', path, param: p.param ?? 'cursor', ...limit(p.limitParam) };
    }
    case 'offset':
      return {
        style: 'offset',
        offsetParam: p.offsetParam ?? 'offset',
        limitParam: p.limitParam ?? 'limit',
        start: p.start ?? 0,
      };
    case 'page':
      return {
        style: 'page',
        pageParam: p.pageParam ?? 'page',
        limitParam: p.limitParam ?? 'per_page',
        first: p.first ?? 1,
      };
  }
}

function resolveAuth(
  auth: HttpSourceOptions['auth'],
  tokenUrl: URL | undefined,
  reveal: (value: Value) => string,
  context: ConnectorContext,
): ResolvedAuth {
  const secret = (ref: SecretRef) => {
    const s = context.resolveSecret(ref);
    registerSecret(context.redactor, s.reveal());
    return s;
  };
  if (auth === undefined) return { method: 'none' };
  switch (auth.method) {
    case 'bearer':
      return { method: 'bearer', token: secret(auth.token) };
    case 'basic':
      return { method: 'basic', username: reveal(auth.username), password: secret(auth.password) };
    case 'oauth2':
      return {
        method: 'oauth2',
        // Checked by the caller before secrets are resolved.
        tokenUrl: tokenUrl as URL,
        clientId: reveal(auth.clientId),
        clientSecret: secret(auth.clientSecret),
        ...(auth.scope === undefined ? {} : { scope: auth.scope }),
        ...(auth.audience === undefined ? {} : { audience: auth.audience }),
        clientAuth: auth.clientAuth ?? 'basic',
      };
  }
}

function parseUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

function checkUrl(url: URL, key: string, allowInsecure: boolean, problems: string[]): void {
  const credentials = credentialsInUrl(url);
  if (credentials.length > 0) {
    problems.push(
      `\`${key}\` holds a credential (${credentials.join(', ')}); a config file ends up in git: put it in \`auth\`, \`headers\` or \`query\` as a secret reference`,
    );
  }
  if (url.protocol === 'http:' && !allowInsecure && !isLoopback(url.hostname)) {
    problems.push(
      `\`${key}\` uses http:// to ${url.hostname}: people's data and credentials would cross the network in clear text; use https://, or set \`allowInsecureHttp: true\``,
    );
  }
}

/** Loopback hosts, where http:// never leaves the machine. */
export function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    hostname === '::1' ||
    /^127(?:\.\d{1,3}){3}$/.test(hostname)
  );
}
