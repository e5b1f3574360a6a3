/**
 * Two control planes as real processes on one nats-server: one leads, the other stands by; the
 * leader is SIGKILLed in the middle of a burst of pod creates (the standby, on the same machine,
 * sees its process gone and takes the lease over without waiting it out), or SIGSTOPped past its
 * lease and SIGCONTinued. Every pod must be bound exactly once (counted from the store's own history: every
 * write of every pod is watched), and a deposed leader must write nothing once its term ended.
 * Nodes are Node objects written straight into the store (no node agent runs). Needs the build
 * (`npm run build`): the control planes run `bin/run.js control-plane`.
 */
import * as fs from 'node:fs';
import { connectBus, ObjectStore, request, type Bus, type WatchEvent } from '../../../bus';
import {
  API, CONTROL_PLANE_LEASE, LEASE_NAMESPACE, objectKey,
  type ApplyResult, type Lease, type ListResult, type Node, type Pod,
} from '../../../messages';
import { HOLDER_PROCESS_ANNOTATION, processGone } from '../../../actors/leadership';
import { controlPlaneDataDir, mkCli, spawnControlPlane, type ControlPlaneProcess } from '../../helpers/control-planes';
import { startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';

jest.setTimeout(120_000);

const LEASE_SECONDS = 3;
/**
 * The lease of the SIGKILL test: long, so that a take-over that waited it out (rather than seeing
 * the holder's process gone) is far apart from one that did not.
 */
const KILL_LEASE_SECONDS = 20;
const LEASE_KEY = objectKey('leases', LEASE_NAMESPACE, CONTROL_PLANE_LEASE);

const podManifest = (name: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '10m' } } }] },
});

const node = (name: string): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, uid: name },
  status: {
    allocatable: { cpu: '64', memory: '64Gi', pods: '1000' },
    conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date(Date.now() + 3600_000).toISOString() }],
  },
});

/** Every write of every pod, from the store's history: who bound what, how often. */
class BindingLog {
  /** uid -> the nodes it was bound to, in order (a pod bound exactly once has one entry). */
  readonly bindings = new Map<string, string[]>();
  /** Every write (pods and leases), with when it was seen. */
  readonly writes: { key: string; at: number; object: unknown }[] = [];
  private readonly last = new Map<string, string | undefined>();
  private stopWatch?: () => Promise<void>;

  /** Watches every write from `fromRevision` on. */
  async start(store: ObjectStore, fromRevision = 1): Promise<void> {
    const w = await store.watch<Pod | Lease>('>', { fromRevision }, (ev: WatchEvent<Pod | Lease>) => {
      this.writes.push({ key: ev.key, at: Date.now(), object: ev.object });
      if (!ev.key.startsWith('pods.') || !ev.object) return;
      const pod = ev.object as Pod;
      const uid = pod.metadata.uid ?? ev.key;
      const before = this.last.get(uid);
      const now = pod.spec.nodeName;
      if (now !== before && now) this.bindings.set(uid, [...(this.bindings.get(uid) ?? []), now]);
      this.last.set(uid, now);
    });
    this.stopWatch = () => w.stop();
  }

  stop(): Promise<void> { return this.stopWatch?.() ?? Promise.resolve(); }
}

