/**
 * Full tenant read: every user, `$top=999`, following `@odata.nextLink` to the end. Any failed
 * page, or a nextLink seen before, fails the whole read (catalogue G8): a plan made from part of
 * a tenant would create duplicates of everyone on the missing pages.
 */
import type { Client } from '@microsoft/microsoft-graph-client';
import { TenantReadError } from '../../engine/errors.js';
import type { TenantReadRequest, TenantState, TenantUser } from '../../engine/model/tenant.js';
import type { TargetReader } from '../../engine/ports.js';
import { PORT_API_VERSION } from '../../engine/ports.js';
import { flatten, selectFor } from './attributes.js';
import { describeTargetError, toTargetError } from './errors.js';

export const PAGE_SIZE = 999;

interface GraphPage {
  value?: Record<string, unknown>[];
  '@odata.nextLink'?: string;
}

export function createEntraReader(client: Client): TargetReader {
  return {
    apiVersion: PORT_API_VERSION,
    async read(request: TenantReadRequest): Promise<TenantState> {
      const paths = [...new Set(request.userAttributes)];
      const select = selectFor(paths).join(',');
      let url: string | undefined = `/users?$select=${select}&$top=${PAGE_SIZE}`;
      const seen = new Set<string>();
      const users: TenantUser[] = [];
      let page = 0;
      while (url) {
        page++;
        let body: GraphPage;
        try {
          body = (await client.api(url).get()) as GraphPage;
        } catch (err) {
          throw new TenantReadError(
            `reading users failed on page ${page} (${describeTargetError(toTargetError(err))}); no plan is made from a partial tenant`,
          );
        }
        if (!Array.isArray(body.value)) {
          throw new TenantReadError(
            `reading users: page ${page} has no "value" array; no plan is made from a partial tenant`,
          );
        }
        for (const raw of body.value) {
          const id = raw.id;
          const upn = raw.userPrincipalName;
          if (typeof id !== 'string' || typeof upn !== 'string') {
            throw new TenantReadError(
              `reading users: page ${page} has a user without id or userPrincipalName`,
            );
          }
          users.push({ id, userPrincipalName: upn, attributes: flatten(raw, paths) });
        }
        const next = body['@odata.nextLink'];
        if (next !== undefined) {
          if (seen.has(next)) {
            throw new TenantReadError(
              `reading users: @odata.nextLink repeats on page ${page}; no plan is made from a partial tenant`,
            );
          }
          seen.add(next);
        }
        url = next;
      }
      return { users };
    },
  };
}
