/**
 * containerd supervision end to end: a real containerd in a network namespace the test creates,
 * killed with SIGKILL while a container runs. The supervisor must bring containerd back (started
 * here or adopted from an earlier supervisor), the container must keep its ID, state, start time
 * and process, repeated crashes must back off, a stop during the backoff must leave nothing, and
 * a user's containerd must never be restarted. Needs root, containerd, runc and the CNI plugins.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { UnavailableError } from '../../../messages/errors';
import { mountsUnder, pidAlive, removeCgroup, shimPidsFor } from '../../../node-agent/containerd/cleanup';
import { findContainerdByConfig, readPidFile, socketListening } from '../../../node-agent/containerd/pid';
import { purgeContainerd, startContainerd } from '../../../node-agent/containerd/process';
import {
  superviseContainerd, type ContainerdHealth, type SupervisedContainerd, type SuperviseContainerdOptions,
} from '../../../node-agent/containerd/supervisor';
import type { CriClient } from '../../../node-agent/cri/client';
import type { PodSandboxConfig } from '../../../node-agent/cri/types';
import { BUSYBOX_IMAGE, ensureBuiltinImages } from '../../../node-agent/images/build';
import { removeCniResultCache, writeCniConfig } from '../../../node-agent/network/cni';
import { containerdE2eUnavailable, removeAllPods, startTestContainerd, TEST_IMAGE_CACHE } from '../../helpers/containerd';
import { createNetns, type TestNetns } from '../../helpers/netns';
import { until } from '../../helpers/wait';

const unavailable = containerdE2eUnavailable();
if (unavailable) console.warn(`skipping containerd supervisor e2e tests: ${unavailable}`);
const suite = unavailable ? describe.skip : describe;

jest.setTimeout(180_000);

/** Runs cleanups last-registered first; every one runs even when an earlier one throws. */
class Cleanup {
  private readonly steps: (() => Promise<unknown>)[] = [];
  defer(step: () => Promise<unknown>): void { this.steps.push(step); }
  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (const step of this.steps.splice(0).reverse()) await step().catch((e: unknown) => errors.push(e));
    if (errors.length > 0) throw errors[0];
  }
}

/** A node's worth of containerd state in a namespace of its own, removed by `cleanup`. */
interface TestNode {
  ns: TestNetns;
  dataDir: string;
  ctrDir: string;
  cgroupParent: string;
  options: SuperviseContainerdOptions;
}

async function makeNode(cleanup: Cleanup, prefix: string): Promise<TestNode> {
  const ns = await createNetns(prefix);
  cleanup.defer(() => ns.destroy());
  const dataDir = await mkdtemp('/tmp/mk-sup-');
  cleanup.defer(() => rm(dataDir, { recursive: true, force: true }));
  const id = randomBytes(3).toString('hex');
  const netName = `mktest-${id}`;
  const cgroupParent = `/mk-test-${id}`;
  cleanup.defer(async () => {
    await removeCniResultCache(netName);
    const busy = await removeCgroup(cgroupParent);
    if (busy.length > 0) throw new Error(`cgroups still in use after teardown: ${busy.join(', ')}`);
  });
  const ctrDir = path.join(dataDir, 'containerd');
  const options: SuperviseContainerdOptions = { dataDir: ctrDir, netns: ns.path, cniConfDir: path.join(ctrDir, 'cni', 'net.d'), logLevel: 'info' };
  // Whatever a failed test left running on this config: killed by pid, then purged.
  cleanup.defer(async () => {
    for (const p of await findContainerdByConfig(path.join(ctrDir, 'config.toml'))) process.kill(p.pid, 'SIGKILL');
    await until('leftover containerd to exit', async () => ((await findContainerdByConfig(path.join(ctrDir, 'config.toml'))).length === 0 ? true : undefined), 10_000);
    await purgeContainerd({ dataDir: ctrDir, socketPath: path.join(ctrDir, 'containerd.sock') });
  });
  const podCIDR = `10.${200 + (parseInt(id.slice(0, 2), 16) % 50)}.${parseInt(id.slice(2, 4), 16)}.0/24`;
  await writeCniConfig({ confDir: path.join(ctrDir, 'cni', 'net.d'), podCIDR, bridge: 'mk0', dataDir: path.join(ctrDir, 'cni', 'ipam'), name: netName });
  return { ns, dataDir, ctrDir, cgroupParent, options };
}

