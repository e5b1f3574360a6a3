import type { ObjectStore } from '../../bus';
import {
  ConflictError, objectKey, PersistentVolumeClaimKind, PersistentVolumeKind, SELECTED_NODE_ANNOTATION, StorageClassKind,
  type PersistentVolume, type PersistentVolumeClaim, type Pod, type StorageClass,
} from '../../messages';
import { claim, storageClass, volume } from '../volume/fixtures';
import { makeNode, makePod } from './plugins/fixtures';
import { Scheduler } from './scheduler';

type Obj = Pod | PersistentVolume | PersistentVolumeClaim | StorageClass;

/** A store of any objects in memory, checking revisions as the real one does. */
class FakeStore {
  readonly objects = new Map<string, { object: Obj; revision: number }>();
  private rev = 0;
  put(key: string, o: Obj) { this.objects.set(key, { object: structuredClone(o), revision: ++this.rev }); }
  async get<T>(key: string) { const o = this.objects.get(key); return o ? ({ key, ...structuredClone(o) } as unknown as { key: string; object: T; revision: number }) : null; }
  async update(key: string, obj: Obj, revision: number) {
    if (this.objects.get(key)?.revision !== revision) throw new ConflictError(`${key} changed`);
    this.put(key, obj);
    return this.rev;
  }
  object<T extends Obj>(key: string): T { return this.objects.get(key)!.object as T; }
}

const pvKey = (n: string) => objectKey(PersistentVolumeKind.plural, undefined, n);
const claimKey = (n: string) => objectKey(PersistentVolumeClaimKind.plural, 'default', n);
const onNode = (name: string) => ({
  required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In' as const, values: [name] }] }] },
});

function setup(sc: StorageClass, pvs: PersistentVolume[]) {
  const store = new FakeStore();
  const s = new Scheduler(store as unknown as ObjectStore, {}, { scheduled: () => undefined, unschedulable: () => undefined }, () => undefined);
  for (const n of ['n1', 'n2']) s.cache.nodeChanged(`nodes._cluster.${n}`, makeNode(n, { labels: { 'kubernetes.io/hostname': n } }));
  const add = (key: string, o: PersistentVolume | PersistentVolumeClaim | StorageClass) => { store.put(key, o); s.cache.storageChanged(key, o); };
  add(objectKey(StorageClassKind.plural, undefined, sc.metadata.name), sc);
  for (const pv of pvs) add(pvKey(pv.metadata.name), pv);
  add(claimKey('c'), claim('c', '1Gi', { storageClassName: sc.metadata.name }));
  const pod = makePod('p', {}, { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'c' } }] });
  store.put('pods.default.p', pod);
  s.cache.podChanged('pods.default.p', pod, store.objects.get('pods.default.p')!.revision);
  return { store, s };
}

const wffc = storageClass('local', { volumeBindingMode: 'WaitForFirstConsumer' });

