/**
 * Restart and image-pull backoff as a value plus pure functions. The pod actor keeps it as
 * durable actor state: every change is an event persisted through nact's persistence engine, so a
 * restarted agent continues a crash loop's backoff instead of starting again at 10 s.
 *
 * Semantics (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#container-restarts):
 * "the kubelet restarts them with an exponential backoff delay (10s, 20s, 40s, …), that is capped
 * at 300 seconds (5 minutes). Once a container has executed for 10 minutes without any problems,
 * the kubelet resets the restart backoff timer for that container." Image pulls back off the same
 * way (https://kubernetes.io/docs/concepts/containers/images/#imagepullbackoff).
 */
import { validateBackoff, type BackoffPolicy } from '../../common/backoff';
import { ValidationError } from '../../messages/errors';

/** The crash-loop backoff: a backoff policy plus the run time that forgives earlier crashes. */
export interface CrashLoopPolicy extends BackoffPolicy {
  /** A container that ran at least this long starts again at `initialMs`. */
  resetAfterRunMs: number;
}

/** Kubernetes' values: 10 s doubling to 5 min, reset after 10 min of running. */
export const DEFAULT_CRASH_LOOP_POLICY: Readonly<CrashLoopPolicy> = Object.freeze({
  initialMs: 10_000,
  maxMs: 300_000,
  resetAfterRunMs: 600_000,
});

/**
 * Kubernetes' policy with the given overrides (tests shorten it).
 * @throws ValidationError when a value is not a positive number or max < initial.
 */
export function crashLoopPolicy(overrides: Partial<CrashLoopPolicy> = {}): CrashLoopPolicy {
  const p = validateBackoff({ ...DEFAULT_CRASH_LOOP_POLICY, ...overrides }, 'crash-loop backoff policy');
  if (!(Number.isFinite(p.resetAfterRunMs) && p.resetAfterRunMs > 0)) {
    throw new ValidationError('crash-loop backoff policy: resetAfterRunMs must be a positive number', ['resetAfterRunMs']);
  }
  return p;
}

/** One key's backoff: wait until `until` (epoch ms) before the next try. */
export interface BackoffEntry {
  delayMs: number;
  until: number;
  /** The exited container last counted, so a re-observed exit is not counted twice. */
  lastContainerId?: string;
}

/** Backoff of every container and image of one pod, keyed by {@link containerKey}/{@link imageKey}. */
export interface BackoffState {
  entries: Record<string, BackoffEntry>;
}

/** The persisted events that change {@link BackoffState}. Times are epoch ms. */
export type BackoffEvent =
  | { type: 'container-exited'; container: string; containerId: string; finishedAt: number; ranMs: number }
  | { type: 'container-start-failed'; container: string; at: number; message: string; containerId?: string }
  | { type: 'image-pull-failed'; image: string; at: number; message: string }
  | { type: 'sandbox-failed'; at: number; message: string }
  | { type: 'backoff-reset'; key: string };

const EVENT_TYPES = new Set(['container-exited', 'container-start-failed', 'image-pull-failed', 'sandbox-failed', 'backoff-reset']);

/** True for a {@link BackoffEvent} (what a persistent actor replays while recovering). */
export function isBackoffEvent(msg: unknown): msg is BackoffEvent {
  return typeof msg === 'object' && msg !== null && EVENT_TYPES.has((msg as { type?: string }).type ?? '');
}

/** The backoff key of a container (names are unique across init and app containers). */
export const containerKey = (name: string): string => `container:${name}`;
/** The backoff key of an image pull. */
export const imageKey = (image: string): string => `image:${image}`;
/** The backoff key of sandbox creation (RunPodSandbox: CNI, pause image). */
export const SANDBOX_KEY = 'sandbox';

/** No backoff at all: a new pod. */
export function emptyBackoff(): BackoffState {
  return { entries: {} };
}

/** Doubles the key's delay (or starts it, or resets it after a long run) from time `at`. */
function step(state: BackoffState, key: string, at: number, policy: CrashLoopPolicy, reset: boolean, id?: string): BackoffState {
  const prev = state.entries[key];
  const delayMs = !prev || reset ? policy.initialMs : Math.min(prev.delayMs * (policy.factor ?? 2), policy.maxMs);
  const entry: BackoffEntry = { delayMs, until: at + delayMs, ...(id ? { lastContainerId: id } : {}) };
  return { entries: { ...state.entries, [key]: entry } };
}

/** Applies one event; never mutates `state`. Re-applying a container's exit is a no-op. */
export function applyBackoffEvent(state: BackoffState, event: BackoffEvent, policy: CrashLoopPolicy): BackoffState {
  switch (event.type) {
    case 'container-exited': {
      if (hasCountedExit(state, event.container, event.containerId)) return state;
      const reset = event.ranMs >= policy.resetAfterRunMs;
      return step(state, containerKey(event.container), event.finishedAt, policy, reset, event.containerId);
    }
    case 'container-start-failed':
      // A container that failed to start also shows up exited: its id is counted here, once.
      return step(state, containerKey(event.container), event.at, policy, false,
        event.containerId ?? state.entries[containerKey(event.container)]?.lastContainerId);
    case 'image-pull-failed':
      return step(state, imageKey(event.image), event.at, policy, false);
    case 'sandbox-failed':
      return step(state, SANDBOX_KEY, event.at, policy, false);
    case 'backoff-reset': {
      if (!(event.key in state.entries)) return state;
      const entries = { ...state.entries };
      delete entries[event.key];
      return { entries };
    }
  }
}

/** Whether this exited container was already counted for the container name. */
export function hasCountedExit(state: BackoffState, container: string, containerId: string): boolean {
  return state.entries[containerKey(container)]?.lastContainerId === containerId;
}

/** Milliseconds left before `key` may be tried again; 0 when it may be now. */
export function backoffRemainingMs(state: BackoffState, key: string, now: number): number {
  const e = state.entries[key];
  return e ? Math.max(0, e.until - now) : 0;
}

/** The key's current delay (for messages), or 0. */
export function backoffDelayMs(state: BackoffState, key: string): number {
  return state.entries[key]?.delayMs ?? 0;
}

/** A duration the way Go prints it, as kubelet's messages do: "10s", "1m20s", "5m0s", "500ms". */
export function formatGoDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const totalSeconds = ms / 1000;
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = Number((totalSeconds % 60).toFixed(3));
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
