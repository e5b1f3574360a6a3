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

/**
 * A container that cannot be configured as its spec asks: a ConfigMap, Secret or key it needs
 * that is not there (env.ts), or runAsNonRoot with a root user (security.ts). The pod's own
 * error, shown as waiting reason CreateContainerConfigError and retried on later syncs, in case
 * the object appears or the image changes.
 */
export class ContainerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerConfigError';
  }
}

/** Predicate for ContainerConfigError. */
export const isContainerConfigError = (e: unknown): e is ContainerConfigError => e instanceof ContainerConfigError;
