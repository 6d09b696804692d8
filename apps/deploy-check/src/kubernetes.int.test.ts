import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parse } from 'yaml';
import { REPO_ROOT, readYamlDocuments } from './deploy-files';
import { configVariableNames, DOCKER_DIR, REFERENCE_VARS } from './test-deploy-config';

const K8S_DIR = join(DOCKER_DIR, 'k8s', 'base');

/**
 * kubernetes-models' classes validate against the Kubernetes OpenAPI schema (v1.33, compiled with ajv): required
 * fields, types, enums and formats. The schema allows unknown fields, so the checks further down name the fields
 * that matter here.
 */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
};

// Parsed manifests: the tests below read deep paths and assert them; a static type adds nothing.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Manifest = any;

function validationErrors(doc: Manifest): string | undefined {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) return `no schema for ${doc.apiVersion}/${doc.kind}`;
  try {
    new Model(doc as never).validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const manifestFiles = readdirSync(K8S_DIR)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .sort();
const docs: { file: string; doc: Manifest }[] = manifestFiles.flatMap((file) =>
  readYamlDocuments(join(K8S_DIR, file)).map((doc) => ({ file, doc: doc as Manifest })),
);
const find = (kind: string, name: string): Manifest => {
  const found = docs.find((d) => d.doc.kind === kind && d.doc.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in docker/k8s/base`);
  return found.doc;
};

const config = find('ConfigMap', 'orchestrator-config');
const templates = find('ConfigMap', 'orchestrator-templates');
const secret = find('Secret', 'orchestrator-secrets');
const api = find('Deployment', 'orchestrator-api');
const apiService = find('Service', 'orchestrator-api');
const worker = find('Deployment', 'orchestrator-worker');
const hpa = find('HorizontalPodAutoscaler', 'orchestrator-worker');

describe('Kubernetes manifests', () => {
  it('validate against the Kubernetes schemas', () => {
    expect(docs.length).toBeGreaterThanOrEqual(7);
    expect(docs.map(({ file, doc }) => [file, doc.kind, validationErrors(doc)])).toEqual(
      docs.map(({ file, doc }) => [file, doc.kind, undefined]),
    );
  });

  it('would catch a broken manifest (the validator is not a no-op)', () => {
    const broken = structuredClone(api);
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    delete broken.spec.selector;
    expect(validationErrors(broken)).toMatch(/containerPort must be integer|must have required property 'selector'/);
    const badHpa = structuredClone(hpa);
    badHpa.spec.minReplicas = 'two';
    expect(validationErrors(badHpa)).toMatch(/minReplicas must be integer/);
  });

  it('are all listed in kustomization.yaml, except the example Secret', () => {
    const kustomization = parse(readFileSync(join(K8S_DIR, 'kustomization.yaml'), 'utf8'));
    expect(kustomization.resources.sort()).toEqual(manifestFiles.filter((f) => f !== 'secret.example.yaml'));
  });

  it("configure the reference's variables with known names, and keep secrets in the Secret", () => {
    const known = new Set(configVariableNames());
    const configured = new Set([...Object.keys(config.data), ...Object.keys(secret.stringData)]);
    expect(REFERENCE_VARS.filter((v) => !configured.has(v))).toEqual([]);
    expect([...configured].filter((v) => !known.has(v))).toEqual([]);
    expect(Object.keys(secret.stringData).sort()).toEqual([
      'ORCHESTRATOR_API_KEYS',
      'REDIS_PASSWORD',
      'SERVICE_SECRET',
    ]);
    expect(Object.keys(config.data)).not.toContain('REDIS_PASSWORD');
  });

  it('carry the built-in templates exactly as they are in templates/', () => {
    const files = readdirSync(join(REPO_ROOT, 'templates')).filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(Object.keys(templates.data).sort()).toEqual(files.sort());
    for (const file of files) {
      expect([file, templates.data[file]]).toEqual([file, readFileSync(join(REPO_ROOT, 'templates', file), 'utf8')]);
    }
  });

  describe.each([
    ['api', api],
    ['worker', worker],
  ])('the %s Deployment', (role, deployment) => {
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];

    it('runs the role from a pinned image as a non-root user', () => {
      expect(pod.containers).toHaveLength(1);
      expect(container.args).toEqual([role]);
      expect(container.image).toMatch(/^[^:]+:\d+\.\d+\.\d+$/);
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).not.toBe(0);
      expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
    });

    it('selects its own pods', () => {
      expect(deployment.spec.template.metadata.labels).toEqual(
        expect.objectContaining(deployment.spec.selector.matchLabels),
      );
    });

    it('has resource requests and limits', () => {
      for (const kind of ['requests', 'limits']) {
        expect(container.resources[kind]).toEqual({ cpu: expect.anything(), memory: expect.anything() });
      }
    });

    it('mounts the templates ConfigMap at ORCHESTRATOR_TEMPLATES, and takes settings and secrets by name', () => {
      const volume = pod.volumes.find((v: Manifest) => v.configMap?.name === templates.metadata.name);
      const mount = container.volumeMounts.find((m: Manifest) => m.name === volume?.name);
      expect(mount?.mountPath).toBe(config.data.ORCHESTRATOR_TEMPLATES);
      for (const m of container.volumeMounts) expect(pod.volumes.map((v: Manifest) => v.name)).toContain(m.name);
      expect(container.envFrom).toEqual([{ configMapRef: { name: config.metadata.name } }]);
      for (const variable of container.env.filter((e: Manifest) => e.valueFrom?.secretKeyRef)) {
        expect(variable.valueFrom.secretKeyRef.name).toBe(secret.metadata.name);
        expect(Object.keys(secret.stringData)).toContain(variable.valueFrom.secretKeyRef.key);
      }
      expect(container.env.map((e: Manifest) => e.name)).toContain('REDIS_PASSWORD');
    });

    it('has a writable /tmp (ORCHESTRATOR_WORKSPACE) on a read-only root filesystem', () => {
      expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(config.data.ORCHESTRATOR_WORKSPACE).toMatch(/^\/tmp\//);
      const tmp = container.volumeMounts.find((m: Manifest) => m.mountPath === '/tmp');
      expect(pod.volumes.find((v: Manifest) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    });
  });

  it('probes the API on /health through its named port, and exposes it with a Service', () => {
    const container = api.spec.template.spec.containers[0];
    const port = container.ports.find((p: Manifest) => p.name === 'http');
    expect(port.containerPort).toBe(Number(config.data.ORCHESTRATOR_PORT));
    expect(container.readinessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(container.startupProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(container.livenessProbe.tcpSocket).toEqual({ port: 'http' });
    expect(apiService.spec.selector).toEqual(api.spec.selector.matchLabels);
    expect(apiService.spec.ports.map((p: Manifest) => p.targetPort)).toEqual(['http']);
    expect(container.env.map((e: Manifest) => e.name)).toContain('ORCHESTRATOR_API_KEYS');
  });

  it('names each worker after its pod and gives it time to finish its jobs', () => {
    const pod = worker.spec.template.spec;
    const container = pod.containers[0];
    expect(container.env.find((e: Manifest) => e.name === 'WORKER_NAME')?.valueFrom).toEqual({
      fieldRef: { fieldPath: 'metadata.name' },
    });
    // The worker's default deadline for one service call is 300 s (apps/worker/src/tasks/call-service.ts).
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(300);
    // It serves only its Prometheus /metrics (scraped per pod; no Service), no probe; and it needs no API keys.
    expect(container.ports).toEqual([{ name: 'metrics', containerPort: 9464 }]);
    expect(container.env.find((e: Manifest) => e.name === 'WORKER_METRICS_PORT')?.value).toBe('9464');
    expect(worker.spec.template.metadata.annotations['prometheus.io/port']).toBe('9464');
    expect(container.livenessProbe ?? container.readinessProbe).toBeUndefined();
    expect(container.env.map((e: Manifest) => e.name)).not.toContain('ORCHESTRATOR_API_KEYS');
    // It signs its service requests: the same SERVICE_SECRET as the services, from the Secret.
    expect(container.env.find((e: Manifest) => e.name === 'SERVICE_SECRET')?.valueFrom).toEqual({
      secretKeyRef: { name: 'orchestrator-secrets', key: 'SERVICE_SECRET' },
    });
  });

  it('scales workers on CPU between 2 and 10, leaving the count to the autoscaler', () => {
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'orchestrator-worker' });
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 10]);
    expect(hpa.spec.metrics).toEqual([
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: expect.any(Number) } },
      },
    ]);
    expect(worker.spec.replicas).toBeUndefined();
  });
});
