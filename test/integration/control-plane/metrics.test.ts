/**
 * mk.api.metrics through real control planes on a real nats-server. No node agent runs: the test
 * publishes each node's usage reports itself, as the fake nodes `fake-n1` and `fake-n2`, with
 * timestamps it picks (so a history of minutes takes no minutes). Pods and nodes are objects
 * written straight into the store, for their labels. A second control plane stands by: it must not
 * answer until it leads.
 */
import { connectBus, ObjectStore, request, type Bus } from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import { isNoResponders } from '../../../bus/core-errors';
import { isNotFound, isValidation, objectKey } from '../../../messages';
import {
  METRICS_SUBJECT, statsSubject, type MetricsRequest, type MetricsResult, type NodeMetrics, type NodeUsageReport, type PodMetrics, type PodUsage,
} from '../../../messages/usage';
import { caught, startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';

jest.setTimeout(60_000);

const MI = 2 ** 20;
const LEASE_SECONDS = 2;

let server: NatsServer;
let leader: ControlPlane;
let standby: ControlPlane | undefined;
let bus: Bus;
let store: ObjectStore;

const metrics = (req: MetricsRequest): Promise<MetricsResult> => request<MetricsResult>(bus, METRICS_SUBJECT, req, { timeoutMs: 2000 });

const usage = (name: string, cores: number, mib: number, namespace = 'default'): PodUsage => ({
  namespace, name, uid: `uid-${namespace}-${name}`, cpuNanoCores: cores * 1e9, memoryBytes: mib * MI,
  containers: [{ name: 'main', cpuNanoCores: cores * 1e9, memoryBytes: mib * MI }],
});

/** Each fake node's latest report, sent again every 200 ms (adds no sample: same timestamp) so a slow run does not look like a silent node. */
const latest = new Map<string, NodeUsageReport>();
let keepAlive: NodeJS.Timeout | undefined;
const send = (r: NodeUsageReport): void => bus.nc.publish(statsSubject(r.node), new TextEncoder().encode(JSON.stringify(r)));

/** Publishes one report as fake node `node`, taken at `t` (epoch ms). */
const publishAsFakeNode = (node: string, t: number, pods: PodUsage[], cores = 1): void => {
  const report: NodeUsageReport = {
    node, timestamp: new Date(t).toISOString(), windowSeconds: 5,
    usage: { cpuNanoCores: cores * 1e9, memoryBytes: 2048 * MI }, capacity: { cpuNanoCores: 4e9, memoryBytes: 8192 * MI }, pods,
  };
  latest.set(node, report);
  send(report);
};

const names = (r: MetricsResult): string[] => r.items.map((i) => i.metadata.name);

beforeAll(async () => {
  server = await startNatsServer({ monitor: true });
  leader = await runControlPlane({
    bus: { servers: server.url, name: 'cp-metrics-1' }, identity: 'cp-1', leaseSeconds: LEASE_SECONDS,
    metrics: { staleAfterMs: 2000, pruneEveryMs: 100 },
  });
  await waitFor(() => leader.isLeader(), 'the first control plane to lead');
  standby = await runControlPlane({
    bus: { servers: server.url, name: 'cp-metrics-2' }, identity: 'cp-2', leaseSeconds: LEASE_SECONDS,
    metrics: { staleAfterMs: 2000, pruneEveryMs: 100 },
  });
  bus = await connectBus({ servers: server.url, name: 'metrics-test' });
  keepAlive = setInterval(() => { for (const r of latest.values()) send(r); }, 200);
  store = await ObjectStore.open(bus);
  const pod = (name: string, app: string, namespace = 'default') => store.create(objectKey('pods', namespace, name), {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, uid: `uid-${namespace}-${name}`, labels: { app } },
    spec: { containers: [{ name: 'main', image: 'busybox' }] },
  });
  await pod('web-1', 'web');
  await pod('web-2', 'web');
  await pod('db', 'db');
  await pod('dns', 'dns', 'kube-system');
  await pod('waiting', 'web');
  await store.create(objectKey('nodes', undefined, 'fake-n1'), { apiVersion: 'v1', kind: 'Node', metadata: { name: 'fake-n1', labels: { zone: 'a' } } });
});

afterAll(async () => {
  clearInterval(keepAlive);
  await standby?.stop();
  await leader?.stop();
  await bus?.close();
  await server?.stop();
});

