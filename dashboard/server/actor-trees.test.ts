import type { ActorInfo, ActorSnapshotReply, ProcessStats } from '../../messages/telemetry';
import { ActorTrees } from './actor-trees';

const self: ProcessStats = { pid: 1, role: 'node', actors: 0, cpuSeconds: 0, rssBytes: 0, heapUsedBytes: 0, eventLoopLagMs: 0 };
const actor = (path: string, system = false): ActorInfo => ({
  path, name: path.split('/').pop()!, kind: system ? 'supervisor' : 'pod', system, since: '2026-01-01T00:00:00Z',
  ...(path.split('/').length > 2 ? { parent: path.slice(0, path.lastIndexOf('/')) } : {}),
});
const snapshot = (process: string, actors: ActorInfo[], seq = 0): ActorSnapshotReply => ({
  process, incarnation: 'i1', seq, total: actors.length, actors, self,
});

describe('ActorTrees', () => {
  it('loads a snapshot, then applies lifecycle in order and asks again after a gap', () => {
    const t = new ActorTrees();
    expect(t.needsSnapshot('node-a', 'i1')).toBe(true);
    expect(t.needsSnapshot('node-a', 'i1')).toBe(false);
    // Arrives while loading: kept and applied after the snapshot.
    expect(t.applyLifecycle({ process: 'node-a', incarnation: 'i1', events: [
      { type: 'spawned', seq: 3, at: 'x', actor: actor('/pods/p2') },
    ] })).toBe(true);
    t.applySnapshot(snapshot('node-a', [actor('/pods', true), actor('/pods/p1')], 2), true);
    expect(t.rows().map((r) => r.path)).toEqual(['/pods', '/pods/p1', '/pods/p2']);
    expect(t.applyLifecycle({ process: 'node-a', incarnation: 'i1', events: [
      { type: 'stopped', seq: 4, at: 'x', path: '/pods/p1' },
      { type: 'crashed', seq: 5, at: 'x', path: '/pods/p2', restarts: 2, crash: { at: 'x', error: 'boom' } },
    ] })).toBe(true);
    expect(t.rows({ hideSystem: true })).toMatchObject([{ path: '/pods/p2', restarts: 2, lastCrash: { error: 'boom' }, depth: 1 }]);
    expect(t.applyLifecycle({ process: 'node-a', incarnation: 'i1', events: [
      { type: 'stopped', seq: 9, at: 'x', path: '/pods/p2' },
    ] })).toBe(false);
    expect(t.needsSnapshot('node-a', 'i2')).toBe(true);
    expect(t.rows()).toEqual([]);
  });

  it('sorts by figures, filters by search and process, and ranks the hot actors', () => {
    const t = new ActorTrees();
    for (const p of ['cp-1', 'node-a']) {
      t.needsSnapshot(p, 'i1');
      t.applySnapshot(snapshot(p, [actor('/a'), actor('/a/b'), actor('/a-b')]), true);
    }
    const stats = (path: string, mailbox: number, rate: number) => ({ path, mailbox, handled: 0, rate, meanMs: 0, p99Ms: 0, maxWaitMs: 0, restarts: 0 });
    t.applyStats({ process: 'node-a', incarnation: 'i1', at: 'x', self, actors: [stats('/a/b', 7, 1), stats('/a', 3, 50)] });
    expect(t.rows({ process: 'cp-1' }).map((r) => r.path)).toEqual(['/a', '/a/b', '/a-b']);
    expect(t.rows({ sort: 'mailbox' }).slice(0, 2).map((r) => r.key)).toEqual(['node-a /a/b', 'node-a /a']);
    expect(t.rows({ search: 'A-B' }).map((r) => r.key)).toEqual(['cp-1 /a-b', 'node-a /a-b']);
    expect(t.hot('rate', 1).map((r) => r.key)).toEqual(['node-a /a']);
  });
});
