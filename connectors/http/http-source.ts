/**
 * The HTTP source: an HR system's JSON REST API or SCIM 2.0 `/Users` endpoint, read page by page.
 *
 * The one rule: a broken answer is never read as "everyone not on this list left". Every page
 * must be a JSON body of the expected shape, and the pages must chain without a loop to an
 * unambiguous end. Otherwise the snapshot says so, and nothing throws out of `read()`:
 *
 * - `failed`, no records: a page could not be fetched (a 5xx or a network error after the
 *   bounded retries, any other non-2xx, a redirect, a Retry-After longer than allowed); a 2xx
 *   body that is not JSON (an HTML maintenance page), is a JSON error object, or has no list of
 *   records where `records` points; a record that is not an object; a SCIM page that is not a
 *   ListResponse or ignores `startIndex`; a next link or cursor that repeats (a loop), a page
 *   identical to the one before (a server ignoring the offset), or a next link to another
 *   origin; bad options or an unresolvable secret. Records from earlier pages are dropped:
 *   `failed` means nothing trustworthy was read (engine/ports.ts).
 * - `incomplete`, records kept: a record without a key, without a required field, or (SCIM) not
 *   a User; a declared total (SCIM `totalResults`, or `totalPath`) that the records read do not
 *   match, or that changes between pages (S8); an error reported alongside records; `maxPages`
 *   reached with more announced. The safety layer then refuses every deprovisioning this source
 *   would cause.
 * - `complete` otherwise.
 *
 * Messages name the request as `GET <url> (page N)`, and a record as `record I` of that page.
 * URLs are shown redacted (redact.ts), and every message passes through the run's redactor.
 */
import { createHash } from 'node:crypto';
import type {
  SourceIssue,
  SourceObject,
  SourceRecord,
  SourceSnapshot,
} from '../../engine/model/source.js';
import { PORT_API_VERSION } from '../../engine/ports.js';
import type { ConnectorContext, SourceConnector } from '../../engine/ports.js';
import { createAuthenticator } from './auth.js';
import { createHttpClient } from './http-client.js';
import type { HttpResponse, SendOutcome } from './http-client.js';
import type { HttpSourceOptions } from '../../config/sources/http-options.js';
import { createPager, describeType } from './paging.js';
import { prepareSettings } from './prepare.js';
import type { HttpSettings, PrepareResult } from './prepare.js';
import { redactUrl, registerUrlSecrets, scrubServerText } from './redact.js';
import {
  SCIM_CORE_USER,
  SCIM_LIST_RESPONSE,
  SCIM_USER_FIELDS,
  describeScimError,
  flattenScimUser,
  isScimUser,
} from './scim.js';
import { isObject } from './select.js';
import type { Selector } from './select.js';

/** Per-record issues of one code beyond this many are summed up in one last issue. */
export const MAX_ISSUES_PER_CODE = 100;

/** A page body larger than this fails the source rather than exhaust memory. */
export const MAX_PAGE_BYTES = 64 * 1024 * 1024;

export function createHttpSource(
  name: string,
  options: HttpSourceOptions,
  context: ConnectorContext,
): SourceConnector {
  return {
    apiVersion: PORT_API_VERSION,
    kind: 'http',
    name,
    read: () => readHttp(name, options, context),
  };
}

/** A problem that ends the read: the source is failed. */
interface Stop {
  readonly code: string;
  readonly message: string;
  readonly url?: string;
}

