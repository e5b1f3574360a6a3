/** treeAt: the tree of each process at a moment, from a census and the lifecycle changes after it. */
import type { ActorCensus, ActorInfo, ActorLifecycle, ActorLifecycleBatch } from '../messages/telemetry';
import { treeAt } from './actor-history';

const T = Date.parse('2026-01-01T00:00:00Z');
const iso = (s: number): string => new Date(T + s * 1000).toISOString();
const actor = (path: string, s = 0): ActorInfo => ({
  path, name: path.split('/').pop()!, kind: 'x', system: true, since: iso(s), ...(path.lastIndexOf('/') > 0 ? { parent: path.slice(0, path.lastIndexOf('/')) } : {}),
});
const census = (process: string, s: number, seq: number, paths: string[], incarnation = 'i1'): ActorCensus =>
  ({ process, incarnation, at: iso(s), seq, actors: paths.map((p) => actor(p)) });
const batch = (process: string, events: ActorLifecycle[], incarnation = 'i1'): ActorLifecycleBatch => ({ process, incarnation, events });
const spawned = (seq: number, s: number, path: string): ActorLifecycle => ({ type: 'spawned', seq, at: iso(s), actor: actor(path, s) });
const stopped = (seq: number, s: number, path: string): ActorLifecycle => ({ type: 'stopped', seq, at: iso(s), path });
const paths = (trees: ReturnType<typeof treeAt>, p = 'cp-a'): string[] | undefined => trees.find((t) => t.process === p)?.actors.map((a) => a.path);

describe('treeAt', () => {
  const censuses = [census('cp-a', 0, 2, ['/api', '/pods']), census('cp-a', 300, 6, ['/api', '/pods', '/pods/p2'])];
  const batches = [
    batch('cp-a', [spawned(3, 10, '/pods/p1'), spawned(4, 20, '/pods/p2')]),
    batch('cp-a', [stopped(5, 30, '/pods/p1'), spawned(6, 40, '/jobs')]),
    batch('cp-a', [stopped(7, 310, '/pods')]),
  ];

  it('applies the changes after the census up to the moment, in seq order', () => {
    expect(paths(treeAt(censuses, batches, iso(15)))).toEqual(['/api', '/pods', '/pods/p1']);
    expect(paths(treeAt(censuses, batches, iso(25)))).toEqual(['/api', '/pods', '/pods/p1', '/pods/p2']);
    expect(treeAt(censuses, batches, iso(35))[0]).toMatchObject({ process: 'cp-a', seq: 5, at: iso(35) });
    expect(paths(treeAt(censuses, [...batches].reverse(), iso(45)))).toEqual(['/api', '/pods', '/pods/p2', '/jobs']);
  });

  it('starts from the latest census at or before the moment; a stop takes the descendants', () => {
    // The census at 300 s says p2 is there but /jobs is not (it was stopped unseen): the census wins.
    expect(paths(treeAt(censuses, batches, iso(305)))).toEqual(['/api', '/pods', '/pods/p2']);
    expect(paths(treeAt(censuses, batches, iso(315)))).toEqual(['/api']);
  });

  it('knows nothing before the first census, and ignores repeats and other incarnations', () => {
    expect(treeAt(censuses, batches, iso(-1))).toEqual([]);
    const twice = [...batches, batch('cp-a', [spawned(3, 10, '/pods/p1')]), batch('cp-a', [spawned(4, 12, '/other')], 'i0')];
    expect(paths(treeAt(censuses, twice, iso(25)))).toEqual(['/api', '/pods', '/pods/p1', '/pods/p2']);
  });

  it('keeps processes apart, filters by process, and follows a new incarnation from its census', () => {
    const more = [...censuses, census('node-n1', 5, 1, ['/node']), census('node-n1', 50, 0, [], 'i2')];
    const nb = [batch('node-n1', [spawned(2, 8, '/node/pod-a')]), batch('node-n1', [spawned(1, 55, '/node')], 'i2')];
    const at20 = treeAt(more, [...batches, ...nb], iso(20));
    expect(at20.map((t) => t.process)).toEqual(['cp-a', 'node-n1']);
    expect(paths(at20, 'node-n1')).toEqual(['/node', '/node/pod-a']);
    expect(treeAt(more, nb, iso(20), 'node-n1').map((t) => t.process)).toEqual(['node-n1']);
    expect(treeAt(more, nb, iso(60), 'node-n1')[0]).toMatchObject({ incarnation: 'i2', seq: 1, actors: [expect.objectContaining({ path: '/node' })] });
  });

  it('merges a census sent in parts, and skips one with a part missing', () => {
    const p1: ActorCensus = { ...census('cp-b', 0, 1, ['/a']), part: 1, parts: 2 };
    const p2: ActorCensus = { ...census('cp-b', 0, 1, ['/b']), part: 2, parts: 2 };
    expect(paths(treeAt([p2, p1], [], iso(1)), 'cp-b')).toEqual(['/a', '/b']);
    expect(treeAt([p1], [], iso(1))).toEqual([]);
  });
});
