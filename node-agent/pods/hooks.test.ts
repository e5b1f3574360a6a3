import pino from 'pino';
import type { Container } from '../../messages/pod';
import type { ExecSyncRequest, ExecSyncResponse, StopContainerRequest } from '../cri/types';
import { hookHandlerKind, runHook, stopContainerGracefully } from './hooks';

const log = pino({ level: 'silent' });
const ok = (): ExecSyncResponse => ({ stdout: Buffer.from(''), stderr: Buffer.from(''), exitCode: 0 });

/** A runtime that records calls in order; exec exits with `exitCode` after `execMs`. */
function fakeRuntime(exitCode = 0, execMs = 0) {
  const calls: string[] = [];
  const execs: ExecSyncRequest[] = [];
  const stops: StopContainerRequest[] = [];
  return {
    calls, execs, stops,
    cri: {
      execSync: async (req: ExecSyncRequest): Promise<ExecSyncResponse> => {
        calls.push(`exec ${req.cmd.join(' ')}`);
        execs.push(req);
        if (execMs) await new Promise((r) => { setTimeout(r, execMs).unref(); });
        return { ...ok(), exitCode, stderr: Buffer.from(exitCode ? 'boom' : '') };
      },
      stopContainer: async (req: StopContainerRequest): Promise<Record<string, never>> => {
        calls.push(`stop ${req.timeout}`);
        stops.push(req);
        return {};
      },
    },
  };
}

const container = (lifecycle: Container['lifecycle']): Container => ({ name: 'app', image: 'busybox', lifecycle });

/** What a promise has come to so far, read without waiting for it. */
function watch<T>(p: Promise<T>): { settled: boolean; value?: T } {
  const s: { settled: boolean; value?: T } = { settled: false };
  void p.then((value) => { s.settled = true; s.value = value; });
  return s;
}

describe('lifecycle hooks', () => {
  it('name the one handler a hook has', () => {
    expect(hookHandlerKind({ exec: { command: ['true'] } })).toBe('exec');
    expect(hookHandlerKind({ httpGet: { port: 80 } })).toBe('httpGet');
    expect(hookHandlerKind({ sleep: { seconds: 1 } })).toBe('sleep');
    expect(hookHandlerKind({})).toBeUndefined();
  });

  it('run exec through ExecSync with the time left as its timeout, and report a failing command', async () => {
    const rt = fakeRuntime(3);
    const failed = await runHook(rt.cri, { exec: { command: ['sh', '-c', 'exit 3'] } }, { container: container(undefined), containerId: 'c1' }, 7);
    expect(rt.execs[0]).toMatchObject({ containerId: 'c1', cmd: ['sh', '-c', 'exit 3'], timeout: 7 });
    expect(failed).toMatch(/exited with 3: boom/);
  });

  it('cut a sleep and a slow exec at the timeout', async () => {
    jest.useFakeTimers();
    try {
      const target = { container: container(undefined), containerId: 'c1' };
      const sleep = watch(runHook(fakeRuntime().cri, { sleep: { seconds: 30 } }, target, 0.2));
      await jest.advanceTimersByTimeAsync(199);
      expect(sleep.settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(sleep).toEqual({ settled: true, value: undefined });
      // The exec would take 5 s.
      const slow = watch(runHook(fakeRuntime(0, 5_000).cri, { exec: { command: ['sleep', '9'] } }, target, 0.2));
      await jest.advanceTimersByTimeAsync(199);
      expect(slow.settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(slow).toEqual({ settled: true, value: 'timed out after 0.2 s' });
    } finally {
      jest.useRealTimers();
    }
  });

  it('stop: preStop first, then StopContainer with the rest of the grace period', async () => {
    const rt = fakeRuntime();
    let clock = 1_000_000;
    const events: string[] = [];
    await stopContainerGracefully({
      cri: { ...rt.cri, execSync: async (r) => { clock += 4_500; return rt.cri.execSync(r); } },
      log, now: () => clock, event: (_t, reason) => events.push(reason),
    }, { container: container({ preStop: { exec: { command: ['drain'] } } }), containerId: 'c1', name: 'app' }, 10);
    expect(rt.calls).toEqual(['exec drain', 'stop 6']);
    expect(events).toEqual([]);
  });

  it('stop: a failed preStop is an event and the stop goes on; at least 2 s are left for SIGTERM', async () => {
    const rt = fakeRuntime(1);
    let clock = 0;
    const events: { reason: string; message: string }[] = [];
    await stopContainerGracefully({
      cri: { ...rt.cri, execSync: async (r) => { clock += 10_000; return rt.cri.execSync(r); } },
      log, now: () => clock, event: (_t, reason, message) => events.push({ reason, message }),
    }, { container: container({ preStop: { exec: { command: ['drain'] } } }), containerId: 'c1', name: 'app' }, 10);
    expect(rt.calls).toEqual(['exec drain', 'stop 2']);
    expect(events).toHaveLength(1);
    expect(events[0].reason).toBe('FailedPreStopHook');
    expect(events[0].message).toMatch(/Exec lifecycle hook \(\["drain"\]\) for container app failed: .*exited with 1/);
  });

  it('stop: grace period 0 skips preStop and kills at once; no hook means a plain stop', async () => {
    const rt = fakeRuntime();
    const ctx = { cri: rt.cri, log, now: Date.now };
    await stopContainerGracefully(ctx, { container: container({ preStop: { exec: { command: ['drain'] } } }), containerId: 'c1', name: 'app' }, 0);
    await stopContainerGracefully(ctx, { container: container(undefined), containerId: 'c2', name: 'app' }, 30);
    await stopContainerGracefully(ctx, { containerId: 'c3', name: 'gone' }, 30);
    expect(rt.calls).toEqual(['stop 0', 'stop 30', 'stop 30']);
  });
});
