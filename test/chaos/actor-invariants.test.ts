/** The actor invariant on worlds made here. */
import type { Pod } from '../../messages';
import { checkActors, type ActorsSeen } from './actor-invariants';
import type { WorldSnapshot } from './kind';

const pod = (name: string, nodeName?: string, deleting = false): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'default', uid: `u-${name}`, ...(deleting ? { deletionTimestamp: '2026-11-30T00:00:00Z' } : {}) },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...(nodeName ? { nodeName } : {}) },
} as Pod);
const world = (actors: ActorsSeen): WorldSnapshot => ({ atMs: 0, seenContainers: [], seenSandboxes: [], actors });
const kept = (name: string) => ({ kind: 'Pod', namespace: 'default', name });

describe('checkActors', () => {
  const pods = [pod('a', 'n1'), pod('b'), pod('c', 'n1', true)];

  it('passes when the leader keeps every pod and the node every pod bound to it', () => {
    const w = world({
      trees: [
        { process: 'cp-x', role: 'control-plane', objects: [kept('a'), kept('b'), kept('c')] },
        { process: 'node-n1', role: 'node', node: 'n1', objects: [kept('a')] },
      ],
      errors: [],
    });
    expect(checkActors(w, pods)).toEqual([]);
  });

  it('names a missing actor, a duplicate, a stale one and a process that did not answer', () => {
    const w = world({
      trees: [
        { process: 'cp-x', role: 'control-plane', objects: [kept('a'), kept('a'), kept('gone')] },
        { process: 'node-n1', role: 'node', node: 'n1', objects: [kept('b')] },
      ],
      errors: [{ process: 'node-n2', error: 'no responders' }],
    });
    const details = checkActors(w, pods).map((v) => `${v.subject}: ${v.detail}`);
    expect(details).toEqual(expect.arrayContaining([
      'process node-n2: its actor tree could not be read: no responders',
      'pod default/a: cp-x has 2 actors keeping it',
      'pod default/gone: cp-x still has an actor for it, but it is gone from the store',
      'pod default/b: the leader cp-x has no actor for it',
      'pod default/c: the leader cp-x has no actor for it',
      'pod default/b: node-n1 has an actor for it, but it is bound to no node',
      "pod default/a: its node's node-n1 has no actor for it",
    ]));
    expect(details).toHaveLength(7);
    expect(checkActors(w, pods).every((v) => v.invariant === 'actors' && !v.permanent)).toBe(true);
  });

  it('judges nothing when the snapshot has no trees', () => {
    expect(checkActors({ atMs: 0, seenContainers: [], seenSandboxes: [] }, pods)).toEqual([]);
  });
});
