/**
 * The CRI client's Prometheus metrics: every call's latency by method and gRPC status code, and
 * the time mutating calls wait for a slot in their lane (call-policy.ts). Kubelet's equivalent is
 * kubelet_runtime_operations_duration_seconds.
 */
import * as grpc from '@grpc/grpc-js';
import { histogram, LATENCY_BUCKETS } from '../../common/metrics';

/** From sending a call to containerd to its answer, by method and code. */
export const criRequestDuration = histogram({
  name: 'mk_cri_request_duration_seconds',
  help: 'Seconds a CRI call took from being sent to the runtime to its answer (lane queueing excluded), by method (RunPodSandbox, ...) and gRPC code (OK, NOT_FOUND, DEADLINE_EXCEEDED, ...).',
  labelNames: ['method', 'code'] as const,
  buckets: [...LATENCY_BUCKETS, 30, 60, 120],
});

/** Time a call waited for a slot in its lane before being sent. */
export const criQueueWait = histogram({
  name: 'mk_cri_queue_wait_seconds',
  help: 'Seconds a mutating CRI call waited for a slot in its lane before being sent, by method (reads are not queued).',
  labelNames: ['method'] as const,
  buckets: [...LATENCY_BUCKETS, 30, 60, 120],
});

/**
 * The gRPC status name of a call's outcome: OK without an error, else the code of the gRPC error
 * it carries (itself or as its cause), else UNKNOWN.
 */
export function grpcCode(err?: unknown): string {
  if (err === undefined) return 'OK';
  for (let e: unknown = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number' && grpc.status[code] !== undefined) return grpc.status[code];
  }
  return 'UNKNOWN';
}
