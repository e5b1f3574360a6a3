/**
 * A control plane that starts together with a fresh 3-server NATS cluster, as `mk up
 * --nats-servers 3` starts them: before the servers listen, or while only some of them have
 * joined (JetStream then has no meta leader, or cannot place 3 replicas), it waits and says why
 * instead of exiting, and comes up once the cluster has formed.
 */
import { runControlPlane, type ControlPlane } from '../../../actors';
import { connectBus, type Bus } from '../../../bus';
import { busLog } from '../../../bus/log';
import { startNatsCluster, type NatsCluster } from '../../helpers/nats-cluster';
import { caught, startNatsServer } from '../../helpers/nats-server';
import { waitFor } from '../../helpers/wait';

jest.setTimeout(120_000);

/** What a pending control plane start came to. */
interface Started { cp?: ControlPlane; err?: unknown }

/** Starts a control plane as `mk up`'s supervisor does (waiting for JetStream), without awaiting it. */
function startControlPlane(urls: string[], name: string): Started & { done: Promise<void> } {
  const s: Started & { done: Promise<void> } = { done: Promise.resolve() };
  s.done = runControlPlane({ bus: { servers: urls, name, replicas: 3, waitForJetStream: true, timeoutMs: 2000 }, leaseSeconds: 3 })
    .then((cp) => { s.cp = cp; }, (err: unknown) => { s.err = err; });
  return s;
}

describe('a control plane meeting a fresh 3-server cluster', () => {
  let cluster: NatsCluster | undefined;
  let started: (Started & { done: Promise<void> }) | undefined;
  let bus: Bus | undefined;
  let warn: jest.SpyInstance;

  beforeEach(() => { warn = jest.spyOn(busLog, 'warn'); });
  afterEach(async () => {
    warn.mockRestore();
    await started?.cp?.stop();
    await bus?.close();
    await cluster?.stop();
    cluster = undefined;
    started = undefined;
    bus = undefined;
  });

  /** The messages of the bus log's warnings so far. */
  const warnings = (): string[] => warn.mock.calls.map((c) => String(c[1]));

  it('waits while no server listens, then comes up once all three start', async () => {
    cluster = await startNatsCluster(3, { only: [] });
    started = startControlPlane(cluster.urls, 'cp-before-servers');
    await waitFor('a log line saying the control plane waits for the bus', async () =>
      warnings().some((m) => /^connect to the bus at .*: waiting, no server can be reached yet$/.test(m)), 30_000);
    expect(started.err).toBeUndefined();
    expect(started.cp).toBeUndefined();

    await Promise.all([0, 1, 2].map((i) => cluster!.start(i)));
    const c = cluster;
    await waitFor('the control plane to come up', async () => started?.cp !== undefined || started?.err !== undefined, 60_000);
    expect(started.err).toBeUndefined();
    await waitFor('the control plane to lead', async () => started?.cp?.isLeader(), 30_000);
    bus = await connectBus({ servers: c.urls, name: 'check' });
    expect((await bus.jsm.streams.info('KV_mk-objects')).config.num_replicas).toBe(3);
  });

  it('waits while a server has not joined (too few for 3 replicas), then comes up once it has', async () => {
    // Two of three: JetStream has a meta leader but cannot place a third replica anywhere.
    cluster = await startNatsCluster(3, { only: [0, 1] });
    started = startControlPlane(cluster.urls, 'cp-two-servers');
    await waitFor('a log line saying the store waits for the cluster', async () =>
      warnings().some((m) => /^make the store: waiting, too few servers have joined the cluster/.test(m)), 30_000);
    expect(started.err).toBeUndefined();
    expect(started.cp).toBeUndefined();

    await cluster.start(2);
    await waitFor('the control plane to come up', async () => started?.cp !== undefined || started?.err !== undefined, 60_000);
    expect(started.err).toBeUndefined();
    await waitFor('the control plane to lead', async () => started?.cp?.isLeader(), 30_000);
    bus = await connectBus({ servers: cluster.urls, name: 'check' });
    for (const stream of ['KV_mk-objects', 'MK_EVENTS']) {
      expect((await bus.jsm.streams.info(stream)).config.num_replicas).toBe(3);
    }
  });

  it('still fails on the first attempt for refused credentials, without waiting', async () => {
    const server = await startNatsServer({ user: 'admin', pass: 'right' });
    try {
      const waiting = (): string[] => warnings().filter((m) => /: waiting, /.test(m));
      let settled = false;
      const failed = caught(connectBus({ servers: server.url, user: 'admin', pass: 'wrong', name: 'bad', waitForJetStream: true }))
        .finally(() => { settled = true; });
      // A refusal taken for "not ready yet" would log that it waits before its first retry.
      await waitFor('the connect to fail or to start waiting', async () => settled || waiting().length > 0, 60_000);
      expect(waiting()).toEqual([]);
      const err = await failed;
      expect((err as Error).message).toMatch(/authorization failed/);
    } finally {
      await server.stop();
    }
  });
});