/** Supervises the node's containerd; the cleanup removes its pods and stops it for good. */
async function supervise(cleanup: Cleanup, node: TestNode, extra: Partial<SuperviseContainerdOptions> = {}): Promise<SupervisedContainerd> {
  const sup = await superviseContainerd({ ...node.options, ...extra });
  cleanup.defer(async () => {
    if (sup.health().state === 'up') await removeAllPods(sup.cri).catch(() => undefined);
    await sup.stop({ purge: true });
  });
  return sup;
}

interface RunningPod { podSandboxId: string; containerId: string; startedAt: number; pid: number }

/** A sandbox with one busybox `sleep` container, started and running. */
async function runSleepPod(cri: CriClient, node: TestNode, name: string): Promise<RunningPod> {
  const sandboxConfig: PodSandboxConfig = {
    metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 },
    hostname: name,
    logDirectory: path.join(node.dataDir, 'pods', name),
    linux: { cgroupParent: node.cgroupParent },
  };
  await mkdir(sandboxConfig.logDirectory as string, { recursive: true });
  const { podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig });
  const { containerId } = await cri.createContainer({
    podSandboxId, sandboxConfig,
    config: { metadata: { name: 'sleep', attempt: 0 }, image: { image: BUSYBOX_IMAGE }, command: ['sleep', '3600'], logPath: 'sleep.log' },
  });
  await cri.startContainer({ containerId });
  const st = await cri.containerStatus({ containerId, verbose: true });
  expect(st.status?.state).toBe('CONTAINER_RUNNING');
  const pid = (JSON.parse(st.info.info ?? '{}') as { pid?: number }).pid ?? 0;
  expect(pid).toBeGreaterThan(0);
  return { podSandboxId, containerId, startedAt: st.status?.startedAt ?? 0, pid };
}

/** The container kept running through containerd's crash: same ID, state, start time and process. */
async function expectUntouched(cri: CriClient, pod: RunningPod): Promise<void> {
  const st = await cri.containerStatus({ containerId: pod.containerId, verbose: true });
  expect(st.status?.id).toBe(pod.containerId);
  expect(st.status?.state).toBe('CONTAINER_RUNNING');
  expect(st.status?.startedAt).toBe(pod.startedAt);
  expect((JSON.parse(st.info.info ?? '{}') as { pid?: number }).pid).toBe(pod.pid);
  expect(await pidAlive(pod.pid)).toBe(true);
  const sb = await cri.podSandboxStatus({ podSandboxId: pod.podSandboxId });
  expect(sb.status?.state).toBe('SANDBOX_READY');
  // containerd reaches the container through its shim again.
  const out = await cri.execSync({ containerId: pod.containerId, cmd: ['echo', 'still here'], timeout: 10 });
  expect(out.exitCode).toBe(0);
  expect(out.stdout.toString()).toBe('still here\n');
  // Nothing was created in its place.
  const { containers } = await cri.listContainers({ filter: { podSandboxId: pod.podSandboxId } });
  expect(containers.map((c) => c.id)).toEqual([pod.containerId]);
}

/**
 * Kills the current incarnation with SIGKILL and waits until the supervisor has a new one and its
 * client answers. The client is called every 100 ms meanwhile, as heartbeats and pod resyncs
 * would: those failed calls must not keep it from answering once containerd is back.
 */
async function killAndWaitBack(sup: SupervisedContainerd, deadlineMs = 30_000): Promise<{ oldPid: number; newPid: number; backMs: number; clientLagMs: number }> {
  const oldPid = sup.pid as number;
  expect(oldPid).toBeGreaterThan(0);
  const t0 = Date.now();
  process.kill(oldPid, 'SIGKILL');
  let failed = 0;
  const answeredAt = until('CRI to answer on the supervisor client', async () => {
    const back = sup.health().state === 'up' && sup.pid !== oldPid;
    try {
      await sup.cri.version({}, { timeoutMs: 1_000 });
    } catch {
      failed++;
      return undefined;
    }
    return back ? Date.now() : undefined;
  }, deadlineMs, 100);
  const newPid = await until('containerd to be restarted', () => {
    const h = sup.health();
    return h.state === 'up' && h.pid !== undefined && h.pid !== oldPid ? h.pid : undefined;
  }, deadlineMs, 20);
  const at = await answeredAt;
  expect(failed).toBeGreaterThan(0);
  return { oldPid, newPid, backMs: at - t0, clientLagMs: at - sup.health().since.getTime() };
}

