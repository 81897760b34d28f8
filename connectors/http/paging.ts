/**
 * Paging styles: given what a page said, the URL of the next page, the end, or a failure.
 *
 * Rules shared by every style, because each guards against a list read short:
 * - A short page never ends a read (servers cap page sizes below what was asked); only an empty
 *   page, an absent next link or cursor, or reaching a declared total does.
 * - A next link must stay on the origin of the configured URL: following it elsewhere would
 *   hand our credentials to another host (and an https -> http link would send them in clear).
 * - Loops (a repeated URL, a server that ignores the offset) are caught by the read loop, which
 *   sees every URL and every body; the pager only computes.
 */
import type { ResponseHeaders } from './http-client.js';
import type { Selector } from './select.js';

export type ResolvedPaging =
  | { readonly style: 'none' }
  | { readonly style: 'next-link'; readonly path: Selector; readonly limitParam?: string }
  | { readonly style: 'link-header'; readonly limitParam?: string }
  | {
      readonly style: 'cursor';
      readonly path: Selector;
      readonly param: string;
      readonly limitParam?: string;
    }
  | {
      readonly style: 'offset';
      readonly offsetParam: string;
      readonly limitParam: string;
      readonly start: number;
    }
  | {
      readonly style: 'page';
      readonly pageParam: string;
      readonly limitParam: string;
      readonly first: number;
    }
  | { readonly style: 'scim' };

export interface PageView {
  readonly url: URL;
  readonly body: unknown;
  readonly headers: ResponseHeaders;
  /** Records on this page, those left out with an issue included. */
  readonly count: number;
  /** Records on every page so far, this one included. */
  readonly seen: number;
  /** The total the API declares, when it does. */
  readonly total?: number;
}

export type NextPage =
  | { readonly kind: 'done' }
  | { readonly kind: 'next'; readonly url: URL }
  | { readonly kind: 'fail'; readonly code: string; readonly message: string };

export interface Pager {
  readonly first: URL;
  next(page: PageView): Promise<NextPage>;
}

export function createPager(paging: ResolvedPaging, base: URL, pageSize: number): Pager {
  const withParams = (params: Readonly<Record<string, string | number | undefined>>): URL => {
    const u = new URL(base);
    for (const [name, value] of Object.entries(params)) {
      if (value !== undefined) u.searchParams.set(name, String(value));
    }
    return u;
  };
  const limit = (param: string | undefined) => (param === undefined ? {} : { [param]: pageSize });
  const done: NextPage = { kind: 'done' };

  switch (paging.style) {
    case 'none':
      return { first: new URL(base), next: async () => done };
    case 'next-link':
      return {
        first: withParams(limit(paging.limitParam)),
        async next(page) {
          const link = await paging.path.select(page.body);
          if (link === undefined || link === null || link === '') return done;
          if (typeof link !== 'string') {
            return {
              kind: 'fail',
              code: 'source.paging',
              message: `the next link at \`${paging.path.text}\` is ${describeType(link)}, not a URL`,
            };
          }
          return follow(link, page.url, base);
        },
      };
    case 'link-header':
      return {
        first: withParams(limit(paging.limitParam)),
        async next(page) {
          const link = nextFromLinkHeader(page.headers['link']);
          return link === undefined ? done : follow(link, page.url, base);
        },
      };
    case 'cursor':
      return {
        first: withParams(limit(paging.limitParam)),
        async next(page) {
          const cursor = await paging.path.select(page.body);
          if (cursor === undefined || cursor === null || cursor === '' || cursor === false) {
            return done;
          }
          if (typeof cursor !== 'string' && typeof cursor !== 'number') {
            return {
              kind: 'fail',
              code: 'source.paging',
              message: `the cursor at \`${paging.path.text}\` is ${describeType(cursor)}, not a string or number`,
            };
          }
          return {
            kind: 'next',
            url: withParams({ ...limit(paging.limitParam), [paging.param]: String(cursor) }),
          };
        },
      };
    case 'offset': {
      let offset = paging.start;
      return {
        first: withParams({ [paging.offsetParam]: offset, [paging.limitParam]: pageSize }),
        async next(page) {
          if (page.count === 0) return done;
          if (page.total !== undefined && page.seen >= page.total) return done;
          offset += page.count;
          return {
            kind: 'next',
            url: withParams({ [paging.offsetParam]: offset, [paging.limitParam]: pageSize }),
          };
        },
      };
    }
    case 'page': {
      let number = paging.first;
      return {
        first: withParams({ [paging.pageParam]: number, [paging.limitParam]: pageSize }),
        async next(page) {
          if (page.count === 0) return done;
          if (page.total !== undefined && page.seen >= page.total) return done;
          number += 1;
          return {
            kind: 'next',
            url: withParams({ [paging.pageParam]: number, [paging.limitParam]: pageSize }),
          };
        },
      };
    }
    case 'scim': {
      // RFC 7644 §3.4.2.4: startIndex is 1-based; the server may return fewer than `count`.
      let startIndex = 1;
      return {
        first: withParams({ startIndex, count: pageSize }),
        async next(page) {
          if (page.count === 0) return done;
          if (page.total !== undefined && page.seen >= page.total) return done;
          startIndex += page.count;
          return { kind: 'next', url: withParams({ startIndex, count: pageSize }) };
        },
      };
    }
  }
}

/** Resolves a next link against the page it came from and keeps it on the configured origin. */
function follow(link: string, current: URL, base: URL): NextPage {
  let url: URL;
  try {
    url = new URL(link, current);
  } catch {
    return { kind: 'fail', code: 'source.paging', message: 'the next link is not a valid URL' };
  }
  if (url.origin !== base.origin) {
    return {
      kind: 'fail',
      code: 'source.paging',
      message: `the next link leads to another origin (${url.origin}, not ${base.origin}); it is not followed, so credentials are not sent there`,
    };
  }
  return { kind: 'next', url };
}

/** The target of the first `rel="next"` link of RFC 8288 `Link` header values. */
export function nextFromLinkHeader(
  header: string | readonly string[] | undefined,
): string | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(', ') : (header as string);
  // <target>; param=value; param="quoted, value", <target2>; ...
  const link = /<([^>]*)>((?:\s*;\s*[^\s;=,]+\s*(?:=\s*(?:"(?:[^"\\]|\\.)*"|[^;,]*))?)*)/g;
  for (const m of text.matchAll(link)) {
    const params = m[2] ?? '';
    const param = /;\s*([^\s;=,]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;,]*))?/g;
    for (const p of params.matchAll(param)) {
      if ((p[1] ?? '').toLowerCase() !== 'rel') continue;
      const value = (p[2] ?? '').trim().replace(/^"|"$/g, '');
      if (value.toLowerCase().split(/\s+/).includes('next')) return m[1];
    }
  }
  return undefined;
}

export function describeType(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