describe('two control planes', () => {
  let server: NatsServer;
  let dataDir: string;
  let bus: Bus;
  let store: ObjectStore;
  const procs: ControlPlaneProcess[] = [];

  const lease = async (): Promise<Lease | undefined> => (await store.get<Lease>(LEASE_KEY))?.object;
  const holderPid = (l: Lease | undefined): number | undefined => {
    const id = l?.spec?.holderIdentity;
    return id ? Number(id.split('_').at(-2)) : undefined;
  };
  const leaderOf = async (): Promise<ControlPlaneProcess | undefined> => {
    const pid = holderPid(await lease());
    return procs.find((p) => p.pid === pid);
  };
  /** Applies through the api; a request lost with a dying replica is applied again (apply is idempotent). */
  const applyPod = async (name: string): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await request<ApplyResult>(bus, API.apply, { object: podManifest(name) }, { timeoutMs: 2000 });
        return;
      } catch (err) {
        if (attempt >= 20) throw err;
      }
    }
  };
  const boundPods = async (): Promise<Pod[]> => (await store.list<Pod>('pods.>')).items.map((i) => i.object).filter((p) => p.spec.nodeName);

  beforeAll(async () => {
    server = await startNatsServer();
    dataDir = controlPlaneDataDir([server.url]);
    bus = await connectBus({ servers: server.url, name: 'failover-test' });
    store = await ObjectStore.open(bus);
  });
  afterEach(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    procs.length = 0;
  });
  afterAll(async () => {
    await bus?.close();
    await server?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('takes over from a leader SIGKILLed mid-burst before its lease runs out (its process is gone), binding every pod exactly once', async () => {
    const args = ['--lease-seconds', String(KILL_LEASE_SECONDS)];
    procs.push(await spawnControlPlane(dataDir, args));
    await waitFor(async () => holderPid(await lease()) === procs[0].pid, 'the first control plane to lead', 15_000);
    procs.push(await spawnControlPlane(dataDir, args));
    await store.create(objectKey('nodes', undefined, 'n1'), node('n1'));
    const log = new BindingLog();
    await log.start(store);

    // mk get works through either replica.
    const listed = await request<ListResult>(bus, API.list, { kind: 'leases', namespace: LEASE_NAMESPACE });
    expect(listed.items.map((l) => (l as Lease).spec?.holderIdentity)).toEqual([(await lease())?.spec?.holderIdentity]);

    const leader = (await leaderOf())!;
    const standby = procs.find((p) => p !== leader)!;
    const names = Array.from({ length: 60 }, (_, i) => `burst-${i}`);
    let killedAt = 0;
    const burst = (async () => {
      for (let i = 0; i < names.length; i += 5) {
        await Promise.all(names.slice(i, i + 5).map(applyPod));
        if (i === 25) {
          leader.signal('SIGKILL');
          killedAt = Date.now();
        }
      }
    })();
    // Past the lease, so that a take-over that waits it out fails below rather than here.
    await waitFor(async () => holderPid(await lease()) === standby.pid, 'the standby to take over', KILL_LEASE_SECONDS * 1000 + 20_000);
    await burst;
    // The CLI goes on working through the one left, and shows who leads now.
    const leases = await mkCli(dataDir, ['get', 'leases', '-n', LEASE_NAMESPACE]);
    expect(leases.stderr).toBe('');
    expect(leases.stdout).toMatch(new RegExp(`^NAME +HOLDER +AGE\\n${CONTROL_PLANE_LEASE} +\\S+_${standby.pid}_`));
    expect((await lease())?.spec?.leaseTransitions).toBe(1);
    // The lease's own history: the standby's first write of it replaced the dead leader's last
    // renewal (nothing between them), as a new term.
    const leaseWrites = (): Lease[] => log.writes.filter((w) => w.key === LEASE_KEY).map((w) => w.object as Lease);
    await waitFor(() => leaseWrites().some((l) => holderPid(l) === standby.pid), 'the take-over in the history', 10_000);
    const at = leaseWrites().findIndex((l) => holderPid(l) === standby.pid);
    const [lastRenewal, takeover] = [leaseWrites()[at - 1], leaseWrites()[at]];
    expect(holderPid(lastRenewal)).toBe(leader.pid);
    expect(takeover.spec).toMatchObject({ leaseTransitions: 1, acquireTime: takeover.spec?.renewTime, leaseDurationSeconds: KILL_LEASE_SECONDS });
    expect(Date.parse(takeover.spec!.acquireTime!)).toBeGreaterThanOrEqual(killedAt);
    // Why it could: the record names the holder's process, which the standby finds gone. So it
    // took over before that lease ran out by the record's own times (renewTime + duration),
    // instead of waiting it out as it must for a holder it cannot see.
    expect(processGone(lastRenewal.metadata.annotations?.[HOLDER_PROCESS_ANNOTATION])).toBe(true);
    expect(Date.parse(takeover.spec!.acquireTime!))
      .toBeLessThan(Date.parse(lastRenewal.spec!.renewTime!) + lastRenewal.spec!.leaseDurationSeconds! * 1000);

    await waitFor(async () => (await boundPods()).filter((p) => names.includes(p.metadata.name)).length === names.length, 'every pod bound', 30_000);
    // The history settles: nothing more binds.
    await waitFor(async () => log.bindings.size >= names.length, 'the watch to see every binding', 10_000);
    const pods = (await store.list<Pod>('pods.>')).items.map((i) => i.object);
    for (const p of pods) expect(log.bindings.get(p.metadata.uid!)).toEqual([p.spec.nodeName]);
    expect(pods.every((p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'True'))).toBe(true);
    // And the node's view of each pod is there (the new leader keeps it).
    const views = await ObjectStore.open(bus, { bucket: 'mk-node-pods', create: false });
    await waitFor(async () => (await views.list('n1.>')).items.length === pods.length, 'a view of every pod', 10_000);
    await log.stop();
  });

  it('a leader SIGSTOPped past its lease stops before the new one starts and writes nothing afterwards', async () => {
    const args = ['--lease-seconds', String(LEASE_SECONDS)];
    procs.push(await spawnControlPlane(dataDir, args));
    procs.push(await spawnControlPlane(dataDir, args));
    const leader = await waitFor(async () => leaderOf(), 'a leader', 15_000);
    const standby = procs.find((p) => p !== leader)!;
    // Its term is running: it renews.
    const renewed = (await lease())!.spec!.renewTime!;
    await waitFor(async () => (await lease())!.spec!.renewTime !== renewed, 'a renewal', 5_000);

    leader.signal('SIGSTOP');
    const stoppedAt = Date.now();
    const lastRenewal = Date.parse((await lease())!.spec!.renewTime!);
    // A frozen replica still holds its share of the api's queue: the CLI's reads try again elsewhere.
    const pods = await mkCli(dataDir, ['get', 'pods']);
    expect({ code: pods.code, stderr: pods.stderr }).toEqual({ code: 0, stderr: '' });
    expect(pods.stdout).toMatch(/^NAME +READY +STATUS/);
    await waitFor(async () => holderPid(await lease()) === standby.pid, 'the standby to take over', 20_000);
    const taken = (await lease())!.spec!;
    // The new leader waited for the old lease to expire.
    expect(Date.parse(taken.acquireTime!) - lastRenewal).toBeGreaterThanOrEqual(LEASE_SECONDS * 1000);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual((LEASE_SECONDS - 1) * 1000);

    // Now both stand still, and work waits in the store: pods nobody bound yet.
    standby.signal('SIGSTOP');
    await store.create(objectKey('nodes', undefined, 'n2'), node('n2')).catch(() => undefined);
    const before = (await store.list('>')).revision;
    for (let i = 0; i < 5; i++) {
      const p = podManifest(`waiting-${i}`) as unknown as Pod;
      p.metadata = { ...p.metadata, namespace: 'default', uid: `waiting-${i}`, creationTimestamp: new Date().toISOString(), generation: 1 };
      await store.create(objectKey('pods', 'default', `waiting-${i}`), p);
    }
    const created = (await store.list('>')).revision;
    const log = new BindingLog();
    await log.start(store, created + 1);

    // The old leader wakes: its term ended long ago. It must write nothing until it has waited a
    // whole lease for the (stopped) new leader and taken the lease itself.
    const wokeAt = Date.now();
    leader.signal('SIGCONT');
    await waitFor(async () => holderPid(await lease()) === leader.pid, 'the old leader to take the lease again', 20_000);
    await waitFor(() => log.writes.some((w) => w.key === LEASE_KEY && w.at >= wokeAt), 'the lease write in the history', 5_000);
    // Nothing was written while both stood still, and the woken leader's first write is the lease.
    const first = log.writes[0];
    expect(first.key).toBe(LEASE_KEY);
    expect(holderPid(first.object as Lease)).toBe(leader.pid);
    expect(first.at - wokeAt).toBeGreaterThanOrEqual((LEASE_SECONDS - 0.5) * 1000);
    expect(leader.output()).toMatch(/no longer leading/);

    // Its new term binds the waiting pods, each once; the other wakes fenced and stands by.
    standby.signal('SIGCONT');
    await waitFor(async () => (await boundPods()).filter((p) => p.metadata.name.startsWith('waiting-')).length === 5, 'waiting pods bound', 20_000);
    await waitFor(async () => /no longer leading/.test(standby.output()), 'the other to step down', 10_000);
    expect(holderPid(await lease())).toBe(leader.pid);
    for (let i = 0; i < 5; i++) expect(log.bindings.get(`waiting-${i}`)).toHaveLength(1);
    expect(before).toBeLessThan(created);
    await log.stop();
  });
});