suite('containerd supervisor', () => {
  it('restarts a containerd it started after SIGKILL, leaving running containers alone', async () => {
    const cleanup = new Cleanup();
    try {
      const node = await makeNode(cleanup, 'mksup');
      const changes: ContainerdHealth[] = [];
      const sup = await supervise(cleanup, node, { onChange: (h) => changes.push(h) });
      expect(sup.owned).toBe(true);
      expect(sup.health()).toMatchObject({ state: 'up', adopted: false, restarts: 0 });
      expect(await readPidFile(sup.pidFile)).toBe(sup.pid);
      await ensureBuiltinImages(sup.cri, { socketPath: sup.socketPath, workDir: TEST_IMAGE_CACHE });
      const pod = await runSleepPod(sup.cri, node, 'before');
      const shims = await shimPidsFor(sup.socketPath);
      expect(shims.length).toBeGreaterThan(0);

      const { oldPid, newPid, backMs } = await killAndWaitBack(sup);
      console.log(`containerd (started) back ${backMs} ms after SIGKILL`);
      expect(await pidAlive(oldPid)).toBe(false);
      const down = changes.find((h) => h.state === 'down');
      expect(down).toMatchObject({ owned: true, restartDelayMs: 200, lastExit: { pid: oldPid, signal: 'SIGKILL' } });
      expect(sup.health()).toMatchObject({ state: 'up', adopted: false, restarts: 1, pid: newPid });
      expect(await readPidFile(sup.pidFile)).toBe(newPid);
      expect(await findContainerdByConfig(sup.configPath)).toEqual([expect.objectContaining({ pid: newPid })]);

      await expectUntouched(sup.cri, pod);
      expect(await shimPidsFor(sup.socketPath)).toEqual(shims);
      const after = await runSleepPod(sup.cri, node, 'after');
      expect(after.containerId).not.toBe(pod.containerId);
    } finally {
      await cleanup.run();
    }
  });

  it('restarts a containerd adopted from an earlier supervisor after SIGKILL', async () => {
    const cleanup = new Cleanup();
    try {
      const node = await makeNode(cleanup, 'mksupa');
      const first = await supervise(cleanup, node);
      await ensureBuiltinImages(first.cri, { socketPath: first.socketPath, workDir: TEST_IMAGE_CACHE });
      const pod = await runSleepPod(first.cri, node, 'kept');
      const firstPid = first.pid as number;
      // The node agent exits (a restart): containerd and its pid file stay for the next one.
      await first.release();
      expect(first.health().state).toBe('stopped');
      expect(await pidAlive(firstPid)).toBe(true);
      expect(await readPidFile(first.pidFile)).toBe(firstPid);

      const changes: ContainerdHealth[] = [];
      const sup = await supervise(cleanup, node, { onChange: (h) => changes.push(h) });
      expect(sup.owned).toBe(true);
      expect(sup.health()).toMatchObject({ state: 'up', adopted: true, pid: firstPid, restarts: 0 });
      await expectUntouched(sup.cri, pod);

      const t0 = Date.now();
      const { newPid, backMs } = await killAndWaitBack(sup);
      const down = changes.find((h) => h.state === 'down');
      const noticedMs = (down?.since.getTime() ?? Infinity) - t0;
      console.log(`containerd (adopted) death noticed after ${noticedMs} ms, back ${backMs} ms after SIGKILL`);
      // /proc is polled every 500 ms: the death is noticed as the process's exit, not as CRI
      // failing to answer (that would read "does not answer").
      expect(down?.reason).toMatch(new RegExp(`^containerd pid ${firstPid} exited`));
      expect(down).toMatchObject({ adopted: true, lastExit: { pid: firstPid }, restartDelayMs: 200 });
      expect(sup.health()).toMatchObject({ state: 'up', adopted: false, restarts: 1, pid: newPid });
      expect(await readPidFile(sup.pidFile)).toBe(newPid);

      await expectUntouched(sup.cri, pod);
      await runSleepPod(sup.cri, node, 'new');
    } finally {
      await cleanup.run();
    }
  });

  it('backs off on repeated crashes, and a stop during the backoff leaves nothing behind', async () => {
    const cleanup = new Cleanup();
    try {
      const node = await makeNode(cleanup, 'mksupb');
      const changes: ContainerdHealth[] = [];
      const sup = await supervise(cleanup, node, { onChange: (h) => changes.push(h) });
      await ensureBuiltinImages(sup.cri, { socketPath: sup.socketPath, workDir: TEST_IMAGE_CACHE });
      const pod = await runSleepPod(sup.cri, node, 'crashy');
      const pids = [sup.pid as number];

      const gaps: number[] = [];
      const lags: number[] = [];
      for (let i = 0; i < 3; i++) {
        const { newPid, clientLagMs } = await killAndWaitBack(sup);
        pids.push(newPid);
        lags.push(clientLagMs);
        const down = changes.filter((h) => h.state === 'down').at(-1) as ContainerdHealth;
        const up = changes.filter((h) => h.state === 'up').at(-1) as ContainerdHealth;
        gaps.push(up.since.getTime() - down.since.getTime());
      }
      const delays = changes.filter((h) => h.state === 'down').map((h) => h.restartDelayMs);
      console.log(`restart delays ${delays.join(', ')} ms; down -> up ${gaps.join(', ')} ms; client answering ${lags.join(', ')} ms after up`);
      expect(delays).toEqual([200, 400, 800]);
      gaps.forEach((g, i) => expect(g).toBeGreaterThanOrEqual(delays[i] as number));
      // One client for every incarnation: the same client answered after each restart (the lags are figures).
      expect(sup.health().restarts).toBe(3);
      await expectUntouched(sup.cri, pod);

      // A fourth crash: 1.6 s of backoff, and the node is torn down meanwhile.
      const last = sup.pid as number;
      process.kill(last, 'SIGKILL');
      const pending = await until('the restart to be scheduled', () => {
        const h = sup.health();
        return h.state === 'down' && h.lastExit?.pid === last ? h : undefined;
      }, 10_000, 10);
      expect(pending.restartDelayMs).toBe(1_600);
      const restartAt = pending.nextRestartAt?.getTime() ?? 0;
      // Still waiting out the backoff when the node is torn down.
      expect(sup.health()).toMatchObject({ state: 'down', restarts: 3 });
      await sup.stop({ purge: true });
      expect(sup.health().state).toBe('stopped');

      // Past the moment the restart was due, nothing was started.
      await until('the cancelled restart to be due', () => (Date.now() > restartAt + 1_000 ? true : undefined), 10_000);
      expect(await findContainerdByConfig(sup.configPath)).toEqual([]);
      for (const pid of [...pids, pod.pid]) expect(await pidAlive(pid)).toBe(false);
      expect(await shimPidsFor(sup.socketPath)).toEqual([]);
      expect(await mountsUnder(node.ctrDir)).toEqual([]);
      expect(existsSync(sup.socketPath)).toBe(false);
      expect(existsSync(`${sup.socketPath}.ttrpc`)).toBe(false);
      expect(existsSync(sup.pidFile)).toBe(false);
      expect(changes.filter((h) => h.state === 'up')).toHaveLength(4);
    } finally {
      await cleanup.run();
    }
  });

  it('starts no second containerd on a socket that answers, and a stop aborts a restart in progress', async () => {
    const cleanup = new Cleanup();
    try {
      const node = await makeNode(cleanup, 'mksupd');
      // A constant, long backoff leaves room to act between a crash and the restart attempts.
      const sup = await supervise(cleanup, node, { restartBackoff: { initialMs: 3_000, maxMs: 3_000 } });
      const first = sup.pid as number;
      process.kill(first, 'SIGKILL');
      await until('the crash to be noticed', () => (sup.health().state === 'down' ? true : undefined), 10_000, 10);

      // Another containerd (its own root, config and pid) takes the socket before the restart is due.
      const otherDir = await mkdtemp('/tmp/mk-sup-');
      cleanup.defer(() => rm(otherDir, { recursive: true, force: true }));
      const other = await startContainerd({ dataDir: otherDir, socketPath: sup.socketPath, netns: node.ns.path, cniConfDir: node.options.cniConfDir });
      cleanup.defer(() => other.stop({ purge: true }));
      const refused = await until('the restart attempt to refuse', () => {
        const h = sup.health();
        return h.lastError?.includes('not starting a second containerd') ? h : undefined;
      }, 15_000, 20);
      expect(refused).toMatchObject({ state: 'down', restarts: 0 });
      expect(await findContainerdByConfig(sup.configPath)).toEqual([]);
      expect((await sup.cri.version()).runtimeName).toBe('containerd');

      // Once it is gone, the next attempt starts ours again.
      await other.stop({ purge: true });
      const second = await until('containerd to be restarted', () => (sup.health().state === 'up' ? sup.pid : undefined), 15_000, 20);
      expect(second).not.toBe(first);
      expect(sup.health().restarts).toBe(1);
      expect(await findContainerdByConfig(sup.configPath)).toEqual([expect.objectContaining({ pid: second })]);

      // Crash again, and stop while the new containerd is spawned but does not answer yet.
      process.kill(second as number, 'SIGKILL');
      const starting = await until('a restart to be in progress', async () => {
        const ours = await findContainerdByConfig(sup.configPath);
        return ours.length > 0 && sup.health().state === 'down' ? ours[0] : undefined;
      }, 15_000, 20);
      const stoppedAt = Date.now();
      await sup.stop({ purge: true });
      expect(sup.health()).toMatchObject({ state: 'stopped', restarts: 1 });
      expect(await pidAlive(starting.pid)).toBe(false);
      // Past the next attempt it would have made, nothing was started.
      await until('a further restart to be due', () => (Date.now() > stoppedAt + 4_000 ? true : undefined), 10_000);
      expect(await findContainerdByConfig(sup.configPath)).toEqual([]);
      expect(existsSync(sup.pidFile)).toBe(false);
      expect(existsSync(sup.socketPath)).toBe(false);
      expect(await mountsUnder(node.ctrDir)).toEqual([]);
    } finally {
      await cleanup.run();
    }
  });

  it('never restarts or stops a containerd it did not start', async () => {
    const cleanup = new Cleanup();
    try {
      const ns = await createNetns('mksupu');
      cleanup.defer(() => ns.destroy());
      const user = await startTestContainerd({ netns: ns });
      cleanup.defer(() => user.stop());
      const dataDir = await mkdtemp('/tmp/mk-sup-');
      cleanup.defer(() => rm(dataDir, { recursive: true, force: true }));
      const options: SuperviseContainerdOptions = { dataDir, socketPath: user.socketPath, netns: ns.path, probeIntervalMs: 100 };
      const pidFile = path.join(dataDir, 'containerd.pid');

      // Found answering with no containerd of ours behind it: the user's, so stop() leaves it running.
      const watcher = await superviseContainerd(options);
      expect(watcher.owned).toBe(false);
      expect(watcher.pid).toBeUndefined();
      await watcher.stop({ purge: true });
      expect(await pidAlive(user.pid)).toBe(true);
      expect((await user.cri.version()).runtimeName).toBe('containerd');
      expect(existsSync(pidFile)).toBe(false);

      const changes: ContainerdHealth[] = [];
      const sup = await superviseContainerd({ ...options, onChange: (h) => changes.push(h) });
      cleanup.defer(() => sup.stop());
      process.kill(user.pid, 'SIGKILL');
      await user.process.exited;
      const down = await until('the crash to be reported', () => changes.find((h) => h.state === 'down'), 10_000, 20);
      expect(down).toMatchObject({ owned: false, restarts: 0 });
      expect(down.nextRestartAt).toBeUndefined();

      // Well past the moment an owned containerd would have been started again: nothing was.
      await until('the restart window to pass', () => (Date.now() > down.since.getTime() + 3_000 ? true : undefined), 10_000);
      expect(sup.health()).toMatchObject({ state: 'down', owned: false, restarts: 0 });
      expect(await socketListening(user.socketPath)).toBe(false);
      expect(await findContainerdByConfig(path.join(dataDir, 'config.toml'))).toEqual([]);
      expect(await findContainerdByConfig(path.join(user.dataDir, 'config.toml'))).toEqual([]);
      expect(existsSync(pidFile)).toBe(false);
      expect(existsSync(path.join(dataDir, 'config.toml'))).toBe(false);
      await sup.stop();

      // Told the socket is the user's, it waits for it and gives up; it never starts one there.
      await expect(superviseContainerd({ ...options, userSocket: true, startTimeoutMs: 500 })).rejects.toThrow(UnavailableError);
      expect(await socketListening(user.socketPath)).toBe(false);
      expect(await readFile(pidFile, 'utf8').catch(() => 'absent')).toBe('absent');
    } finally {
      await cleanup.run();
    }
  });
});
