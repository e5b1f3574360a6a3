/**
 * Manifests in the shape of the Kubernetes documentation's examples (test/fixtures/k8s-docs:
 * workloads, and pods from the task pages, with busybox for their images) apply unchanged with
 * the built CLI against a real nats-server and control plane: exit 0, nothing on stderr, every
 * object stored as written, and the controllers act on them (fake nodes play the agents).
 */
import * as path from 'node:path';
import type { ControlPlane } from '../../../actors';
import { ObjectStore, type Bus } from '../../../bus';
import type { Pod } from '../../../messages';
import { fakeNode, playNodes, putNode, type NodeLoop } from '../../helpers/fake-nodes';
import type { NatsServer } from '../../helpers/nats-server';
import { waitFor } from '../../helpers/wait';
import { startCliCluster, stopCliCluster } from './cli-cluster';
import { runCli, type CliResult } from './run-cli';

jest.setTimeout(180_000);

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'k8s-docs');
let server: NatsServer;
let cp: ControlPlane;
let bus: Bus;
let store: ObjectStore;
let dir: string;
let nodes: NodeLoop | undefined;

const mk = (args: string[]): Promise<CliResult> => runCli(args, { env: { MK_HOME: dir }, timeoutMs: 60_000 });

beforeAll(async () => {
  ({ server, cp, bus, store, dir } = await startCliCluster('k8s-docs'));
  for (const [n, zone] of [['n1', 'a'], ['n2', 'b']]) await putNode(store, fakeNode(n, { zone }));
  nodes = playNodes(store);
}, 300_000);

afterAll(async () => {
  await nodes?.stop();
  await stopCliCluster({ cp, bus, server, dir });
});

it('applies the workload examples unchanged, and the controllers make their pods', async () => {
  const r = await mk(['apply', '-f', path.join(FIXTURES, 'workloads.yaml')]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(r.stdout.trim().split('\n')).toEqual([
    'deployment.apps/nginx-deployment created', 'replicaset.apps/frontend created', 'daemonset.apps/fluentd-elasticsearch created',
    'job.batch/pi created', 'cronjob.batch/hello created', 'horizontalpodautoscaler.autoscaling/php-apache created',
    'horizontalpodautoscaler.autoscaling/frontend-scaler created',
  ]);
  const pods = async () => (await store.list<Pod>('pods.default.>')).items.map((i) => i.object);
  await waitFor('the controllers\' pods', async () => {
    const ps = await pods();
    const n = (prefix: string) => ps.filter((p) => p.metadata.name.startsWith(prefix)).length;
    return n('nginx-deployment-') === 3 && n('frontend-') === 3 && n('fluentd-elasticsearch-') === 2 && n('pi-') >= 1 ? ps : null;
  }, 60_000);
  // The v1 autoscaler was stored as v2, its target CPU turned into a metric.
  const hpa = await mk(['get', 'hpa', 'frontend-scaler', '-o', 'json']);
  expect(JSON.parse(hpa.stdout)).toMatchObject({
    apiVersion: 'autoscaling/v2',
    spec: { metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
  });
  // Applying the same file again changes nothing.
  const again = await mk(['apply', '-f', path.join(FIXTURES, 'workloads.yaml')]);
  expect(again.code).toBe(0);
  expect(again.stdout.trim().split('\n').every((l) => l.endsWith(' unchanged'))).toBe(true);
});

it('applies the pod examples unchanged (probes, hooks, security contexts, env sources, hosts, DNS, spread, gates, extended resources)', async () => {
  const r = await mk(['apply', '-f', path.join(FIXTURES, 'pods.yaml')]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(16);
  expect(lines.every((l) => / created$/.test(l))).toBe(true);
  expect(lines).toContain('secret/mysecret created');
  // A gated pod waits for its gates; the stringData of the Secret was stored as data.
  expect((await mk(['get', 'pod', 'test-pod'])).stdout).toMatch(/test-pod\s+0\/1\s+SchedulingGated/);
  const secret = JSON.parse((await mk(['get', 'secret', 'mysecret', '-o', 'json'])).stdout) as { data: Record<string, string>; stringData?: unknown };
  expect(secret.stringData).toBeUndefined();
  expect(Buffer.from(secret.data.username, 'base64').toString()).toBe('admin');
});
