import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { parse } from 'yaml';
import { readYamlDocuments } from './deploy-files';
import { CLUSTER_VARS, configVariableNames, DOCKER_DIR, partitionRange } from './test-deploy-config';
import { buildKustomization, kustomizationReferences, type Manifest } from './test-kustomize';

/**
 * docker/k8s/cluster: the Redis Cluster overlays on docker/k8s/base. `kubectl kustomize` is not part of the test
 * machine (bootstrap installs no kubectl, and Debian's is too old for components), so the overlays are built by
 * test-kustomize.ts's small equivalent and checked structurally: every file they name exists, every patch has a
 * target, and the built documents validate against the Kubernetes schemas.
 */
const K8S_DIR = join(DOCKER_DIR, 'k8s');
const CLUSTER_DIR = join(K8S_DIR, 'cluster');
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
};

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

const managed = buildKustomization(join(CLUSTER_DIR, 'managed'));
const selfHosted = buildKustomization(join(CLUSTER_DIR, 'self-hosted'));
// The optional component as managed/kustomization.yaml would include it, uncommented.
const split = buildKustomization(join(CLUSTER_DIR, 'worker-split'), selfHosted);
const variants: [string, Manifest[]][] = [
  ['managed', managed],
  ['self-hosted', selfHosted],
  ['self-hosted with the worker split', split],
];