describe('mk.api.metrics', () => {
  const T0 = Date.now() - 10 * 60_000;

  it('answers pods and nodes from the fake nodes\' reports, with filters', async () => {
    // 21 reports 5 s apart (of the nodes' clocks), sent at once.
    for (let i = 0; i <= 20; i++) {
      publishAsFakeNode('fake-n1', T0 + i * 5000, [usage('web-1', 0.25 + i / 100, 12), usage('db', 1.5, 300)], 1 + i / 10);
      publishAsFakeNode('fake-n2', T0 + i * 5000, [usage('web-2', 0.001, 1), usage('dns', 0, 5, 'kube-system')], 0.5);
    }
    const all = await waitFor(async () => {
      const r = await metrics({ kind: 'pods' });
      const done = r.items.length === 4 && r.items.find((i) => i.metadata.name === 'web-1')!.timestamp === new Date(T0 + 100_000).toISOString();
      return done ? r : undefined;
    }, 'the last reports of both fake nodes');
    expect(all.items.map((i) => `${(i as PodMetrics).metadata.namespace}/${i.metadata.name}`)).toEqual(['default/db', 'default/web-1', 'default/web-2', 'kube-system/dns']);
    const web1 = all.items.find((i) => i.metadata.name === 'web-1') as PodMetrics;
    expect(web1).toMatchObject({
      kind: 'PodMetrics', node: 'fake-n1', window: '5s', metadata: { labels: { app: 'web' } },
      containers: [{ name: 'main', usage: { cpu: '450m', memory: '12288Ki' } }], raw: { cpuNanoCores: 0.45e9, memoryBytes: 12 * MI },
    });
    expect(names(await metrics({ kind: 'pods', namespace: 'default', labelSelector: 'app=web' }))).toEqual(['web-1', 'web-2']);
    expect(names(await metrics({ kind: 'pods', namespace: 'kube-system' }))).toEqual(['dns']);
    expect(names(await metrics({ kind: 'pods', namespace: 'default', name: 'db' }))).toEqual(['db']);
    const nodes = await metrics({ kind: 'nodes' });
    expect(names(nodes)).toEqual(['fake-n1', 'fake-n2']);
    expect(nodes.items[0] as NodeMetrics).toMatchObject({ usage: { cpu: '3000m', memory: '2097152Ki' }, capacity: { cpuNanoCores: 4e9 } });
    expect(names(await metrics({ kind: 'nodes', labelSelector: 'zone=a' }))).toEqual(['fake-n1']);
  });

  it('gives each item\'s history, oldest first', async () => {
    const r = await metrics({ kind: 'pods', namespace: 'default', name: 'web-1', historySeconds: 20 });
    expect(r.history!['default/web-1'].map((s) => Math.round(s.cpuNanoCores / 1e6))).toEqual([410, 420, 430, 440, 450]);
    const n = await metrics({ kind: 'nodes', name: 'fake-n2', historySeconds: 600 });
    expect(n.history!['fake-n2']).toHaveLength(21);
  });

  it('answers errors the way Kubernetes does', async () => {
    const notYet = await caught(metrics({ kind: 'pods', namespace: 'default', name: 'waiting' }));
    expect(isNotFound(notYet)).toBe(true);
    expect(String(notYet)).toMatch(/metrics not available yet/);
    expect(String(await caught(metrics({ kind: 'pods', namespace: 'default', name: 'nosuch' })))).toMatch(/pods "nosuch" not found/);
    const bad = await caught(metrics({ kind: 'pods', labelSelector: 'app in web' }));
    expect(isValidation(bad)).toBe(true);
    expect(String(bad)).toMatch(/invalid label selector "app in web"/);
  });

  it('a report on a subject that is not its node\'s is dropped', async () => {
    const forged: NodeUsageReport = {
      node: 'fake-n9', timestamp: new Date().toISOString(), windowSeconds: 5, usage: { cpuNanoCores: 1, memoryBytes: 1 },
      capacity: { cpuNanoCores: 1, memoryBytes: 1 }, pods: [],
    };
    bus.nc.publish(statsSubject('fake-n1'), new TextEncoder().encode(JSON.stringify(forged)));
    publishAsFakeNode('fake-n2', T0 + 105_000, [usage('web-2', 0.001, 1)], 0.5);
    await waitFor(async () => (await metrics({ kind: 'nodes', name: 'fake-n2' })).items[0].timestamp === new Date(T0 + 105_000).toISOString(), 'n2\'s next report');
    expect(names(await metrics({ kind: 'nodes' }))).not.toContain('fake-n9');
  });

  it('forgets a node that stops reporting, and its pods', async () => {
    // fake-n2 goes on reporting; fake-n1 says nothing more.
    latest.delete('fake-n1');
    const r = await waitFor(async () => {
      const n = await metrics({ kind: 'nodes' });
      return names(n).join() === 'fake-n2' ? n : undefined;
    }, 'fake-n1 to be forgotten');
    expect(names(r)).toEqual(['fake-n2']);
    expect(names(await metrics({ kind: 'pods' }))).toEqual(['web-2']);
    expect(isNotFound(await caught(metrics({ kind: 'pods', namespace: 'default', name: 'db' })))).toBe(true);
  });

  it('is served by the leader only: a standby does not answer until it leads', async () => {
    expect(standby!.isLeader()).toBe(false);
    // The server's own view of who listens: the leader's connection serves mk.api.metrics, the standby's does not.
    const connz = await (await fetch(`${server.monitorUrl}/connz?subs=1`)).json() as { connections: { name?: string; subscriptions_list?: string[] }[] };
    const subsOf = (name: string): string[] => connz.connections.find((c) => c.name === name)?.subscriptions_list ?? [];
    expect(subsOf('cp-metrics-1')).toEqual(expect.arrayContaining([METRICS_SUBJECT, 'mk.stats.*']));
    expect(subsOf('cp-metrics-2')).toEqual(expect.arrayContaining(['mk.api.get']));
    expect(subsOf('cp-metrics-2')).not.toContain(METRICS_SUBJECT);
    expect(subsOf('cp-metrics-2')).not.toContain('mk.stats.*');
    await leader.stop();
    // Stopped leading and stopped serving: until the standby leads, nobody answers.
    if (!standby!.isLeader()) {
      const err = await caught(request(bus, METRICS_SUBJECT, { kind: 'nodes' }, { timeoutMs: 1000 })).catch((e: unknown) => e);
      if (!standby!.isLeader()) expect(isNoResponders(err) || /no responders|timed out/i.test(String(err))).toBe(true);
    }
    await waitFor(() => standby!.isLeader(), 'the standby to lead', 20_000);
    // Its term starts with no reports: the fake node goes on sending until one is heard.
    const r = await waitFor(async () => {
      publishAsFakeNode('fake-n2', Date.now(), [usage('web-2', 0.002, 1)], 0.5);
      const n = await metrics({ kind: 'nodes' }).catch(() => undefined);
      return n && n.items.length > 0 ? n : undefined;
    }, 'the new leader to answer');
    expect(names(r)).toEqual(['fake-n2']);
  });
});
