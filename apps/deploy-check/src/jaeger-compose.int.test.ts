import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readYamlDocuments } from './deploy-files';
import { configVariableNames, DOCKER_DIR } from './test-deploy-config';

type Services = Record<string, { image?: string; environment?: Record<string, string>; ports?: string[] }>;

const APP_SERVICES = ['api', 'worker', 'data-abstractor', 'ai-abstractor', 'exec-agent'];
const services = (file: string) => (readYamlDocuments(join(DOCKER_DIR, file))[0] as { services: Services }).services;

/** docker/docker-compose.jaeger.yml: the README's Observability overlay that adds Jaeger all-in-one. */
describe('the Jaeger overlay', () => {
  const base = services('docker-compose.yml');
  const jaeger = services('docker-compose.jaeger.yml');

  it('adds one pinned Jaeger all-in-one container and only known variables to known services', () => {
    expect(Object.keys(jaeger).filter((s) => !(s in base))).toEqual(['jaeger']);
    expect(jaeger.jaeger?.image).toMatch(/^jaegertracing\/all-in-one:\d+\.\d+\.\d+$/);
    expect(readFileSync(join(DOCKER_DIR, 'docker-compose.jaeger.yml'), 'utf8')).not.toMatch(/:latest\b/);
    const known = new Set(configVariableNames());
    for (const name of APP_SERVICES) {
      const env = jaeger[name]?.environment ?? {};
      expect([name, Object.keys(env).filter((v) => !known.has(v))]).toEqual([name, []]);
    }
  });

  it('points every Orchestrator process at Jaeger, and the base file leaves tracing off', () => {
    for (const name of APP_SERVICES) {
      expect([name, jaeger[name]?.environment?.OTEL_EXPORTER_OTLP_ENDPOINT]).toEqual([name, 'http://jaeger:4318']);
      expect([name, base[name]?.environment?.OTEL_EXPORTER_OTLP_ENDPOINT]).toEqual([
        name,
        '${OTEL_EXPORTER_OTLP_ENDPOINT:-}',
      ]);
    }
    expect(jaeger.api?.environment?.TRACE_URL_TEMPLATE).toBe('http://localhost:16686/trace/{trace_id}');
  });

  it('passes `docker-compose config` merged over the base file', () => {
    const cli = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
    if (cli.status !== 0)
      throw new Error(
        'docker-compose is not installed: run ./scripts/bootstrap.sh --test (apt-get install -y docker-compose)',
      );
    const merged = spawnSync(
      'docker-compose',
      ['-f', 'docker-compose.yml', '-f', 'docker-compose.jaeger.yml', 'config'],
      {
        cwd: DOCKER_DIR,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
      },
    );
    expect([merged.status, merged.stderr]).toEqual([0, expect.any(String)]);
    const rendered = (parse(merged.stdout) as { services: Services }).services;
    for (const name of APP_SERVICES) {
      expect(rendered[name]?.environment).toMatchObject({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318',
        OTEL_TRACES_SAMPLER: 'parentbased_always_on',
        REDIS_HOST: 'redis',
      });
    }
    expect(JSON.stringify(rendered.jaeger?.ports)).toContain('16686');
  });
});