async function readHttp(
  name: string,
  options: HttpSourceOptions,
  context: ConnectorContext,
): Promise<SourceSnapshot> {
  const { redactor } = context;
  const issues: SourceIssue[] = [];
  const issueCounts = new Map<string, number>();
  const records: SourceRecord[] = [];
  const fields = new Set<string>(options.api === 'scim' ? SCIM_USER_FIELDS : []);
  let incomplete = false;

  const snapshot = (status: SourceSnapshot['status']): SourceSnapshot => ({
    name,
    kind: 'http',
    status,
    fields: [...fields],
    records: status === 'failed' ? [] : records,
    issues: [...issues, ...overflowIssues(issueCounts)].map((i) => ({
      ...i,
      message: redactor.redact(i.message),
    })),
  });
  const fail = (stop: Stop): SourceSnapshot => {
    issues.push({
      severity: 'error',
      code: stop.code,
      message: stop.message,
      ...(stop.url === undefined ? {} : { location: { url: stop.url } }),
    });
    return snapshot('failed');
  };
  /** An issue that leaves the read going; an error makes the source incomplete. */
  const note = (issue: SourceIssue, capped = true): void => {
    if (issue.severity === 'error') incomplete = true;
    if (!capped) {
      issues.push(issue);
      return;
    }
    const n = (issueCounts.get(issue.code) ?? 0) + 1;
    issueCounts.set(issue.code, n);
    if (n <= MAX_ISSUES_PER_CODE) issues.push(issue);
  };

  let prepared: PrepareResult;
  try {
    prepared = prepareSettings(name, options, context);
  } catch (err) {
    return fail({ code: 'source.options', message: errorText(err) });
  }
  if (!prepared.ok) return fail({ code: prepared.code, message: prepared.message });
  const settings = prepared.settings;

  const client = createHttpClient({
    timeoutMs: settings.timeoutMs,
    retry: settings.retry,
    maxBodyBytes: MAX_PAGE_BYTES,
  });
  try {
    const stop = await readPages(settings, name, context, client, {
      note,
      fields,
      records,
    });
    if (stop) return fail(stop);
  } catch (err) {
    return fail({
      code: 'source.read-failed',
      message: `reading ${redactUrl(settings.base, redactor, settings.secretParams)} failed: ${errorText(err)}`,
    });
  } finally {
    await client.close();
  }
  return snapshot(incomplete ? 'incomplete' : 'complete');
}

interface Sink {
  note(issue: SourceIssue, capped?: boolean): void;
  readonly fields: Set<string>;
  readonly records: SourceRecord[];
}

