/**
 * Directory extensions the mapping writes (`extension_<appId>_<name>`), read from the
 * applications that registered them: `GET /applications(appId='{appId}')/extensionProperties`
 * (least privileged application permission: Application.Read.All). The plan checks every mapped
 * extension against them and types its values by `dataType` (engine/pipeline/attribute-types.ts).
 *
 * Chosen over `POST /directoryObjects/getAvailableExtensionProperties`, which needs
 * Directory.Read.All and, by Graph's documented known issue, answers empty in tenants with more
 * than 1,000 service principals (the reference page itself points to this list instead). The cost:
 * extensions of a multitenant app registered in another tenant have no application object here
 * and are reported as missing.
 *
 * An application that does not exist (404) has no extensions, which the plan reports with the
 * names that do exist. Any other refusal fails the read: without the definitions, a value cannot
 * be typed, and a guess would be written to every user.
 */
import { TenantReadError } from '../../engine/errors.js';
import type { DirectoryExtension } from '../../engine/model/tenant.js';
import type { GraphTransport } from './transport.js';
import { graphErrorOf } from './transport.js';

const SELECT = 'name,dataType,isMultiValued,targetObjects';

export async function readExtensionProperties(
  transport: GraphTransport,
  appIds: readonly string[],
): Promise<DirectoryExtension[]> {
  const out: DirectoryExtension[] = [];
  for (const appId of appIds) {
    let url: string | undefined =
      `/applications(appId='${encodeURIComponent(appId)}')/extensionProperties?$select=${SELECT}`;
    const seen = new Set<string>();
    while (url !== undefined) {
      const response = await transport.get(url);
      if (response.status === 404) break;
      if (response.status !== 200) {
        const graph = graphErrorOf(response.body);
        const hint =
          response.status === 403
            ? '; reading directory extensions needs the application permission Application.Read.All'
            : '';
        throw new TenantReadError(
          `reading the directory extensions of application ${appId} failed (${response.status} ${graph.code ?? ''}: ${graph.message ?? ''})${hint}`,
        );
      }
      const body = response.body as { value?: unknown; '@odata.nextLink'?: unknown } | undefined;
      if (!Array.isArray(body?.value)) {
        throw new TenantReadError(`reading the directory extensions of ${appId}: no "value" array`);
      }
      for (const raw of body.value as Record<string, unknown>[]) {
        const extension = toExtension(raw);
        if (extension) out.push(extension);
      }
      const next = body['@odata.nextLink'];
      url = typeof next === 'string' && !seen.has(next) ? next : undefined;
      if (url !== undefined) seen.add(url);
    }
  }
  return out;
}

function toExtension(raw: Record<string, unknown>): DirectoryExtension | undefined {
  const { name, dataType, isMultiValued, targetObjects } = raw;
  if (typeof name !== 'string' || typeof dataType !== 'string') return undefined;
  return {
    name,
    dataType,
    isMultiValued: isMultiValued === true,
    targetObjects: Array.isArray(targetObjects)
      ? targetObjects.filter((t): t is string => typeof t === 'string')
      : [],
  };
}
