/**
 * removeAllPods against a fake runtime (no containerd): a refused removal is retried until the
 * runtime lists nothing, and a removal refused to the end is an error naming the sandbox.
 */
import type { PodSandbox } from '../../node-agent/cri/types';
import { removeAllPods } from './containerd';

/** A fake CRI runtime holding sandboxes; `refusals[id]` says how many more removals of id fail. */
function fakeRuntime(ids: string[], refusals: Record<string, number>) {
  const sandboxes = new Map(ids.map((id): [string, PodSandbox] => [id, {
    id, metadata: { name: `pod-${id}`, uid: id, namespace: 'default', attempt: 0 }, state: 'SANDBOX_READY', createdAt: 0, labels: {}, annotations: {}, runtimeHandler: '',
  }]));
  const removals: string[] = [];
  return {
    removals,
    left: () => [...sandboxes.keys()],
    listPodSandbox: async () => ({ items: [...sandboxes.values()].map((s) => ({ ...s })) }),
    stopPodSandbox: async ({ podSandboxId }: { podSandboxId: string }) => {
      const s = sandboxes.get(podSandboxId);
      if (s) s.state = 'SANDBOX_NOTREADY';
      return {};
    },
    removePodSandbox: async ({ podSandboxId }: { podSandboxId: string }) => {
      removals.push(podSandboxId);
      if ((refusals[podSandboxId] ?? 0) > 0) {
        refusals[podSandboxId] -= 1;
        throw new Error(`failed to remove container of ${podSandboxId}: container is already in removing state`);
      }
      sandboxes.delete(podSandboxId);
      return {};
    },
  };
}

describe('removeAllPods', () => {
  it('retries a removal the runtime refused for a moment, until nothing is listed', async () => {
    const rt = fakeRuntime(['a', 'b', 'c'], { b: 2 });
    await removeAllPods(rt, 10_000);
    expect(rt.left()).toEqual([]);
    expect(rt.removals.filter((id) => id === 'b')).toHaveLength(3);
    expect(rt.removals.filter((id) => id === 'a')).toHaveLength(1);
  });

  it('throws naming the sandbox, its state and the runtime\'s answer when a removal is refused to the end', async () => {
    const rt = fakeRuntime(['a', 'b'], { b: Infinity });
    await expect(removeAllPods(rt, 300)).rejects.toThrow(/sandboxes left after \d+ rounds of removal: pod-b \(SANDBOX_NOTREADY\): failed to remove container of b: container is already in removing state/);
    expect(rt.left()).toEqual(['b']);
  });
});
