/**
 * The HorizontalPodAutoscaler against a real nats-server and the built control plane (a process of
 * its own, SIGKILLed once), with a sync period of 500 ms (MK_HPA_SYNC_PERIOD). No node agent runs:
 * a loop plays the node, writing the pods Running and Ready through the store, and publishes usage
 * reports as the fake node `fake-n1` on the subject node agents use (mk.stats.<node>), every pod at
 * the cpu level the test sets. Shown: without metrics, ScalingActive False and a
 * FailedGetResourceMetric event; high cpu scales the Deployment up, to the maximum; a control
 * plane SIGKILLed mid-way goes on from the store; low cpu scales down only after the stabilization
 * window, to the minimum; `mk autoscale` and `mk get hpa`; bad manifests refused with nothing stored.
 */
import { ObjectStore } from '../../../bus';
import {
  HorizontalPodAutoscalerKind, isNotFound, isValidation, objectKey,
  type Deployment, type HorizontalPodAutoscaler, type KubeObject, type ListResult, type Pod,
} from '../../../messages';
import { statsSubject, type NodeUsageReport } from '../../../messages/usage';
import { crashingControlPlane, type CrashingControlPlane } from '../../helpers/crashing-control-plane';
import { caught } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';
import { runCli, type CliResult } from '../cli/run-cli';

jest.setTimeout(180_000);

const WINDOW_S = 4;
const LONG_AGO = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
let h: CrashingControlPlane;
let store: ObjectStore;
/** The cpu each pod of app=web uses, in millicores; undefined: no report at all. */
let level: number | undefined;
const loops = { stop: false, node: Promise.resolve(), stats: Promise.resolve() };

const mk = (args: string[]): Promise<CliResult> => runCli(args, { env: { MK_HOME: h.dataDir }, timeoutMs: 60_000 });
const deploy = async () => (await store.get<Deployment>(objectKey('deployments', 'default', 'web')))!.object;
const hpaNow = async (name = 'web') => (await store.get<HorizontalPodAutoscaler>(objectKey('horizontalpodautoscalers', 'default', name)))?.object;
const cond = (o: HorizontalPodAutoscaler | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
const events = async (reason: string) => (await h.api<ListResult>('list', { kind: 'events', namespace: 'default' })).items
  .filter((e) => (e as unknown as { reason: string }).reason === reason && (e as unknown as { involvedObject: { name: string } }).involvedObject.name === 'web')
  .map((e) => (e as unknown as { message: string }).message);

const deployment = {
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
  spec: {
    replicas: 2, selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '200m' } } }] } },
  },
};
const hpa = (spec: Record<string, unknown> = {}) => ({
  apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 5,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
    behavior: { scaleDown: { stabilizationWindowSeconds: WINDOW_S } },
    ...spec,
  },
});

beforeAll(async () => {
  h = await crashingControlPlane('hpa-test', { env: { MK_HPA_SYNC_PERIOD: '500ms' } });
  store = await ObjectStore.open(h.bus, { create: false }).catch(() => undefined) as ObjectStore;
}, 300_000);

afterAll(async () => {
  loops.stop = true;
  await loops.node;
  await loops.stats;
  await h?.close();
});

const webPods = async () => (await store.list<Pod>('pods.default.>')).items.map((i) => i.object)
  .filter((p) => p.metadata.labels?.app === 'web' && !p.metadata.deletionTimestamp);

