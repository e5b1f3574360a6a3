/**
 * A container removal refused because containerd still holds a task for a container that CRI
 * reports as not running (a start cut short): the task is deleted and the removal made again in
 * the same pass. Against the fake CRI runtime (fixtures.ts), with a fake task deleter.
 */
import pino from 'pino';
import type * as cri from '../cri/types';
import { executeActions, type ExecuteContext } from './execute';
import { FakeCriRuntime, makePod } from './fixtures';
import type { PodAction, StrayTasks } from './types';

const log = pino({ level: 'silent' });

/** The fake runtime, where a container may have a task CRI does not know of (a fake of containerd 1.6's leftover). */
class StrayTaskRuntime extends FakeCriRuntime {
  readonly tasks = new Set<string>();
  override async removeContainer(req: cri.RemoveContainerRequest): Promise<cri.Empty> {
    if (this.tasks.has(req.containerId)) {
      throw new Error(`CRI RemoveContainer: failed to delete containerd container "${req.containerId}": cannot delete running task ${req.containerId}: failed precondition`);
    }
    return super.removeContainer(req);
  }
}

describe('removing a container whose task containerd still holds', () => {
  let rt: StrayTaskRuntime;
  let id: string;
  let deleted: string[];
  const deleter = (): StrayTasks => ({ remove: async (c) => { deleted.push(c); rt.tasks.delete(c); } });
  const ctx = (strayTasks?: StrayTasks): ExecuteContext => ({ cri: rt, pod: makePod(), sandbox: { podLogsRoot: '/tmp' }, log, now: Date.now, ...(strayTasks ? { strayTasks } : {}) });
  const removal = (): PodAction[] => [{ type: 'removeContainer', containerId: id, container: 'app' }];

  beforeEach(async () => {
    rt = new StrayTaskRuntime();
    deleted = [];
    const { podSandboxId } = await rt.runPodSandbox({ config: { metadata: { name: 'web', uid: 'uid-1', namespace: 'default' }, labels: {} } });
    ({ containerId: id } = await rt.createContainer({
      podSandboxId,
      config: { metadata: { name: 'app', attempt: 0 }, image: { image: 'busybox' }, logPath: 'app/0.log' },
      sandboxConfig: { metadata: { name: 'web', uid: 'uid-1', namespace: 'default' }, logDirectory: '/tmp/web' },
    } as cri.CreateContainerRequest));
    await rt.startContainer({ containerId: id });
    rt.exit('app', 128);
    rt.tasks.add(id);
  });

  it('deletes the task of a container CRI reports exited, then removes the container in the same pass', async () => {
    const out = await executeActions(removal(), ctx(deleter()));
    expect(deleted).toEqual([id]);
    expect(rt.idsOf('app')).toEqual([]);
    expect(out.failures).toEqual({});
  });

  it('leaves a container CRI reports running to the usual path (stopped through CRI), and deletes no task', async () => {
    rt.containers.get(id)!.state = 'CONTAINER_RUNNING';
    const out = await executeActions([...removal(), { type: 'runContainer', sandboxId: 'x', sandboxAttempt: 0, container: 'app', attempt: 1, restartCount: 0, image: 'busybox', init: false }], ctx(deleter()));
    expect(deleted).toEqual([]);
    expect(rt.idsOf('app')).toEqual([id]);
    // The replacement waits, saying why.
    expect(out.failures.containers?.app).toMatchObject({ reason: 'ContainerCreating', message: expect.stringContaining('cannot delete running task') });
  });

  it('keeps the refusal (tried again on the next sync) when the task cannot be deleted, or no deleter is given', async () => {
    const failing: StrayTasks = { remove: async () => { throw new Error('ctr tasks delete: connection refused'); } };
    await expect(executeActions(removal(), ctx(failing))).resolves.toMatchObject({ failures: {} });
    await expect(executeActions(removal(), ctx())).resolves.toMatchObject({ failures: {} });
    expect(rt.idsOf('app')).toEqual([id]);
    // Once deletable, the next pass removes it.
    await executeActions(removal(), ctx(deleter()));
    expect(rt.idsOf('app')).toEqual([]);
  });
});
