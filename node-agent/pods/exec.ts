/** `kubectl exec` without a terminal: ExecSync in the pod's running container. */
import { NotFoundError, ValidationError } from '../../messages/errors';
import type { Pod } from '../../messages/pod';
import { ContainerNotRunningError } from './errors';
import { containerInstances } from './observe';
import type { PodRuntime } from './types';

/** What the command did. */
export interface ExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/**
 * Runs `command` (argv, no shell) in `container` (default: the pod's first container) and waits
 * up to `timeoutSeconds` for it (0 = no limit of its own).
 * @throws ValidationError for an empty command, NotFoundError for a container not in the pod,
 * ContainerNotRunningError when it has no running instance; CRI errors as the client throws them.
 */
export async function execInPod(cri: PodRuntime, pod: Pod, container: string | undefined, command: string[], timeoutSeconds: number): Promise<ExecResult> {
  const podName = pod.metadata.name;
  if (command.length === 0) throw new ValidationError('you must specify at least one command for the container', ['command']);
  const name = container ?? pod.spec.containers[0]?.name ?? '';
  if (![...(pod.spec.initContainers ?? []), ...pod.spec.containers].some((c) => c.name === name)) {
    throw new NotFoundError(`container ${name} is not valid for pod ${podName}`);
  }
  const list = await containerInstances(cri, pod.metadata.uid ?? '', name);
  const running = list.find((s) => s.state === 'CONTAINER_RUNNING');
  if (!running) {
    const latest = list[0];
    const detail = !latest ? 'it has not been started yet'
      : latest.state === 'CONTAINER_EXITED' ? `it exited with code ${latest.exitCode}` : `its state is ${latest.state}`;
    throw new ContainerNotRunningError(podName, name, detail);
  }
  const res = await cri.execSync({ containerId: running.id, cmd: command, timeout: Math.max(0, Math.floor(timeoutSeconds)) });
  return { exitCode: res.exitCode, stdout: res.stdout, stderr: res.stderr };
}
