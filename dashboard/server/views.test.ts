import type { KindInfo, KubeObject } from '../../messages';
import { ObjectsParams, TreeParams } from '../protocol';
import type { ObjectRow, TableDelta, TableSnapshot } from '../protocol';
import { ActorTrees } from './actor-trees';
import type { KindFeed } from './kind-feed';
import { FeedError } from './feed-error';
import { objectsView, treeView, type Sources } from './views';

/** A kind feed without a bus: the test sets its objects and bumps its version. */
class FakeFeed {
  objects = new Map<string, KubeObject>();
  version = 0;
  constructor(readonly kind: KindInfo) {}
  async whenReady(): Promise<void> { /* listed */ }
  put(o: KubeObject): void { this.objects.set(o.metadata.uid!, o); this.version++; }
  drop(uid: string): void { this.objects.delete(uid); this.version++; }
}

const pod = (ns: string, name: string, rv: number, labels?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: ns, uid: `uid-${ns}-${name}`, resourceVersion: String(rv), creationTimestamp: '2026-01-01T00:00:00Z', labels },
  spec: { containers: [{ name: 'c', image: 'busybox' }] }, status: { phase: 'Running' },
});

describe('objectsView', () => {
  const feeds = new Map<string, FakeFeed>();
  const sources: Sources = {
    trees: new ActorTrees(),
    feed: (kind) => {
      if (!feeds.has(kind.plural)) feeds.set(kind.plural, new FakeFeed(kind));
      return feeds.get(kind.plural) as unknown as KindFeed;
    },
    usage: () => ({ nodes: new Map(), pods: new Map(), version: 0 }),
  };
  const params = (p: Record<string, unknown>) => ObjectsParams.parse({ topic: 'objects', ...p });

  it('pages a namespace\'s pods matching a selector, with mk get\'s columns, then sends what changed', async () => {
    const feed = sources.feed({ plural: 'pods' } as KindInfo) as unknown as FakeFeed;
    for (let i = 0; i < 5; i++) feed.put(pod('default', `web-${i}`, i + 1, { app: 'web' }));
    feed.put(pod('default', 'db', 10, { app: 'db' }));
    feed.put(pod('other', 'web-x', 11, { app: 'web' }));
    const view = objectsView(1, params({ kind: 'po', namespace: 'default', labelSelector: 'app=web', offset: 1, limit: 2 }), sources);
    const snap = await view.start() as TableSnapshot<'objects'>;
    expect(snap.kind).toBe('pods');
    expect(snap.columns?.[0]).toEqual({ name: 'NAME', priority: 0 });
    expect(snap.total).toBe(5);
    expect(snap.rows.map((r: ObjectRow) => r.name)).toEqual(['web-1', 'web-2']);
    expect(snap.rows[0]).toMatchObject({ namespace: 'default', uid: 'uid-default-web-1', resourceVersion: '2', created: '2026-01-01T00:00:00Z' });
    expect(snap.rows[0].cells[0]).toBe('web-1');
    expect(view.tick!()).toBeUndefined();

    feed.put(pod('default', 'web-2', 20, { app: 'web', v: '2' }));
    feed.put(pod('default', 'db', 21, { app: 'db', v: '2' }));
    const d = view.tick!() as TableDelta<'objects'>;
    expect(d.upsert?.map((r) => [r.name, r.resourceVersion])).toEqual([['web-2', '20']]);
    expect(d.remove).toBeUndefined();

    feed.drop('uid-default-web-0');
    const shifted = view.tick!() as TableDelta<'objects'>;
    expect(shifted).toMatchObject({ remove: ['uid-default-web-1'], order: ['uid-default-web-2', 'uid-default-web-3'], total: 4 });
  });

  it('names an unknown kind, and a malformed selector', () => {
    expect(() => objectsView(1, params({ kind: 'gizmos' }), sources)).toThrow(FeedError);
    expect(() => objectsView(1, params({ kind: 'gizmos' }), sources)).toThrow(/unknown kind "gizmos": known kinds are .*pods/);
    expect(() => objectsView(1, params({ kind: 'pods', labelSelector: 'a in (' }), sources)).toThrow(/invalid labelSelector "a in \("/);
  });
});

describe('treeView', () => {
  it('sends the processes with the snapshot and only changed ones after', async () => {
    const trees = new ActorTrees();
    trees.needsSnapshot('cp-1', 'i');
    trees.applySnapshot({
      process: 'cp-1', incarnation: 'i', seq: 0, total: 1,
      actors: [{ path: '/api', name: 'api', kind: 'api', system: true, since: 'x' }],
      self: { pid: 1, role: 'control-plane', actors: 1, cpuSeconds: 0, rssBytes: 0, heapUsedBytes: 0, eventLoopLagMs: 0 },
    }, true);
    const sources = { trees } as unknown as Sources;
    const view = treeView(3, TreeParams.parse({ topic: 'tree', hideSystem: true }), sources);
    const snap = await view.start() as TableSnapshot<'tree'>;
    expect(snap).toMatchObject({ total: 0, rows: [], processes: [{ process: 'cp-1' }] });
    trees.needsSnapshot('node-a', 'j');
    const d = view.tick!() as TableDelta<'tree'>;
    expect(d.processes?.upsert?.map((p) => p.process)).toEqual(['node-a']);
    expect(d.upsert).toBeUndefined();
  });
});
