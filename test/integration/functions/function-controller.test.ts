/**
 * The function controller against a real nats-server, its reconcile called directly on a clock
 * the test moves: after a (re)start it neither deletes draining instances nor scales down until
 * every gateway has reported; a Function being deleted gets no instance; an instance a gateway
 * recycled drains and goes once no call is left on it.
 */
import { connectBus, ObjectStore, type Bus } from '../../../bus';
import { encode } from '../../../bus/core-client';
import { functionController, STATS_TTL_MS } from '../../../actors/function/controller';
import { RECYCLE_ANNOTATION } from '../../../actors/function/instance-pod';
import { podModule } from '../../../actors/pod/kind';
import type { KindController } from '../../../actors/kind-supervisor';
import {
  DRAINING_ANNOTATION, FUNCTION_LABEL, functionDemandSubject, functionStatsSubject, objectKey,
  type FunctionDemand, type FunctionObject, type GatewayStats, type Pod,
} from '../../../messages';
import { startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';

jest.setTimeout(60_000);

const T0 = 1_700_000_000_000;

describe('the function controller', () => {
  let server: NatsServer;
  let bus: Bus;
  let store: ObjectStore;
  let t = T0;
  let controller: KindController | undefined;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'function-controller-test' });
    store = await ObjectStore.open(bus);
  });
  afterEach(async () => { await controller?.stop?.(); controller = undefined; });
  afterAll(async () => {
    await bus?.close();
    await server?.stop();
  });

  const fnKey = (name: string) => objectKey('functions', 'default', name);
  const makeFn = async (name: string, spec: Partial<FunctionObject['spec']> = {}, metadata: Partial<FunctionObject['metadata']> = {}): Promise<void> => {
    await store.create(fnKey(name), {
      apiVersion: 'mk.io/v1', kind: 'Function', metadata: { name, namespace: 'default', uid: `uid-${name}`, generation: 1, ...metadata },
      spec: { runtime: 'python3', handler: 'm.h', code: { digest: `sha256:${'0'.repeat(64)}`, size: 1, files: 1 }, ...spec },
    } as FunctionObject);
  };
  const makePod = async (fn: string, name: string, annotations: Record<string, string> = {}): Promise<void> => {
    await store.create(objectKey('pods', 'default', name), {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        name, namespace: 'default', uid: `uid-${name}`, labels: { [FUNCTION_LABEL]: fn }, annotations,
        ownerReferences: [{ apiVersion: 'mk.io/v1', kind: 'Function', name: fn, uid: `uid-${fn}`, controller: true }],
      },
      spec: { containers: [{ name: 'function', image: 'x' }] },
      status: { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
    } as Pod);
  };
  const pods = async (fn: string): Promise<Pod[]> => (await store.list<Pod>('pods.default.>')).items.map((i) => i.object)
    .filter((p) => p.metadata.labels?.[FUNCTION_LABEL] === fn && !p.metadata.deletionTimestamp);
  const podOf = async (name: string): Promise<Pod | undefined> => (await store.get<Pod>(objectKey('pods', 'default', name)))?.object;
  const reconcile = async (name: string): Promise<void> => { await controller!.reconcile(fnKey(name), await store.get(fnKey(name))); };
  /** Starts a controller and waits until its informer has the instance pods of `fn`. */
  const startController = async (fn: string, instances: number): Promise<void> => {
    const seen = new Map<string, number>();
    controller = functionController({ store, pods: podModule, now: () => t });
    controller.bindEnqueue?.((k) => { seen.set(k, (seen.get(k) ?? 0) + 1); return true; });
    await controller.prepare?.();
    await waitFor(async () => (seen.get(fnKey(fn)) ?? 0) >= instances, `the informer has ${fn}'s pods`);
  };
  /** Publishes a gateway's report and waits until the controller has it (the server answers the flush after delivering it). */
  const report = async (fn: string, load: {
    inFlight?: number; pods?: Record<string, number>; recycle?: string[]; lastInvocation?: number; gateway?: string; viewAt?: number;
  } = {}): Promise<void> => {
    const stats: GatewayStats = {
      gateway: load.gateway ?? 'gw-test', at: t, url: 'http://127.0.0.1:1', ...(load.viewAt !== undefined ? { viewAt: load.viewAt } : {}),
      functions: [{
        namespace: 'default', name: fn, inFlight: load.inFlight ?? 0, queued: 0, pods: load.pods ?? {},
        ...(load.recycle ? { recycle: load.recycle } : {}),
        ...(load.lastInvocation ? { lastInvocation: new Date(load.lastInvocation).toISOString() } : {}),
      }],
    };
    bus.nc.publish(functionStatsSubject(stats.gateway), encode(stats));
    await bus.nc.flush();
  };

  it('after a start, keeps draining instances and does not go idle until every gateway has reported', async () => {
    await makeFn('restarted', { idleSeconds: 1 });
    await makePod('restarted', 'restarted-serving');
    await makePod('restarted', 'restarted-draining', { [DRAINING_ANNOTATION]: 'true', 'mk.io/draining-since': String(T0 - 600_000) });
    t += 1;
    await startController('restarted', 2);
    await reconcile('restarted');
    expect((await podOf('restarted-draining'))?.metadata.deletionTimestamp).toBeUndefined();
    expect((await podOf('restarted-serving'))?.metadata.annotations?.[DRAINING_ANNOTATION]).toBeUndefined();
    // A full report period later the gateway says the draining pod still has a call: it stays.
    t += STATS_TTL_MS;
    await report('restarted', { inFlight: 1, pods: { 'restarted-draining': 1 }, lastInvocation: t });
    await reconcile('restarted');
    expect((await podOf('restarted-draining'))?.metadata.deletionTimestamp).toBeUndefined();
    // Its call done, it goes.
    t += 100;
    await report('restarted', { lastInvocation: t - 100 });
    await waitFor(async () => { await reconcile('restarted'); return !(await pods('restarted')).some((p) => p.metadata.name === 'restarted-draining'); }, 'the drained pod goes');
  });

  it('creates no instance for a Function being deleted', async () => {
    await makeFn('deleting', { minInstances: 2 }, { deletionTimestamp: new Date(T0).toISOString(), finalizers: ['foregroundDeletion'] });
    await startController('deleting', 0);
    t += STATS_TTL_MS;
    await report('deleting', { inFlight: 3, lastInvocation: t });
    await reconcile('deleting');
    await reconcile('deleting');
    expect(await pods('deleting')).toHaveLength(0);
  });

  it('drains a recycled instance and deletes it once no gateway reports a call on it', async () => {
    await makeFn('recycled', { idleSeconds: 600, timeoutSeconds: 600 });
    await makePod('recycled', 'recycled-old');
    await startController('recycled', 1);
    t += STATS_TTL_MS;
    await report('recycled', { inFlight: 1, pods: { 'recycled-old': 1 }, recycle: ['recycled-old'], lastInvocation: t });
    await reconcile('recycled');
    const old = await podOf('recycled-old');
    expect(old?.metadata.deletionTimestamp).toBeUndefined();
    expect(old?.metadata.annotations).toMatchObject({ [DRAINING_ANNOTATION]: 'true', [RECYCLE_ANNOTATION]: 'true' });
    // A replacement is made at once.
    expect((await pods('recycled')).filter((p) => p.metadata.name !== 'recycled-old').length).toBeGreaterThanOrEqual(1);
    t += 2_000;
    await report('recycled', { inFlight: 1, pods: { 'recycled-old': 1 }, recycle: ['recycled-old'], lastInvocation: t });
    await reconcile('recycled');
    expect((await podOf('recycled-old'))?.metadata.deletionTimestamp).toBeUndefined();
    t += 100;
    await report('recycled', { recycle: ['recycled-old'], lastInvocation: t });
    await waitFor(async () => { await reconcile('recycled'); return !(await pods('recycled')).some((p) => p.metadata.name === 'recycled-old'); }, 'the recycled pod goes');
  });

  it('deletes a draining instance only once every live gateway\'s view knows it drains', async () => {
    await makeFn('viewed', { idleSeconds: 600, timeoutSeconds: 60 });
    const since = T0 + 1_000_000;
    t = since;
    await makePod('viewed', 'viewed-a', { [DRAINING_ANNOTATION]: 'true', 'mk.io/draining-since': String(since) });
    await startController('viewed', 1);
    t += STATS_TTL_MS;
    // gw-1 listed after the mark; gw-2's listing is held back (its last one started before the
    // mark): it may still send the pod a call, though neither has one on it now.
    await report('viewed', { gateway: 'gw-1', viewAt: t - 100, lastInvocation: since });
    await report('viewed', { gateway: 'gw-2', viewAt: since - 500, lastInvocation: since });
    await reconcile('viewed');
    expect((await podOf('viewed-a'))?.metadata.deletionTimestamp).toBeUndefined();
    t += 2_000;
    await report('viewed', { gateway: 'gw-1', viewAt: t - 100, lastInvocation: since });
    await report('viewed', { gateway: 'gw-2', viewAt: since - 500, lastInvocation: since });
    await reconcile('viewed');
    expect((await podOf('viewed-a'))?.metadata.deletionTimestamp).toBeUndefined();
    // gw-2 lists again, and it goes.
    t += 100;
    await report('viewed', { gateway: 'gw-1', viewAt: t - 100, lastInvocation: since });
    await report('viewed', { gateway: 'gw-2', viewAt: t - 50, lastInvocation: since });
    await waitFor(async () => { await reconcile('viewed'); return !(await pods('viewed')).some((p) => p.metadata.name === 'viewed-a'); }, 'the drained pod goes');
  });

  it('counts the drain deadline from the last call seen on the instance, not from the mark', async () => {
    await makeFn('deadline', { idleSeconds: 600, timeoutSeconds: 5 });
    const since = T0 + 2_000_000;
    t = since;
    await makePod('deadline', 'deadline-a', { [DRAINING_ANNOTATION]: 'true', 'mk.io/draining-since': String(since) });
    await startController('deadline', 1);
    // A call on it 4 s and 6 s after the mark (past mark + timeout): it stays.
    for (const at of [since + 4_000, since + 6_000]) {
      t = at;
      await report('deadline', { inFlight: 1, pods: { 'deadline-a': 1 }, viewAt: t - 100, lastInvocation: t });
      await reconcile('deadline');
      expect((await podOf('deadline-a'))?.metadata.deletionTimestamp).toBeUndefined();
    }
    // The call is done, but the gateway's listing is stuck before the mark: it waits for the deadline...
    t = since + 8_000;
    await report('deadline', { viewAt: since - 1, lastInvocation: t });
    await reconcile('deadline');
    expect((await podOf('deadline-a'))?.metadata.deletionTimestamp).toBeUndefined();
    // ...the timeout after the last call seen (6 s + 5 s).
    t = since + 11_000;
    await report('deadline', { viewAt: since - 1, lastInvocation: t });
    await waitFor(async () => { await reconcile('deadline'); return !(await pods('deadline')).some((p) => p.metadata.name === 'deadline-a'); }, 'the pod goes at the deadline');
  });

  it('forgets a deleted function: one re-created under its name starts clean', async () => {
    const demand = async (load: number): Promise<void> => {
      const d: FunctionDemand = { gateway: 'gw-test', namespace: 'default', name: 'again', inFlight: 0, queued: load };
      bus.nc.publish(functionDemandSubject('default', 'again'), encode(d));
      await bus.nc.flush();
    };
    await makeFn('again', { maxInstances: 4 }, { annotations: { 'mk.io/scale-down-window': '600' } });
    await startController('again', 0);
    t += STATS_TTL_MS;
    await demand(5);
    await reconcile('again');
    expect(await pods('again')).toHaveLength(4);
    const first = (await store.get<FunctionObject>(fnKey('again')))!.object;
    expect(first.status?.conditions?.find((c) => c.type === 'Scaling')).toMatchObject({ status: 'True', reason: 'Panic' });
    // Deleted (its instances with it), then made again with another uid at once.
    await store.delete(fnKey('again'));
    await controller!.reconcile(fnKey('again'), null);
    for (const p of await pods('again')) await store.delete(objectKey('pods', 'default', p.metadata.name));
    await waitFor(async () => (await pods('again')).length === 0, 'the old instances are gone');
    await makeFn('again', { maxInstances: 4 }, { uid: 'uid-again-2', annotations: { 'mk.io/scale-down-window': '600' } });
    await reconcile('again');
    const second = (await store.get<FunctionObject>(fnKey('again')))!.object;
    expect(await pods('again')).toHaveLength(0);
    expect(second.status).toMatchObject({ instances: 0 });
    expect(second.status?.lastInvocation).toBeUndefined();
    expect(second.status?.conditions?.find((c) => c.type === 'Scaling')).toMatchObject({ status: 'False', reason: 'Stable' });
  });
});
