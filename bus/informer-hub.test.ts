import type { Informer, InformerEvent } from './informer';
import { InformerHub, keyMatcher } from './informer-hub';
import type { ObjectStore } from './object-store';

/** A stand-in for the shared watch: the test pushes its changes, and sees it start and stop. */
class FakeBase {
  starts = 0;
  stops = 0;
  onEvent: ((ev: InformerEvent<unknown>) => Promise<void>) | undefined;
  /** What the base's first listing delivers. */
  listing: InformerEvent<unknown>[] = [];

  readonly start = async (_store: ObjectStore, filter: string, onEvent: (ev: InformerEvent<unknown>) => Promise<void>): Promise<Informer> => {
    expect(filter).toBe('>');
    this.starts++;
    this.onEvent = onEvent;
    for (const ev of this.listing) await onEvent(ev);
    return { stop: async () => { this.stops++; this.onEvent = undefined; } };
  };

  push(type: 'PUT' | 'DELETE', key: string, revision: number): Promise<void> {
    return this.onEvent!({ type, key, object: type === 'PUT' ? { key, revision } : null, revision });
  }
}

const store = {} as ObjectStore;
const keysOf = (evs: InformerEvent<unknown>[]) => evs.map((e) => `${e.type} ${e.key}@${e.revision}`);

describe('keyMatcher', () => {
  it.each([
    ['>', 'pods.default.a', true],
    ['pods.>', 'pods.default.a', true],
    ['pods.>', 'pods', false],
    ['pods.>', 'nodes._cluster.n1', false],
    ['pods.*.a', 'pods.default.a', true],
    ['pods.*.a', 'pods.default.b', false],
    ['pods.default.a', 'pods.default.a', true],
    ['pods.default', 'pods.default.a', false],
    ['pods.default.a.b', 'pods.default.a', false],
  ])('%s matches %s: %s', (filter, key, want) => {
    expect(keyMatcher(filter)(key)).toBe(want);
  });
});

