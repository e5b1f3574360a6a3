import { Gates, WriteLanes } from './write-lanes';

/** A promise with its resolve and reject at hand. */
function deferred<T = void>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** Lets every queued microtask and promise callback run. */
const settle = () => new Promise((r) => setImmediate(r));

describe('WriteLanes', () => {
  it('runs the writes of one key one after another, in arrival order', async () => {
    const lanes = new WriteLanes(10);
    const order: string[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const done = gates.map((g, i) => lanes.run('pods.default.a', async () => { order.push(`start ${i}`); await g.promise; order.push(`end ${i}`); return i; }));
    await settle();
    expect(order).toEqual(['start 0']);
    gates[2].resolve();
    gates[1].resolve();
    await settle();
    expect(order).toEqual(['start 0']);
    gates[0].resolve();
    expect(await Promise.all(done)).toEqual([0, 1, 2]);
    expect(order).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    expect(lanes.stats()).toEqual({ running: 0, queued: 0 });
  });

  it('overlaps writes of different keys', async () => {
    const lanes = new WriteLanes(10);
    const g = deferred();
    let started = 0;
    const done = ['a', 'b', 'c'].map((k) => lanes.run(k, async () => { started++; await g.promise; }));
    await settle();
    expect(started).toBe(3);
    expect(lanes.stats()).toEqual({ running: 3, queued: 0 });
    g.resolve();
    await Promise.all(done);
  });

  it('holds a flood beyond the limit in arrival order instead of refusing it', async () => {
    const lanes = new WriteLanes(4);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const release: (() => void)[] = [];
    const done = Array.from({ length: 100 }, (_, i) => lanes.run(`k${i}`, async () => {
      running++;
      most = Math.max(most, running);
      started.push(i);
      await new Promise<void>((r) => release.push(r));
      running--;
      return i;
    }));
    await settle();
    expect(started).toEqual([0, 1, 2, 3]);
    expect(lanes.stats()).toEqual({ running: 4, queued: 96 });
    while (release.length > 0) { release.shift()!(); await settle(); }
    expect(await Promise.all(done)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(most).toBe(4);
    expect(started).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('passes a failure to its caller and goes on with the next write of the key', async () => {
    const lanes = new WriteLanes(2);
    const first = lanes.run('k', async () => { throw new Error('store fault'); });
    const sync = lanes.run('k', () => { throw new TypeError('a bug'); });
    const next = lanes.run('k', async () => 'written');
    await expect(first).rejects.toThrow('store fault');
    await expect(sync).rejects.toThrow('a bug');
    await expect(next).resolves.toBe('written');
    expect(lanes.stats()).toEqual({ running: 0, queued: 0 });
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new WriteLanes(0)).toThrow('the write limit must be a positive integer (got 0)');
  });
});

describe('Gates', () => {
  it('lets shared holders overlap, and an exclusive one wait for the earlier and hold up the later', async () => {
    const gates = new Gates();
    const log: string[] = [];
    const hold = (name: string, exclusive: boolean, g: Promise<void>) =>
      gates.run('ns1', exclusive, async () => { log.push(`+${name}`); await g; log.push(`-${name}`); });
    const a = deferred();
    const b = deferred();
    const del = deferred();
    const c = deferred();
    const runs = [hold('a', false, a.promise), hold('b', false, b.promise), hold('delete', true, del.promise), hold('c', false, c.promise)];
    await settle();
    expect(log).toEqual(['+a', '+b']);
    a.resolve();
    await settle();
    expect(log).toEqual(['+a', '+b', '-a']);
    b.resolve();
    await settle();
    expect(log).toEqual(['+a', '+b', '-a', '-b', '+delete']);
    c.resolve();
    del.resolve();
    await Promise.all(runs);
    expect(log).toEqual(['+a', '+b', '-a', '-b', '+delete', '-delete', '+c', '-c']);
    expect(gates.size).toBe(0);
  });

  it('keeps names apart and releases a hold whose work failed', async () => {
    const gates = new Gates();
    const other = deferred();
    const held = gates.run('ns1', true, () => other.promise);
    await expect(gates.run('ns2', true, async () => 'free')).resolves.toBe('free');
    await expect(gates.run('ns3', false, async () => { throw new Error('refused'); })).rejects.toThrow('refused');
    other.resolve();
    await held;
    await expect(gates.run('ns1', false, async () => 'after')).resolves.toBe('after');
    expect(gates.size).toBe(0);
  });
});