/** The node: pods Running and Ready since long ago (past the cpu initialization period). */
const playNode = async () => {
  while (!loops.stop) {
    for (const { key, object: p } of (await store.list<Pod>('pods.default.>').catch(() => ({ items: [] }))).items) {
      if (p.metadata.deletionTimestamp || (p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready'))) continue;
      await store.mutate<Pod>(key, (cur) => ({
        ...cur, status: { ...cur.status, phase: 'Running', startTime: LONG_AGO, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: LONG_AGO }] },
      })).catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
};

/** The node's usage reports, every 200 ms, each pod at `level`. */
const publishStats = async () => {
  while (!loops.stop) {
    if (level !== undefined) {
      const pods = await webPods().catch(() => []);
      const m = level * 1e6;
      const report: NodeUsageReport = {
        node: 'fake-n1', timestamp: new Date().toISOString(), windowSeconds: 1,
        usage: { cpuNanoCores: 1e9, memoryBytes: 2 ** 30 }, capacity: { cpuNanoCores: 4e9, memoryBytes: 2 ** 33 },
        pods: pods.map((p) => ({
          namespace: 'default', name: p.metadata.name, uid: p.metadata.uid ?? '', cpuNanoCores: m, memoryBytes: 2 ** 20,
          containers: [{ name: 'c', cpuNanoCores: m, memoryBytes: 2 ** 20 }],
        })),
      };
      h.bus.nc.publish(statsSubject('fake-n1'), new TextEncoder().encode(JSON.stringify(report)));
    }
    await new Promise((r) => setTimeout(r, 200));
  }
};

it('refuses bad HPAs with a clear error and stores nothing', async () => {
  await h.start();
  store = await ObjectStore.open(h.bus, { create: false });
  const bad = async (spec: Record<string, unknown>) => {
    const err = await caught(h.api('apply', { object: hpa(spec) }));
    expect(isValidation(err)).toBe(true);
    return (err as Error).message;
  };
  expect(await bad({ metrics: [{ type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } }] }))
    .toMatch(/spec\.metrics\[0\]\.type: Unsupported value: "Pods": mk does not serve Pods metrics/);
  expect(await bad({ minReplicas: 6 })).toMatch(/spec\.minReplicas: Invalid value: 6: must be less than or equal to maxReplicas \(5\)/);
  expect(await bad({ maxReplicas: undefined })).toMatch(/spec\.maxReplicas/);
  expect(isNotFound(await caught(h.api('get', { kind: 'hpa', namespace: 'default', name: 'web' })))).toBe(true);
});

it('without metrics: ScalingActive False FailedGetResourceMetric, an event, and TARGETS <unknown>', async () => {
  await h.api('apply', { object: deployment });
  loops.node = playNode();
  loops.stats = publishStats();
  await until('two Ready pods', async () => ((await webPods()).filter((p) => p.status?.phase === 'Running').length === 2 ? true : undefined));
  await h.api('apply', { object: hpa() });
  const o = await until('ScalingActive False', async () => (cond(await hpaNow(), 'ScalingActive')?.status === 'False' ? hpaNow() : undefined));
  expect(cond(o, 'ScalingActive')).toMatchObject({ reason: 'FailedGetResourceMetric', message: expect.stringMatching(/unable to get metrics for resource cpu/) });
  expect(HorizontalPodAutoscalerKind.columns.find((c) => c.name === 'TARGETS')!.value(o as unknown as KubeObject, Date.now())).toBe('cpu: <unknown>/50%');
  const warned = await until('a FailedGetResourceMetric event', async () => ((await events('FailedGetResourceMetric')).length ? events('FailedGetResourceMetric') : undefined));
  expect(warned[0]).toMatch(/no metrics returned from resource metrics API/);
  expect((await deploy()).spec.replicas).toBe(2);
});

let firstScale: string | undefined;

it('high cpu scales the Deployment up, and a control plane SIGKILLed mid-way goes on to the maximum', async () => {
  level = 180; // 90 % of the 200m request against 50 %: ceil(2 * 1.8) = 4, then ceil(4 * 1.8) = 8, clamped to 5.
  await until('the deployment at 4 or more', async () => ((await deploy()).spec.replicas! >= 4 ? true : undefined));
  // The target is written first, the status after.
  firstScale = await until('a lastScaleTime', async () => (await hpaNow())?.status?.lastScaleTime);
  await h.kill();
  await h.start();
  await until('the deployment at 5', async () => ((await deploy()).spec.replicas === 5 ? true : undefined));
  const o = await until('5 replicas, ScalingLimited TooManyReplicas', async () => {
    const now = await hpaNow();
    return cond(now, 'ScalingLimited')?.reason === 'TooManyReplicas' && now?.status?.currentReplicas === 5 ? now : undefined;
  });
  expect(cond(o, 'ScalingLimited')?.status).toBe('True');
  expect(cond(o, 'ScalingActive')).toMatchObject({ status: 'True', reason: 'ValidMetricFound' });
  expect(o!.status).toMatchObject({ currentReplicas: 5, desiredReplicas: 5, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 90 } } }] });
  const rescales = await events('SuccessfulRescale');
  expect(rescales).toContain('New size: 4; reason: cpu resource utilization (percentage of request) above target');
  expect(rescales.some((m) => m.startsWith('New size: 5;'))).toBe(true);
  // 5 pods at 180m can only ask for more: the maximum holds.
  expect((await deploy()).spec.replicas).toBe(5);
});

