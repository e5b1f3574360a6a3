import { CallQueue, DeadlineError, QueueFullError } from './queue';

const a = { pod: 'a', ip: '127.0.0.2' };
const b = { pod: 'b', ip: '127.0.0.3' };

describe('CallQueue', () => {
  afterEach(() => jest.useRealTimers());

  it('gives each instance at most `concurrency` calls, the least busy first', async () => {
    const q = new CallQueue(2, 10);
    q.setInstances([a, b], 2);
    const slots = await Promise.all([q.acquire(1000), q.acquire(1000), q.acquire(1000), q.acquire(1000)]);
    expect(slots.map((s) => s.instance.pod).sort()).toEqual(['a', 'a', 'b', 'b']);
    expect(q.inFlight).toBe(4);
    let fifth: string | undefined;
    const waiting = q.acquire(1000).then((s) => { fifth = s.instance.pod; return s; });
    await Promise.resolve();
    expect(q.queued).toBe(1);
    expect(fifth).toBeUndefined();
    slots[2].release();
    expect((await waiting).instance.pod).toBe(slots[2].instance.pod);
    expect(q.perPod()).toEqual({ a: 2, b: 2 });
  });

  it('a waiting call takes an instance that becomes ready, and signals the wait', async () => {
    const q = new CallQueue(1, 10);
    const onWait = jest.fn();
    const p = q.acquire(1000, new Set(), onWait);
    expect(onWait).toHaveBeenCalledTimes(1);
    q.setInstances([a], 1);
    expect((await p).instance).toEqual(a);
  });

  it('answers DeadlineError at the deadline', async () => {
    jest.useFakeTimers();
    const q = new CallQueue(1, 10);
    const p = q.acquire(500);
    jest.advanceTimersByTime(500);
    await expect(p).rejects.toBeInstanceOf(DeadlineError);
    expect(q.queued).toBe(0);
  });

  it('refuses with QueueFullError past its bound', async () => {
    jest.useFakeTimers();
    const q = new CallQueue(1, 2);
    const waiting = [q.acquire(1000), q.acquire(1000)];
    await expect(q.acquire(1000)).rejects.toBeInstanceOf(QueueFullError);
    jest.advanceTimersByTime(1000);
    await Promise.allSettled(waiting);
  });

  it('a retry skips the instances it already tried', async () => {
    const q = new CallQueue(1, 10);
    q.setInstances([a, b], 1);
    const first = await q.acquire(1000);
    first.release();
    const retry = await q.acquire(1000, new Set([first.instance.pod]));
    expect(retry.instance.pod).not.toBe(first.instance.pod);
  });

  it('a released slot frees once, however often released', async () => {
    const q = new CallQueue(1, 10);
    q.setInstances([a], 1);
    const s = await q.acquire(1000);
    s.release();
    s.release();
    expect(q.inFlight).toBe(0);
    await q.acquire(1000);
    expect(q.inFlight).toBe(1);
  });

  it('never hands a quarantined instance a call again until it is forgotten', async () => {
    const q = new CallQueue(1, 10);
    q.setInstances([a, b], 1);
    q.quarantine('a');
    q.setInstances([a, b], 1);
    const s1 = await q.acquire(1000);
    expect(s1.instance.pod).toBe('b');
    await expect(q.acquire(10)).rejects.toBeInstanceOf(DeadlineError);
    q.forget(new Set(['a']));
    expect(q.quarantinedPods).toEqual(['a']);
    q.forget(new Set());
    expect(q.quarantinedPods).toEqual([]);
  });
});
