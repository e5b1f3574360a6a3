/**
 * Fast readiness of a function instance started on the normal path (a warm pool miss): its loader
 * answers /healthz 100-500 ms after the container starts, but the pod's readiness probe runs once a
 * second, so the pod would turn Ready up to a second late. Right after the container starts, the
 * node agent runs the readiness probe every FAST_READINESS_INTERVAL_MS until it first passes (then
 * the prober runs it out of turn, so Ready is written at once), the instance is gone, or
 * FAST_READINESS_LIMIT_MS passed. Only for function instances: other pods keep kubelet's probe
 * timing (https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/).
 */
import { FUNCTION_LABEL } from '../../messages/function-names';
import type { Pod } from '../../messages/pod';
import type { ProbeOutcome } from '../pods/probe-run';

/** How often the readiness probe runs while waiting for the loader. */
export const FAST_READINESS_INTERVAL_MS = 20;
/** How long after the start the fast probing gives up (the prober's own period goes on). */
export const FAST_READINESS_LIMIT_MS = 10_000;

/**
 * A function instance pod: labelled mk.io/function and owned by a Function (as the function
 * controller makes them, actors/function/instance-pod.ts).
 */
export function isFunctionInstance(pod: Pod): boolean {
  return !!pod.metadata.labels?.[FUNCTION_LABEL]
    && (pod.metadata.ownerReferences ?? []).some((r) => r.kind === 'Function' && r.apiVersion === 'mk.io/v1');
}

/** How the fast probing ended. */
export type FastReadinessEnd = 'ready' | 'stopped' | 'gone' | 'timeout';

/** What the fast probing of one container instance needs. */
export interface FastReadinessDeps {
  /** Runs the instance's readiness probe once; a rejection counts as a failure. */
  probe(): Promise<ProbeOutcome>;
  /** Whether the instance is still running and still the pod's. */
  running(): boolean;
  /** The probe passed for the first time: have the prober run it now (PodProber.probeNow). */
  onReady(): Promise<void> | void;
  now(): number;
  intervalMs?: number;
  limitMs?: number;
}

/** A fast probing in progress. */
export interface FastReadiness {
  /** Stops it (the pod actor stops, the pod is deleted); `done` then resolves to 'stopped'. */
  stop(): void;
  /** How it ended; never rejects. */
  done: Promise<FastReadinessEnd>;
}

/** Starts probing one function container instance's readiness quickly (see the module comment). */
export function pollReadiness(deps: FastReadinessDeps): FastReadiness {
  const interval = deps.intervalMs ?? FAST_READINESS_INTERVAL_MS;
  const limit = deps.limitMs ?? FAST_READINESS_LIMIT_MS;
  const started = deps.now();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const pause = (): Promise<void> => new Promise<void>((resolve) => {
    wake = resolve;
    timer = setTimeout(resolve, interval);
  });
  const loop = async (): Promise<FastReadinessEnd> => {
    for (;;) {
      if (stopped) return 'stopped';
      if (!deps.running()) return 'gone';
      const outcome = await deps.probe().then((r) => r.outcome, () => 'failure' as const);
      if (stopped) return 'stopped';
      if (outcome === 'success') {
        await deps.onReady();
        return 'ready';
      }
      if (deps.now() - started >= limit) return 'timeout';
      await pause();
    }
  };
  const done = loop().catch((): FastReadinessEnd => 'stopped');
  return {
    stop: () => { stopped = true; clearTimeout(timer); wake?.(); },
    done,
  };
}
