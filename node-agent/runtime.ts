/**
 * The node's container runtime: a private containerd (or one the user points at), its CRI client,
 * the built-in images, and the CNI plugins it needs. Teardown removes what mk made on it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { assertCgroupControllers, detectCgroups, superviseContainerd, type ContainerdHealth } from './containerd';
import type { CriClient } from './cri';
import { ensureBuiltinImages, type ImageProgress } from './images';
import { log } from './log';
import { assertCniPlugins, writeCniConfig } from './network';
import { LABEL_POD_UID } from './pods';
import { LABEL_FUNCTION_POOL } from './functions/adoptions';

/** Where the runtime lives and what it is. */
export interface RuntimeOptions {
  nodeName: string;
  /** The node's data directory: containerd's root and state, CNI state, pod logs, images. */
  dataDir: string;
  /** Use this containerd instead of starting one (never stopped nor torn down by mk). */
  containerdSocket?: string;
  /** CNI bridge name (default mk0); two nodes on one machine need two. */
  bridge?: string;
  /** Where built-in image archives are built and cached (default `<dataDir>/images`); shareable. */
  imagesDir?: string;
  /** Image build progress (mk up shows it). */
  onProgress?: (p: ImageProgress) => void;
  /** Told when containerd goes down or comes back (the node posts its status at once). */
  onRuntimeChange?: (health: ContainerdHealth) => void;
}

/** A started runtime. */
export interface NodeRuntime {
  cri: CriClient;
  socketPath: string;
  /** `containerd://1.6.20` for the Node's status. */
  version: string;
  /** Root of pod log directories. */
  podLogsRoot: string;
  /** Where pods' Localhost seccomp profiles are looked up: `<dataDir>/seccomp`. */
  seccompProfileRoot: string;
  /** Writes the CNI config for the node's pod CIDR (with `mtu`: the pods' MTU). */
  configureNetwork(podCIDR: string, mtu?: number): Promise<void>;
  /** Why the runtime cannot run pods now, or undefined. */
  problem(): Promise<string | undefined>;
  /** Stops supervising containerd; it and its pods keep running for the next agent to adopt. */
  close(): Promise<void>;
  /**
   * Removes every sandbox and container mk made, stops and purges a containerd mk started, and
   * removes the bridge. Every step runs even when an earlier one failed; the failures are thrown
   * together at the end.
   */
  teardown(): Promise<void>;
}

/**
 * Checks the CNI plugins, connects to (or starts) containerd and builds the built-in images.
 * Throws with a clear message when the plugins are missing or containerd does not come up.
 */
export async function startRuntime(opts: RuntimeOptions): Promise<NodeRuntime> {
  const dataDir = path.resolve(opts.dataDir);
  const ctrDir = path.join(dataDir, 'containerd');
  const socketPath = opts.containerdSocket ?? path.join(ctrDir, 'containerd.sock');
  const cniConfDir = path.join(ctrDir, 'cni', 'net.d');
  const bridge = opts.bridge ?? 'mk0';
  const podLogsRoot = path.join(dataDir, 'pods');
  fs.mkdirSync(podLogsRoot, { recursive: true });
  const seccompProfileRoot = path.join(dataDir, 'seccomp');
  fs.mkdirSync(seccompProfileRoot, { recursive: true });
  assertCniPlugins();
  // Pod resources need cpu and memory cgroups (v1 or v2): say so now rather than through runc on the first pod.
  const cgroups = detectCgroups();
  assertCgroupControllers(cgroups);
  log.info({ node: opts.nodeName, cgroup: `v${cgroups.version}` }, 'cgroups');

  // A containerd left by an earlier agent of this node is adopted (its containers live on); one
  // that dies is started again. A containerd the user pointed us at is theirs: never restarted or
  // stopped, and teardown removes only mk's pods from it.
  const ctr = await superviseContainerd({
    dataDir: ctrDir, socketPath, cniConfDir, userSocket: !!opts.containerdSocket,
    onChange: (h) => {
      log.info({ node: opts.nodeName, state: h.state, pid: h.pid, restarts: h.restarts, reason: h.reason }, 'containerd');
      opts.onRuntimeChange?.(h);
    },
  });
  const cri = ctr.cri;
  const v = await cri.version({});
  await ensureBuiltinImages(cri, { socketPath, workDir: opts.imagesDir ?? path.join(dataDir, 'images'), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });

  return {
    cri,
    socketPath,
    version: `${v.runtimeName}://${v.runtimeVersion}`,
    podLogsRoot,
    seccompProfileRoot,
    configureNetwork: async (podCIDR, mtu) => {
      await writeCniConfig({ confDir: cniConfDir, podCIDR, bridge, dataDir: path.join(dataDir, 'cni', 'ipam'), ...(mtu ? { mtu } : {}) });
    },
    problem: async () => {
      const h = ctr.health();
      if (h.state === 'down') return `containerd at ${socketPath} is down (${h.reason})${h.nextRestartAt ? `; restarting at ${h.nextRestartAt.toISOString()}` : ''}`;
      return cri.version({}, { timeoutMs: 5_000 }).then(() => undefined, () => `containerd at ${socketPath} does not answer`);
    },
    close: () => ctr.release(),
    async teardown() {
      const failures: unknown[] = [];
      const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
        try { await fn(); } catch (err) { failures.push(err); log.error({ node: opts.nodeName, step: what, err: String(err) }, 'teardown step failed'); }
      };
      // A pod actor still finishing a pass may create a sandbox after the first listing: look again.
      await step('remove pods', async () => {
        for (let pass = 0; pass < 3; pass++) if ((await removeMkPods(cri)) === 0) break;
      });
      // Stops and purges only a containerd of ours; a user's is left alone.
      await step('stop containerd', () => ctr.stop({ timeoutMs: 10_000, purge: true }));
      await step('remove bridge', async () => { spawnSync('ip', ['link', 'del', bridge], { stdio: 'ignore' }); });
      if (failures.length > 0) throw new Error(`node teardown incomplete: ${failures.map(String).join('; ')}`);
    },
  };
}

/**
 * Stops and removes every sandbox and container mk made on this containerd (those labelled with a
 * pod uid, and the warm pool's members, adopted or not), never anything else a shared containerd runs. Returns how many it found.
 */
async function removeMkPods(cri: CriClient): Promise<number> {
  const mine = <T extends { labels?: Record<string, string> | null }>(xs: T[] | null | undefined): T[] =>
    (xs ?? []).filter((x) => !!x.labels?.[LABEL_POD_UID] || !!x.labels?.[LABEL_FUNCTION_POOL]);
  const containers = mine((await cri.listContainers({})).containers);
  await Promise.all(containers.map((c) => cri.stopContainer({ containerId: c.id, timeout: 5 }).catch(() => undefined)));
  for (const c of containers) await cri.removeContainer({ containerId: c.id }).catch(() => undefined);
  const sandboxes = mine((await cri.listPodSandbox({})).items);
  for (const sb of sandboxes) {
    await cri.stopPodSandbox({ podSandboxId: sb.id }).catch((err) => log.warn({ sandbox: sb.id, err: String(err) }, 'stop sandbox failed'));
    await cri.removePodSandbox({ podSandboxId: sb.id }).catch((err) => log.warn({ sandbox: sb.id, err: String(err) }, 'remove sandbox failed'));
  }
  return containers.length + sandboxes.length;
}
