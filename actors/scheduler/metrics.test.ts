import type { ObjectStore } from '../../bus';
import { ConflictError, type Pod } from '../../messages';
import { podSchedulingDuration, schedulerAttempts, schedulingDuration } from './metrics';
import { makeNode, makePod } from './plugins/fixtures';
import { Scheduler } from './scheduler';

/** Pods in memory; an update fails while `fail` is set. */
class MemoryStore {
  readonly objects = new Map<string, { object: Pod; revision: number }>();
  fail = false;
  private rev = 0;
  put(key: string, pod: Pod) { this.objects.set(key, { object: structuredClone(pod), revision: ++this.rev }); }
  async get<T>(key: string) { const o = this.objects.get(key); return o ? (structuredClone(o) as unknown as { object: T; revision: number }) : null; }
  async update(key: string, obj: Pod, revision: number) {
    if (this.fail || this.objects.get(key)?.revision !== revision) throw new ConflictError(`${key} changed`);
    this.put(key, obj);
    return this.rev;
  }
}

async function attempts(result: string): Promise<number> {
  return (await schedulerAttempts.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
}
async function countOf(h: typeof schedulingDuration | typeof podSchedulingDuration): Promise<number> {
  return (await h.get()).values.filter((v) => v.metricName?.endsWith('_count')).reduce((a, v) => a + v.value, 0);
}

describe('scheduler metrics', () => {
  it('count attempts by result, time each, and time a pod from its first attempt to its binding', async () => {
    const store = new MemoryStore();
    const s = new Scheduler(store as unknown as ObjectStore, {}, { scheduled: () => undefined, unschedulable: () => undefined }, () => undefined);
    const key = 'pods.default.p1';
    const p = makePod('p1', { cpu: '600m' });
    store.put(key, p);
    s.cache.podChanged(key, p);

    // No node: unschedulable.
    expect(await s.place(key)).toMatchObject({ unschedulable: expect.any(String) });
    expect(await attempts('unschedulable')).toBe(1);
    expect(await countOf(podSchedulingDuration)).toBe(0);

    // A node comes; the binding's write fails once, then succeeds.
    s.cache.nodeChanged('nodes._cluster.a', makeNode('a', { allocatable: { cpu: '1', memory: '1Gi' } }));
    store.fail = true;
    await expect(s.place(key)).rejects.toThrow(ConflictError);
    expect(await attempts('error')).toBe(1);
    store.fail = false;
    expect(await s.place(key)).toMatchObject({ node: 'a' });
    expect(await attempts('scheduled')).toBe(1);
    expect(await countOf(schedulingDuration)).toBe(3);
    // One pod bound after three attempts: one observation, from the first.
    expect(await countOf(podSchedulingDuration)).toBe(1);
  });
});