describe('InformerHub', () => {
  it('runs one watch for every informer, each seeing only its keys, a late one starting from a listing', async () => {
    const base = new FakeBase();
    base.listing = [{ type: 'PUT', key: 'pods.default.a', object: {}, revision: 1 }, { type: 'PUT', key: 'nodes._cluster.n1', object: {}, revision: 2 }];
    const hub = new InformerHub(store, base.start);
    const pods: InformerEvent<unknown>[] = [];
    const all: InformerEvent<unknown>[] = [];
    const a = await hub.subscribe('pods.>', (ev) => { pods.push(ev); });
    expect(keysOf(pods)).toEqual(['PUT pods.default.a@1']);
    await base.push('PUT', 'pods.default.b', 3);
    const b = await hub.subscribe('>', (ev) => { all.push(ev); });
    expect(base.starts).toBe(1);
    expect(keysOf(all).sort()).toEqual(['PUT nodes._cluster.n1@2', 'PUT pods.default.a@1', 'PUT pods.default.b@3']);
    await base.push('DELETE', 'pods.default.a', 4);
    await base.push('PUT', 'nodes._cluster.n2', 5);
    expect(keysOf(pods)).toEqual(['PUT pods.default.a@1', 'PUT pods.default.b@3', 'DELETE pods.default.a@4']);
    expect(keysOf(all).slice(3)).toEqual(['DELETE pods.default.a@4', 'PUT nodes._cluster.n2@5']);

    await a.stop();
    expect(base.stops).toBe(0);
    await b.stop();
    expect(base.stops).toBe(1);
    expect(hub.size).toBe(0);
    // A new informer starts a new watch, from a listing of its own.
    const again: InformerEvent<unknown>[] = [];
    const c = await hub.subscribe('pods.>', (ev) => { again.push(ev); });
    expect(base.starts).toBe(2);
    expect(keysOf(again)).toEqual(['PUT pods.default.a@1']);
    await c.stop();
  });

  it('delivers to each informer in order, a slow handler holding back the next change', async () => {
    const base = new FakeBase();
    const hub = new InformerHub(store, base.start);
    const seen: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => { release = r; });
    const inf = await hub.subscribe('>', async (ev) => {
      if (ev.revision === 1) await gate;
      seen.push(ev.key);
    });
    const first = base.push('PUT', 'x.a', 1);
    let firstDone = false;
    void first.then(() => { firstDone = true; });
    await Promise.resolve();
    expect(firstDone).toBe(false);
    release();
    await first;
    await base.push('PUT', 'x.b', 2);
    expect(seen).toEqual(['x.a', 'x.b']);
    await inf.stop();
  });

  it('fails a subscription whose handler throws on the listing, and keeps the others', async () => {
    const base = new FakeBase();
    base.listing = [{ type: 'PUT', key: 'pods.default.a', object: {}, revision: 1 }];
    const hub = new InformerHub(store, base.start);
    const ok = await hub.subscribe('>', () => {});
    await expect(hub.subscribe('pods.>', () => { throw new Error('bad handler'); })).rejects.toThrow('bad handler');
    expect(hub.size).toBe(1);
    await ok.stop();
    expect(base.stops).toBe(1);
  });

  it('hands a later handler failure to the watch, which delivers the change again', async () => {
    const base = new FakeBase();
    const hub = new InformerHub(store, base.start);
    let fail = true;
    const seen: number[] = [];
    const inf = await hub.subscribe('>', (ev) => {
      if (fail) { fail = false; throw new Error('transient'); }
      seen.push(ev.revision);
    });
    await expect(base.push('PUT', 'x.a', 1)).rejects.toThrow('transient');
    await base.push('PUT', 'x.a', 1);
    expect(seen).toEqual([1]);
    await inf.stop();
  });

  it('fails a subscription when the watch cannot start, and tries again on the next one', async () => {
    const base = new FakeBase();
    let down = true;
    const hub = new InformerHub(store, async (s, f, on) => {
      if (down) throw new Error('bus down');
      return base.start(s, f, on);
    });
    await expect(hub.subscribe('>', () => {})).rejects.toThrow('bus down');
    down = false;
    const inf = await hub.subscribe('>', () => {});
    expect(base.starts).toBe(1);
    await inf.stop();
  });

  it('lets go of a shared watch whose first listing hangs: the next informer starts a new one', async () => {
    let starts = 0;
    const stopped: number[] = [];
    const hub = new InformerHub(store, async () => {
      const n = ++starts;
      if (n === 1) await new Promise(() => undefined); // a listing that never ends
      return { stop: async () => { stopped.push(n); } };
    }, { startMs: 50, stopMs: 50 });
    await expect(hub.subscribe('pods.>', () => undefined)).rejects.toThrow(/did not list within 0.05 s/);
    const informer = await hub.subscribe('pods.>', () => undefined);
    expect(starts).toBe(2);
    await informer.stop();
    expect(stopped).toEqual([2]);
  });

  it('does not hold a new informer back while the old watch takes long to stop, nor let the old one deliver', async () => {
    let starts = 0;
    let oldOnEvent: ((ev: InformerEvent<unknown>) => Promise<void>) | undefined;
    const hub = new InformerHub(store, async (_s, _f, onEvent) => {
      const n = ++starts;
      if (n === 1) oldOnEvent = onEvent;
      return { stop: () => (n === 1 ? new Promise<void>(() => undefined) : Promise.resolve()) };
    }, { startMs: 1000, stopMs: 50 });
    const first = await hub.subscribe('pods.>', () => undefined);
    await first.stop();
    const seen: InformerEvent<unknown>[] = [];
    const second = await hub.subscribe('pods.>', (ev) => { seen.push(ev); });
    expect(starts).toBe(2);
    await oldOnEvent!({ type: 'PUT', key: 'pods.default.stale', object: {}, revision: 9 });
    expect(seen).toEqual([]);
    await second.stop();
  });
});
