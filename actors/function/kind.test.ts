import type { ObjectStore } from '../../bus';
import { isValidation, type FunctionObject, type KubeObject } from '../../messages';
import { functionModule } from './kind';

const k = (o: unknown): KubeObject => o as KubeObject;
const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

const fn = (digest: string, extra: Partial<FunctionObject['metadata']> = {}): FunctionObject => ({
  apiVersion: 'mk.io/v1',
  kind: 'Function',
  metadata: { name: 'add', namespace: 'default', ...extra },
  spec: { runtime: 'python3', handler: 'add.handler', code: { digest, size: 1024, files: 1 } },
} as FunctionObject);

/**
 * A store whose bus connection cannot be used at all: every touch of it throws and is counted,
 * so a write admitted without it never looked the code up, and one refused tried to.
 */
function unusableStore(): { store: ObjectStore; touches: () => number } {
  let touches = 0;
  const nc = new Proxy({}, {
    get(): never {
      touches++;
      throw new Error('the bus is down');
    },
  });
  return { store: { bus: { nc } } as unknown as ObjectStore, touches: () => touches };
}

const allocate = (store: ObjectStore, existing: FunctionObject | undefined, next: FunctionObject): Promise<unknown> =>
  functionModule.allocate!(store, existing && k(existing), k(next), false);

const failure = async (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (err: unknown) => err);

describe('Function admission of code', () => {
  it('does not look the code up for a write that keeps the digest it had (a status write, a finalizer removed)', async () => {
    const { store, touches } = unusableStore();
    const marked = fn(A, { finalizers: ['mk.io/instances'], deletionTimestamp: '2026-01-01T00:00:00Z' });
    await expect(allocate(store, marked, fn(A, { deletionTimestamp: '2026-01-01T00:00:00Z' }))).resolves.toBeDefined();
    await expect(allocate(store, fn(A), { ...fn(A), status: { readyInstances: 1 } } as FunctionObject)).resolves.toBeDefined();
    expect(touches()).toBe(0);
  });

  it('looks the code up on a create and when the digest changes', async () => {
    const { store, touches } = unusableStore();
    expect(await failure(allocate(store, undefined, fn(A)))).toBeInstanceOf(Error);
    const afterCreate = touches();
    expect(afterCreate).toBeGreaterThan(0);
    expect(await failure(allocate(store, fn(A), fn(B)))).toBeInstanceOf(Error);
    expect(touches()).toBeGreaterThan(afterCreate);
  });

  it('opens the bucket again after an open that failed, instead of keeping the failure', async () => {
    const { store, touches } = unusableStore();
    await failure(allocate(store, undefined, fn(A)));
    const first = touches();
    await failure(allocate(store, undefined, fn(A)));
    expect(touches()).toBeGreaterThan(first);
  });

  it('refuses spec.code.path whatever the object held', async () => {
    const { store } = unusableStore();
    const withPath = { ...fn(A), spec: { ...fn(A).spec, code: { path: 'src' } } } as FunctionObject;
    const err = await failure(allocate(store, fn(A), withPath));
    expect(isValidation(err)).toBe(true);
    expect((err as Error).message).toContain('spec.code.path: Forbidden');
  });
});
