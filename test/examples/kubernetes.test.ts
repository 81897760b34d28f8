/**
 * examples/kubernetes/: every manifest parses and passes the Kubernetes schema (kubernetes-models,
 * offline), the pods are hardened, the config each names exists in its ConfigMap and loads with
 * the real loader, the federated token and secrets are mounted where the config reads them,
 * the daemon's probes reach its real endpoints on its configured port, and the MSP template
 * renders N tenants into N CronJobs whose namespaces, identities, secrets and state are apart.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scheduleProblem } from '../../config/schedule.js';
import { parseDuration } from '../../cli/daemon/duration.js';
import { startHealthServer } from '../../cli/daemon/health-server.js';
import { createDaemonMetrics } from '../../cli/daemon/metrics.js';
import { Redactor } from '../../engine/secret.js';
import {
  configOfContainer,
  expectCredentialsMounted,
  expectHardenedPod,
  kubernetesDir,
  loadConfigText,
  named,
  ofKind,
  parseManifests,
  readFolders,
  validateSchema,
} from './kubernetes-helpers.js';
import type { K8sObject } from './kubernetes-helpers.js';

const NAMESPACE = 'entrasync';
const objects = readFolders('common', 'cronjob', 'daemon');
const readme = readFileSync(join(kubernetesDir, 'README.md'), 'utf8');

describe('examples/kubernetes manifests', () => {
  it('are the expected kinds and API versions, all in one namespace', () => {
    expect(objects.map((o) => `${o['apiVersion']} ${o['kind']} ${o['metadata']['name']}`)).toEqual([
      // kubectl applies a folder in file-name order: the namespace first.
      'v1 Namespace entrasync',
      'v1 ServiceAccount entrasync',
      'v1 ConfigMap entrasync-config',
      'batch/v1 CronJob entrasync-apply',
      'v1 PersistentVolumeClaim entrasync-apply-state',
      'apps/v1 Deployment entrasync-daemon',
      'networking.k8s.io/v1 NetworkPolicy entrasync-daemon-ingress',
      'v1 Service entrasync-daemon',
      'v1 PersistentVolumeClaim entrasync-daemon-state',
    ]);
    for (const o of objects.filter((o) => o['kind'] !== 'Namespace')) {
      expect(o['metadata']['namespace']).toBe(NAMESPACE);
    }
    expect(named(objects, 'Namespace', NAMESPACE)['metadata']['labels']).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
  });

  it('pass the Kubernetes schema of their kind', async () => {
    for (const o of objects) await validateSchema(o);
  });

  it('the schema check catches a wrong type and a missing required field', async () => {
    const cronJob = structuredClone(named(objects, 'CronJob', 'entrasync-apply'));
    cronJob['spec']['jobTemplate']['spec']['template']['spec']['securityContext']['runAsUser'] =
      'app';
    await expect(validateSchema(cronJob)).rejects.toThrow(/runAsUser must be integer/);
    const deployment = structuredClone(named(objects, 'Deployment', 'entrasync-daemon'));
    delete deployment['spec']['selector'];
    await expect(validateSchema(deployment)).rejects.toThrow(/must have required property/);
  });
});

describe('the CronJob (scheduled applies)', () => {
  const cronJob = named(objects, 'CronJob', 'entrasync-apply');
  const pod = cronJob['spec']['jobTemplate']['spec']['template']['spec'] as K8sObject;
  const container = pod['containers'][0] as K8sObject;

  it('applies without a terminal, one run at a time, on a valid schedule', () => {
    expect(container['args'].slice(0, 2)).toEqual(['apply', '--auto-approve']);
    expect(scheduleProblem(cronJob['spec']['schedule'])).toBeUndefined();
    expect(cronJob['spec']['concurrencyPolicy']).toBe('Forbid');
    expect(pod['restartPolicy']).toBe('Never');
    // A run held by the brakes (exit 3) or failed (1) is not retried at once.
    const rules = cronJob['spec']['jobTemplate']['spec']['podFailurePolicy']['rules'];
    expect(rules[0]).toMatchObject({ action: 'FailJob', onExitCodes: { values: [1, 3] } });
  });

  it('is hardened and runs as the service account with the federated credential', () => {
    expectHardenedPod(pod);
    named(objects, 'ServiceAccount', pod['serviceAccountName']);
  });

  it('reads a config that loads, with its token and secrets mounted where it says', async () => {
    const config = configOfContainer(objects, NAMESPACE, pod, container);
    expect(config.claim).toBe('entrasync-apply-state');
    const loaded = await loadConfigText(config.text);
    const secrets = expectCredentialsMounted(loaded, pod, container);
    expect(secrets).toEqual(['entrasync-hr']);
    // The Secret is created by hand (never in a file): the README says how, with the key read.
    expect(readme).toContain('kubectl -n entrasync create secret generic entrasync-hr');
    expect(readme).toContain('--from-file=token=');
  });
});

describe('the Deployment (daemon)', () => {
  const deployment = named(objects, 'Deployment', 'entrasync-daemon');
  const pod = deployment['spec']['template'] as K8sObject;
  const container = pod['spec']['containers'][0] as K8sObject;

  async function daemonConfig() {
    const config = configOfContainer(objects, NAMESPACE, pod['spec'], container);
    expect(config.claim).toBe('entrasync-daemon-state');
    return { config, loaded: await loadConfigText(config.text) };
  }

  /** A probe's or Service's port (a number or a container port's name) as a number. */
  function portNumber(port: number | string): number {
    if (typeof port === 'number') return port;
    const found = (container['ports'] as K8sObject[]).find((p) => p['name'] === port);
    expect(found, `no container port named ${port}`).toBeDefined();
    return found!['containerPort'] as number;
  }

  it('runs one daemon, stopping the old pod first, with time to finish a run', async () => {
    const { loaded } = await daemonConfig();
    expect(container['args'][0]).toBe('daemon');
    expect(deployment['spec']['replicas']).toBe(1);
    expect(deployment['spec']['strategy']).toEqual({ type: 'Recreate' });
    const shutdown = parseDuration(loaded.config.daemon?.shutdownTimeout ?? '5m')!;
    expect(pod['spec']['terminationGracePeriodSeconds'] * 1000).toBeGreaterThan(shutdown);
    expect(pod['metadata']['labels']).toMatchObject(deployment['spec']['selector']['matchLabels']);
  });

  it('is hardened, with its token and secrets mounted where the config reads them', async () => {
    expectHardenedPod(pod['spec']);
    const { loaded } = await daemonConfig();
    expect(expectCredentialsMounted(loaded, pod['spec'], container)).toEqual(['entrasync-hr']);
  });

  it('listens on every address, on the port that probes, Service and Prometheus use', async () => {
    const { loaded } = await daemonConfig();
    const listen = loaded.config.daemon?.listen;
    expect(listen?.host).toBe('0.0.0.0');
    const port = listen!.port!;
    expect(portNumber(container['livenessProbe']['httpGet']['port'])).toBe(port);
    expect(portNumber(container['readinessProbe']['httpGet']['port'])).toBe(port);
    expect(pod['metadata']['annotations']).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(port),
      'prometheus.io/path': '/metrics',
    });
    const service = named(objects, 'Service', 'entrasync-daemon');
    expect(service['spec']['selector']).toEqual(deployment['spec']['selector']['matchLabels']);
    expect(portNumber(service['spec']['ports'][0]['targetPort'])).toBe(port);
    expect(service['spec']['publishNotReadyAddresses']).toBe(true);
    const policy = named(objects, 'NetworkPolicy', 'entrasync-daemon-ingress');
    expect(policy['spec']['ingress'][0]['ports']).toEqual([{ port, protocol: 'TCP' }]);
  });

  it("probes the daemon's real endpoints: liveness /livez, readiness /healthz", async () => {
    const liveness = container['livenessProbe']['httpGet']['path'] as string;
    const readiness = container['readinessProbe']['httpGet']['path'] as string;
    expect([liveness, readiness]).toEqual(['/livez', '/healthz']);
    let healthy = true;
    const server = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      health: () => ({
        status: healthy ? 'ok' : 'degraded',
        mode: 'plan',
        running: false,
        consecutiveFailures: healthy ? 0 : 1,
      }),
      metrics: createDaemonMetrics(),
      redactor: new Redactor(),
    });
    try {
      const status = async (path: string) => (await fetch(server.url + path)).status;
      expect([await status(liveness), await status(readiness), await status('/metrics')]).toEqual([
        200, 200, 200,
      ]);
      healthy = false; // degraded: not ready, but alive (a restart fixes no failed source)
      expect([await status(liveness), await status(readiness)]).toEqual([200, 503]);
    } finally {
      await server.close();
    }
  });
});

