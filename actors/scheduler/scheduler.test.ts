import type { ObjectStore } from '../../bus';
import { ConflictError, type Pod } from '../../messages';
import { makeNode, makePod } from './plugins/fixtures';
import { Scheduler, type SchedulingEvents } from './scheduler';

/** A store of pods in memory whose updates can be made to fail. */
class FakeStore {
  readonly objects = new Map<string, { object: Pod; revision: number }>();
  failNext = false;
  private rev = 0;
  put(key: string, pod: Pod) { this.objects.set(key, { object: structuredClone(pod), revision: ++this.rev }); }
  async get<T>(key: string) { const o = this.objects.get(key); return o ? (structuredClone(o) as unknown as { object: T; revision: number }) : null; }
  async update(key: string, obj: Pod, revision: number) {
    if (this.failNext) { this.failNext = false; throw new ConflictError(`${key} changed`); }
    if (this.objects.get(key)?.revision !== revision) throw new ConflictError(`${key} changed`);
    this.put(key, obj);
    return this.rev;
  }
}

function setup() {
  const store = new FakeStore();
  const said: string[] = [];
  const events: SchedulingEvents = {
    scheduled: (p, n) => said.push(`Scheduled ${p.metadata.name} ${n}`),
    unschedulable: (p, m) => said.push(`FailedScheduling ${p.metadata.name} ${m}`),
  };
  const attempts: string[] = [];
  let moved = 0;
  const s = new Scheduler(store as unknown as ObjectStore, { onAttempt: (k) => attempts.push(k) }, events, () => { moved++; });
  const addPod = (p: Pod) => { const key = `pods.default.${p.metadata.name}`; store.put(key, p); s.cache.podChanged(key, p); return key; };
  return { store, s, said, attempts, addPod, moved: () => moved };
}

