/**
 * Telling the runtime's failures from the pod's. A create or start that failed because the node
 * is loaded (a deadline expired, containerd still busy with an earlier attempt) says nothing
 * about the user's program: it must not feed crash-loop backoff, count as the program failing
 * under restartPolicy Never, or crash the pod actor. Reconcile simply looks again and carries on
 * from whatever state the runtime reached.
 */
import { MkError } from '../../messages/errors';
import type { ObservedContainer } from './types';

/** True for runtime faults no pod can fix (deadline exceeded, runtime unreachable). */
export function isRuntimeFault(e: unknown): boolean {
  return e instanceof MkError && (e.code === 'Timeout' || e.code === 'Unavailable');
}

// containerd's refusals while an earlier call on the same object is still in progress
// (pkg/cri/server: container_start.go, container_remove.go, and the name index that reserves
// "<name>_<sandbox>_<uid>_<ns>_<attempt>" until a create or run finishes), and the context errors
// it records when the caller's deadline cut an operation short.
const BUSY = [
  /already in starting state/,
  /in starting state, can't be removed/,
  /in removing state/,
  /failed to reserve (container|sandbox) name/,
  /context (canceled|deadline exceeded)/,
];

/**
 * True when a create, start or remove failed because the runtime was slow or still busy with an
 * earlier attempt, not because of the pod: a runtime fault, or one of containerd's refusals above.
 */
export function isRuntimeBusy(e: unknown): boolean {
  if (isRuntimeFault(e)) return true;
  const message = e instanceof Error ? e.message : String(e);
  return BUSY.some((re) => re.test(message));
}

// What containerd records on a container whose start was cut short by the caller's context: the
// context error itself, or the shim's start command killed with it (exec.CommandContext).
const ABANDONED = [
  /context (canceled|deadline exceeded)/,
  /failed to start shim: start failed: .*signal: killed/,
];

type StartFacts = Pick<ObservedContainer, 'state' | 'reason' | 'startedAt' | 'message' | 'startAbandoned'>;

/**
 * True for a container whose start the runtime abandoned because the caller's deadline passed:
 * containerd marks it exited, code 128, reason StartError (pkg/cri/server/container_start.go),
 * though the program never ran. Known from this agent's own timed-out StartContainer, or, after
 * an agent restart, from the message containerd recorded. Also a start containerd lost by dying
 * in the middle of it: once back, it has the container exited with reason Error, never started,
 * and no message (its shim went with it), which no program of the pod's can produce.
 */
export function startAbortedByRuntime(c: StartFacts): boolean {
  if (c.state !== 'CONTAINER_EXITED' || c.startedAt) return false;
  if (c.startAbandoned === true) return true;
  if (c.reason === 'Error' && !c.message) return true;
  return c.reason === 'StartError' && ABANDONED.some((re) => re.test(c.message));
}

/** True for an instance whose program never ran: created only, or a start the runtime abandoned. */
export function neverRan(c: StartFacts): boolean {
  return c.state === 'CONTAINER_CREATED' || startAbortedByRuntime(c);
}
