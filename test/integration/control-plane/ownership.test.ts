/**
 * Finalizers and ownerReferences against a real nats-server and an in-process control plane:
 * an object with finalizers stays Terminating until an update empties them; the garbage collector
 * deletes dependents after their owner (background), before it (foreground), or leaves them without
 * the reference (orphan); an owner may be any kind (a Namespace owning pods); namespaces wait for
 * objects held by finalizers. No node is registered, so pods stay unbound and go at once.
 */
import { request, type Bus, type ObjectStore } from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import {
  API, isNotFound, isValidation, objectKey,
  type ApplyResult, type DeleteResult, type PatchResult, type GetResult, type KubeObject, type OwnerReference,
} from '../../../messages';
import { caught, waitFor, type NatsServer } from '../../helpers/nats-server';
import { startControlPlane, type ControlPlaneFixture } from '../../helpers/control-plane';

jest.setTimeout(30_000);

describe('finalizers and garbage collection', () => {
  let server: NatsServer;
  let cp: ControlPlane;
  let bus: Bus;
  let store: ObjectStore;
  const api = <T>(verb: keyof typeof API, body: unknown) => request<T>(bus, API[verb], body);
  const pod = (name: string, meta: Record<string, unknown> = {}) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, ...meta }, spec: { containers: [{ name: 'c', image: 'busybox' }] },
  });
  const apply = async (o: unknown) => (await api<ApplyResult>('apply', { object: o })).object;
  const get = async (name: string, kind = 'pods', namespace?: string) => (await api<GetResult>('get', { kind, name, ...(namespace ? { namespace } : {}) })).object;
  const gone = (name: string, kind = 'pods', namespace?: string) =>
    waitFor(async () => isNotFound(await caught(get(name, kind, namespace))), `${kind} ${name} gone`, 15_000);
  const ownedBy = (o: KubeObject, block = false): OwnerReference => ({
    apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid!, ...(block ? { blockOwnerDeletion: true } : {}),
  });

  let fixture: ControlPlaneFixture | undefined;
  beforeAll(async () => {
    fixture = await startControlPlane('cp-gc-test');
    ({ server, cp, bus, store } = fixture);
  });
  afterAll(async () => { await fixture?.stop(); });

  it('keeps an object with finalizers Terminating until an update empties them', async () => {
    await apply(pod('held', { finalizers: ['example.com/hold'] }));
    expect((await api<DeleteResult>('delete', { kind: 'pods', name: 'held' })).result).toBe('terminating');
    const marked = await get('held');
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    expect(marked.metadata.finalizers).toEqual(['example.com/hold']);
    // Nothing but finalizers may change meanwhile; a manifest without them changes nothing either.
    expect(isValidation(await caught(api('apply', { object: { ...pod('held'), metadata: { name: 'held', labels: { a: 'b' } } } })))).toBe(true);
    expect(isValidation(await caught(api('apply', { object: pod('held', { finalizers: ['example.com/hold', 'x/y'] }) })))).toBe(true);
    expect((await get('held')).metadata.deletionTimestamp).toBe(marked.metadata.deletionTimestamp);
    await apply(pod('held', { finalizers: [] }));
    await gone('held');
  });

  it('a patch that removes the finalizers of a terminating object ends its deletion; other changes are refused', async () => {
    await apply(pod('pfin', { finalizers: ['example.com/a', 'example.com/b'] }));
    await api('delete', { kind: 'pods', name: 'pfin' });
    const live = await get('pfin');
    const relabel = { ...live, metadata: { ...live.metadata, labels: { a: 'b' } } };
    const refused = await caught(api('update', { object: relabel }));
    expect(isValidation(refused)).toBe(true);
    expect((refused as Error).message).toMatch(/pod "pfin" is being deleted: only its finalizers may be removed until it is gone, and this write also changes metadata.labels/);
    expect((await api<PatchResult>('patch', { kind: 'pods', name: 'pfin', type: 'json', patch: [{ op: 'remove', path: '/metadata/finalizers/0' }] })).result).toBe('patched');
    expect((await get('pfin')).metadata.finalizers).toEqual(['example.com/b']);
    // kubectl's habit: a strategic (or merge) patch setting finalizers to null.
    await api('patch', { kind: 'pods', name: 'pfin', type: 'strategic', patch: { metadata: { finalizers: null } } });
    await gone('pfin');
  });

  it('a server dry run of a foreground delete says what would happen and adds no finalizer', async () => {
    await apply(pod('dry-fg'));
    const r = await api<DeleteResult>('delete', { kind: 'pods', name: 'dry-fg', propagationPolicy: 'Foreground', dryRun: true });
    expect(r.result).toBe('terminating');
    const after = await get('dry-fg');
    expect(after.metadata.finalizers).toBeUndefined();
    expect(after.metadata.deletionTimestamp).toBeUndefined();
    expect(isValidation(await caught(api('delete', { kind: 'pods', name: 'dry-fg', propagationPolicy: 'Sideways', dryRun: true })))).toBe(true);
  });

  it('a terminating namespace refuses new objects and takes the removal of its objects\' finalizers', async () => {
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'term-ns' } });
    await api('create', { object: pod('kept', { finalizers: ['example.com/hold'] }), namespace: 'term-ns' });
    await api('delete', { kind: 'namespaces', name: 'term-ns' });
    await waitFor(async () => (await get('kept', 'pods', 'term-ns')).metadata.deletionTimestamp, 'kept marked');
    const refused = await caught(api('create', { object: pod('new'), namespace: 'term-ns' }));
    expect((refused as Error).message).toBe('namespace "term-ns" is being deleted; nothing new can be created in it');
    await api('patch', { kind: 'pods', name: 'kept', namespace: 'term-ns', type: 'merge', patch: { metadata: { finalizers: [] } } });
    await gone('kept', 'pods', 'term-ns');
    await gone('term-ns', 'namespaces');
  });

  it('background: the owner goes at once, its dependents after it; a dependent with another owner only loses the reference', async () => {
    const owner = await apply(pod('bg-owner'));
    const other = await apply(pod('bg-other'));
    await apply(pod('bg-d1', { ownerReferences: [ownedBy(owner)] }));
    await apply(pod('bg-d2', { ownerReferences: [ownedBy(owner)] }));
    await apply(pod('bg-both', { ownerReferences: [ownedBy(owner), ownedBy(other)] }));
    expect((await api<DeleteResult>('delete', { kind: 'pods', name: 'bg-owner' })).result).toBe('deleted');
    await gone('bg-d1');
    await gone('bg-d2');
    const both = await waitFor(async () => { const o = await get('bg-both'); return o.metadata.ownerReferences?.length === 1 ? o : null; }, 'reference dropped');
    expect(both.metadata.ownerReferences).toEqual([ownedBy(other)]);
  });

  it('foreground: dependents with blockOwnerDeletion go first, then the owner', async () => {
    const owner = await apply(pod('fg-owner'));
    await apply(pod('fg-block', { ownerReferences: [ownedBy(owner, true)], finalizers: ['example.com/hold'] }));
    const child = await apply(pod('fg-child', { ownerReferences: [ownedBy(owner)] }));
    await apply(pod('fg-grandchild', { ownerReferences: [ownedBy(child, true)] }));
    expect((await api<DeleteResult>('delete', { kind: 'pods', name: 'fg-owner', propagationPolicy: 'Foreground' })).result).toBe('terminating');
    // The blocking dependent is marked, held by its own finalizer; so the owner waits.
    await waitFor(async () => (await get('fg-block')).metadata.deletionTimestamp, 'dependent marked');
    await gone('fg-child');
    await gone('fg-grandchild');
    const waiting = await get('fg-owner');
    expect(waiting.metadata.deletionTimestamp).toBeDefined();
    expect(waiting.metadata.finalizers).toEqual(['foregroundDeletion']);
    await apply(pod('fg-block', { ownerReferences: [ownedBy(owner, true)], finalizers: [] }));
    await gone('fg-block');
    await gone('fg-owner');
  });

  it('foreground through a cycle of blocking owners: each is unblocked, and both go', async () => {
    const a = await apply(pod('cyc-a'));
    const b = await apply(pod('cyc-b', { ownerReferences: [ownedBy(a, true)] }));
    await apply(pod('cyc-a', { ownerReferences: [ownedBy(b, true)] }));
    await api('delete', { kind: 'pods', name: 'cyc-a', propagationPolicy: 'Foreground' });
    await gone('cyc-a');
    await gone('cyc-b');
  });

  it('foreground: an owner stops waiting for a dependent once it no longer blocks', async () => {
    const owner = await apply(pod('unb-owner'));
    await apply(pod('unb-d', { ownerReferences: [ownedBy(owner, true)], finalizers: ['example.com/hold'] }));
    await api('delete', { kind: 'pods', name: 'unb-owner', propagationPolicy: 'Foreground' });
    await waitFor(async () => (await get('unb-d')).metadata.deletionTimestamp, 'the dependent marked');
    expect((await get('unb-owner')).metadata.finalizers).toEqual(['foregroundDeletion']);
    // As a controller releasing it would (the api takes only finalizer removals of a terminating object).
    await store.mutate<KubeObject>(objectKey('pods', 'default', 'unb-d'), (o) => {
      o.metadata.ownerReferences = [{ ...o.metadata.ownerReferences![0], blockOwnerDeletion: false }];
      return o;
    });
    await gone('unb-owner');
    expect((await get('unb-d')).metadata.finalizers).toEqual(['example.com/hold']);
    await api('patch', { kind: 'pods', name: 'unb-d', type: 'merge', patch: { metadata: { finalizers: null } } });
    await gone('unb-d');
  });

  it('orphan: dependents stay, without their reference to the owner', async () => {
    const owner = await apply(pod('or-owner'));
    await apply(pod('or-d', { labels: { keep: 'me' }, ownerReferences: [ownedBy(owner)] }));
    expect((await api<DeleteResult>('delete', { kind: 'pods', name: 'or-owner', propagationPolicy: 'Orphan' })).result).toBe('terminating');
    await gone('or-owner');
    const d = await get('or-d');
    expect(d.metadata.ownerReferences).toBeUndefined();
    expect(d.metadata.labels).toEqual({ keep: 'me' });
    expect(isValidation(await caught(api('delete', { kind: 'pods', name: 'or-d', propagationPolicy: 'Sideways' })))).toBe(true);
    await get('or-d');
  });

  it('an owner may be of any kind: a namespace owning pods elsewhere', async () => {
    const ns = await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'owner-ns' } });
    await apply(pod('ns-dep', { ownerReferences: [ownedBy(ns)] }));
    await api('delete', { kind: 'namespaces', name: 'owner-ns' });
    await gone('owner-ns', 'namespaces');
    await gone('ns-dep');
  });

  it('a namespaced owner counts only in its dependent\'s namespace; a cluster-scoped dependent of one is left alone', async () => {
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other-ns' } });
    const owner = (await api<ApplyResult>('apply', { object: pod('x-owner'), namespace: 'other-ns' })).object;
    // Kubernetes: an ownerReference has no namespace, so a namespaced owner is looked up in the
    // dependent's own; one that lives elsewhere is absent, and the dependent is collected.
    await apply(pod('x-dep', { ownerReferences: [ownedBy(owner)] }));
    await gone('x-dep');
    // A cluster-scoped dependent cannot have a namespaced owner: the reference resolves to nothing, and it stays.
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x-cluster', ownerReferences: [ownedBy(owner)] } });
    await api('delete', { kind: 'pods', name: 'x-owner', namespace: 'other-ns' });
    await gone('x-owner', 'pods', 'other-ns');
    // The collector takes keys in turn: once a dependent queued after it is gone, it has looked at x-cluster.
    await apply(pod('x-later', { ownerReferences: [ownedBy(owner)] }));
    await gone('x-later');
    await expect(get('x-cluster', 'namespaces')).resolves.toMatchObject({ metadata: { name: 'x-cluster' } });
    await api('delete', { kind: 'namespaces', name: 'x-cluster' });
  });

  it('a namespace waits for its objects held by finalizers, then goes', async () => {
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fin-ns' } });
    await api('apply', { object: pod('stuck', { finalizers: ['example.com/hold'] }), namespace: 'fin-ns' });
    await api('apply', { object: pod('free'), namespace: 'fin-ns' });
    await api('delete', { kind: 'namespaces', name: 'fin-ns' });
    await gone('free', 'pods', 'fin-ns');
    await waitFor(async () => (await get('stuck', 'pods', 'fin-ns')).metadata.deletionTimestamp, 'stuck marked');
    expect((await get('fin-ns', 'namespaces')).status).toMatchObject({ phase: 'Terminating' });
    await api('apply', { object: pod('stuck', { finalizers: [] }), namespace: 'fin-ns' });
    await gone('stuck', 'pods', 'fin-ns');
    await gone('fin-ns', 'namespaces');
  });

  it('removes dependents whose owner vanished while the control plane was down', async () => {
    const owner = await apply(pod('down-owner'));
    for (let i = 0; i < 5; i++) await apply(pod(`down-d${i}`, { ownerReferences: [ownedBy(owner)] }));
    await cp.stop();
    // As if the api had removed the owner and the process died before the collector ran.
    await store.delete(objectKey('pods', 'default', 'down-owner'));
    expect(await store.get(objectKey('pods', 'default', 'down-d0'))).not.toBeNull();
    cp = fixture!.cp = await runControlPlane({ bus: { servers: server.url, name: 'cp-gc-test-2' } });
    for (let i = 0; i < 5; i++) await gone(`down-d${i}`);
  });
});