describe('the scheduler', () => {
  it('binds, writing nodeName and PodScheduled at the revision read, and counts the room at once', async () => {
    const { store, s, said, addPod } = setup();
    s.cache.nodeChanged('nodes._cluster.a', makeNode('a', { allocatable: { cpu: '1', memory: '1Gi' } }));
    const k1 = addPod(makePod('p1', { cpu: '600m' }));
    const k2 = addPod(makePod('p2', { cpu: '600m' }));
    expect(await s.place(k1)).toMatchObject({ node: 'a' });
    const stored = store.objects.get(k1)!.object;
    expect(stored.spec.nodeName).toBe('a');
    expect(stored.status?.conditions).toEqual([expect.objectContaining({ type: 'PodScheduled', status: 'True' })]);
    // The informer has not delivered the binding; the room is taken all the same.
    expect(await s.place(k2)).toMatchObject({ unschedulable: '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible.' });
    expect(said).toEqual(['Scheduled p1 a', 'FailedScheduling p2 0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible.']);
  });

  it('forgets a binding whose write failed', async () => {
    const { store, s, addPod } = setup();
    s.cache.nodeChanged('nodes._cluster.a', makeNode('a', { allocatable: { cpu: '1', memory: '1Gi' } }));
    const k1 = addPod(makePod('p1', { cpu: '600m' }));
    store.failNext = true;
    await expect(s.place(k1)).rejects.toThrow(ConflictError);
    expect(s.cache.byName.get('a')!.requested.cpu ?? 0).toBe(0);
    expect(await s.place(k1)).toMatchObject({ node: 'a' });
  });

  it('decides from the cache\'s copy without reading the store; a stale copy is a Conflict that frees the room and takes the store\'s copy', async () => {
    const { store, s, said } = setup();
    s.cache.nodeChanged('nodes._cluster.a', makeNode('a', { allocatable: { cpu: '1', memory: '1Gi' } }));
    const key = 'pods.default.p1';
    store.put(key, makePod('p1', { cpu: '600m' }));
    const reads = jest.spyOn(store, 'get');
    // The informer's copy one revision behind the store: someone wrote the pod since.
    const { revision } = store.objects.get(key)!;
    s.cache.podChanged(key, makePod('p1', { cpu: '600m' }), revision);
    store.put(key, store.objects.get(key)!.object);
    await expect(s.place(key)).rejects.toThrow(ConflictError);
    // Deciding read nothing; the Conflict made one read, and its copy replaced the cache's.
    expect(reads).toHaveBeenCalledTimes(1);
    expect(s.cache.stored(key)?.revision).toBe(store.objects.get(key)!.revision);
    expect(s.cache.byName.get('a')!.requested.cpu ?? 0).toBe(0);
    expect(said).toEqual([]);
    // The retry writes from the store's copy, without waiting for the informer.
    const placed = await s.place(key);
    expect(placed).toMatchObject({ node: 'a', revision: store.objects.get(key)!.revision });
    expect(store.objects.get(key)!.object.spec.nodeName).toBe('a');
    expect(reads).toHaveBeenCalledTimes(1);
    expect(said).toEqual(['Scheduled p1 a']);
  });

  it('decides the next pod while a binding is written, the room taken at once and freed when the write fails', async () => {
    const { store, s, said, addPod } = setup();
    s.cache.nodeChanged('nodes._cluster.a', makeNode('a', { allocatable: { cpu: '1', memory: '1Gi' } }));
    s.cache.nodeChanged('nodes._cluster.b', makeNode('b', { allocatable: { cpu: '1', memory: '1Gi' } }));
    const k1 = addPod(makePod('p1', { cpu: '600m' }));
    const k2 = addPod(makePod('p2', { cpu: '600m' }));
    const k3 = addPod(makePod('p3', { cpu: '600m' }));
    // Writes wait until the test lets them through.
    const gates: { release: () => void; fail: (e: Error) => void }[] = [];
    const update = store.update.bind(store);
    store.update = (key, obj, rev) => new Promise<number>((resolve, reject) => {
      gates.push({ release: () => { update(key, obj, rev).then(resolve, reject); }, fail: reject });
    });
    const first = await s.start(k1);
    const second = await s.start(k2);
    expect(gates).toHaveLength(2);
    // Both rooms taken before either write is stored: the third pod fits nowhere.
    expect(s.cache.byName.get('a')!.requested.pods).toBe(1);
    expect(s.cache.byName.get('b')!.requested.pods).toBe(1);
    // Asked again while its binding is on its way, a pod gets nothing to do (no second binding).
    expect(await (await s.start(k1)).done).toBeNull();
    expect(gates).toHaveLength(2);
    gates[0].release();
    const placed = await first.done;
    expect(placed).toMatchObject({ bound: { spec: { nodeName: expect.any(String) } } });
    gates[1].fail(new ConflictError(`${k2} changed`));
    await expect(second.done).rejects.toThrow(ConflictError);
    expect(said).toEqual([`Scheduled p1 ${placed!.bound!.spec.nodeName}`]);
    // The failed one's room is free again: the third pod takes it.
    store.update = update;
    expect(await s.place(k3)).toMatchObject({ node: placed!.bound!.spec.nodeName === 'a' ? 'b' : 'a' });
  });

  it('does not try a waiting pod again until a change could help it', async () => {
    const { s, attempts, addPod, moved } = setup();
    s.cache.nodeChanged('nodes._cluster.a', makeNode('a', { labels: { disk: 'hdd' } }));
    const k = addPod(makePod('p', {}, { nodeSelector: { disk: 'ssd' } }));
    const first = await s.place(k);
    expect(first).toMatchObject({ unschedulable: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: not eligible." });
    // Asking again (the pod actor's resync, its reaction to the status write) makes no new attempt.
    expect(await s.place(k)).toEqual(first);
    expect(attempts).toHaveLength(1);
    // A pod elsewhere finishing frees room, which does not help a pod that wants a label.
    s.cache.podChanged('pods.default.other', { ...makePod('other'), spec: { ...makePod('other').spec, nodeName: 'a' } });
    s.cache.podChanged('pods.default.other', null);
    expect(moved()).toBe(0);
    // A node with the label does.
    s.cache.nodeChanged('nodes._cluster.b', makeNode('b', { labels: { disk: 'ssd' } }));
    expect(moved()).toBe(1);
    await s.retryMoved();
    expect(attempts).toHaveLength(2);
    expect(s.queue.size).toBe(0);
  });

  it('takes a pod out of the queue when its status write fails, so the next ask tries again', async () => {
    const { store, s, attempts, addPod } = setup();
    const k = addPod(makePod('p'));
    store.failNext = true;
    await expect(s.place(k)).rejects.toThrow(ConflictError);
    expect(s.queue.size).toBe(0);
    expect(await s.place(k)).toMatchObject({ unschedulable: 'no nodes available to schedule pods' });
    expect(attempts).toHaveLength(2);
    expect(store.objects.get(k)!.object.status?.conditions?.[0]).toMatchObject({ status: 'False', reason: 'Unschedulable' });
  });

  it('flushes pods that waited the flush interval', async () => {
    const { s, addPod } = setup();
    const k = addPod(makePod('p'));
    await s.place(k);
    expect(s.flush(Date.now())).toBe(false);
    expect(s.flush(Date.now() + s.flushMs)).toBe(true);
  });

  it('retries moved pods a slice at a time, longest waiting first', async () => {
    const { s, attempts, addPod } = setup();
    const keys = ['p1', 'p2', 'p3'].map((n) => addPod(makePod(n, {}, { nodeSelector: { disk: 'ssd' } })));
    for (const k of keys) await s.place(k);
    s.cache.nodeChanged('nodes._cluster.a', makeNode('a'));
    attempts.length = 0;
    expect(await s.retryMoved(2)).toBe(true);
    expect(attempts).toEqual(keys.slice(0, 2));
    expect(await s.retryMoved(2)).toBe(false);
    expect(attempts).toEqual(keys);
  });

  it('keeps the condition transition time while the status stays the same', async () => {
    const { store, s, addPod } = setup();
    s.cache.nodeChanged('nodes._cluster.a', makeNode('a', { labels: { disk: 'hdd' } }));
    const p = makePod('p', {}, { nodeSelector: { disk: 'ssd' } });
    p.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'old', lastTransitionTime: '2020-01-01T00:00:00Z' }] };
    const k = addPod(p);
    await s.place(k);
    const cond = store.objects.get(k)!.object.status?.conditions?.[0];
    expect(cond).toMatchObject({ status: 'False', lastTransitionTime: '2020-01-01T00:00:00Z' });
    expect(cond?.message).toMatch(/^0\/1 nodes are available/);
  });

  it('leaves a gated pod without an attempt, and binds it once the store\'s copy has no gate left, though the cache\'s still has', async () => {
    const { store, s, attempts } = setup();
    s.cache.nodeChanged('nodes._cluster.a', makeNode('a'));
    const key = 'pods.default.gated';
    const gated = makePod('gated', {}, { schedulingGates: [{ name: 'example.com/wait' }] });
    store.put(key, gated);
    s.cache.podChanged(key, gated, store.objects.get(key)!.revision);
    expect(await s.place(key)).toBeNull();
    expect(attempts).toEqual([]);
    expect(s.queue.size).toBe(0);
    // The gate goes; the informer has not delivered that yet.
    store.put(key, makePod('gated'));
    expect(await s.place(key)).toMatchObject({ node: 'a' });
    expect(attempts).toEqual([key]);
  });
});
