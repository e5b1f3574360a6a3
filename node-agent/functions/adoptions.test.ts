import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildContainerConfig, buildSandboxConfig, containerSpecHash, LABEL_POD_UID } from '../pods/cri-spec';
import { FakeCriRuntime, makePod } from '../pods/fixtures';
import { observePod } from '../pods/observe';
import { adoptionOverlay, AdoptionStore, LABEL_FUNCTION_POOL, LABEL_POOL_MEMBER, POOL_NAMESPACE, type AdoptionRecord } from './adoptions';

const IMAGE = 'registry.mk.local/mk-runtime-python3:latest';
const opts = { podLogsRoot: '/logs' };

/** A warm member in the fake runtime: a sandbox and a running loader container with the pool's labels only. */
async function member(rt: FakeCriRuntime, name: string): Promise<{ sandboxId: string; containerId: string }> {
  const pod = makePod({ containers: [{ name: 'function', image: IMAGE }] }, { name, namespace: POOL_NAMESPACE, uid: `uid-${name}` });
  const labels = { [LABEL_FUNCTION_POOL]: 'python3', [LABEL_POOL_MEMBER]: name };
  const sandboxConfig = { ...buildSandboxConfig(pod, opts, 0), labels };
  const { podSandboxId } = await rt.runPodSandbox({ config: sandboxConfig });
  const config = { ...buildContainerConfig(pod, pod.spec.containers[0], 0), labels, annotations: {} };
  const { containerId } = await rt.createContainer({ podSandboxId, config, sandboxConfig });
  await rt.startContainer({ containerId });
  return { sandboxId: podSandboxId, containerId };
}

describe('the adoption overlay', () => {
  let dir: string;
  let rt: FakeCriRuntime;
  let store: AdoptionStore;
  const pod = makePod({ containers: [{ name: 'function', image: IMAGE }] }, { name: 'add-aaaaa', namespace: 'fns', uid: 'uid-add' });
  const other = makePod({}, { name: 'web', uid: 'uid-web' });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mk-adoptions-'));
    rt = new FakeCriRuntime();
    rt.images.add(IMAGE);
    store = new AdoptionStore(dir);
  });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  const adopt = async (m: { sandboxId: string; containerId: string }, initDone = true): Promise<AdoptionRecord> => {
    const r: AdoptionRecord = {
      ...m, member: 'mk-pool-python3-a', runtime: 'python3', podUid: 'uid-add', podName: 'add-aaaaa', podNamespace: 'fns',
      containerName: 'function', image: IMAGE, specHash: containerSpecHash(pod.spec.containers[0]), adoptedAt: 1, initDone,
    };
    await store.put(r);
    return r;
  };

  it('hides members not adopted from every list, and passes a pod\'s own objects through', async () => {
    await member(rt, 'mk-pool-python3-a');
    const sb = await rt.runPodSandbox({ config: buildSandboxConfig(other, opts, 0) });
    const view = adoptionOverlay(rt, store);
    expect((await view.listPodSandbox({})).items.map((s) => s.id)).toEqual([sb.podSandboxId]);
    expect((await view.listContainers({})).containers).toEqual([]);
    expect((await view.listPodSandbox({ filter: { labelSelector: { [LABEL_POD_UID]: 'uid-web' } } })).items.map((s) => s.id)).toEqual([sb.podSandboxId]);
    // The raw runtime still has it.
    expect((await rt.listPodSandbox({ filter: { labelSelector: { [LABEL_FUNCTION_POOL]: 'python3' } } })).items).toHaveLength(1);
  });

  it("shows an adopted member with its pod's labels, metadata and annotations, so observation finds it as the pod's own", async () => {
    const m = await member(rt, 'mk-pool-python3-a');
    await member(rt, 'mk-pool-python3-b');
    await adopt(m);
    const view = adoptionOverlay(rt, store);
    const sbs = (await view.listPodSandbox({ filter: { labelSelector: { [LABEL_POD_UID]: 'uid-add' } } })).items;
    expect(sbs).toHaveLength(1);
    expect(sbs[0]).toMatchObject({ id: m.sandboxId, metadata: { name: 'add-aaaaa', namespace: 'fns', uid: 'uid-add', attempt: 0 } });
    expect(sbs[0].labels).toEqual({ [LABEL_POD_UID]: 'uid-add', 'mk.io/pod-name': 'add-aaaaa', 'mk.io/pod-namespace': 'fns' });
    const st = (await view.containerStatus({ containerId: m.containerId })).status!;
    expect(st.labels).toMatchObject({ [LABEL_POD_UID]: 'uid-add', 'mk.io/container-name': 'function' });
    expect(st.annotations).toMatchObject({ 'mk.io/container-image': IMAGE, 'mk.io/restart-count': '0', 'mk.io/container-hash': containerSpecHash(pod.spec.containers[0]) });
    expect((await view.podSandboxStatus({ podSandboxId: m.sandboxId })).status?.metadata?.name).toBe('add-aaaaa');

    const seen = await observePod(view, 'uid-add', [IMAGE]);
    expect(seen.sandboxes).toEqual([expect.objectContaining({ id: m.sandboxId, state: 'SANDBOX_READY', ip: expect.any(String) })]);
    expect(seen.containers).toEqual([expect.objectContaining({ id: m.containerId, name: 'function', image: IMAGE, restartCount: 0, state: 'CONTAINER_RUNNING' })]);
    // The other member stays hidden from a listing of everything; the adopted one shows as the pod's.
    const all = (await view.listContainers({})).containers;
    expect(all.map((c) => c.id)).toEqual([m.containerId]);
    // A pod with no adoption is asked of the runtime as it is.
    expect((await observePod(view, 'uid-web', [])).sandboxes).toEqual([]);
  });

  it('forgets the record once the adopted sandbox is removed, and tells the pool', async () => {
    const m = await member(rt, 'mk-pool-python3-a');
    await adopt(m);
    const released: string[] = [];
    const view = adoptionOverlay(rt, store, async (r) => { released.push(r.member); });
    await view.stopPodSandbox({ podSandboxId: m.sandboxId });
    await view.removePodSandbox({ podSandboxId: m.sandboxId });
    expect(released).toEqual(['mk-pool-python3-a']);
    expect(store.all()).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
    expect((await observePod(view, 'uid-add', [])).sandboxes).toEqual([]);
  });

  it('reads its records back after a restart and drops unreadable ones', async () => {
    const m = await member(rt, 'mk-pool-python3-a');
    const r = await adopt(m, false);
    await writeFile(path.join(dir, 'junk.json'), '{"half":');
    const again = new AdoptionStore(dir);
    expect(await again.load()).toEqual([r]);
    expect(again.ofContainer(m.containerId)).toEqual(r);
    expect(await readdir(dir)).toEqual([`${m.sandboxId}.json`]);
  });
});
