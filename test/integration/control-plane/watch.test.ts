/**
 * mk.api.watch against a real nats-server and an in-process control plane: a stream of ADDED,
 * MODIFIED and DELETED filtered by namespace, name and selectors; resuming from a resourceVersion;
 * `too old resource version` after compaction; the stream ends when its client goes or cancels.
 * And a controller (the namespace controller) that keeps working after its watch could not resume
 * (a server that came back without its store): its informer relisted.
 */
import { decode, request, type Bus, type ObjectStore } from '../../../bus';
import {
  API, isExpired, isNotFound, isValidation, objectKey,
  type ApplyResult, type GetResult, type Pod, type ListResult, type WatchStarted, type WatchStreamMessage,
} from '../../../messages';
import { caught, waitFor, type NatsServer } from '../../helpers/nats-server';
import { startControlPlane, type ControlPlaneFixture } from '../../helpers/control-plane';

jest.setTimeout(40_000);

describe('mk.api.watch', () => {
  let server: NatsServer;
  let bus: Bus;
  let store: ObjectStore;
  let n = 0;
  const api = <T>(verb: keyof typeof API, body: unknown) => request<T>(bus, API[verb], body);
  const pod = (name: string, labels: Record<string, string> = {}, ns?: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels, ...(ns ? { namespace: ns } : {}) }, spec: { containers: [{ name: 'c', image: 'busybox' }] },
  });
  const apply = async (o: unknown) => (await api<ApplyResult>('apply', { object: o })).object;

  /** Subscribes to a fresh inbox, asks for a watch there, and collects what comes. */
  const watch = async (req: Record<string, unknown>) => {
    const subject = `_INBOX.test-w${++n}`;
    const got: WatchStreamMessage[] = [];
    const sub = bus.nc.subscribe(subject, { callback: (_e, m) => { got.push(decode<WatchStreamMessage>(m.data)); } });
    await bus.nc.flush();
    try {
      const started = await api<WatchStarted>('watch', { kind: 'pods', ...req, subject });
      // The scheduler writes the status of these unschedulable pods too: such MODIFIEDs (labels as before) are left out.
      const changes = () => {
        const labels = new Map<string, string>();
        const out: string[] = [];
        for (const m of got) {
          if (m.type === 'BOOKMARK' || m.type === 'ERROR') continue;
          const l = JSON.stringify(m.object.metadata.labels ?? {});
          if (!(m.type === 'MODIFIED' && labels.get(m.object.metadata.name) === l)) out.push(`${m.type} ${m.object.metadata.name}`);
          labels.set(m.object.metadata.name, l);
        }
        return out;
      };
      return { subject, got, sub, started, changes };
    } catch (e) {
      sub.unsubscribe();
      throw e;
    }
  };
  const consumers = async () => (await bus.jsm.consumers.list(store.stream).next()).length;

  let fixture: ControlPlaneFixture | undefined;
  beforeAll(async () => {
    fixture = await startControlPlane('cp-watch-test');
    ({ server, bus, store } = fixture);
  });
  afterAll(async () => { await fixture?.stop(); });

  it('streams what changes in the selection, with DELETED carrying the last state', async () => {
    await apply(pod('before', { app: 'web' }));
    const w = await watch({ namespace: 'default', labelSelector: 'app=web', fieldSelector: 'metadata.name!=ignored' });
    // Without a resourceVersion: what is there now, then every change.
    await waitFor(() => w.changes().includes('ADDED before'), 'initial ADDED');
    await apply(pod('a', { app: 'web' }));
    await apply(pod('ignored', { app: 'web' }));
    await apply(pod('b', { app: 'db' }));
    await apply(pod('a', { app: 'web', v: '2' }));
    await apply(pod('a', { app: 'other' }));
    await apply(pod('b', { app: 'web' }));
    await api('delete', { kind: 'pods', name: 'b' });
    await waitFor(() => w.changes().includes('DELETED b'), 'DELETED b');
    expect(w.changes()).toEqual(['ADDED before', 'ADDED a', 'MODIFIED a', 'DELETED a', 'ADDED b', 'DELETED b']);
    const del = w.got.find((m) => m.type === 'DELETED' && m.object.metadata.name === 'b');
    expect(del && 'object' in del && del.object.metadata.labels).toEqual({ app: 'web' });
    w.sub.unsubscribe();
    await api('unwatch', { subject: w.subject });
  });

  it('ends the initial ADDEDs of a watch without a resourceVersion with a BOOKMARK at the listing\'s revision', async () => {
    await apply(pod('bm-a', { app: 'bm' }));
    await apply(pod('bm-other'));
    const w = await watch({ labelSelector: 'app=bm' });
    // Long before the first heartbeat: the client knows at once from where it would go on.
    await waitFor(() => w.got.some((m) => m.type === 'BOOKMARK'), 'the initial BOOKMARK', 2_000);
    expect(w.got.slice(0, 2).map((m) => m.type)).toEqual(['ADDED', 'BOOKMARK']);
    expect(w.got[1]).toEqual({ type: 'BOOKMARK', revision: Number(w.started.resourceVersion), n: 2 });
    expect(Number(w.started.resourceVersion)).toBeGreaterThan((w.got[0] as { revision: number }).revision);
    w.sub.unsubscribe();
    await api('unwatch', { subject: w.subject });
  });

  it('resumes from a resourceVersion: every change after it, in order, one name only when asked', async () => {
    await apply(pod('r0', { old: 'yes' }));
    await apply(pod('r3'));
    // Once the scheduler has said why they cannot be placed, it leaves them alone.
    for (const name of ['r0', 'r3']) {
      await waitFor(async () => ((await api<GetResult>('get', { kind: 'pods', name })).object as Pod).status?.conditions?.length, `${name} looked at`);
    }
    const { resourceVersion } = await api<ListResult>('list', { kind: 'pods' });
    // Objects that were there at that revision: changed, then deleted after it.
    await apply(pod('r3', { changed: 'yes' }));
    await api('delete', { kind: 'pods', name: 'r0' });
    await apply(pod('r1'));
    await apply(pod('r2'));
    await apply(pod('r1', { x: 'y' }));
    await api('delete', { kind: 'pods', name: 'r2' });
    const all = await watch({ resourceVersion });
    expect(all.started.resourceVersion).toBe(resourceVersion);
    const one = await watch({ resourceVersion, name: 'r1' });
    await waitFor(() => all.changes().length >= 6 && one.changes().length >= 2, 'replayed changes');
    expect(all.changes()).toEqual(['MODIFIED r3', 'DELETED r0', 'ADDED r1', 'ADDED r2', 'MODIFIED r1', 'DELETED r2']);
    const r0 = all.got.find((m) => m.type === 'DELETED' && m.object.metadata.name === 'r0');
    expect(r0 && 'object' in r0 && r0.object.metadata.labels).toEqual({ old: 'yes' });
    expect(one.changes()).toEqual(['ADDED r1', 'MODIFIED r1']);
    const revs = all.got.filter((m) => m.type !== 'ERROR').map((m) => (m as { revision: number }).revision);
    expect([...revs].sort((a, b) => a - b)).toEqual(revs);
    for (const w of [all, one]) { w.sub.unsubscribe(); await api('unwatch', { subject: w.subject }); }
  });

  it('refuses a revision older than the store keeps with "too old resource version", and bad requests', async () => {
    const { resourceVersion } = await api<ListResult>('list', { kind: 'pods' });
    await apply(pod('gone'));
    await api('delete', { kind: 'pods', name: 'gone' });
    // The deletion may finish after the reply (a marked pod goes when its controller sees it).
    await waitFor(async () => !(await store.get(objectKey('pods', 'default', 'gone'))), 'pod gone from the store');
    // compact(0) takes markers older than now, in whole milliseconds: ask until it has this one.
    const revision = await waitFor(async () => {
      const r = (await store.compact(0)).revision;
      return r > Number(resourceVersion) ? r : undefined;
    }, 'a compaction past the listing');
    const err = await caught(watch({ resourceVersion }));
    expect(isExpired(err)).toBe(true);
    expect(String(err)).toContain(`too old resource version: ${resourceVersion} (${revision})`);
    // From the compacted revision itself on, nothing is missing.
    const ok = await watch({ resourceVersion: String(revision) });
    ok.sub.unsubscribe();
    await api('unwatch', { subject: ok.subject });
    for (const bad of [
      { labelSelector: 'env in (a' }, { fieldSelector: 'spec.foo=x' }, { resourceVersion: 'abc' }, { namespace: '*' },
    ]) expect(isValidation(await caught(watch(bad)))).toBe(true);
    expect(isValidation(await caught(api('watch', { kind: 'pods', subject: 'mk.watch.>' })))).toBe(true);
  });

  it('stops streaming when the client cancels, or goes without a word', async () => {
    const base = await consumers();
    const a = await watch({});
    const b = await watch({});
    expect(await consumers()).toBe(base + 2);
    a.sub.unsubscribe();
    await api('unwatch', { subject: a.subject });
    await waitFor(async () => (await consumers()) === base + 1, 'cancelled watch stopped');
    // No cancel: the next heartbeat finds nobody listening.
    b.sub.unsubscribe();
    await waitFor(async () => (await consumers()) === base, 'abandoned watch stopped', 15_000);
    const c = await watch({});
    await waitFor(() => c.got.some((m) => m.type === 'BOOKMARK'), 'a heartbeat', 10_000);
    c.sub.unsubscribe();
    await api('unwatch', { subject: c.subject });
  });

  it('a controller goes on after its watch could not resume: the namespace controller relists', async () => {
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lost' } });
    await server.restart({ wipe: true });
    // The control plane makes the store and the built-in namespaces again; its informers relist.
    await waitFor(async () => (await api<GetResult>('get', { kind: 'namespaces', name: 'default' })).object, 'default again', 20_000);
    expect(isNotFound(await caught(api('get', { kind: 'namespaces', name: 'lost' })))).toBe(true);
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'after' } });
    await api('apply', { object: pod('p', {}, 'after') });
    await api('delete', { kind: 'namespaces', name: 'after' });
    await waitFor(async () => isNotFound(await caught(api('get', { kind: 'namespaces', name: 'after' }))), 'namespace emptied and gone', 15_000);
    expect(isNotFound(await caught(api('get', { kind: 'pods', namespace: 'after', name: 'p' })))).toBe(true);
  });
});
