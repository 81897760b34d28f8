/**
 * Reading and checking the Kubernetes manifests of examples/kubernetes/ for its test: YAML read
 * as Kubernetes reads it (YAML 1.1, so `0440` is octal), each object validated against the
 * Kubernetes OpenAPI schema that kubernetes-models bundles (offline), and the facts a pod of
 * entrasync depends on checked: hardening, where the config and `.entrasync/` are, the
 * federated token file and the secrets the config references.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { expect } from 'vitest';
import { loadConfig } from '../../config/load.js';
import type { LoadedConfig } from '../../config/load.js';
import { DEFAULT_FEDERATION_AUDIENCE } from '../../config/auth-schema.js';

export const kubernetesDir = join(import.meta.dirname, '..', '..', 'examples', 'kubernetes');

/** The uid the Dockerfile's runtime stage runs as; every pod must run as it too. */
export const IMAGE_UID = 10001;

/** A parsed manifest: plain JSON data, as the API server would receive it. */
export type K8sObject = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every document of a multi-document YAML text; a YAML error fails the test with its message. */
export function parseManifests(text: string, where: string): K8sObject[] {
  const docs = parseAllDocuments(text, { version: '1.1' });
  const list = Array.isArray(docs) ? docs : [docs];
  const objects: K8sObject[] = [];
  for (const doc of list) {
    expect(doc.errors.map((e) => `${where}: ${e.message}`)).toEqual([]);
    const value = doc.toJS() as K8sObject | null;
    if (value !== null) objects.push(value);
  }
  return objects;
}

/** The manifests of the given sub-folders of examples/kubernetes/, in file order. */
export function readFolders(...folders: string[]): K8sObject[] {
  return folders.flatMap((folder) =>
    readdirSync(join(kubernetesDir, folder))
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .flatMap((f) => {
        const file = join(kubernetesDir, folder, f);
        return parseManifests(readFileSync(file, 'utf8'), `${folder}/${f}`);
      }),
  );
}

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

/**
 * Validates one object against the schema of its apiVersion and kind (required fields, types,
 * enums, formats). Throws the schema's message. The OpenAPI schemas allow unknown fields, so a
 * misspelt field passes here: the pod checks below name the fields that matter.
 */
export async function validateSchema(object: K8sObject): Promise<void> {
  const apiVersion = String(object['apiVersion']);
  const kind = String(object['kind']);
  const modulePath = `kubernetes-models/${apiVersion}`;
  const models = (await import(modulePath)) as Record<string, ModelClass | undefined>;
  const Model = models[kind];
  if (Model === undefined) throw new Error(`no schema for ${apiVersion} ${kind}`);
  new Model(object).validate();
}

export function ofKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o['kind'] === kind);
}

export function named(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = ofKind(objects, kind).filter((o) => o['metadata']?.['name'] === name);
  expect(found.map((o) => `${kind}/${o['metadata']['name']}`)).toEqual([`${kind}/${name}`]);
  return found[0]!;
}

/** `-c <file>` / `--config <file>` of a container's args. */
export function configArg(args: readonly string[]): string {
  const at = args.findIndex((a) => a === '-c' || a === '--config');
  expect(at, `no -c in ${args.join(' ')}`).toBeGreaterThanOrEqual(0);
  return args[at + 1]!;
}

/** The volume mounted exactly at `mountPath` (and the mount), or a failed expectation. */
export function volumeAt(pod: K8sObject, container: K8sObject, mountPath: string) {
  const mount = (container['volumeMounts'] as K8sObject[]).find(
    (m) => m['mountPath'] === mountPath,
  );
  expect(mount, `nothing mounted at ${mountPath}`).toBeDefined();
  const volume = (pod['volumes'] as K8sObject[]).find((v) => v['name'] === mount!['name']);
  expect(volume, `no volume ${mount!['name']}`).toBeDefined();
  return { mount: mount!, volume: volume! };
}

