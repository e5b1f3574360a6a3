/** The ingress proxy's Prometheus metrics: requests by status code, and upstream latency. */
import { counter, histogram, LATENCY_BUCKETS } from '../../common/metrics/registry';

/** Every request the proxy answered, by the status code sent (404: no rule, 503: no endpoint, ...). */
export const ingressRequests = counter({
  name: 'mk_ingress_requests_total',
  help: 'HTTP requests the node\'s ingress proxy answered, by status code (404: no rule matched, 503: no ready endpoint, 502: upstream failed, 504: upstream timed out).',
  labelNames: ['code'] as const,
});

/** From sending a request upstream to its response headers. */
export const ingressUpstreamDuration = histogram({
  name: 'mk_ingress_upstream_duration_seconds',
  help: 'Seconds from sending a request to an upstream endpoint to its response headers.',
  buckets: [...LATENCY_BUCKETS, 30, 60],
});
