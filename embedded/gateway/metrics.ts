/** The gateway's Prometheus metrics (served on its own /metrics). */
import { counter, gauge, histogram, LATENCY_BUCKETS } from '../../common/metrics';

/** Calls answered, by function and status code. */
export const gatewayRequests = counter({
  name: 'mk_gateway_requests_total',
  help: 'Function calls the gateway answered, by namespace, function and status code.',
  labelNames: ['namespace', 'function', 'code'] as const,
});

/** From a call's arrival to its answer. */
export const gatewayLatency = histogram({
  name: 'mk_gateway_request_duration_seconds',
  help: 'Seconds from a function call reaching the gateway to its answer, queueing included.',
  labelNames: ['namespace', 'function'] as const,
  buckets: [...LATENCY_BUCKETS],
});

/** Calls waiting for an instance. */
export const gatewayQueueDepth = gauge({
  name: 'mk_gateway_queue_depth',
  help: 'Function calls waiting in this gateway for an instance with a free slot.',
  labelNames: ['namespace', 'function'] as const,
});

/** Async calls that reached a final state, by outcome (succeeded, failed, dead-lettered) and retries. */
export const asyncJobs = counter({
  name: 'mk_gateway_async_jobs_total',
  help: 'Async function calls this gateway finished a try of, by namespace, function and outcome (succeeded, failed, retried, deadlettered, duplicate).',
  labelNames: ['namespace', 'function', 'outcome'] as const,
});

/** Async calls waiting in the work-queue stream. */
export const asyncPending = gauge({
  name: 'mk_gateway_async_pending',
  help: 'Async function calls waiting in the work-queue stream (MK_FN_ASYNC), by namespace and function.',
  labelNames: ['namespace', 'function'] as const,
});
