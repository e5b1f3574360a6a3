import type { ObjectStore, Stored } from '../../bus';
import { AlreadyExistsError, ConflictError, NotFoundError, objectKey, type ControllerRevision, type PodTemplateSpec } from '../../messages';
import { podTemplateHash } from '../deployment/rollout';
import { newControllerRevision, type RevisionOwner } from './history';
import { pruneRevisions, syncUpdateRevision } from './sync';

/** A store of a few keys in memory with the object store's create/update/delete semantics; `before` may fault a write. */
function memoryStore(before?: (op: string, key: string) => void): ObjectStore & { data: Map<string, Stored<unknown>> } {
  const data = new Map<string, Stored<unknown>>();
  let rev = 0;
  const store = {
    data,
    async get<T>(key: string) { return (data.get(key) as Stored<T> | undefined) ?? null; },
    async list<T>(filter: string) {
      const prefix = filter.replace(/>$/, '');
      return { items: [...data.values()].filter((s) => s.key.startsWith(prefix)) as Stored<T>[], revision: rev };
    },
    async create(key: string, object: unknown) {
      before?.('create', key);
      if (data.has(key)) throw new AlreadyExistsError(`${key} exists`);
      data.set(key, { key, object, revision: ++rev });
      return rev;
    },
    async update(key: string, object: unknown, expected: number) {
      before?.('update', key);
      const cur = data.get(key);
      if (!cur) throw new NotFoundError(`${key} not found`);
      if (cur.revision !== expected) throw new ConflictError(`${key} changed`);
      data.set(key, { key, object, revision: ++rev });
      return rev;
    },
    async delete(key: string) {
      if (!data.delete(key)) throw new NotFoundError(`${key} not found`);
    },
  };
  data.set(objectKey('namespaces', undefined, 'default'), { key: objectKey('namespaces', undefined, 'default'), object: { metadata: { name: 'default' } }, revision: ++rev });
  return store as unknown as ObjectStore & { data: Map<string, Stored<unknown>> };
}

const template = (image: string): PodTemplateSpec => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } });
const owner = (image: string, uid = 'u1'): RevisionOwner => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', namespace: 'default', uid },
  spec: { selector: { matchLabels: { app: 'web' } }, template: template(image) },
});
const hashOf = (o: RevisionOwner) => (c: number) => podTemplateHash(o.spec.template, c);
const revisions = (store: ReturnType<typeof memoryStore>) => [...store.data.values()].map((s) => s.object as ControllerRevision)
  .filter((o) => o.kind === 'ControllerRevision').map((r) => `${r.metadata.name}:${r.revision}`).sort();

describe('syncUpdateRevision', () => {
  it('makes the first revision, keeps it, and renumbers an older one the template goes back to', async () => {
    const store = memoryStore();
    const first = await syncUpdateRevision(store, owner('v1'), hashOf(owner('v1')), 0);
    expect(first.update).toMatchObject({ metadata: { name: `web-${hashOf(owner('v1'))(0)}` }, revision: 1 });
    expect((await syncUpdateRevision(store, owner('v1'), hashOf(owner('v1')), 0)).update.revision).toBe(1);
    await syncUpdateRevision(store, owner('v2'), hashOf(owner('v2')), 0);
    const back = await syncUpdateRevision(store, owner('v1'), hashOf(owner('v1')), 0);
    expect(back.update).toMatchObject({ metadata: { name: first.update.metadata.name }, revision: 3 });
    expect(revisions(store)).toEqual([`web-${hashOf(owner('v1'))(0)}:3`, `web-${hashOf(owner('v2'))(0)}:2`].sort());
  });

  it("salts the hash when the name is another set's revision, and counts the collision", async () => {
    const store = memoryStore();
    const other = newControllerRevision(owner('v1', 'someone-else'), hashOf(owner('v1'))(0), 1);
    store.data.set(objectKey('controllerrevisions', 'default', other.metadata.name), { key: objectKey('controllerrevisions', 'default', other.metadata.name), object: other, revision: 99 });
    const got = await syncUpdateRevision(store, owner('v1'), hashOf(owner('v1')), 0);
    expect(got.collisionCount).toBe(1);
    expect(got.update.metadata.name).toBe(`web-${hashOf(owner('v1'))(1)}`);
  });

  it('takes a revision a racing write made as its own, without a collision', async () => {
    let raced = false;
    const store = memoryStore((op, key) => {
      if (op !== 'create' || raced) return;
      raced = true;
      // Another incarnation of the controller wrote the same revision just before.
      store.data.set(key, { key, object: newControllerRevision(owner('v1'), hashOf(owner('v1'))(0), 1), revision: 50 });
    });
    const got = await syncUpdateRevision(store, owner('v1'), hashOf(owner('v1')), 0);
    expect(got).toMatchObject({ collisionCount: 0, update: { revision: 1 } });
    expect(revisions(store)).toHaveLength(1);
  });

  it('writes nothing for a set being deleted', async () => {
    const store = memoryStore();
    const deleting = { ...owner('v1'), metadata: { ...owner('v1').metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    const got = await syncUpdateRevision(store, deleting, hashOf(deleting), 0);
    expect(got.update.revision).toBe(1);
    expect(revisions(store)).toEqual([]);
  });
});

describe('pruneRevisions', () => {
  it('deletes the old revisions beyond the limit and not live, and minds none already gone', async () => {
    const store = memoryStore();
    for (const image of ['v1', 'v2', 'v3']) await syncUpdateRevision(store, owner(image), hashOf(owner(image)), 0);
    const { revisions: revs } = await syncUpdateRevision(store, owner('v3'), hashOf(owner('v3')), 0);
    const limited: RevisionOwner = { ...owner('v3'), spec: { ...owner('v3').spec, revisionHistoryLimit: 0 } };
    const live = new Set([`web-${hashOf(owner('v3'))(0)}`, `web-${hashOf(owner('v1'))(0)}`]);
    await store.delete(objectKey('controllerrevisions', 'default', `web-${hashOf(owner('v2'))(0)}`));
    await pruneRevisions(store, limited, revs, live);
    expect(revisions(store)).toEqual([`web-${hashOf(owner('v1'))(0)}:1`, `web-${hashOf(owner('v3'))(0)}:3`].sort());
  });
});
