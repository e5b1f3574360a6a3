/**
 * A control plane's actor telemetry on a real nats-server: its tree as the snapshot and the
 * stream show it (the api, the leader's actors with their kinds, one actor per object with the
 * object it keeps), and none at all with MK_ACTOR_TELEMETRY=off.
 */
import { connectBus, decode, request, type Bus } from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import {
  ACTOR_STREAM, actorSubject, actorWildcard, API, telemetryProcess, type ActorInfo, type ActorSnapshotReply, type ActorStatsBatch,
} from '../../../messages';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';

jest.setTimeout(30_000);

describe('control plane actor telemetry', () => {
  let server: NatsServer;
  let cp: ControlPlane | undefined;
  let bus: Bus;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'telemetry-client' });
  });
  afterAll(async () => {
    await cp?.stop();
    await bus?.close();
    await server?.stop();
    delete process.env.MK_ACTOR_TELEMETRY;
  });

  it('shows its tree: the api, the leader, the supervisors and an actor per object', async () => {
    const stats: ActorStatsBatch[] = [];
    const sub = bus.nc.subscribe(actorWildcard('stats'), { callback: (_e, m) => { stats.push(decode(m.data)); } });
    cp = await runControlPlane({ bus: { servers: server.url, name: 'cp-telemetry' }, identity: 'cp.one' });
    const proc = telemetryProcess('control-plane', 'cp.one');
    await request(bus, API.apply, { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'watched' } } });
    const tree = await until('the leader and the namespace actor', async () => {
      const snap = await request<ActorSnapshotReply>(bus, actorSubject(proc, 'snapshot'), { limit: 5000 });
      const ns = snap.actors.find((a) => a.object?.name === 'watched');
      return ns && snap.actors.some((a) => a.kind === 'leader') ? snap : undefined;
    }, 20_000, 200);
    const byKind = (k: string): ActorInfo | undefined => tree.actors.find((a) => a.kind === k);
    expect(byKind('api')).toMatchObject({ path: '/api', system: true });
    expect(byKind('scheduler')?.parent).toBe(byKind('leader')!.path);
    expect(byKind('namespaces-supervisor')).toMatchObject({ system: true, parent: byKind('leader')!.path });
    expect(tree.actors.find((a) => a.object?.name === 'watched')).toMatchObject({
      kind: 'namespace', system: false, object: { kind: 'Namespace', name: 'watched' }, parent: byKind('namespaces-supervisor')!.path,
    });
    expect(tree.self).toMatchObject({ role: 'control-plane', pid: process.pid });
    await until('a stats batch saying it leads', () => stats.find((s) => s.process === proc && s.self.leading === true), 10_000);
    const info = await bus.jsm.streams.info(ACTOR_STREAM);
    expect(info.state.messages).toBeGreaterThan(0);
    sub.unsubscribe();
    await cp.stop();
    cp = undefined;
  });

  it('publishes nothing with MK_ACTOR_TELEMETRY=off', async () => {
    process.env.MK_ACTOR_TELEMETRY = 'off';
    const seen: string[] = [];
    const sub = bus.nc.subscribe(actorWildcard(), { callback: (_e, m) => { seen.push(m.subject); } });
    cp = await runControlPlane({ bus: { servers: server.url, name: 'cp-quiet' }, identity: 'cp-quiet' });
    await until('it to lead', () => (cp!.isLeader() ? true : undefined), 20_000, 100);
    // A round trip after it leads: anything it had published by then has arrived.
    await request(bus, API.ping, {});
    await bus.nc.flush();
    expect(seen.filter((s) => s.includes('cp-quiet'))).toEqual([]);
    const err = await request(bus, actorSubject(telemetryProcess('control-plane', 'cp-quiet'), 'snapshot'), {}, { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(String(err)).toMatch(/no responders|timeout|not answered|respond/i);
    sub.unsubscribe();
  });
});