async function readPages(
  settings: HttpSettings,
  name: string,
  context: ConnectorContext,
  client: ReturnType<typeof createHttpClient>,
  sink: Sink,
): Promise<Stop | undefined> {
  const show = (url: URL) => redactUrl(url, context.redactor, settings.secretParams);
  const auth = createAuthenticator(settings.auth, client, context.redactor, show);
  const pager = createPager(settings.paging, settings.base, settings.pageSize);
  const visited = new Map<string, number>();
  // Identity (SCIM `id`, else the key) -> page it was first read on.
  const pageOf = new Map<string, number>();
  // Paging by position (offset, page number, startIndex) over a list that changes while it is
  // read shows someone twice after an insert and skips someone after a removal, silently; a
  // record seen on two pages is the visible sign. Cursors and next links do not shift.
  const byPosition =
    settings.paging.style === 'offset' ||
    settings.paging.style === 'page' ||
    settings.paging.style === 'scim';
  let url = pager.first;
  let seen = 0;
  let declared: { readonly total: number; readonly url: string } | undefined;
  let previousDigest: string | undefined;

  for (let page = 1; ; page++) {
    for (const [param, value] of settings.query) url.searchParams.set(param, value);
    // A next link may carry a token the server handed out (`?access_token=`, `sig=`).
    registerUrlSecrets(context.redactor, url);
    const shown = show(url);
    const where = `${settings.method} ${shown} (page ${page})`;
    const stop = (code: string, message: string): Stop => ({
      code,
      message: `${where}: ${message}`,
      url: shown,
    });

    const earlier = visited.get(url.href);
    if (earlier !== undefined) {
      return stop(
        'source.paging-loop',
        `page ${page - 1} leads back to the URL of page ${earlier}; the ${settings.paging.style === 'cursor' ? 'cursor' : 'next link'} repeats, so reading on would loop`,
      );
    }
    visited.set(url.href, page);

    // ---- fetch, with one fresh OAuth token after a 401
    let outcome: SendOutcome;
    for (let tries = 0; ; tries++) {
      const authorization = await auth.authorization();
      if (!authorization.ok) return stop('source.auth', authorization.message);
      outcome = await client.send({
        method: settings.method,
        url,
        headers: {
          ...settings.headers,
          ...(authorization.header === undefined ? {} : { authorization: authorization.header }),
        },
        ...(settings.body === undefined ? {} : { body: settings.body }),
      });
      if (outcome.ok && outcome.response.status === 401 && tries === 0 && auth.invalidate()) {
        continue;
      }
      break;
    }
    if (!outcome.ok) {
      return stop(
        'source.unreachable',
        `no answer${attemptsText(outcome.attempts)}: ${outcome.reason}`,
      );
    }
    const response = outcome.response;
    const statusProblem = describeStatus(outcome, response, show, url);
    if (statusProblem) return stop('source.http-status', statusProblem);

    // ---- body
    const parsed = parseJson(response);
    if (!parsed.ok) return stop('source.not-json', parsed.message);
    const body = parsed.value;

    // ---- records and declared total
    let list: unknown[];
    let total: number | undefined;
    if (settings.api === 'scim') {
      const scim = readScimPage(body, url);
      if (!scim.ok) return stop(scim.code, scim.message);
      list = scim.resources;
      total = scim.total;
    } else {
      const rest = await readRestPage(body, settings);
      if (!rest.ok) return stop(rest.code, rest.message);
      list = rest.list;
      if (rest.alongside !== undefined) {
        sink.note(
          {
            severity: 'error',
            code: 'source.partial',
            message: `${where}: the page reports an error alongside its records (${rest.alongside}); some may be missing`,
            location: { url: shown },
          },
          false,
        );
      }
      if (settings.total) {
        const t = await readTotal(settings.total, body);
        if (!t.ok) {
          if (page === 1 || t.present) return stop('source.total', t.message);
        } else total = t.total;
      }
    }

    if (list.length > 0) {
      const digest = createHash('sha256').update(response.text).digest('base64');
      if (digest === previousDigest) {
        return stop(
          'source.paging-loop',
          `the page is identical to page ${page - 1}; the server ignores the paging parameters, so reading on would loop`,
        );
      }
      previousDigest = digest;
    }

    if (total !== undefined) {
      if (declared === undefined) declared = { total, url: shown };
      else if (total !== declared.total) {
        sink.note(
          {
            severity: 'error',
            code: 'source.total-changed',
            message: `${where}: the declared total changed from ${declared.total} to ${total} during the read; records may have shifted between pages and some may be missing`,
            location: { url: shown },
          },
          false,
        );
      }
    }

    // ---- each record
    for (let i = 0; i < list.length; i++) {
      const item = list[i];
      const at = `${where}, record ${i + 1}`;
      if (!isObject(item)) {
        return stop(
          'source.schema',
          `record ${i + 1} is ${describeType(item)}, not an object: the response does not have the expected shape`,
        );
      }
      if (settings.api === 'scim' && !isScimUser(item)) {
        sink.note({
          severity: 'error',
          code: 'source.schema',
          message: `${at}: not a SCIM User (its \`schemas\` do not include ${SCIM_CORE_USER}); it is left out and the source is incomplete`,
          location: { url: shown },
        });
        continue;
      }
      const fields: SourceObject =
        settings.api === 'scim' ? flattenScimUser(item) : (item as SourceObject);
      for (const field of Object.keys(fields)) sink.fields.add(field);

      const missing = await firstMissing(settings.required, fields);
      if (missing !== undefined) {
        sink.note({
          severity: 'error',
          code: 'source.missing-field',
          message: `${at}: required field \`${missing}\` is missing or null; the record is left out and the source is incomplete, so no account is deprovisioned while someone may be missing`,
          location: { url: shown },
        });
        continue;
      }

      const key = await readKey(settings.key, fields);
      if (!key.ok) {
        sink.note({
          severity: 'error',
          code: 'source.missing-key',
          message: `${at}: ${key.message}; the record is left out and the source is incomplete, so no account is deprovisioned while someone may be missing`,
          location: { url: shown },
        });
        continue;
      }
      const identity =
        settings.api === 'scim' && typeof item['id'] === 'string'
          ? `id:${item['id']}`
          : `key:${key.value}`;
      const firstPage = pageOf.get(identity);
      if (firstPage === undefined) pageOf.set(identity, page);
      else if (byPosition && firstPage !== page) {
        sink.note({
          severity: 'error',
          code: 'source.overlap',
          message: `${at}: ${identity.startsWith('id:') ? `SCIM id ${JSON.stringify(item['id'])}` : `key ${JSON.stringify(key.value)}`} was already read on page ${firstPage}: the list changed while it was read by position, so someone may have been skipped; the source is incomplete`,
          location: { url: shown },
          key: key.value,
        });
      } else {
        sink.note({
          severity: 'warning',
          code: 'source.duplicate-key',
          message: `${at}: key ${JSON.stringify(key.value)} was already read${firstPage === page ? ' on this page' : ` on page ${firstPage}`}`,
          location: { url: shown },
          key: key.value,
        });
      }
      sink.records.push({ source: name, key: key.value, fields, location: { url: shown } });
    }
    seen += list.length;

    // ---- next page
    const next = await pager.next({
      url,
      body,
      headers: response.headers,
      count: list.length,
      seen,
      ...(declared === undefined ? {} : { total: declared.total }),
    });
    if (next.kind === 'fail') return stop(next.code, next.message);
    if (next.kind === 'done') break;
    if (page >= settings.maxPages) {
      sink.note(
        {
          severity: 'error',
          code: 'source.max-pages',
          message: `${where}: stopped after \`maxPages\` (${settings.maxPages}) pages while the API announced more; the source is incomplete`,
          location: { url: shown },
        },
        false,
      );
      break;
    }
    url = next.url;
  }

  if (declared !== undefined && seen !== declared.total) {
    sink.note(
      {
        severity: 'error',
        code: 'source.count-mismatch',
        message: `${settings.method} ${declared.url}: the API declared ${declared.total} records${settings.api === 'scim' ? ' (`totalResults`)' : ` (\`${settings.total?.text ?? ''}\`)`}, but ${seen} were read; the source is incomplete, so nothing it would cause is deprovisioned`,
        location: { url: declared.url },
      },
      false,
    );
  }
  return undefined;
}

function describeStatus(
  outcome: Extract<SendOutcome, { ok: true }>,
  response: HttpResponse,
  show: (url: URL) => string,
  url: URL,
): string | undefined {
  const { status } = response;
  if (status >= 200 && status <= 299) return undefined;
  const attempts = attemptsText(outcome.attempts);
  if (status >= 300 && status <= 399) {
    const raw = response.headers['location'];
    const location = Array.isArray(raw) ? raw[0] : raw;
    let target = '';
    if (location !== undefined) {
      try {
        target = ` to ${show(new URL(location, url))}`;
      } catch {
        target = ' to an invalid URL';
      }
    }
    return `HTTP ${status} redirect${target}; redirects are not followed (the credentials would follow them): configure the URL it points to`;
  }
  const detail = errorDetail(response);
  if (outcome.retryAfterRefusedSeconds !== undefined) {
    return `HTTP ${status}${attempts}; the server asked to wait ${outcome.retryAfterRefusedSeconds} s (Retry-After), more than \`retry.maxRetryAfterSeconds\` allows, and a retry is never sent early${detail}`;
  }
  return `HTTP ${status}${attempts}${detail}`;
}

function attemptsText(attempts: number): string {
  return attempts > 1 ? ` after ${attempts} attempts` : '';
}

/** `: <what the error body says>` for a JSON error body, else a hint at the body's type. */
function errorDetail(response: HttpResponse): string {
  const parsed = parseJson(response);
  if (parsed.ok) {
    const said = describeErrorBody(parsed.value);
    return said === undefined ? '' : `: ${said}`;
  }
  const type = contentType(response);
  return type === '' ? '' : ` (${type} body)`;
}

type Parsed =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

/**
 * The body as JSON. A body labelled HTML or XML is refused even if it parses: it is a
 * maintenance or login page, whatever it contains.
 */
function parseJson(response: HttpResponse): Parsed {
  const type = contentType(response);
  const text = response.text;
  if (text.trim() === '') {
    return {
      ok: false,
      message: `HTTP ${response.status} with an empty body, where JSON was expected`,
    };
  }
  if (/html|xml/i.test(type)) {
    return {
      ok: false,
      message: `expected JSON but got ${type} (${snippet(text)}); it looks like a maintenance or login page, not the API`,
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return {
      ok: false,
      message: `the body is not valid JSON (${type === '' ? 'no content type' : type}; ${errorText(err)}): ${snippet(text)}`,
    };
  }
}

function contentType(response: HttpResponse): string {
  const raw = response.headers['content-type'];
  return ((Array.isArray(raw) ? raw[0] : raw) ?? '').split(';')[0]?.trim() ?? '';
}

/** The start of a body, on one line, for a message; the redactor runs over it later. */
function snippet(text: string): string {
  const flat = scrubServerText(text.replace(/\s+/g, ' ').trim());
  return JSON.stringify(flat.length > 80 ? `${flat.slice(0, 80)}…` : flat);
}

/**
 * What a JSON error object says: SCIM errors, `error` (string or object), a non-empty `errors`
 * list, `fault`, or `message`/`detail` with an error status. Undefined when the body does not
 * look like an error.
 */
export function describeErrorBody(body: unknown): string | undefined {
  if (!isObject(body)) return undefined;
  const scim = describeScimError(body);
  if (scim !== undefined) return clip(scim);
  const text = (v: unknown): string | undefined => {
    if (typeof v === 'string' && v !== '') return v;
    if (isObject(v)) {
      const parts = [v['code'], v['message'] ?? v['detail'] ?? v['description']].filter(
        (p) => typeof p === 'string' || typeof p === 'number',
      );
      return parts.length > 0 ? parts.join(': ') : JSON.stringify(v);
    }
    return undefined;
  };
  const error = body['error'];
  if (error !== undefined && error !== null && error !== false) {
    const description =
      typeof body['error_description'] === 'string' ? ` (${body['error_description']})` : '';
    return clip(`error ${text(error) ?? JSON.stringify(error)}${description}`);
  }
  const errors = body['errors'];
  if (Array.isArray(errors) && errors.length > 0) {
    return clip(
      `errors: ${errors
        .slice(0, 3)
        .map((e) => text(e) ?? JSON.stringify(e))
        .join('; ')}`,
    );
  }
  if (body['fault'] !== undefined) return clip(`fault ${text(body['fault']) ?? ''}`);
  const status = Number(body['status'] ?? body['statusCode'] ?? body['code']);
  const message = text(body['message'] ?? body['detail']);
  if (Number.isInteger(status) && status >= 400 && message !== undefined) {
    return clip(`status ${status}: ${message}`);
  }
  return undefined;
}

function clip(text: string): string {
  const flat = scrubServerText(text.replace(/\s+/g, ' ').trim());
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

type RestPage =
  | { readonly ok: true; readonly list: unknown[]; readonly alongside?: string }
  | { readonly ok: false; readonly code: string; readonly message: string };

async function readRestPage(body: unknown, settings: HttpSettings): Promise<RestPage> {
  const error = describeErrorBody(body);
  let list: unknown;
  try {
    list = settings.records ? await settings.records.select(body) : body;
  } catch (err) {
    return {
      ok: false,
      code: 'source.records',
      message: `evaluating \`records\` (${settings.records?.text ?? ''}) failed: ${errorText(err)}`,
    };
  }
  if (Array.isArray(list))
    return { ok: true, list, ...(error === undefined ? {} : { alongside: error }) };
  if (error !== undefined) {
    return {
      ok: false,
      code: 'source.error-body',
      message: `the API answered with an error: ${error}`,
    };
  }
  // JSONata unwraps a one-element list; a dotted path is exact (select.ts).
  if (settings.records?.kind === 'jsonata' && isObject(list)) return { ok: true, list: [list] };
  const where = settings.records
    ? `at \`${settings.records.text}\``
    : 'as the body (set `records`)';
  return {
    ok: false,
    code: 'source.records',
    message: `expected a list of records ${where} but found ${describeType(list)}`,
  };
}

type ScimPage =
  | { readonly ok: true; readonly resources: unknown[]; readonly total: number }
  | { readonly ok: false; readonly code: string; readonly message: string };

function readScimPage(body: unknown, url: URL): ScimPage {
  if (!isObject(body)) {
    return {
      ok: false,
      code: 'source.schema',
      message: `expected a SCIM ListResponse object but got ${describeType(body)}`,
    };
  }
  const error = describeScimError(body) ?? describeErrorBody(body);
  if (error !== undefined) {
    return {
      ok: false,
      code: 'source.error-body',
      message: `the API answered with an error: ${clip(error)}`,
    };
  }
  const schemas = body['schemas'];
  if (
    !Array.isArray(schemas) ||
    !schemas.some(
      (s) => typeof s === 'string' && s.toLowerCase() === SCIM_LIST_RESPONSE.toLowerCase(),
    )
  ) {
    return {
      ok: false,
      code: 'source.schema',
      message: `not a SCIM ListResponse: \`schemas\` does not include ${SCIM_LIST_RESPONSE}`,
    };
  }
  const total = body['totalResults'];
  if (typeof total !== 'number' || !Number.isInteger(total) || total < 0) {
    return {
      ok: false,
      code: 'source.schema',
      message: `the ListResponse has no valid \`totalResults\` (found ${describeType(total)})`,
    };
  }
  const asked = Number(url.searchParams.get('startIndex'));
  const answered = body['startIndex'];
  if (answered !== undefined && Number(answered) !== asked) {
    return {
      ok: false,
      code: 'source.paging',
      message: `asked for startIndex=${asked} but the server answered startIndex=${String(answered)}; it does not page as asked, so reading on would loop or miss people`,
    };
  }
  const resources = body['Resources'] ?? [];
  if (!Array.isArray(resources)) {
    return {
      ok: false,
      code: 'source.schema',
      message: `\`Resources\` is ${describeType(resources)}, not a list`,
    };
  }
  return { ok: true, resources, total };
}

type TotalResult =
  | { readonly ok: true; readonly total: number }
  | { readonly ok: false; readonly present: boolean; readonly message: string };

async function readTotal(selector: Selector, body: unknown): Promise<TotalResult> {
  let value: unknown;
  try {
    value = await selector.select(body);
  } catch (err) {
    return {
      ok: false,
      present: true,
      message: `evaluating \`totalPath\` failed: ${errorText(err)}`,
    };
  }
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0) return { ok: true, total: n };
  return {
    ok: false,
    present: value !== undefined && value !== null,
    message: `\`totalPath\` (${selector.text}) gives ${describeType(value)}, not a count of records`,
  };
}

async function firstMissing(
  required: readonly Selector[],
  fields: SourceObject,
): Promise<string | undefined> {
  for (const selector of required) {
    let value: unknown;
    try {
      value = await selector.select(fields);
    } catch {
      value = undefined;
    }
    if (value === undefined || value === null) return selector.text;
  }
  return undefined;
}

type KeyResult =
  { readonly ok: true; readonly value: string } | { readonly ok: false; readonly message: string };

async function readKey(selector: Selector, fields: SourceObject): Promise<KeyResult> {
  let value: unknown;
  try {
    value = selector.kind === 'path' ? selector.select(fields) : await selector.select(fields);
  } catch (err) {
    return {
      ok: false,
      message: `evaluating \`key\` (${selector.text}) failed: ${errorText(err)}`,
    };
  }
  if (typeof value === 'string' && value.trim() !== '') return { ok: true, value };
  if (typeof value === 'number' && Number.isFinite(value))
    return { ok: true, value: String(value) };
  const found = typeof value === 'string' ? 'an empty string' : describeType(value);
  return { ok: false, message: `no key at \`${selector.text}\` (found ${found})` };
}

function overflowIssues(counts: ReadonlyMap<string, number>): SourceIssue[] {
  const out: SourceIssue[] = [];
  for (const [code, n] of counts) {
    if (n <= MAX_ISSUES_PER_CODE) continue;
    out.push({
      severity: code === 'source.duplicate-key' ? 'warning' : 'error',
      code,
      message: `${n - MAX_ISSUES_PER_CODE} more ${code} issue(s) not listed (${n} in all)`,
    });
  }
  return out;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
