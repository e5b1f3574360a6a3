/**
 * A task containerd holds for a container its CRI does not count as running, on a real
 * containerd: the state a StartContainer cut short by its deadline can leave (containerd 1.6).
 * Here it is made on purpose: CRI creates the container, and `ctr` starts its task behind CRI's
 * back. CRI then refuses to remove the container; the pod executor deletes the task through
 * containerd's task API and removes the container, with nothing left running.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pino from 'pino';
import { pidAlive } from '../../../node-agent/containerd/cleanup';
import { strayTasksOf } from '../../../node-agent/containerd/stray-tasks';
import { BUSYBOX_IMAGE } from '../../../node-agent/images/build';
import { executeActions } from '../../../node-agent/pods/execute';
import { containerdE2eUnavailable, removeAllPods, startTestContainerd, type TestContainerd } from '../../helpers/containerd';
import { createNetns, type TestNetns } from '../../helpers/netns';

const run = promisify(execFile);
const unavailable = containerdE2eUnavailable();
if (unavailable) console.warn(`skipping stray task e2e test: ${unavailable}`);
const suite = unavailable ? describe.skip : describe;

jest.setTimeout(120_000);

suite('a task containerd holds for a container CRI reports not running', () => {
  let ns: TestNetns;
  let ctrd: TestContainerd;
  const ctr = (...args: string[]) => run('ctr', ['--address', ctrd.socketPath, '--namespace', 'k8s.io', ...args], { timeout: 30_000 });
  /** The pid of `id`'s task as containerd lists it; undefined when it has none. */
  const taskPid = async (id: string): Promise<number | undefined> => {
    const row = (await ctr('tasks', 'ls')).stdout.split('\n').find((l) => l.startsWith(`${id} `));
    return row ? Number(row.trim().split(/\s+/)[1]) : undefined;
  };

  beforeAll(async () => {
    ns = await createNetns('mkstray');
    ctrd = await startTestContainerd({ netns: ns });
  });

  afterAll(async () => {
    try {
      if (ctrd) await removeAllPods(ctrd.cri);
    } finally {
      await ctrd?.stop();
      await ns?.destroy();
    }
  });

  it('is deleted through containerd, and then the container is removed, with its process gone', async () => {
    const sandboxConfig = { metadata: { name: 'stray', uid: 'uid-stray', namespace: 'default' }, logDirectory: `${ctrd.dataDir}/pods/stray`, linux: { cgroupParent: ctrd.cgroupParent } };
    const { podSandboxId } = await ctrd.cri.runPodSandbox({ config: sandboxConfig });
    const { containerId } = await ctrd.cri.createContainer({
      podSandboxId, sandboxConfig,
      config: { metadata: { name: 'app' }, image: { image: BUSYBOX_IMAGE }, command: ['sleep', '3600'], logPath: 'app.log' },
    });
    await ctr('tasks', 'start', '--null-io', '--detach', containerId);
    const pid = await taskPid(containerId);
    expect(pid).toBeGreaterThan(0);
    expect(await pidAlive(pid!)).toBe(true);
    // What CRI sees: a container that never started, which it cannot remove.
    expect((await ctrd.cri.containerStatus({ containerId })).status?.state).toBe('CONTAINER_CREATED');
    await expect(ctrd.cri.removeContainer({ containerId })).rejects.toThrow(/cannot delete running task/);

    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => { warnings.push(String(JSON.parse(line).msg)); } });
    const out = await executeActions([{ type: 'removeContainer', containerId, container: 'app' }], {
      cri: ctrd.cri, pod: null, sandbox: { podLogsRoot: `${ctrd.dataDir}/pods` }, log, now: Date.now, strayTasks: strayTasksOf(ctrd.socketPath),
    });
    expect(out.failures).toEqual({});
    expect(warnings).toEqual(['the runtime holds a task for a container it reports not running (a start cut short); deleting the task']);
    expect((await ctrd.cri.listContainers({})).containers.map((c) => c.id)).not.toContain(containerId);
    expect(await taskPid(containerId)).toBeUndefined();
    expect(await pidAlive(pid!)).toBe(false);
    // The sandbox goes as usual now.
    await ctrd.cri.stopPodSandbox({ podSandboxId });
    await ctrd.cri.removePodSandbox({ podSandboxId });
    expect((await ctrd.cri.listPodSandbox({})).items).toEqual([]);
  });

  it('takes a container with no task as done, and refuses what is not a container id', async () => {
    await expect(strayTasksOf(ctrd.socketPath).remove('0'.repeat(64))).resolves.toBeUndefined();
    await expect(strayTasksOf(ctrd.socketPath).remove('--help')).rejects.toThrow('not a container id: "--help"');
  });
});
