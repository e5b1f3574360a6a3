/**
 * Pod CIDRs from a tiny cluster CIDR against a real nats-server and control plane: a /30 cut
 * into /32s holds four nodes; the fifth gets none and one CIDRNotAvailable event, and no write
 * loop; it gets the range of a node that is deleted; a restarted control plane rebuilds what is
 * taken from the nodes and hands out no range twice.
 */
import { connectBus, request, type Bus } from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import { API, nodeApiSubject, type GetResult, type ListResult, type Node } from '../../../messages';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { until, waitFor } from '../../helpers/wait';

jest.setTimeout(90_000);

const settings = { clusterCidr: '10.99.0.0/30', nodeCidrMaskSize: 32 };
const status = { capacity: { cpu: '2', memory: '4Gi', pods: '110' }, allocatable: { cpu: '2', memory: '4Gi', pods: '110' } };

type Ev = { reason: string; message: string; count?: number; involvedObject: { kind: string; name: string } };

describe('pod CIDRs from a small cluster CIDR', () => {
  let server: NatsServer;
  let cp: ControlPlane | undefined;
  let bus: Bus;

  const register = (node: string) => request(bus, nodeApiSubject(node, 'register'), { status, labels: {} });
  const getNode = async (name: string) => (await request<GetResult>(bus, API.get, { kind: 'nodes', name })).object as Node;
  const cidrOf = async (name: string) => (await getNode(name)).spec?.podCIDR;
  const events = async () => (await request<ListResult>(bus, API.list, { kind: 'events' })).items as unknown as Ev[];

  beforeAll(async () => {
    server = await startNatsServer();
    cp = await runControlPlane({ bus: { servers: server.url, name: 'cp-cidr' }, settings });
    bus = await connectBus({ servers: server.url, name: 'cidr-test' });
  });
  afterAll(async () => {
    await cp?.stop();
    await bus?.close();
    await server?.stop();
  });

  it('gives four nodes a /32 each, the fifth none until a node is deleted, and none twice across a restart', async () => {
    for (const n of ['n1', 'n2', 'n3', 'n4']) await register(n);
    const got = await waitFor('four pod CIDRs', async () => {
      const cidrs = await Promise.all(['n1', 'n2', 'n3', 'n4'].map(cidrOf));
      return cidrs.every(Boolean) ? cidrs : null;
    }, 15_000, 100);
    expect([...got].sort()).toEqual(['10.99.0.0/32', '10.99.0.1/32', '10.99.0.2/32', '10.99.0.3/32']);

    await register('n5');
    const ev = await waitFor('CIDRNotAvailable', async () => (await events()).find((e) => e.reason === 'CIDRNotAvailable'), 15_000, 100);
    expect(ev).toMatchObject({ message: 'Node n5 status is now: CIDRNotAvailable', involvedObject: { kind: 'Node', name: 'n5' } });
    // No loop: the node is not written again and again, and the event is not repeated.
    const rv = (await getNode('n5')).metadata.resourceVersion;
    await new Promise((r) => setTimeout(r, 1500));
    expect((await getNode('n5')).metadata.resourceVersion).toBe(rv);
    expect(await cidrOf('n5')).toBeUndefined();
    expect((await events()).filter((e) => e.reason === 'CIDRNotAvailable').map((e) => e.count ?? 1)).toEqual([1]);

    // A deleted node's range goes to the node waiting for one.
    const freed = await cidrOf('n2');
    await request(bus, API.delete, { kind: 'nodes', name: 'n2' });
    expect(await waitFor('n5 gets the freed range', () => cidrOf('n5'), 15_000, 100)).toBe(freed);

    // A restarted control plane knows what the nodes hold: a new node gets nothing, until one goes.
    await cp!.stop();
    cp = await runControlPlane({ bus: { servers: server.url, name: 'cp-cidr-2' }, settings });
    await register('n6');
    await until('the CIDRNotAvailable of n6', async () => (await events()).find((e) => e.reason === 'CIDRNotAvailable' && e.involvedObject.name === 'n6'), 15_000, 100);
    expect(await cidrOf('n6')).toBeUndefined();
    const freed3 = await cidrOf('n3');
    await request(bus, API.delete, { kind: 'nodes', name: 'n3' });
    expect(await waitFor('n6 gets n3\'s range', () => cidrOf('n6'), 15_000, 100)).toBe(freed3);
    const all = await Promise.all(['n1', 'n4', 'n5', 'n6'].map(cidrOf));
    expect(new Set(all).size).toBe(4);
  });
});
