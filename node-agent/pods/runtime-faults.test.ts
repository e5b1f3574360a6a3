import { NotFoundError, TimeoutError, UnavailableError } from '../../messages/errors';
import { containerObs } from './fixtures';
import { isRuntimeBusy, isRuntimeFault, neverRan, startAbortedByRuntime } from './runtime-faults';

describe('runtime faults', () => {
  it('tells the runtime being slow or busy from failures of the pod', () => {
    expect(isRuntimeFault(new TimeoutError('CRI StartContainer: deadline exceeded'))).toBe(true);
    expect(isRuntimeFault(new UnavailableError('CRI socket gone'))).toBe(true);
    expect(isRuntimeFault(new NotFoundError('x'))).toBe(false);
    for (const busy of [
      new TimeoutError('CRI CreateContainer: deadline exceeded'),
      new Error('CRI StartContainer: failed to set starting state for container "c1": container is already in starting state (grpc UNKNOWN)'),
      new Error('CRI RemoveContainer: failed to set removing state for container "c1": container is in starting state, can\'t be removed (grpc UNKNOWN)'),
      new Error('CRI CreateContainer: failed to reserve container name "app_web_default_uid_0": name "app_web_default_uid_0" is reserved for "c1" (grpc UNKNOWN)'),
      new Error('CRI RunPodSandbox: failed to reserve sandbox name "web_default_uid_0": name is reserved for "s1" (grpc UNKNOWN)'),
    ]) expect(isRuntimeBusy(busy)).toBe(true);
    expect(isRuntimeBusy(new Error('CRI CreateContainer: failed to create containerd container: image "nope" not found (grpc NOT_FOUND)'))).toBe(false);
    expect(isRuntimeBusy(new Error('OCI runtime create failed: exec: "nope": executable file not found in $PATH'))).toBe(false);
  });

  it('recognizes a start the runtime abandoned: StartError, never started, a context error', () => {
    const base = { name: 'app', state: 'CONTAINER_EXITED' as const, exitCode: 128, reason: 'StartError', startedAt: 0 };
    expect(startAbortedByRuntime(containerObs({ ...base, message: 'failed to create containerd task: failed to create shim task: context canceled' }))).toBe(true);
    expect(startAbortedByRuntime(containerObs({ ...base, message: 'failed to start containerd task "c1": context deadline exceeded' }))).toBe(true);
    expect(startAbortedByRuntime(containerObs({ ...base, message: 'failed to create containerd task: failed to start shim: start failed: : signal: killed: unknown' }))).toBe(true);
    expect(startAbortedByRuntime(containerObs({ ...base, message: 'OCI runtime create failed: exec: "nope": executable file not found in $PATH' }))).toBe(false);
    // The agent's own timed-out StartContainer settles it, whatever the message; a run that
    // started after all is a run.
    expect(startAbortedByRuntime(containerObs({ ...base, message: 'ttrpc: closed', startAbandoned: true }))).toBe(true);
    expect(startAbortedByRuntime(containerObs({ ...base, exitCode: 1, reason: 'Error', startedAt: 5, startAbandoned: true }))).toBe(false);
    expect(startAbortedByRuntime(containerObs({ ...base, reason: 'Error', message: 'context canceled' }))).toBe(false);
    // containerd killed mid-StartContainer, seen by an agent that restarted too: exited, never
    // started, reason Error and no message.
    expect(startAbortedByRuntime(containerObs({ ...base, exitCode: 1, reason: 'Error', message: '' }))).toBe(true);
    expect(startAbortedByRuntime(containerObs({ ...base, exitCode: 1, reason: 'Error', message: '', startedAt: 5 }))).toBe(false);
    expect(neverRan(containerObs({ name: 'app', state: 'CONTAINER_CREATED', startedAt: 0 }))).toBe(true);
    expect(neverRan(containerObs({ name: 'app', state: 'CONTAINER_EXITED', exitCode: 1 }))).toBe(false);
  });
});