describe('examples/kubernetes/msp: one CronJob per tenant from a template and a list', () => {
  const work = mkdtempSync(join(tmpdir(), 'entrasync-msp-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const script = join(kubernetesDir, 'msp', 'render.sh');

  function render(lines: string[]) {
    const list = join(work, `tenants-${lines.length}-${Math.random().toString(36).slice(2)}`);
    writeFileSync(list, lines.join('\n') + '\n');
    return spawnSync('sh', [script, list], { encoding: 'utf8' });
  }

  const tenants = [
    'alpha | alpha.onmicrosoft.com | 11111111-1111-1111-1111-111111111111 | 5 * * * * | https://hr.alpha.example/scim/v2/Users',
    'beta  | 0b6f3a2e-7d41-4c8e-9a51-2f0c6d8e4b17 | 22222222-2222-2222-2222-222222222222 | 25 * * * * | https://hr.beta.example/scim/v2/Users',
    '# a comment and a blank line are skipped',
    '',
    'gamma-2 | gamma.example.org | 33333333-3333-3333-3333-333333333333 | 45 */2 * * * | https://people.gamma.example:8443/api/scim/Users',
  ];

  it('renders 3 tenants into 3 CronJobs, each with its own namespace, identity, config, secret and state', async () => {
    const result = render(tenants);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const rendered = parseManifests(result.stdout, 'render.sh output');
    for (const o of rendered) await validateSchema(o);

    const cronJobs = ofKind(rendered, 'CronJob');
    expect(cronJobs.map((c) => c['metadata']['namespace'])).toEqual([
      'entrasync-alpha',
      'entrasync-beta',
      'entrasync-gamma-2',
    ]);
    expect(cronJobs.map((c) => c['spec']['schedule'])).toEqual([
      '5 * * * *',
      '25 * * * *',
      '45 */2 * * *',
    ]);
    const seen = { claims: new Set<string>(), secrets: new Set<string>(), tenants: new Set() };
    for (const cronJob of cronJobs) {
      const namespace = cronJob['metadata']['namespace'] as string;
      named(rendered, 'Namespace', namespace);
      const pod = cronJob['spec']['jobTemplate']['spec']['template']['spec'] as K8sObject;
      const container = pod['containers'][0] as K8sObject;
      expect(container['args'].slice(0, 2)).toEqual(['apply', '--auto-approve']);
      expectHardenedPod(pod);
      const sa = ofKind(rendered, 'ServiceAccount').filter(
        (s) => s['metadata']['namespace'] === namespace,
      );
      expect(sa.map((s) => s['metadata']['name'])).toEqual([pod['serviceAccountName']]);

      const config = configOfContainer(rendered, namespace, pod, container);
      const loaded = await loadConfigText(config.text);
      const [secret] = expectCredentialsMounted(loaded, pod, container);
      // Same names, different namespaces: nothing of one tenant is visible to another's pod.
      seen.claims.add(`${namespace}/${config.claim}`);
      seen.secrets.add(`${namespace}/${secret}`);
      seen.tenants.add(loaded.config.target.tenantId);
    }
    expect(seen.claims.size).toBe(3);
    expect(seen.secrets.size).toBe(3);
    expect([...seen.tenants]).toEqual([
      'alpha.onmicrosoft.com',
      '0b6f3a2e-7d41-4c8e-9a51-2f0c6d8e4b17',
      'gamma.example.org',
    ]);
  });

  it('renders the shipped tenants.list', () => {
    const out = execFileSync('sh', [script], { encoding: 'utf8' });
    const rendered = parseManifests(out, 'tenants.list');
    expect(ofKind(rendered, 'CronJob')).toHaveLength(2);
  });

  it.each([
    ['a repeated tenant', [tenants[0]!, tenants[0]!], /listed twice/],
    ['an uppercase name', [tenants[0]!.replace('alpha', 'Alpha')], /not a DNS label/],
    ['a client id that is no GUID', [tenants[0]!.replace('11111111-1111', 'x')], /not a GUID/],
    ['a four-field schedule', [tenants[0]!.replace('5 * * * *', '5 * * *')], /five-field cron/],
    ['a URL with a quote', [tenants[0]!.replace('/Users', "/Users'")], /not a plain https/],
    ['a plain-http URL', [tenants[0]!.replace('https:', 'http:')], /not a plain https/],
    ['an empty list', ['# nobody yet'], /lists no tenant/],
  ])('refuses %s and renders nothing', (_what, lines, message) => {
    const result = render(lines);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });
});
