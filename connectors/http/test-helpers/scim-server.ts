/**
 * A SCIM 2.0 service provider for tests, built on SCIMMY (a maintained SCIM library), so the
 * connector's paging, `totalResults` handling and filters run against code we did not write:
 * SCIMMY parses the filter, matches users against it, and shapes the ListResponse (startIndex,
 * count, totalResults) and Error messages. This module adds only HTTP on 127.0.0.1, a bearer
 * token check, an optional cap on `count`, and a hook to inject faults into the JSON it sends.
 *
 * SCIMMY keeps its resource handlers in static (process-wide) state, so one SCIM server runs
 * at a time.
 */
import SCIMMY from 'scimmy';
import { startFixtureServer } from './fixture-server.js';
import type { FixtureServer, RecordedRequest } from './fixture-server.js';

export type ScimUser = Record<string, unknown>;

export interface ScimServerOptions {
  readonly users: ScimUser[];
  /** Bearer token the server requires; none when omitted. */
  readonly token?: string;
  /** Largest `count` the server honours (it answers with fewer, as RFC 7644 allows). */
  readonly maxCount?: number;
  /** Rewrites the JSON of a list response before it is sent (fault injection). */
  readonly transform?: (body: Record<string, unknown>, request: RecordedRequest) => unknown;
  /**
   * Bearer token a PATCH needs (write-back); default `token`. Either token may read; a PATCH
   * with the read token is refused with 403, as a provider whose client may read but not write.
   */
  readonly writeToken?: string;
}

export interface ScimServer extends FixtureServer {
  /** Base URL of the Users endpoint. */
  readonly usersUrl: string;
}

let current: ScimUser[] = [];
let declared = false;

function declareUsers(): void {
  if (declared) return;
  declared = true;
  SCIMMY.Resources.declare(SCIMMY.Resources.User);
  SCIMMY.Resources.User.extend(SCIMMY.Schemas.EnterpriseUser, false);
  SCIMMY.Resources.User.egress((resource) => {
    if (resource.id !== undefined) {
      const one = current.find((u) => u['id'] === resource.id);
      if (!one) throw new SCIMMY.Types.Error(404, '', `Resource ${resource.id} not found`);
      return one as never;
    }
    return resource.filter ? resource.filter.match(current) : current;
  });
  // A PATCH (SCIMMY applies the PatchOp to the egress copy): the patched user replaces the old.
  SCIMMY.Resources.User.ingress((resource, instance) => {
    const index = current.findIndex((u) => u['id'] === resource.id);
    const patched = { ...JSON.parse(JSON.stringify(instance)), id: resource.id } as ScimUser;
    if (index >= 0) current[index] = patched;
    return patched as never;
  });
}

export async function startScimServer(options: ScimServerOptions): Promise<ScimServer> {
  declareUsers();
  current = options.users;
  const server = await startFixtureServer(async (request, url) => {
    const json = (status: number, body: unknown) => ({
      status,
      headers: { 'content-type': 'application/scim+json' },
      body: JSON.stringify(body),
    });
    const bearer = request.headers.authorization;
    const known = [options.token, options.writeToken].filter((t) => t !== undefined);
    if (known.length > 0 && !known.some((t) => bearer === `Bearer ${t}`)) {
      return json(401, new SCIMMY.Messages.Error({ status: 401, detail: 'Authorization failure' }));
    }
    const one = /^\/scim\/v2\/Users\/([^/]+)$/.exec(url.pathname);
    if (one && request.method === 'PATCH') {
      const writeToken = options.writeToken ?? options.token;
      if (writeToken !== undefined && request.headers.authorization !== `Bearer ${writeToken}`) {
        return json(403, new SCIMMY.Messages.Error({ status: 403, detail: 'Write access denied' }));
      }
      try {
        const id = decodeURIComponent(one[1] ?? '');
        const patched = await new SCIMMY.Resources.User(id).patch(JSON.parse(request.body));
        return json(200, JSON.parse(JSON.stringify(patched)));
      } catch (err) {
        const error = new SCIMMY.Messages.Error(err as Error);
        return json(Number(error.status), error);
      }
    }
    if (url.pathname !== '/scim/v2/Users') {
      return json(404, new SCIMMY.Messages.Error({ status: 404, detail: 'Not found' }));
    }
    const q = url.searchParams;
    const count = q.has('count') ? Number(q.get('count')) : undefined;
    const capped =
      count !== undefined && options.maxCount !== undefined
        ? Math.min(count, options.maxCount)
        : count;
    try {
      const list = await new SCIMMY.Resources.User(undefined, {
        ...(q.has('filter') ? { filter: q.get('filter') ?? '' } : {}),
        ...(q.has('startIndex') ? { startIndex: Number(q.get('startIndex')) } : {}),
        ...(capped !== undefined ? { count: capped } : {}),
      }).read();
      const body = JSON.parse(JSON.stringify(list)) as Record<string, unknown>;
      return json(200, options.transform ? options.transform(body, request) : body);
    } catch (err) {
      const error = new SCIMMY.Messages.Error(err as Error);
      return json(Number(error.status), error);
    }
  });
  return { ...server, usersUrl: server.url('/scim/v2/Users') };
}
