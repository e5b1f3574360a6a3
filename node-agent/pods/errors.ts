/** Errors of the pod lifecycle that callers (the CLI through the agent) branch on. */
import { ErrorCodes, MkError } from '../../messages/errors';

/**
 * Thrown by exec (and log follow) when the container exists in the spec but has no running
 * instance: the user should wait for it to start or look at its status.
 */
export class ContainerNotRunningError extends MkError {
  readonly container: string;
  readonly pod: string;
  constructor(pod: string, container: string, detail?: string) {
    super(ErrorCodes.BadRequest, `container "${container}" in pod "${pod}" is not running${detail ? `: ${detail}` : ''}`);
    this.name = 'ContainerNotRunningError';
    this.pod = pod;
    this.container = container;
  }
}

/** Predicate in the style of messages/errors. */
export const isContainerNotRunning = (e: unknown): e is ContainerNotRunningError => e instanceof ContainerNotRunningError;
