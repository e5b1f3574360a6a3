/**
 * The node's ingress fed from a real objects bucket: a malformed Ingress in the store (one that
 * never came through the API) is left out of the routes, and the node agent keeps serving.
 */
import { connectBus, ObjectStore, type Bus } from '../../../bus';
import { setLogLevel } from '../../../common/log';
import { FakeServiceNetworkSource } from '../../../node-agent/ingress/fake-source';
import { startNodeIngress, type NodeIngress } from '../../../node-agent/ingress';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';

let server: NatsServer;
let bus: Bus;
let store: ObjectStore;
let ingress: NodeIngress | undefined;
const warnings: { problem?: string; key?: string }[] = [];

beforeAll(async () => {
  setLogLevel('silent');
  server = await startNatsServer();
  bus = await connectBus({ servers: server.url, name: 'ingress-store-test' });
  store = await ObjectStore.open(bus);
});

afterAll(async () => {
  await ingress?.stop();
  await bus?.close();
  await server?.stop();
});

it('leaves a malformed stored Ingress out with a warning, and routes the valid ones', async () => {
  await store.put('ingresses.default.broken', { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'broken', namespace: 'default' }, spec: { rules: 'all' } });
  const log = {
    warn: (o: object) => { warnings.push(o as { problem?: string; key?: string }); },
    debug: () => undefined, info: () => undefined, error: () => undefined,
  };
  ingress = await startNodeIngress({ store, source: new FakeServiceNetworkSource(), port: 0, host: '127.0.0.1', log: log as never });
  expect(warnings).toEqual([expect.objectContaining({ key: 'ingresses.default.broken', problem: 'spec.rules is not a list' })]);
  await store.put('ingresses.default.web', {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'default' },
    spec: { rules: [{ host: 'a.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
  });
  await until('the valid Ingress routed', () => (ingress!.routes().match('a.com', '/')?.service === 'web' ? true : undefined), 10_000);
  expect(ingress.routes().size).toBe(1);
});
