/**
 * `$expand` on users: `manager` only, plain or with a nested `$select`
 * (`$expand=manager($select=id,displayName)`), on `GET /users` and `GET /users/{id}`.
 *
 * What Graph documents and the simulator enforces:
 * - each user carries `manager` as a directoryObject (`@odata.type` first) or, without a
 *   manager, no `manager` property at all;
 * - directory objects expand one level deep: a nested `$expand` is refused (400);
 * - `$expand` is not supported with advanced queries (ConsistencyLevel + `$count=true`): 400;
 * - a list with `$expand` returns at most 100 objects per page whatever `$top` asks (Graph's
 *   known issue 13635, "$expand on directory objects returns a maximum of 100 objects"), still
 *   with a nextLink.
 * Other navigation properties Graph can expand (directReports, memberOf, ...) and
 * `manager($levels=n)` are not implemented: 501, never silently ignored. A plain
 * `$expand=manager` renders the manager with the user default property set (Graph's exact
 * set for expanded objects is not documented; select what you need).
 */
import { graphErrors } from '../errors.js';
import type { DirectoryDocument, StoredObject, UserDocument } from '../store.js';
import type { GraphContext } from './context.js';
import { odataType, parseSelect } from './context.js';
import { canonicalGroupProperty, DEFAULT_GROUP_SELECT, renderGroup } from './group-schema.js';
import {
  canonicalUserProperty,
  DEFAULT_USER_SELECT,
  renderUser,
  USER_TYPE,
} from './user-schema.js';

/** Objects per page of a list with `$expand` (Graph's cap for directory objects). */
export const MAX_EXPAND_PAGE_SIZE = 100;

export interface Expansion {
  /** The expansion's item in `@odata.context`'s select list: `manager()` or `manager(id)`. */
  readonly contextItem: string;
  /** Adds the expanded navigation property to a rendered object, when there is a target. */
  readonly apply: (ctx: GraphContext, doc: DirectoryDocument, out: Record<string, unknown>) => void;
}

/** Navigation properties of microsoft.graph.user that Graph can expand and the simulator does not. */
const OTHER_USER_NAVIGATION = new Set(
  [
    'directReports',
    'memberOf',
    'transitiveMemberOf',
    'ownedObjects',
    'ownedDevices',
    'registeredDevices',
    'createdObjects',
    'appRoleAssignments',
    'oauth2PermissionGrants',
    'licenseDetails',
    'extensions',
    'sponsors',
    'employeeExperience',
    'authentication',
  ].map((n) => n.toLowerCase()),
);

/** Parses a user `$expand` value; throws Graph's error (or 501) for anything else. */
export function parseUserExpand(raw: string): Expansion {
  const items = splitTopLevel(raw, ',');
  const parsed = items.map(parseItem);
  if (parsed.length > 1) {
    throw graphErrors.notImplemented('$expand of more than one navigation property');
  }
  const [manager] = parsed;
  if (manager === undefined) throw graphErrors.unsupportedQueryOption('$expand');
  return manager;
}

function parseItem(item: string): Expansion {
  const match = /^\s*([A-Za-z_][\w.]*)\s*(?:\(([\s\S]*)\))?\s*$/.exec(item);
  const name = match?.[1];
  if (match === null || name === undefined) throw graphErrors.unsupportedQueryOption('$expand');
  if (name.toLowerCase() !== 'manager') {
    if (OTHER_USER_NAVIGATION.has(name.toLowerCase())) {
      throw graphErrors.notImplemented(`$expand=${name}`);
    }
    const structural = canonicalUserProperty(name);
    throw structural === undefined
      ? graphErrors.unknownSelectProperty(name, USER_TYPE)
      : graphErrors.notNavigationProperty(structural, USER_TYPE);
  }
  let select: readonly string[] | undefined;
  let selectNames: readonly string[] = [];
  for (const option of splitTopLevel(match[2] ?? '', ';')) {
    if (option.trim() === '') continue;
    const eq = option.indexOf('=');
    const optionName = (eq === -1 ? option : option.slice(0, eq)).trim().toLowerCase();
    const value = eq === -1 ? '' : option.slice(eq + 1);
    switch (optionName) {
      case '$select': {
        const selection = parseSelect(value, canonicalUserProperty, USER_TYPE, DEFAULT_USER_SELECT);
        select = selection.explicit ? selection.output : undefined;
        selectNames = selection.names;
        break;
      }
      case '$expand':
        throw graphErrors.nestedExpand();
      case '$levels':
        throw graphErrors.notImplemented('$levels in $expand=manager (the management chain)');
      default:
        if (optionName.startsWith('$')) {
          throw graphErrors.notImplemented(`the ${optionName} option inside $expand`);
        }
        throw graphErrors.unsupportedQueryOption(optionName);
    }
  }
  return {
    contextItem: `manager(${selectNames.join(',')})`,
    apply: (ctx, doc, out) => {
      const managerId = ctx.store.getManagerId(doc.id);
      const manager = managerId === undefined ? undefined : ctx.store.getObject(managerId);
      if (
        manager === undefined ||
        manager.state !== 'active' ||
        !ctx.rules.visible(manager.doc.id)
      ) {
        return;
      }
      out['manager'] = renderTarget(manager, select);
    },
  };
}

/** The expanded object as a directoryObject: `@odata.type` first, then its properties. */
function renderTarget(
  object: StoredObject,
  select: readonly string[] | undefined,
): Record<string, unknown> {
  if (object.kind === 'user') {
    return {
      '@odata.type': odataType('user'),
      ...renderUser(object.doc as UserDocument, select ?? DEFAULT_USER_SELECT),
    };
  }
  const names = (select ?? DEFAULT_GROUP_SELECT).filter((n) => canonicalGroupProperty(n) === n);
  return { '@odata.type': odataType('group'), ...renderGroup(object.doc, names) };
}

/** Splits on `separator` outside parentheses. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === separator && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}
