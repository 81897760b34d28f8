/**
 * The tenant read of directory extensions (GET /applications(appId=...)/extensionProperties)
 * against the simulator, and Application.Read.All in the permission check that plan and doctor
 * run: a config that maps an extension needs it, one that does not never asks for it.
 */
import { describe, expect, it } from 'vitest';
import { TenantReadError } from '../../engine/errors.js';
import { tenantReadRequest } from '../../engine/pipeline/plan.js';
import { aSpec } from '../../test/helpers/builders.js';
import { actionsOfConfig } from '../../cli/commands/doctor-checks.js';
import { actionsOfRead, checkAccess } from './permissions.js';
import { harness } from './test-helpers.js';

const APP_ID = '6a1e0c7b-3f2d-4d5e-9b8a-1c2d3e4f5a6b';
const ext = (name: string) => `extension_${APP_ID.replace(/-/g, '')}_${name}`;
const seed = {
  applications: [
    {
      appId: APP_ID,
      extensionProperties: [
        { name: 'badge', dataType: 'Integer', targetObjects: ['User'] },
        { name: 'tags', dataType: 'String', isMultiValued: true, targetObjects: ['User'] },
      ],
    },
  ],
  users: [],
};
const spec = aSpec({
  attributes: {
    userPrincipalName: "'a@contoso.com'",
    displayName: "'A'",
    [ext('badge')]: 'badge',
  },
});

describe('reading directory extensions', () => {
  it("C-EXT1 reads the mapped applications' extensionProperties; an unknown application has none", async () => {
    const h = await harness({ throttling: false, seed });
    const request = tenantReadRequest(spec);
    expect(request.extensionApps).toEqual([APP_ID]);
    const tenant = await h.target.reader.read(request);
    expect(tenant.extensionProperties).toEqual([
      { name: ext('badge'), dataType: 'Integer', isMultiValued: false, targetObjects: ['User'] },
      { name: ext('tags'), dataType: 'String', isMultiValued: true, targetObjects: ['User'] },
    ]);
    const other = await h.target.reader.read({
      userAttributes: [],
      extensionApps: ['00000000-0000-4000-8000-00000000beef'],
    });
    expect(other.extensionProperties).toEqual([]);
    // A config without extensions reads none.
    expect(tenantReadRequest(aSpec()).extensionApps).toBeUndefined();
  });

  it('C-EXT2 without Application.Read.All the read fails naming the permission', async () => {
    const h = await harness({
      throttling: false,
      seed,
      clients: [
        {
          clientId: 'c0c0c0c0-0000-4000-8000-0000000000e1',
          clientSecret: 'no-applications-secret-1',
          roles: ['User.Read.All', 'RoleManagement.Read.Directory'],
        },
      ],
    });
    const read = h.target.reader.read(tenantReadRequest(spec));
    await expect(read).rejects.toThrow(TenantReadError);
    await expect(read).rejects.toThrow('needs the application permission Application.Read.All');
  });

  it('C-EXT3 plan and doctor ask for Application.Read.All only when an extension is mapped', () => {
    const request = tenantReadRequest(spec);
    expect(actionsOfRead(request)).toContain('read directory extensions');
    expect(actionsOfConfig(spec, request).has('read directory extensions')).toBe(true);
    expect(actionsOfRead(tenantReadRequest(aSpec()))).not.toContain('read directory extensions');
    const check = (roles: string[]) =>
      checkAccess({ roles, directoryRoles: [] }, ['read directory extensions']).map(
        (f) => f.message,
      );
    expect(check(['Application.Read.All'])).toEqual([]);
    expect(check(['User.Read.All'])).toEqual([
      'missing permission Application.Read.All for action "read directory extensions" (the app holds: User.Read.All)',
    ]);
  });
});
