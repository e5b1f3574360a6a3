/**
 * How `mk port-forward` finds its pod (cli/port-forward.ts resolveTarget) against an api served on
 * a real nats-server: pods, Deployments, ReplicaSets and Services (read by plural) resolve to a
 * running, ready pod their selector matches; what cannot resolve says why.
 */
import { connectBus, type Bus } from '../../../bus/connection';
import { serve, type Served } from '../../../bus/request';
import { Api } from '../../../cli/client';
import { resolvePorts, parsePortSpec, resolveTarget } from '../../../cli/port-forward';
import { setLogLevel } from '../../../common/log';
import { API, isNotFound, NotFoundError, type KubeObject } from '../../../messages';
import { caught, startNatsServer, type NatsServer } from '../../helpers/nats-server';

let server: NatsServer;
let bus: Bus;
let served: Served[];
let api: Api;

const pod = (name: string, labels: Record<string, string>, phase: string, ready: boolean, created: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels, creationTimestamp: created },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: 8080 }] }] },
  status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
} as KubeObject);

const objects: Record<string, KubeObject[]> = {
  pods: [
    pod('web-pending', { app: 'web' }, 'Pending', false, '2026-01-03T00:00:00Z'),
    pod('web-unready', { app: 'web' }, 'Running', false, '2026-01-02T00:00:00Z'),
    pod('web-ready', { app: 'web' }, 'Running', true, '2026-01-01T00:00:00Z'),
    pod('db', { app: 'db' }, 'Running', true, '2026-01-01T00:00:00Z'),
  ],
  deployments: [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } } } } as KubeObject],
  replicasets: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'db-1', namespace: 'default' }, spec: { selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] } } } as KubeObject],
  services: [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] } } as KubeObject,
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'external', namespace: 'default' }, spec: { ports: [{ port: 80 }] } } as KubeObject,
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'nobody', namespace: 'default' }, spec: { selector: { app: 'none' }, ports: [{ port: 80 }] } } as KubeObject,
  ],
};

beforeAll(async () => {
  setLogLevel('silent');
  server = await startNatsServer();
  bus = await connectBus({ servers: server.url, name: 'pf-target', checkJetStream: false });
  served = [
    serve<{ kind: string; name: string }, { object: KubeObject }>(bus, API.get, async (req) => {
      const o = (objects[req.kind] ?? []).find((x) => x.metadata.name === req.name);
      if (!o) throw new NotFoundError(`${req.kind} "${req.name}" not found`);
      return { object: o };
    }),
    serve<{ kind: string }, { items: KubeObject[]; resourceVersion: string }>(bus, API.list, async (req) => ({ items: objects[req.kind] ?? [], resourceVersion: '1' })),
  ];
  await Promise.all(served.map((s) => s.ready));
  api = new Api(bus);
});
afterAll(async () => {
  for (const s of served ?? []) await s.stop();
  await bus?.close();
  await server?.stop();
});

const podOf = async (arg: string): Promise<string> => (await resolveTarget(api, bus, 'default', arg)).pod.metadata.name;

it('resolves a pod by NAME or pod/NAME', async () => {
  expect(await podOf('db')).toBe('db');
  expect(await podOf('po/web-pending')).toBe('web-pending');
});

it('resolves a Deployment, a ReplicaSet and a Service to a running, ready pod they select', async () => {
  expect(await podOf('deployment/web')).toBe('web-ready');
  expect(await podOf('deploy/web')).toBe('web-ready');
  expect(await podOf('rs/db-1')).toBe('db');
  const t = await resolveTarget(api, bus, 'default', 'svc/web');
  expect(t.pod.metadata.name).toBe('web-ready');
  expect(resolvePorts(t, parsePortSpec('18080:80'))).toEqual({ local: 18080, remote: 8080 });
});

it('says why a target does not resolve', async () => {
  expect(isNotFound(await caught(podOf('pod/nope')))).toBe(true);
  expect(isNotFound(await caught(podOf('deployment/nope')))).toBe(true);
  await expect(podOf('svc/external')).rejects.toThrow("invalid service 'external': the service has no selector");
  await expect(podOf('svc/nobody')).rejects.toThrow('no pods found for service nobody');
  await expect(podOf('job/x')).rejects.toThrow('cannot port-forward to "job"');
  await expect(podOf('pod/')).rejects.toThrow('names no object');
});