const find = (docs: Manifest[], kind: string, name: string): Manifest => {
  const found = docs.find((d) => d.kind === kind && d.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};
const orchestratorDeployments = (docs: Manifest[]) =>
  docs.filter((d) => d.kind === 'Deployment' && d.metadata.labels?.['app.kubernetes.io/name'] === 'orchestrator');
const envOf = (deployment: Manifest, name: string) =>
  deployment.spec.template.spec.containers[0].env?.find((e: Manifest) => e.name === name);
const withoutComments = (text: string) => text.replace(/^\s*#.*\n/gm, '');

describe('the Redis Cluster Kubernetes overlays', () => {
  it('name only files and directories that exist, and put no overlay inside its base', () => {
    const refs = [K8S_DIR, join(CLUSTER_DIR, 'managed'), join(CLUSTER_DIR, 'self-hosted')].flatMap((d) =>
      kustomizationReferences(d),
    );
    expect(refs.length).toBeGreaterThan(10);
    expect(refs.filter((r) => !existsSync(r.path)).map((r) => `${r.kustomization}: ${r.entry}`)).toEqual([]);
    for (const r of refs.filter((x) => x.field === 'resources' || x.field === 'components')) {
      if (!statSync(r.path).isDirectory()) continue;
      expect(existsSync(join(r.path, 'kustomization.yaml'))).toBe(true);
      // kustomize refuses, as a cycle, a base whose directory contains the overlay's (docker/k8s -> base is fine).
      const from = relative(r.path, dirname(r.kustomization));
      expect([r.entry, from === '' || !from.startsWith('..')]).toEqual([r.entry, false]);
    }
    expect(parse(readFileSync(join(CLUSTER_DIR, 'worker-split', 'kustomization.yaml'), 'utf8')).kind).toBe('Component');
  });

  it('offer the worker split as a commented-out component of the managed overlay', () => {
    const text = readFileSync(join(CLUSTER_DIR, 'managed', 'kustomization.yaml'), 'utf8');
    expect(parse(text).components).toBeUndefined();
    const enabled = parse(text.replace(/^# components:$/m, 'components:').replace(/^# {3}- /m, '  - '));
    expect(enabled.components).toEqual(['../worker-split']);
    expect(existsSync(join(CLUSTER_DIR, 'managed', '../worker-split', 'kustomization.yaml'))).toBe(true);
  });

  it.each(variants)('build (%s) into documents that validate against the Kubernetes schemas', (_name, docs) => {
    expect(docs.length).toBeGreaterThanOrEqual(6);
    expect(docs.map((d) => [d.kind, d.metadata.name, validationErrors(d)])).toEqual(
      docs.map((d) => [d.kind, d.metadata.name, undefined]),
    );
  });

  it('would catch a broken document (the validator is not a no-op)', () => {
    const sts = structuredClone(find(selfHosted, 'StatefulSet', 'redis-cluster'));
    sts.spec.replicas = 'six';
    expect(validationErrors(sts)).toMatch(/replicas must be integer/);
    const job = structuredClone(find(selfHosted, 'Job', 'redis-cluster-init'));
    delete job.spec.template;
    expect(validationErrors(job)).toMatch(/must have required property '?template'?/);
  });

  it.each(variants)('(%s) point every Orchestrator process at the cluster with 16 partitions', (_name, docs) => {
    const config = find(docs, 'ConfigMap', 'orchestrator-config');
    expect(config.data.REDIS_CLUSTER_NODES).toMatch(/^[a-z0-9.-]+:\d+(,[a-z0-9.-]+:\d+)*$/);
    expect(config.data.ORCHESTRATOR_PARTITIONS).toBe('16');
    expect(config.data.REDIS_WAIT_REPLICAS).toBe('1');
    expect(Object.keys(config.data).filter((k) => ['REDIS_HOST', 'REDIS_PORT', 'REDIS_DATABASE'].includes(k))).toEqual(
      [],
    );
    const known = new Set([...configVariableNames(), ...CLUSTER_VARS]);
    expect(Object.keys(config.data).filter((k) => !known.has(k))).toEqual([]);
    const deployments = orchestratorDeployments(docs);
    expect(deployments.length).toBeGreaterThanOrEqual(2);
    for (const d of deployments) {
      expect([d.metadata.name, d.spec.template.spec.containers[0].envFrom]).toEqual([
        d.metadata.name,
        [{ configMapRef: { name: 'orchestrator-config' } }],
      ]);
    }
  });

  describe('self-hosted', () => {
    const sts = find(selfHosted, 'StatefulSet', 'redis-cluster');
    const service = find(selfHosted, 'Service', sts.spec.serviceName);
    const pod = sts.spec.template.spec;
    const redis = pod.containers[0];
    const scripts = find(selfHosted, 'ConfigMap', 'redis-cluster-scripts');
    const job = find(selfHosted, 'Job', 'redis-cluster-init');
    const nodes = find(selfHosted, 'ConfigMap', 'orchestrator-config').data.REDIS_CLUSTER_NODES.split(',');

    it('runs six pinned Redis 7 pods, all at once, behind a headless Service that publishes unready pods', () => {
      expect(sts.spec.replicas).toBe(6);
      expect(sts.spec.podManagementPolicy).toBe('Parallel');
      expect(redis.image).toMatch(/^redis:7\.\d+\.\d+(-[a-z]+)?$/);
      expect(service.spec.clusterIP).toBe('None');
      expect(service.spec.publishNotReadyAddresses).toBe(true);
      expect(sts.spec.template.metadata.labels).toEqual(expect.objectContaining(service.spec.selector));
      expect(sts.spec.template.metadata.labels).toEqual(expect.objectContaining(sts.spec.selector.matchLabels));
      expect(service.spec.ports.map((p: Manifest) => p.port).sort()).toEqual([16379, 6379]);
    });

    it('names exactly the six pods, by their stable DNS names, in REDIS_CLUSTER_NODES', () => {
      const names = Array.from(
        { length: sts.spec.replicas },
        (_, i) => `${sts.metadata.name}-${i}.${service.metadata.name}:6379`,
      );
      expect(nodes).toEqual(names);
      // The Job forms the cluster from the same list.
      expect(job.spec.template.spec.containers[0].env.find((e: Manifest) => e.name === 'REDIS_CLUSTER_NODES')).toEqual({
        name: 'REDIS_CLUSTER_NODES',
        valueFrom: { configMapKeyRef: { name: 'orchestrator-config', key: 'REDIS_CLUSTER_NODES' } },
      });
    });

    it('announces each pod by its DNS name, with the shared password, AOF on its own claim', () => {
      const args: string[] = redis.args;
      expect(args[args.indexOf('--cluster-announce-hostname') + 1]).toBe(
        `$(POD_NAME).${service.metadata.name}.$(POD_NAMESPACE).svc`,
      );
      expect(args[args.indexOf('--requirepass') + 1]).toBe('$(REDIS_PASSWORD)');
      expect(args[args.indexOf('--masterauth') + 1]).toBe('$(REDIS_PASSWORD)');
      const env = Object.fromEntries(redis.env.map((e: Manifest) => [e.name, e.valueFrom]));
      expect(env.POD_NAME).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
      expect(env.POD_NAMESPACE).toEqual({ fieldRef: { fieldPath: 'metadata.namespace' } });
      expect(env.REDIS_PASSWORD).toEqual({ secretKeyRef: { name: 'orchestrator-secrets', key: 'REDIS_PASSWORD' } });
      expect(args[0]).toBe('/scripts/cluster-node.conf');
      const conf = withoutComments(scripts.data['cluster-node.conf']);
      for (const line of ['cluster-enabled yes', 'appendonly yes', 'maxmemory-policy noeviction']) {
        expect(conf).toContain(`${line}\n`);
      }
      expect(conf).toContain('cluster-preferred-endpoint-type hostname\n');
      const claim = sts.spec.volumeClaimTemplates[0];
      expect(redis.volumeMounts.find((m: Manifest) => m.name === claim.metadata.name)?.mountPath).toBe('/data');
      expect(redis.workingDir).toBe('/data');
    });

    it('is ready only when the node reports a healthy cluster', () => {
      expect(redis.readinessProbe.exec.command.join(' ')).toMatch(/redis-cli cluster info .*cluster_state:ok/);
      expect(redis.livenessProbe.exec.command.join(' ')).toMatch(/redis-cli ping/);
    });

    it('runs the scripts of docker/redis from the generated ConfigMap, identical copies', () => {
      for (const file of ['cluster-init.sh', 'cluster-node.conf']) {
        expect([file, scripts.data[file]]).toEqual([file, readFileSync(join(DOCKER_DIR, 'redis', file), 'utf8')]);
      }
      expect(redis.command).toEqual(['sh', '/scripts/redis-start.sh']);
      expect(Object.keys(scripts.data).sort()).toEqual(['cluster-init.sh', 'cluster-node.conf', 'redis-start.sh']);
      for (const workload of [sts, job]) {
        const spec = workload.spec.template.spec;
        const volume = spec.volumes.find((v: Manifest) => v.configMap?.name === scripts.metadata.name);
        expect(spec.containers[0].volumeMounts.find((m: Manifest) => m.name === volume?.name)?.mountPath).toBe(
          '/scripts',
        );
      }
      expect(job.spec.template.spec.containers[0].command).toEqual(['sh', '/scripts/cluster-init.sh']);
      expect(job.spec.template.spec.restartPolicy).toBe('OnFailure');
    });
  });

  describe('the worker split', () => {
    const workers = orchestratorDeployments(split).filter(
      (d) => d.metadata.labels['app.kubernetes.io/component'] === 'worker',
    );
    const partitions = Number(find(split, 'ConfigMap', 'orchestrator-config').data.ORCHESTRATOR_PARTITIONS);

    it('covers every partition exactly once', () => {
      expect(workers.map((w) => w.metadata.name).sort()).toEqual(['orchestrator-worker', 'orchestrator-worker-8-15']);
      const served = workers.flatMap((w) => partitionRange(envOf(w, 'WORKER_PARTITIONS')?.value ?? ''));
      expect(served.sort((a, b) => a - b)).toEqual(Array.from({ length: partitions }, (_, i) => i));
      expect(partitionRange('0-3,8-11')).toEqual([0, 1, 2, 3, 8, 9, 10, 11]);
      expect(() => partitionRange('7-0')).toThrow();
    });

    it('leaves every worker serving all partitions without it', () => {
      for (const docs of [managed, selfHosted]) {
        for (const w of orchestratorDeployments(docs)) expect(envOf(w, 'WORKER_PARTITIONS')).toBeUndefined();
      }
    });

    it("keeps the halves' pods apart, each with its own autoscaler", () => {
      for (const w of workers) {
        const others = workers.filter((o) => o !== w);
        for (const o of others) {
          const labels = o.spec.template.metadata.labels;
          const selects = Object.entries(w.spec.selector.matchLabels).every(([k, v]) => labels[k] === v);
          expect([w.metadata.name, o.metadata.name, selects]).toEqual([w.metadata.name, o.metadata.name, false]);
        }
        const hpa = split.find(
          (d) => d.kind === 'HorizontalPodAutoscaler' && d.spec.scaleTargetRef.name === w.metadata.name,
        );
        expect(hpa).toBeDefined();
      }
    });

    it('has a second half that is docker/k8s/base/worker.yaml but for its name, label and partitions', () => {
      const normalise = (docs: Manifest[]) =>
        JSON.parse(
          JSON.stringify(docs)
            .replaceAll('orchestrator-worker-8-15', 'orchestrator-worker')
            .replaceAll(',"orchestrator/partitions":"8-15"', ''),
        ).map((d: Manifest) => {
          if (d.kind !== 'Deployment') return d;
          const container = d.spec.template.spec.containers[0];
          container.env = container.env.filter((e: Manifest) => e.name !== 'WORKER_PARTITIONS');
          return d;
        });
      const copy = readYamlDocuments(join(CLUSTER_DIR, 'worker-split', 'worker-partitions-8-15.yaml'));
      expect(normalise(copy as Manifest[])).toEqual(readYamlDocuments(join(K8S_DIR, 'base', 'worker.yaml')));
    });
  });
});