it('low cpu scales down only after the stabilization window, and no lower than the minimum', async () => {
  const lowAt = Date.now();
  level = 10; // 5 %: ceil(5 * 0.1) = 1, below the minimum of 2.
  await until('the deployment at 2', async () => ((await deploy()).spec.replicas === 2 ? true : undefined), 60_000);
  // The highest recommendation of the last 4 s was 5 until the high samples left the window.
  expect(Date.now() - lowAt).toBeGreaterThanOrEqual((WINDOW_S - 1) * 1000);
  const o = await until('ScalingLimited TooFewReplicas', async () => (cond(await hpaNow(), 'ScalingLimited')?.reason === 'TooFewReplicas' ? hpaNow() : undefined));
  expect(String(o?.status?.lastScaleTime) > String(firstScale)).toBe(true);
  expect(await events('SuccessfulRescale')).toContain('New size: 2; reason: All metrics below target');
});

it('mk autoscale makes an HPA like kubectl autoscale, and mk get hpa lists it in kubectl\'s columns', async () => {
  await h.api('apply', { object: { ...deployment, metadata: { name: 'api' }, spec: { ...deployment.spec, selector: { matchLabels: { app: 'api' } }, template: { ...deployment.spec.template, metadata: { labels: { app: 'api' } } } } } });
  expect(await mk(['autoscale', 'deployment/api', '--min=1', '--max=3', '--cpu-percent=70'])).toEqual({ code: 0, stdout: 'horizontalpodautoscaler.autoscaling/api autoscaled\n', stderr: '' });
  const made = await hpaNow('api');
  expect(made?.spec).toMatchObject({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, minReplicas: 1, maxReplicas: 3 });
  expect(made?.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
  const table = await mk(['get', 'hpa']);
  expect(table.code).toBe(0);
  const [head, ...rows] = table.stdout.trimEnd().split('\n');
  expect(head.split(/\s{2,}/)).toEqual(['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
  expect(rows.map((r) => r.split(/\s{2,}/).slice(0, 6))).toContainEqual(['web', 'Deployment/web', 'cpu: 5%/50%', '2', '5', '2']);
  const described = await mk(['describe', 'hpa', 'web']);
  expect(described.code).toBe(0);
  expect(described.stdout).toMatch(/^Reference:\s+Deployment\/web$/m);
  expect(described.stdout).toMatch(/^Deployment pods:\s+2 current \/ 2 desired$/m);
  expect(described.stdout).toMatch(/SuccessfulRescale.*New size: 2; reason: All metrics below target/);
  const dry = await mk(['autoscale', 'deployment', 'api', '--max=4', '--name=api-dry', '--dry-run=server', '-o', 'json']);
  expect(dry.code).toBe(0);
  expect(JSON.parse(dry.stdout)).toMatchObject({ kind: 'HorizontalPodAutoscaler', metadata: { name: 'api-dry' }, spec: { minReplicas: 1, maxReplicas: 4 } });
  expect(await hpaNow('api-dry')).toBeUndefined();
  // Bad input: no --max, an unknown target, a kind without replicas, min above max. Nothing is made.
  expect((await mk(['autoscale', 'deployment/api'])).code).toBe(1);
  const missing = await mk(['autoscale', 'deployment/nope', '--max=3']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/not found/);
  const pods = await mk(['autoscale', 'pod/x', '--max=3']);
  expect(pods).toMatchObject({ code: 1, stderr: expect.stringMatching(/pods cannot be scaled/) });
  expect(await mk(['autoscale', 'deployment', 'api', '--min=4', '--max=3', '--name=api2'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/--max=MAXPODS must be larger or equal to --min=MINPODS/) });
  expect(await hpaNow('api2')).toBeUndefined();
  expect(await hpaNow('nope')).toBeUndefined();
});

it('two HPAs of one target: neither scales (AmbiguousSelector) until one goes', async () => {
  const twin = { ...hpa({ minReplicas: 4 }), metadata: { name: 'web-twin' } };
  await h.api('apply', { object: twin });
  for (const name of ['web', 'web-twin']) {
    await until(`${name} AmbiguousSelector`, async () => (cond(await hpaNow(name), 'ScalingActive')?.reason === 'AmbiguousSelector' ? true : undefined));
  }
  expect(cond(await hpaNow('web-twin'), 'ScalingActive')?.message).toMatch(/controlled by multiple HPAs: \[default\/web default\/web-twin\]/);
  // web-twin's minimum of 4 was not applied.
  expect((await deploy()).spec.replicas).toBe(2);
  await h.api('delete', { kind: 'horizontalpodautoscalers', namespace: 'default', name: 'web-twin' });
  await until('web measures again', async () => (cond(await hpaNow(), 'ScalingActive')?.reason === 'ValidMetricFound' ? true : undefined));
});