/** What every pod of entrasync must be: non-root as the image's uid, nothing writable but volumes. */
export function expectHardenedPod(pod: K8sObject): void {
  const podSecurity = pod['securityContext'];
  expect(podSecurity['runAsNonRoot']).toBe(true);
  expect(podSecurity['runAsUser']).toBe(IMAGE_UID);
  expect(podSecurity['fsGroup']).toBe(IMAGE_UID);
  expect(podSecurity['seccompProfile']).toEqual({ type: 'RuntimeDefault' });
  expect(pod['automountServiceAccountToken']).toBe(false);
  for (const container of pod['containers'] as K8sObject[]) {
    const security = container['securityContext'];
    expect(security['runAsNonRoot']).toBe(true);
    expect(security['readOnlyRootFilesystem']).toBe(true);
    expect(security['allowPrivilegeEscalation']).toBe(false);
    expect(security['capabilities']).toEqual({ drop: ['ALL'] });
    expect(security['privileged']).not.toBe(true);
    expect(volumeAt(pod, container, '/tmp').volume['emptyDir']).toBeDefined();
  }
}

/**
 * The config the container's `-c` names: a single file from a ConfigMap (`subPath`) inside a
 * writable PersistentVolumeClaim, so `.entrasync/` beside it is on that claim. Returns the
 * config text and the claim's name.
 */
export function configOfContainer(
  objects: readonly K8sObject[],
  namespace: string,
  pod: K8sObject,
  container: K8sObject,
): { path: string; text: string; claim: string } {
  const path = configArg(container['args'] as string[]);
  const file = volumeAt(pod, container, path);
  expect(file.mount['subPath']).toBe(basename(path));
  expect(file.mount['readOnly']).toBe(true);
  const configMap = inNamespace(objects, namespace, 'ConfigMap', file.volume['configMap']['name']);
  const text = configMap['data']?.[basename(path)] as string | undefined;
  expect(text, `ConfigMap ${configMap['metadata']['name']} has no ${basename(path)}`).toBeTypeOf(
    'string',
  );

  const state = volumeAt(pod, container, dirname(path));
  expect(state.mount['readOnly']).not.toBe(true);
  const claim = state.volume['persistentVolumeClaim']?.['claimName'] as string | undefined;
  expect(claim, `${dirname(path)} is not a PersistentVolumeClaim`).toBeTypeOf('string');
  inNamespace(objects, namespace, 'PersistentVolumeClaim', claim!);
  return { path, text: text!, claim: claim! };
}

export function inNamespace(
  objects: readonly K8sObject[],
  namespace: string,
  kind: string,
  name: string,
): K8sObject {
  const found = ofKind(objects, kind).filter(
    (o) => o['metadata']['name'] === name && o['metadata']['namespace'] === namespace,
  );
  expect(found, `${kind} ${namespace}/${name}`).toHaveLength(1);
  return found[0]!;
}

/** Loads config text with the real loader, as if it were the file at `path`. */
export async function loadConfigText(text: string): Promise<LoadedConfig> {
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-k8s-'));
  try {
    const file = join(dir, 'entrasync.yaml');
    writeFileSync(file, text);
    return await loadConfig(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The pod's federated token is where `target.auth.tokenFile` reads it: a projected service
 * account token for the config's audience. Every `${file:…}` secret of the config is a key of
 * a Secret mounted read-only in the pod's namespace. Returns the Secrets' names.
 */
export function expectCredentialsMounted(
  loaded: LoadedConfig,
  pod: K8sObject,
  container: K8sObject,
): string[] {
  const auth = loaded.config.target.auth;
  expect(auth.method).toBe('workload-identity');
  if (auth.method !== 'workload-identity') return [];
  expect(auth.provider).toBe('file');
  expect(auth.tokenFile).toMatch(/^\//);
  const token = volumeAt(pod, container, dirname(auth.tokenFile!));
  expect(token.mount['readOnly']).toBe(true);
  const projected = (token.volume['projected']['sources'] as K8sObject[]).map(
    (s) => s['serviceAccountToken'],
  );
  expect(projected).toEqual([
    expect.objectContaining({
      path: basename(auth.tokenFile!),
      audience: auth.audience ?? DEFAULT_FEDERATION_AUDIENCE,
    }),
  ]);

  const fileRefs = loaded.secretRefs.filter((ref) => ref.scheme === 'file');
  expect(loaded.secretRefs.filter((ref) => ref.scheme === 'env')).toEqual([]);
  return fileRefs.map((ref) => {
    const secret = volumeAt(pod, container, dirname(ref.name));
    expect(secret.mount['readOnly']).toBe(true);
    expect(secret.volume['secret']['items']).toBeUndefined(); // every key is a file by its name
    // Read as YAML 1.1, like Kubernetes: `0440` is octal, readable by the group (fsGroup) only.
    expect(secret.volume['secret']['defaultMode']).toBe(0o440);
    return secret.volume['secret']['secretName'] as string;
  });
}
