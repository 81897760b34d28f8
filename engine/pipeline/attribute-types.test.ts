/**
 * Attribute types: Graph's writable user properties from the generated table, directory
 * extensions from the tenant's extensionProperties, values typed before the diff, and the diff
 * comparing sets and allowed values as Graph does.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import {
  LEFT_OUT_USER_PROPERTIES,
  METADATA_USER_PROPERTIES,
  READ_ONLY_USER_PROPERTIES,
  WRITABLE_USER_PROPERTIES,
} from '../model/graph-user-properties.js';
import type { TenantState } from '../model/tenant.js';
import { aSpec, expr } from '../../test/helpers/builders.js';
import { attributeTypesOf, extensionAppsOf } from './attribute-types.js';
import { sameValue } from './diff.js';
import { toAttributeValue } from './typed-values.js';

const APP = '6a1e0c7b3f2d4d5e9b8a1c2d3e4f5a6b';
const ext = (name: string) => `extension_${APP}_${name}`;
const base = { userPrincipalName: "'a@contoso.com'", displayName: "'A'" };
const tenant = (extensionProperties: TenantState['extensionProperties']): TenantState => ({
  users: [],
  ...(extensionProperties ? { extensionProperties } : {}),
});
const badge = {
  name: ext('badge'),
  dataType: 'Integer',
  isMultiValued: false,
  targetObjects: ['User'],
};

describe('the generated table of Graph user properties', () => {
  it('U-ATTR1 classifies every property of the metadata once: writable, read-only or left out with a reason', () => {
    const writableTop = new Set(Object.keys(WRITABLE_USER_PROPERTIES).map((p) => p.split('.')[0]));
    for (const name of METADATA_USER_PROPERTIES) {
      const where = [
        writableTop.has(name),
        READ_ONLY_USER_PROPERTIES.includes(name),
        name in LEFT_OUT_USER_PROPERTIES,
      ].filter(Boolean);
      expect({ name, classified: where.length }).toEqual({ name, classified: 1 });
    }
    for (const why of Object.values(LEFT_OUT_USER_PROPERTIES))
      expect(why.length).toBeGreaterThan(20);
    expect(WRITABLE_USER_PROPERTIES['employeeOrgData.costCenter']).toEqual({ type: 'String' });
    expect(WRITABLE_USER_PROPERTIES['otherMails']).toMatchObject({ collection: true, set: true });
    expect(WRITABLE_USER_PROPERTIES['faxNumber']).toEqual({ type: 'String' });
  });
});

describe('attributeTypesOf', () => {
  it('U-ATTR2 types a registered extension by its dataType and names the apps to read', () => {
    const spec = aSpec({ attributes: { ...base, [ext('badge')]: 'badge', otherMails: 'm' } });
    expect(extensionAppsOf(Object.keys(spec.users.attributes))).toEqual([
      '6a1e0c7b-3f2d-4d5e-9b8a-1c2d3e4f5a6b',
    ]);
    const types = attributeTypesOf(spec, tenant([badge]));
    expect(types.get(ext('badge'))).toEqual({ type: 'Int32' });
    expect(types.get('otherMails')).toMatchObject({ collection: true, set: true });
  });

  it('U-ATTR3 an unknown extension is a config error listing the ones the tenant has', () => {
    const spec = aSpec({ attributes: { ...base, [ext('badges')]: 'badge' } });
    const run = () => attributeTypesOf(spec, tenant([badge]));
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(`the tenant has \`${ext('badge')}\``);
    const none = () => attributeTypesOf(spec, tenant([]));
    expect(none).toThrow('that application has none');
    const unread = () => attributeTypesOf(spec, tenant(undefined));
    expect(unread).toThrow('the tenant read did not include directory extensions');
    const groupOnly = () =>
      attributeTypesOf(
        aSpec({ attributes: { ...base, [ext('badge')]: 'badge' } }),
        tenant([{ ...badge, targetObjects: ['Group'] }]),
      );
    expect(groupOnly).toThrow('registered for Group, not for users');
  });
});

describe('typed values and their comparison', () => {
  const e = expr('x', 'users.attributes.x');
  it('U-ATTR4 integers, booleans, extension dates, lists and allowed values', () => {
    expect(toAttributeValue('x', e, '71001', { type: 'Int32' })).toBe(71001);
    expect(() => toAttributeValue('x', e, '3000000000', { type: 'Int32' })).toThrow('32-bit');
    expect(toAttributeValue('x', e, 3000000000, { type: 'LargeInteger' })).toBe(3000000000);
    expect(toAttributeValue('x', e, 'TRUE', { type: 'Boolean' })).toBe(true);
    expect(() => toAttributeValue('x', e, 'yes', { type: 'Boolean' })).toThrow('true or false');
    expect(
      toAttributeValue('x', e, '2024-03-01', { type: 'DateTimeOffset', dateAsGraph: true }),
    ).toBe('2024-03-01T00:00:00Z');
    expect(toAttributeValue('x', e, ['a', '', 'b'], { type: 'String', collection: true })).toEqual([
      'a',
      'b',
    ]);
    const ageGroup = WRITABLE_USER_PROPERTIES['ageGroup'];
    expect(toAttributeValue('ageGroup', e, 'notadult', ageGroup)).toBe('NotAdult');
    expect(() => toAttributeValue('ageGroup', e, 'teen', ageGroup)).toThrow(
      'one of `Minor`, `NotAdult`, `Adult`',
    );
    expect(toAttributeValue('x', e, '', { type: 'Int32' })).toBeNull();
  });

  it('U-ATTR5 otherMails compares as a set, ageGroup without case, other lists in order', () => {
    expect(sameValue('otherMails', ['a@x', 'b@x'], ['b@x', 'a@x'])).toBe(true);
    expect(sameValue('otherMails', ['a@x'], ['a@x', 'b@x'])).toBe(false);
    expect(sameValue('ageGroup', 'adult', 'Adult')).toBe(true);
    expect(sameValue('department', 'sales', 'Sales')).toBe(false);
    expect(sameValue(ext('tags'), ['a', 'b'], ['b', 'a'])).toBe(false);
    expect(sameValue(ext('badge'), 71001, 71001)).toBe(true);
  });
});
