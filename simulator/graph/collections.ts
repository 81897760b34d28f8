/**
 * The list shapes of `/users`, `/groups` and the recycle bin's typed lists: which properties
 * `$orderby` and `$search` take on each (advanced-queries page, per-property tables; the user
 * and group list pages' examples), so every listing of the same type answers the same way.
 */
import type { UserDocument } from '../store.js';
import type { CollectionShape } from './list.js';
import { parseUserExpand } from './expand.js';
import {
  canonicalGroupProperty,
  DEFAULT_GROUP_SELECT,
  GROUP_FILTER_SCHEMA,
  GROUP_TYPE,
  renderGroup,
} from './group-schema.js';
import type { OrderSupport } from './query.js';
import {
  canonicalUserProperty,
  DEFAULT_USER_SELECT,
  renderUser,
  USER_FILTER_SCHEMA,
  USER_TYPE,
} from './user-schema.js';

const USER_ORDER: Readonly<Record<string, OrderSupport>> = {
  displayName: 'default',
  userPrincipalName: 'default',
  createdDateTime: 'advanced',
};
const GROUP_ORDER: Readonly<Record<string, OrderSupport>> = {
  displayName: 'default',
  createdDateTime: 'advanced',
};
/** deletedItems page: deletedDateTime (advanced), displayName, userPrincipalName. */
const DELETED_ORDER: Readonly<Record<string, OrderSupport>> = {
  displayName: 'default',
  userPrincipalName: 'default',
  deletedDateTime: 'advanced',
};

const USER_SEARCH = new Set([
  'displayName',
  'givenName',
  'surname',
  'mail',
  'mailNickname',
  'userPrincipalName',
  'jobTitle',
  'otherMails',
  'proxyAddresses',
]);
const GROUP_SEARCH = new Set([
  'displayName',
  'description',
  'mail',
  'mailNickname',
  'proxyAddresses',
]);

export const USERS: CollectionShape = {
  kind: 'user',
  collection: 'users',
  canonicalProperty: canonicalUserProperty,
  typeName: USER_TYPE,
  defaultSelect: DEFAULT_USER_SELECT,
  filterSchema: USER_FILTER_SCHEMA,
  render: (doc, select) => renderUser(doc as UserDocument, select),
  parseExpand: parseUserExpand,
  orderable: USER_ORDER,
  searchable: USER_SEARCH,
};

export const GROUPS: CollectionShape = {
  kind: 'group',
  collection: 'groups',
  canonicalProperty: canonicalGroupProperty,
  typeName: GROUP_TYPE,
  defaultSelect: DEFAULT_GROUP_SELECT,
  filterSchema: GROUP_FILTER_SCHEMA,
  render: renderGroup,
  orderable: GROUP_ORDER,
  searchable: GROUP_SEARCH,
};

/** `/directory/deletedItems/microsoft.graph.user|group`: the type's list, over deleted objects. */
export function deletedShape(kind: 'user' | 'group'): CollectionShape {
  const { parseExpand: _none, ...base } = kind === 'user' ? USERS : GROUPS;
  return {
    ...base,
    state: 'deleted',
    path: `/directory/deletedItems/microsoft.graph.${kind}`,
    orderable: DELETED_ORDER,
  };
}
