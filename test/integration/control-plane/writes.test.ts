/**
 * The subject API's writes against a real nats-server and control plane: create, update (replace)
 * with resourceVersion preconditions, merge and JSON patches, the status path, server dry runs,
 * and bad input that must leave the store untouched.
 */
import { request, type Bus, type ObjectStore } from '../../../bus';
import {
  API, isAlreadyExists, isConflict, isNotFound, isValidation,
  type CreateResult, type GetResult, type KubeObject, type PatchResult, type Pod, type UpdateResult,
} from '../../../messages';
import { caught, waitFor } from '../../helpers/nats-server';
import { startControlPlane, storedObjects, type ControlPlaneFixture } from '../../helpers/control-plane';

jest.setTimeout(30_000);

const pod = (name: string, image = 'busybox') => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: name } },
  spec: { containers: [{ name: 'c', image }] },
});

describe('api writes', () => {
  let bus: Bus;
  let store: ObjectStore;
  const api = <T>(verb: keyof typeof API, body: unknown) => request<T>(bus, API[verb] as string, body);
  const getPod = async (name: string) => (await api<GetResult>('get', { kind: 'pods', name })).object as Pod;
  const stored = () => storedObjects(store);
  /** A pod the scheduler has looked at (no node fits, so it stays Pending): nothing else writes it after. */
  const settled = (name: string) => waitFor(async () => {
    const p = await getPod(name);
    return p.status?.conditions?.some((c) => c.type === 'PodScheduled') ? p : null;
  }, `${name} seen by the scheduler`, 10_000);

  let fixture: ControlPlaneFixture | undefined;
  beforeAll(async () => {
    fixture = await startControlPlane('cp-writes');
    ({ bus, store } = fixture);
  });
  afterAll(async () => { await fixture?.stop(); });

  it('creates with server metadata, and refuses a second create with AlreadyExists', async () => {
    const r = await api<CreateResult>('create', { object: pod('c1') });
    expect(r.object.metadata).toMatchObject({ name: 'c1', namespace: 'default', generation: 1, labels: { app: 'c1' } });
    expect(r.object.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.object.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Number(r.object.metadata.resourceVersion)).toBeGreaterThan(0);
    const err = await caught(api('create', { object: pod('c1', 'other') }));
    expect(isAlreadyExists(err)).toBe(true);
    expect((err as Error).message).toBe('pods "c1" already exists');
    expect((await settled('c1')).spec.containers[0].image).toBe('busybox');
  });

  it('server dry run of create validates and admits but stores nothing', async () => {
    const before = await stored();
    const r = await api<CreateResult>('create', { object: pod('dry'), dryRun: true });
    expect(r.object.metadata).toMatchObject({ name: 'dry', generation: 1 });
    expect(r.object.spec).toMatchObject({ restartPolicy: 'Always' });
    expect(isNotFound(await caught(getPod('dry')))).toBe(true);
    expect(isAlreadyExists(await caught(api('create', { object: pod('c1'), dryRun: true })))).toBe(true);
    expect(isNotFound(await caught(api('create', { object: { ...pod('x'), metadata: { name: 'x', namespace: 'nowhere' } }, dryRun: true })))).toBe(true);
    expect(await stored()).toEqual(before);
  });

  it('replaces with a current resourceVersion, bumps generation only for spec, and refuses a stale one with Conflict', async () => {
    await api('create', { object: pod('u1') });
    const live = await settled('u1');
    const relabel = { ...pod('u1'), metadata: { name: 'u1', labels: { app: 'u1', tier: 'web' }, resourceVersion: live.metadata.resourceVersion } };
    const r1 = await api<UpdateResult>('update', { object: relabel });
    expect(r1.result).toBe('replaced');
    expect(r1.object.metadata.generation).toBe(1);
    expect(r1.object.metadata.labels).toEqual({ app: 'u1', tier: 'web' });
    expect(r1.object.status).toEqual(live.status);
    expect(r1.object.metadata.uid).toBe(live.metadata.uid);

    const stale = { ...pod('u1', 'busybox:2'), metadata: { name: 'u1', resourceVersion: live.metadata.resourceVersion } };
    const err = await caught(api('update', { object: stale }));
    expect(isConflict(err)).toBe(true);
    expect((err as Error).message).toBe(
      'Operation cannot be fulfilled on pods "u1": the object has been modified; please apply your changes to the latest version and try again',
    );
    expect((await getPod('u1')).spec.containers[0].image).toBe('busybox');

    const fresh = { ...stale, metadata: { ...stale.metadata, resourceVersion: r1.object.metadata.resourceVersion } };
    const r2 = await api<UpdateResult>('update', { object: fresh });
    expect(r2.object.metadata.generation).toBe(2);
    // Labels not in the replacement are gone: update replaces, it does not merge.
    expect(r2.object.metadata.labels).toBeUndefined();
    // Without a resourceVersion an update is unconditional; the same object again is unchanged.
    expect((await api<UpdateResult>('update', { object: pod('u1', 'busybox:2') })).result).toBe('replaced');
    expect((await api<UpdateResult>('update', { object: pod('u1', 'busybox:2') })).result).toBe('unchanged');
    // An empty resourceVersion is none, as in Kubernetes.
    const blank = { ...pod('u1', 'busybox:3'), metadata: { name: 'u1', resourceVersion: '' } };
    expect((await api<UpdateResult>('update', { object: blank })).result).toBe('replaced');
    const blankPatch = { kind: 'pods', name: 'u1', type: 'merge', patch: { metadata: { resourceVersion: '', labels: { b: 'y' } } } };
    expect((await api<PatchResult>('patch', blankPatch)).result).toBe('patched');
    expect(isNotFound(await caught(api('update', { object: pod('nobody') })))).toBe(true);
    // A uid from another incarnation (deleted and made again since it was read) is a Conflict.
    const other = await caught(api('update', { object: { ...pod('u1', 'busybox:4'), metadata: { name: 'u1', uid: 'an-older-one' } } }));
    expect(isConflict(other)).toBe(true);
    expect((other as Error).message).toBe(`Operation cannot be fulfilled on pods "u1": Precondition failed: UID in precondition: an-older-one, UID in object meta: ${live.metadata.uid}`);
    expect((await getPod('u1')).spec.containers[0].image).toBe('busybox:3');
  });

  it('server dry run of update answers what would be stored and stores nothing', async () => {
    await api('create', { object: pod('du') });
    const live = await settled('du');
    const before = await stored();
    const r = await api<UpdateResult>('update', { object: pod('du', 'busybox:9'), dryRun: true });
    expect(r.object.spec).toMatchObject({ containers: [expect.objectContaining({ image: 'busybox:9' })] });
    expect(r.object.metadata.generation).toBe(2);
    expect(await stored()).toEqual(before);
    expect(await getPod('du')).toEqual(live);
  });

  it('merge-patches labels (null removes), JSON-patches the image, and honours a resourceVersion precondition', async () => {
    await api('create', { object: pod('p1') });
    const live = await settled('p1');
    const m = await api<PatchResult>('patch', { kind: 'pod', name: 'p1', type: 'merge', patch: { metadata: { labels: { app: null, x: 'y' } } } });
    expect(m.result).toBe('patched');
    expect(m.object.metadata.labels).toEqual({ x: 'y' });
    expect(m.object.metadata.generation).toBe(1);
    const again = await api<PatchResult>('patch', { kind: 'pod', name: 'p1', type: 'merge', patch: { metadata: { labels: { x: 'y' } } } });
    expect(again.result).toBe('unchanged');

    const j = await api<PatchResult>('patch', {
      kind: 'pods', name: 'p1', type: 'json', resourceVersion: m.object.metadata.resourceVersion,
      patch: [{ op: 'test', path: '/spec/containers/0/name', value: 'c' }, { op: 'replace', path: '/spec/containers/0/image', value: 'busybox:1.36' }],
    });
    expect(j.object.spec).toMatchObject({ containers: [expect.objectContaining({ image: 'busybox:1.36' })] });
    expect(j.object.metadata.generation).toBe(2);
    expect(j.object.status).toEqual(live.status);

    // A strategic merge patch merges the container by name: the other fields of the container stay.
    const s = await api<PatchResult>('patch', { kind: 'pods', name: 'p1', type: 'strategic', patch: { spec: { containers: [{ name: 'c', image: 'busybox:1.37' }] } } });
    expect((s.object as Pod).spec.containers).toEqual([{ ...(j.object as Pod).spec.containers[0], image: 'busybox:1.37' }]);
    // With a merge patch the list is replaced; the defaults come back, so the pod's rules still hold.
    const r = await api<PatchResult>('patch', { kind: 'pods', name: 'p1', type: 'merge', patch: { spec: { containers: [{ name: 'c', image: 'busybox:1.38' }] } } });
    expect((r.object as Pod).spec.containers[0]).toMatchObject({ image: 'busybox:1.38', imagePullPolicy: 'IfNotPresent' });

    const stale = await caught(api('patch', { kind: 'pods', name: 'p1', type: 'merge', resourceVersion: m.object.metadata.resourceVersion, patch: { metadata: { labels: { z: '1' } } } }));
    expect(isConflict(stale)).toBe(true);
    const inPatch = await caught(api('patch', { kind: 'pods', name: 'p1', type: 'merge', patch: { metadata: { resourceVersion: '1', labels: { z: '1' } } } }));
    expect(isConflict(inPatch)).toBe(true);
    expect((await getPod('p1')).metadata.labels).toEqual({ x: 'y' });
  });

  it('refuses patches that do not apply, unknown fields and forbidden changes, writing nothing', async () => {
    await api('create', { object: pod('bad') });
    await settled('bad');
    const before = await stored();
    const cases: [unknown, string][] = [
      [{ type: 'json', patch: [{ op: 'test', path: '/spec/containers/0/image', value: 'nginx' }] }, 'does not apply: the value is "busybox", not "nginx"'],
      [{ type: 'json', patch: [{ op: 'remove', path: '/spec/nothing' }] }, 'there is no field "nothing"'],
      [{ type: 'json', patch: { op: 'add' } }, 'must be a list of operations'],
      [{ type: 'merge', patch: { spec: { containers: [{ name: 'c', image: 'b', imagePolicy: 'x' }] } } }, 'unknown field "spec.containers[0].imagePolicy"'],
      [{ type: 'merge', patch: { spec: { hostname: 'h' } } }, 'pod updates may not change fields other than container images'],
      [{ type: 'merge', patch: { metadata: { name: 'other' } } }, 'metadata.name: cannot change'],
      [{ type: 'merge', patch: ['x'] }, 'a merge patch must be a JSON object'],
      [{ type: 'apply', patch: {} }, 'unknown patch type "apply"'],
      [{ type: 'strategic', patch: { spec: { containers: [{ image: 'x' }] } } }, 'each item must be a map with "name"'],
    ];
    for (const [body, message] of cases) {
      const err = await caught(api('patch', { kind: 'pods', name: 'bad', ...(body as object) }));
      expect(isValidation(err)).toBe(true);
      expect((err as Error).message).toContain(message);
    }
    expect(isNotFound(await caught(api('patch', { kind: 'pods', name: 'ghost', type: 'merge', patch: {} })))).toBe(true);
    for (const verb of ['create', 'update', 'updateStatus'] as const) {
      expect(isValidation(await caught(api(verb, { object: pod('bad'), namespace: '*' })))).toBe(true);
    }
    expect(isValidation(await caught(api('patch', { kind: 'pods', namespace: 'a.b', name: 'bad', type: 'merge', patch: {} })))).toBe(true);
    expect(isValidation(await caught(api('patch', { kind: 'events', name: 'e', type: 'merge', patch: {} })))).toBe(true);
    expect(await stored()).toEqual(before);
  });

  it('writes status only through the status path: spec, labels and generation stay', async () => {
    await api('create', { object: pod('s1') });
    const live = await settled('s1');
    const status = { ...(live.status as object), message: 'written by a test' };
    const changedSpec = { ...live, spec: { ...live.spec, containers: [{ ...live.spec.containers[0], image: 'evil' }] }, metadata: { ...live.metadata, labels: { hacked: 'yes' } }, status };
    const r = await api<UpdateResult>('updateStatus', { object: changedSpec });
    expect(r.result).toBe('replaced');
    const after = await getPod('s1');
    expect(after.status).toEqual(status);
    expect(after.spec).toEqual(live.spec);
    expect(after.metadata.labels).toEqual(live.metadata.labels);
    expect(after.metadata.generation).toBe(1);
    // A stale resourceVersion is a Conflict there too, and a status patch touches nothing else.
    expect(isConflict(await caught(api('updateStatus', { object: { ...changedSpec, status: {} } })))).toBe(true);
    const p = await api<PatchResult>('patch', {
      kind: 'pods', name: 's1', type: 'merge', subresource: 'status', patch: { spec: { hostname: 'ignored' }, status: { message: 'patched' } },
    });
    expect((p.object.status as { message: string }).message).toBe('patched');
    expect((p.object.spec as { hostname?: string }).hostname).toBeUndefined();
    expect(p.object.metadata.generation).toBe(1);
    // A dry run of the status path stores nothing.
    const before = await stored();
    await api('patch', { kind: 'pods', name: 's1', type: 'merge', subresource: 'status', patch: { status: { message: 'dry' } }, dryRun: true });
    expect(await stored()).toEqual(before);
  });

  it('patches cluster-scoped kinds, with a dry run that stores nothing', async () => {
    await api('create', { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } } });
    const before = await stored();
    const dry = await api<PatchResult>('patch', { kind: 'ns', name: 'team', type: 'merge', patch: { metadata: { labels: { a: 'b' } } }, dryRun: true });
    expect(dry.object.metadata.labels).toEqual({ a: 'b' });
    expect(await stored()).toEqual(before);
    const ns = (await api<GetResult>('get', { kind: 'ns', name: 'team' })).object as KubeObject;
    expect(ns.metadata.labels).toBeUndefined();
    await api('patch', { kind: 'ns', name: 'team', type: 'merge', patch: { metadata: { labels: { a: 'b' } } } });
    expect(((await api<GetResult>('get', { kind: 'ns', name: 'team' })).object as KubeObject).metadata.labels).toEqual({ a: 'b' });
  });

  it('answers requests of the wrong shape on every subject with Invalid, naming the field, and stores nothing', async () => {
    const before = await stored();
    const verbs = ['apply', 'get', 'list', 'delete', 'create', 'update', 'patch', 'updateStatus', 'watch'] as const;
    for (const verb of verbs) {
      for (const body of [null, 5, 'x', []]) {
        const err = await caught(api(verb, body));
        expect([verb, isValidation(err), (err as Error).message]).toEqual([verb, true, 'a request must be a JSON object']);
      }
    }
    const bad: [keyof typeof API, unknown, RegExp][] = [
      ['apply', { object: pod('bad1'), namespace: 7 }, /invalid namespace "7": must be a string/],
      ['apply', { object: pod('bad2'), namespace: 'a.b' }, /invalid namespace "a.b"/],
      ['apply', { object: pod('bad3'), validate: 'loose' }, /validate must be "strict" or "warn" \(got "loose"\)/],
      ['create', { object: pod('bad4'), validate: 5 }, /validate must be "strict" or "warn"/],
      ['create', { object: pod('bad5'), dryRun: 'yes' }, /dryRun must be true or false \(got "yes"\)/],
      ['patch', { kind: 'pods', name: 'c1', type: 'merge', patch: { metadata: { labels: { x: 'y' } } }, dryRun: 'false' }, /dryRun must be true or false/],
      ['delete', { kind: 'pods', name: 'c1', dryRun: 1 }, /dryRun must be true or false/],
    ];
    for (const [verb, body, message] of bad) {
      const err = await caught(api(verb, body));
      expect(isValidation(err)).toBe(true);
      expect((err as Error).message).toMatch(message);
    }
    expect(await stored()).toEqual(before);
  });
});
