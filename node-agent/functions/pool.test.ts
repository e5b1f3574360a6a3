import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { buildContainerConfig, buildSandboxConfig } from '../pods/cri-spec';
import { FakeCriRuntime, makePod } from '../pods/fixtures';
import { AdoptionStore, LABEL_FUNCTION_POOL, LABEL_POOL_MEMBER, POOL_NAMESPACE, type AdoptionRecord } from './adoptions';
import { FunctionPool, linkTree, type PoolRuntime } from './pool';
import { instancePodForTest } from './pool-policy.fixtures';

const IMAGE = 'registry.mk.local/mk-runtime-python3:latest';
const log = pino({ level: 'silent' });

describe('the warm pool', () => {
  let root: string;
  let rt: FakeCriRuntime;
  let store: AdoptionStore;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'mk-pool-'));
    rt = new FakeCriRuntime();
    rt.images.add(IMAGE);
    store = new AdoptionStore(path.join(root, 'adoptions'));
  });
  afterEach(async () => { await rm(root, { recursive: true, force: true }); });

  const member = async (name: string): Promise<{ sandboxId: string; containerId: string }> => {
    const pod = makePod({ containers: [{ name: 'function', image: IMAGE }] }, { name, namespace: POOL_NAMESPACE, uid: `uid-${name}` });
    const labels = { [LABEL_FUNCTION_POOL]: 'python3', [LABEL_POOL_MEMBER]: name };
    const sandboxConfig = { ...buildSandboxConfig(pod, { podLogsRoot: path.join(root, 'logs') }, 0), labels };
    const { podSandboxId } = await rt.runPodSandbox({ config: sandboxConfig });
    const { containerId } = await rt.createContainer({ podSandboxId, config: { ...buildContainerConfig(pod, pod.spec.containers[0], 0), labels }, sandboxConfig });
    await rt.startContainer({ containerId });
    await mkdir(path.join(root, 'members', name), { recursive: true });
    return { sandboxId: podSandboxId, containerId };
  };
  const record = (m: { sandboxId: string; containerId: string }, name: string, uid: string, initDone: boolean): AdoptionRecord => ({
    ...m, member: name, runtime: 'python3', podUid: uid, podName: `pod-${uid}`, podNamespace: 'default', containerName: 'function',
    image: IMAGE, specHash: 'h', adoptedAt: 1, initDone,
  });
  const pool = (size: number): FunctionPool => new FunctionPool({
    cri: rt as unknown as PoolRuntime, store, root, size, log, sandbox: () => ({ podLogsRoot: path.join(root, 'logs') }), refillMs: 60_000,
  });

  it('after a restart: keeps adopted members, stops one taken before its /init, forgets records of sandboxes gone, removes unusable members and stray directories', async () => {
    const done = await member('mk-pool-python3-done');
    const half = await member('mk-pool-python3-half');
    const idle = await member('mk-pool-python3-idle');
    await store.put(record(done, 'mk-pool-python3-done', 'uid-a', true));
    await store.put(record(half, 'mk-pool-python3-half', 'uid-b', false));
    await store.put(record({ sandboxId: 'sb-gone', containerId: 'c-gone' }, 'mk-pool-python3-gone', 'uid-c', true));
    await mkdir(path.join(root, 'members', 'mk-pool-python3-gone'));
    await mkdir(path.join(root, 'members', 'mk-pool-python3-stray'));

    const again = new AdoptionStore(path.join(root, 'adoptions'));
    await again.load();
    store = again;
    // Size 0: nothing is kept warm, so the idle member (whose loader cannot be reached here) goes too.
    const p = pool(0);
    await p.start();
    p.stop();

    expect(rt.containers.get(done.containerId)?.state).toBe('CONTAINER_RUNNING');
    expect(rt.containers.get(half.containerId)?.state).toBe('CONTAINER_EXITED');
    expect(store.ofSandbox(half.sandboxId)?.initDone).toBe(true);
    expect(store.ofSandbox('sb-gone')).toBeUndefined();
    expect(rt.sandboxes.has(idle.sandboxId)).toBe(false);
    expect((await readdir(path.join(root, 'members'))).sort()).toEqual(['mk-pool-python3-done', 'mk-pool-python3-half']);
    expect((await readdir(path.join(root, 'adoptions'))).sort()).toEqual([`${done.sandboxId}.json`, `${half.sandboxId}.json`].sort());
    expect(p.list()).toEqual([]);
  });

  it('counts a miss when no member is ready, and a pool of size 0 never has one', async () => {
    const p = pool(0);
    await p.start();
    const pod = instancePodForTest();
    expect(p.eligibility(pod)).toEqual({ runtime: 'python3' });
    expect(p.has('python3')).toBe(false);
    expect(await p.adopt(pod, 'python3', { env: [], codeDir: root })).toBeUndefined();
    p.stop();
  });

  it('tears down: unadopted members and its directory go', async () => {
    const p = pool(0);
    await p.start();
    await p.teardown();
    expect(existsSync(root + '/members')).toBe(false);
  });
});

describe('linkTree', () => {
  it('hard-links files, keeps symbolic links and makes directories', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mk-link-'));
    try {
      await mkdir(path.join(dir, 'src', 'lib'), { recursive: true });
      await writeFile(path.join(dir, 'src', 'add.py'), 'x = 1\n');
      await writeFile(path.join(dir, 'src', 'lib', 'util.py'), 'y = 2\n');
      await symlink('add.py', path.join(dir, 'src', 'alias.py'));
      await mkdir(path.join(dir, 'dst'));
      await linkTree(path.join(dir, 'src'), path.join(dir, 'dst'));
      expect((await stat(path.join(dir, 'dst', 'add.py'))).ino).toBe((await stat(path.join(dir, 'src', 'add.py'))).ino);
      expect(await readFile(path.join(dir, 'dst', 'lib', 'util.py'), 'utf8')).toBe('y = 2\n');
      expect(await readFile(path.join(dir, 'dst', 'alias.py'), 'utf8')).toBe('x = 1\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
