import type { InformerEvent } from '../../bus';
import type { Pod, ReplicaSet } from '../../messages';
import { PodIndex } from './pod-index';

let deliver: (ev: InformerEvent<Pod>) => void = () => {};
jest.mock('../../bus', () => ({
  startInformer: jest.fn(async (_store: unknown, _filter: string, on: (ev: InformerEvent<Pod>) => void) => {
    deliver = on;
    return { stop: async () => {} };
  }),
}));

const rs: ReplicaSet = {
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default', uid: 'rs' },
  spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'b' }] } } },
};
const pod = (name: string, extra: Partial<Pod['metadata']> = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `${name}-uid`, labels: { app: 'web' }, ...extra },
  spec: { containers: [{ name: 'c', image: 'b' }] },
});
const put = (p: Pod, revision: number): InformerEvent<Pod> => ({ type: 'PUT', key: `pods.default.${p.metadata.name}`, object: p, revision });
const owned = (name: string) => pod(name, { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs', controller: true }] });

describe('the replica set controller\'s view of pods', () => {
  let concerned: string[][];
  let index: PodIndex;
  beforeEach(async () => {
    concerned = [];
    index = new PodIndex({} as never, () => [rs], (keys) => concerned.push(keys));
    await index.start();
  });

  it('counts a pod it made before the informer delivers it, and ignores an older change of it', () => {
    index.wrote(owned('a'), 10);
    expect(index.pods('default').map((p) => p.metadata.name)).toEqual(['a']);
    // A change from before the controller's write arrives late: the written pod stands.
    deliver(put({ ...owned('a'), metadata: { ...owned('a').metadata, labels: { app: 'old' } } }, 9));
    expect(index.pods('default')[0].metadata.labels).toEqual({ app: 'web' });
    deliver(put(owned('a'), 10));
    deliver(put({ ...owned('a'), metadata: { ...owned('a').metadata, labels: { app: 'newer' } } }, 11));
    expect(index.pods('default')[0].metadata.labels).toEqual({ app: 'newer' });
  });

  it('stops counting a pod it deleted until the informer shows it gone or marked', () => {
    deliver(put(owned('b'), 5));
    index.deleted(owned('b'));
    expect(index.pods('default')).toEqual([]);
    // A late change of the same pod does not bring it back.
    deliver(put(owned('b'), 6));
    expect(index.pods('default')).toEqual([]);
    deliver(put(owned('b'), 7));
    deliver({ type: 'DELETE', key: 'pods.default.b', object: null, revision: 8 });
    expect(index.pods('default')).toEqual([]);
    // A new pod under the same name counts.
    deliver(put(pod('b', { uid: 'b-2' }), 9));
    expect(index.pods('default').map((p) => p.metadata.uid)).toEqual(['b-2']);
  });

  it('tells which sets a change concerns: the controller, or the sets that would adopt an orphan', () => {
    deliver(put(owned('c'), 1));
    deliver(put(pod('d'), 2));
    deliver(put(pod('e', { labels: { app: 'db' } }), 3));
    expect(concerned).toEqual([['replicasets.default.web'], ['replicasets.default.web'], []]);
    // Released: the old controller hears of it.
    deliver(put({ ...pod('c'), metadata: { ...pod('c').metadata, labels: { app: 'db' } } }, 4));
    expect(concerned[3]).toEqual(['replicasets.default.web']);
  });
});
