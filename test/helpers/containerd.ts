/**
 * A private containerd for e2e tests, inside a network namespace the test created, with a CNI
 * bridge on a test pod CIDR and the built-in images imported. stop() leaves nothing behind:
 * pods, containerd, shims, runc containers, mounts, CNI state, temp dirs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as path from 'node:path';
import type { CriClient } from '../../node-agent/cri/client';
import { removeCgroup } from '../../node-agent/containerd/cleanup';
import { startContainerd, type ContainerdProcess } from '../../node-agent/containerd/process';
import { ensureBuiltinImages, type EnsureImagesResult } from '../../node-agent/images/build';
import { removeCniResultCache, writeCniConfig } from '../../node-agent/network/cni';
import type { TestNetns } from './netns';

/** Built image archives shared by all test runs (content-keyed, written atomically). */
export const TEST_IMAGE_CACHE = '/tmp/mk-test-images';

/** A containerd started by `startTestContainerd`. */
export interface TestContainerd {
  cri: CriClient;
  socketPath: string;
  dataDir: string;
  pid: number;
  /** The pod CIDR of its CNI bridge. */
  podCIDR: string;
  /** A cgroup parent of this instance's own (`/mk-test-<id>`): give it to sandboxes so stop() can remove it. */
  cgroupParent: string;
  /** What ensureBuiltinImages did on start. */
  images: EnsureImagesResult;
  process: ContainerdProcess;
  /** Removes pods through CRI, stops containerd by pid, purges shims/mounts, removes dirs. */
  stop(): Promise<void>;
}

/** True when this process can run containerd e2e tests; otherwise the reason it cannot. */
export function containerdE2eUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  const need = ['/usr/bin/containerd', '/usr/bin/ctr', '/usr/bin/nsenter', '/usr/lib/cni/bridge', '/usr/lib/cni/loopback', '/bin/busybox'];
  const missing = need.filter((p) => !existsSync(p));
  if (!existsSync('/usr/sbin/runc') && !existsSync('/usr/bin/runc')) missing.push('runc');
  return missing.length > 0 ? `missing ${missing.join(', ')}` : undefined;
}

/**
 * Stops and removes every sandbox through CRI (that also stops and removes its containers), round
 * after round until the runtime lists none. A removal can be refused for a moment (containerd
 * will not remove a container another call is removing, e.g. a killed agent's garbage collection
 * still in flight), so a refusal is retried; what is still there after `timeoutMs` (a task
 * containerd keeps for a container CRI reports not running, see StrayTasks) is an error naming
 * each sandbox and the runtime's last answer, never a leftover for the next test to trip on.
 */
export async function removeAllPods(cri: Pick<CriClient, 'listPodSandbox' | 'stopPodSandbox' | 'removePodSandbox'>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let round = 0; ; round++) {
    const { items } = await cri.listPodSandbox({});
    if (items.length === 0) return;
    const refused: string[] = [];
    for (const s of items) {
      try {
        await cri.stopPodSandbox({ podSandboxId: s.id });
        await cri.removePodSandbox({ podSandboxId: s.id });
      } catch (e) {
        refused.push(`${s.metadata?.name ?? s.id} (${s.state}): ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (Date.now() > deadline) {
      const left = refused.length > 0 ? refused.join('; ') : 'new sandboxes kept appearing';
      throw new Error(`sandboxes left after ${round + 1} rounds of removal: ${left}`);
    }
    if (refused.length > 0) await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** round, 2_000)));
  }
}

/**
 * Starts containerd in `netns` with data under a fresh /tmp dir, a CNI bridge on `podCIDR`
 * (default: a random 10.x.y.0/24) and the built-in images imported. Throws (after cleaning up
 * what it made) when containerd does not come up or the images cannot be imported.
 */
export async function startTestContainerd(o: { netns: TestNetns; podCIDR?: string }): Promise<TestContainerd> {
  const dataDir = await mkdtemp('/tmp/mk-ctrd-');
  const id = randomBytes(3).toString('hex');
  const netName = `mktest-${id}`;
  const cgroupParent = `/mk-test-${id}`;
  const podCIDR = o.podCIDR ?? `10.${200 + (parseInt(id.slice(0, 2), 16) % 50)}.${parseInt(id.slice(2, 4), 16)}.0/24`;
  let proc: ContainerdProcess | undefined;
  const cleanup = async (): Promise<void> => {
    if (proc) {
      await removeAllPods(proc.cri).catch(() => undefined);
      await proc.stop({ purge: true });
    }
    await removeCniResultCache(netName);
    const busy = await removeCgroup(cgroupParent);
    await rm(dataDir, { recursive: true, force: true });
    if (busy.length > 0) throw new Error(`cgroups still in use after teardown: ${busy.join(', ')}`);
  };
  try {
    await writeCniConfig({ confDir: path.join(dataDir, 'cni', 'net.d'), podCIDR, bridge: 'mk0', dataDir: path.join(dataDir, 'cni', 'ipam'), name: netName });
    proc = await startContainerd({ dataDir, netns: o.netns.path, logLevel: 'info' });
    const images = await ensureBuiltinImages(proc.cri, { socketPath: proc.socketPath, workDir: TEST_IMAGE_CACHE, snapshotter: proc.snapshotter });
    let stopped: Promise<void> | undefined;
    return {
      cri: proc.cri, socketPath: proc.socketPath, dataDir, pid: proc.pid, podCIDR, cgroupParent, images, process: proc,
      stop: () => (stopped ??= cleanup()),
    };
  } catch (e) {
    await cleanup().catch(() => undefined);
    throw e;
  }
}
