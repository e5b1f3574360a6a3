import { UnschedulableQueue } from './queue';
import type { PluginName } from './plugins/types';

const waiting = (key: string, rejectedBy: PluginName[], triedAtMs = 0) => ({ key, uid: key, generation: 1, message: 'm', rejectedBy, triedAtMs });

describe('the unschedulable queue', () => {
  it('moves only the pods a change could help', () => {
    const q = new UnschedulableQueue();
    q.add(waiting('cpu', ['NodeResourcesFit']));
    q.add(waiting('taint', ['TaintToleration']));
    q.add(waiting('affinity', ['InterPodAffinity']));
    expect(q.onEvent({ type: 'PodFreed', key: 'x', node: 'n' })).toBe(2);
    expect(q.moved().sort()).toEqual(['affinity', 'cpu']);
    expect(q.get('taint')?.moved).toBe(false);
    expect(q.onEvent({ type: 'NodeUpdate', node: 'n' })).toBe(3);
  });

  it('moves affinity pods when a pod is placed, everything when a node comes', () => {
    const q = new UnschedulableQueue();
    q.add(waiting('cpu', ['NodeResourcesFit']));
    q.add(waiting('affinity', ['InterPodAffinity', 'NodeResourcesFit']));
    expect(q.onEvent({ type: 'PodPlaced', key: 'x', node: 'n' })).toBe(1);
    expect(q.onEvent({ type: 'NodeAdd', node: 'n' })).toBe(2);
  });

  it('moves the pods the volume plugins rejected when a claim, volume or class changes, and RWOP pods when a pod goes', () => {
    const q = new UnschedulableQueue();
    q.add(waiting('claim', ['VolumeBinding']));
    q.add(waiting('rwop', ['VolumeRestrictions']));
    q.add(waiting('cpu', ['NodeResourcesFit']));
    expect(q.onEvent({ type: 'PodFreed', key: 'x', node: 'n' })).toBe(2);
    expect(q.moved().sort()).toEqual(['cpu', 'rwop']);
    expect(q.onEvent({ type: 'StorageChange', key: 'persistentvolumeclaims.default.c' })).toBe(3);
  });

  it('forgets a pod that is gone, and a pod put back waits unmoved', () => {
    const q = new UnschedulableQueue();
    q.add(waiting('a', ['NodeAffinity']));
    q.onEvent({ type: 'NodeAdd', node: 'n' });
    q.add(waiting('a', ['NodeAffinity'], 5));
    expect(q.movedCount).toBe(0);
    q.onEvent({ type: 'PodGone', key: 'a' });
    expect(q.size).toBe(0);
    expect(q.onEvent({ type: 'NodeAdd', node: 'n' })).toBe(0);
  });

  it('flushes the pods that waited long enough', () => {
    const q = new UnschedulableQueue();
    q.add(waiting('old', ['NodeAffinity'], 0));
    q.add(waiting('new', ['NodeAffinity'], 250_000));
    expect(q.flush(300_000, 300_000)).toBe(1);
    expect(q.moved()).toEqual(['old']);
  });
});
