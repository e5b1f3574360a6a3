import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Pod } from '../../messages/pod';
import type * as cri from '../cri/types';
import { executeActions, type ExecuteContext } from './execute';
import { FakeCriRuntime, makePod } from './fixtures';

const log = pino({ level: 'silent' });

/** The fake runtime, with exec exit codes by command and CreateContainer requests kept. */
class HookRuntime extends FakeCriRuntime {
  readonly execExit = new Map<string, number>();
  readonly creates: cri.CreateContainerRequest[] = [];
  readonly stopTimeouts: (number | undefined)[] = [];
  override async execSync(req: cri.ExecSyncRequest): Promise<cri.ExecSyncResponse> {
    const res = await super.execSync(req);
    return { ...res, exitCode: this.execExit.get(req.cmd.join(' ')) ?? 0 };
  }
  override async createContainer(req: cri.CreateContainerRequest): Promise<cri.CreateContainerResponse> {
    this.creates.push(req);
    return super.createContainer(req);
  }
  override async stopContainer(req: cri.StopContainerRequest): Promise<cri.Empty> {
    this.stopTimeouts.push(req.timeout);
    return super.stopContainer(req);
  }
}

const hookedPod = (): Pod => makePod({
  terminationGracePeriodSeconds: 7,
  hostAliases: [{ ip: '10.9.8.7', hostnames: ['alias.local'] }],
  containers: [{
    name: 'app', image: 'busybox',
    lifecycle: { postStart: { exec: { command: ['post'] } }, preStop: { exec: { command: ['pre'] } } },
  }],
});

describe('executeActions with hooks and the hosts file', () => {
  let dir: string;
  let rt: HookRuntime;
  let events: string[];
  let ctx: (pod: Pod | null) => ExecuteContext;
  let sandboxId: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mk-exec-hooks-'));
    rt = new HookRuntime();
    events = [];
    ({ podSandboxId: sandboxId } = await rt.runPodSandbox({ config: { metadata: { name: 'web', uid: 'uid-1', namespace: 'default' }, labels: {} } }));
    ctx = (p) => ({
      cri: rt, pod: p, sandbox: { podLogsRoot: dir, hostsRoot: dir }, log, now: Date.now,
      event: (_t, reason, message) => events.push(`${reason}: ${message}`), sandboxIPs: { [sandboxId]: '10.244.0.9' },
    });
  });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  const run = (pod: Pod) => executeActions([{
    type: 'runContainer', sandboxId, sandboxAttempt: 0, container: 'app', attempt: 0, restartCount: 0, image: 'busybox', init: false,
  }], ctx(pod));

  it('starts the container, runs postStart, and mounts a hosts file naming the pod and its aliases', async () => {
    const out = await run(hookedPod());
    expect(out.failures.containers).toBeUndefined();
    expect(rt.calls.slice(-3)).toEqual(['createContainer', 'startContainer', 'execSync']);
    const mount = rt.creates[0].config.mounts?.[0];
    expect(mount?.containerPath).toBe('/etc/hosts');
    const hosts = await readFile(mount?.hostPath ?? '', 'utf8');
    expect(hosts).toContain('10.244.0.9\tweb\n');
    expect(hosts).toContain('10.9.8.7\talias.local\n');
  });

  it('a failing postStart kills the container (preStop first) and is a start failure with PostStartHookError', async () => {
    rt.execExit.set('post', 3);
    const out = await run(hookedPod());
    expect(rt.calls.slice(-4)).toEqual(['startContainer', 'execSync', 'execSync', 'stopContainer']);
    expect(rt.stopTimeouts).toEqual([7]);
    expect(out.failures.containers?.app.reason).toBe('PostStartHookError');
    expect(out.events).toEqual([expect.objectContaining({ type: 'container-start-failed', container: 'app', containerId: rt.idsOf('app')[0] })]);
    expect(events).toContainEqual(expect.stringMatching(/^FailedPostStartHook: PostStartHookError: Exec lifecycle hook \(\["post"\]\) for container app failed: .*exited with 3/));
    expect([...rt.containers.values()][0].state).toBe('CONTAINER_EXITED');
  });

  it('stopping runs preStop before StopContainer; a pod gone from the store is stopped without it', async () => {
    await run(hookedPod());
    const id = rt.idsOf('app')[0];
    const before = rt.calls.length;
    await executeActions([{ type: 'stopContainer', containerId: id, container: 'app', timeoutSeconds: 7 }], ctx(hookedPod()));
    expect(rt.calls.slice(before)).toEqual(['execSync', 'stopContainer']);
    const after = rt.calls.length;
    await executeActions([{ type: 'stopContainer', containerId: id, container: 'app', timeoutSeconds: 7 }], ctx(null));
    expect(rt.calls.slice(after)).toEqual(['stopContainer']);
  });
});
