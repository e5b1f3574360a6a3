/**
 * Probe timing with Kubernetes' defaults. Kept apart from the schema (probe.ts) so printers that
 * run in the CLI's fast paths load no zod.
 */
export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/** A probe with Kubernetes' defaults filled in. */
export interface ProbeTiming {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}

/** Kubernetes' defaults for a probe's timing. */
export function probeTiming(p: Partial<ProbeTiming>): ProbeTiming {
  return {
    initialDelaySeconds: p.initialDelaySeconds ?? 0,
    periodSeconds: p.periodSeconds ?? 10,
    timeoutSeconds: p.timeoutSeconds ?? 1,
    successThreshold: p.successThreshold ?? 1,
    failureThreshold: p.failureThreshold ?? 3,
  };
}