describe('the bind step of WaitForFirstConsumer claims', () => {
  it('binds the smallest fitting volume on the chosen node (volume, then claim) before the pod', async () => {
    const { store, s } = setup(wffc, [
      volume('big', '5Gi', { storageClassName: 'local', nodeAffinity: onNode('n1') }),
      volume('snug', '1Gi', { storageClassName: 'local', nodeAffinity: onNode('n1') }),
    ]);
    const placed = await s.place('pods.default.p');
    expect(placed).toMatchObject({ node: 'n1' });
    expect(store.object<PersistentVolume>(pvKey('snug')).spec.claimRef).toMatchObject({ namespace: 'default', name: 'c', uid: 'uid-c' });
    expect(store.object<PersistentVolume>(pvKey('snug')).status?.phase).toBe('Bound');
    expect(store.object<PersistentVolume>(pvKey('big')).spec.claimRef).toBeUndefined();
    const c = store.object<PersistentVolumeClaim>(claimKey('c'));
    expect(c.spec.volumeName).toBe('snug');
    expect(c.status?.phase).toBe('Bound');
    expect(store.object<Pod>('pods.default.p').spec.nodeName).toBe('n1');
    // The cache counts the binding at once: a second claim would not be offered "snug".
    expect(s.cache.volume('snug')?.spec.claimRef?.name).toBe('c');
  });

  it('asks the provisioner for a volume on the chosen node when none fits, and binds the pod', async () => {
    const { store, s } = setup(storageClass('local', { volumeBindingMode: 'WaitForFirstConsumer', provisioner: 'mk.io/local-path' }), []);
    const placed = await s.place('pods.default.p');
    expect(placed).toHaveProperty('node');
    const c = store.object<PersistentVolumeClaim>(claimKey('c'));
    expect(c.metadata.annotations?.[SELECTED_NODE_ANNOTATION]).toBe((placed as { node: string }).node);
    expect(c.status?.phase).toBe('Pending');
    expect(store.object<Pod>('pods.default.p').spec.nodeName).toBe((placed as { node: string }).node);
  });

  it('leaves the pod unbound when the volume was taken meanwhile, and forgets what it assumed', async () => {
    const { store, s } = setup(wffc, [volume('only', '1Gi', { storageClassName: 'local', nodeAffinity: onNode('n2') })]);
    const taken = volume('only', '1Gi', { storageClassName: 'local', nodeAffinity: onNode('n2'), claimRef: { namespace: 'default', name: 'other', uid: 'u' } });
    store.put(pvKey('only'), taken); // the cache has not heard yet
    await expect(s.place('pods.default.p')).rejects.toBeInstanceOf(ConflictError);
    expect(store.object<Pod>('pods.default.p').spec.nodeName).toBeUndefined();
    expect(store.object<PersistentVolumeClaim>(claimKey('c')).status?.phase).toBe('Pending');
    expect(s.cache.volume('only')?.spec.claimRef?.name).toBe('other');
  });

  it('sends a second pod of a claim in the same burst to the node the first one selected for it', async () => {
    const { store, s } = setup(storageClass('local', { volumeBindingMode: 'WaitForFirstConsumer', provisioner: 'mk.io/local-path' }), []);
    const second = makePod('q', {}, { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'c' } }] });
    store.put('pods.default.q', second);
    s.cache.podChanged('pods.default.q', second, store.objects.get('pods.default.q')!.revision);
    // Decided back to back, before either binding is written (the least-allocated node differs).
    const first = await s.start('pods.default.p');
    const next = await s.start('pods.default.q');
    const [a, b] = await Promise.all([first.done, next.done]) as { node: string }[];
    expect(b.node).toBe(a.node);
    expect(store.object<PersistentVolumeClaim>(claimKey('c')).metadata.annotations?.[SELECTED_NODE_ANNOTATION]).toBe(a.node);
  });

  it('never moves a claim whose node was selected meanwhile, and keeps a pod of it off other nodes', async () => {
    const { store, s } = setup(storageClass('local', { volumeBindingMode: 'WaitForFirstConsumer', provisioner: 'mk.io/local-path' }), []);
    const selected = store.object<PersistentVolumeClaim>(claimKey('c'));
    selected.metadata.annotations = { [SELECTED_NODE_ANNOTATION]: 'n2' };
    store.put(claimKey('c'), selected); // the cache has not heard yet: it would pick either node
    const placed = await s.place('pods.default.p').catch((err: unknown) => err);
    if (placed instanceof Error) {
      expect(placed).toBeInstanceOf(ConflictError);
      expect(String(placed)).toMatch(/selected for node n2/);
      expect(store.object<Pod>('pods.default.p').spec.nodeName).toBeUndefined();
    } else expect(placed).toMatchObject({ node: 'n2' });
    expect(store.object<PersistentVolumeClaim>(claimKey('c')).metadata.annotations?.[SELECTED_NODE_ANNOTATION]).toBe('n2');
    // Once the cache has heard, the pod fits only n2.
    s.cache.storageChanged(claimKey('c'), store.object<PersistentVolumeClaim>(claimKey('c')));
    await s.place('pods.default.p').catch(() => undefined);
    expect(store.object<Pod>('pods.default.p').spec.nodeName).toBe('n2');
  });
});
