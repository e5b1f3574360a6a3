/**
 * Prometheus metrics for every mk process: the shared registry and its helpers, the process
 * metrics, and the `/metrics` HTTP endpoint. docs/metrics.md lists every metric.
 */
export {
  counter, gauge, histogram, LATENCY_BUCKETS, register, secondsBuckets, secondsSince, startProcessMetrics,
} from './registry';
export {
  DEFAULT_METRICS_HOST, metricsUrl, startMetricsServer, type MetricsServer, type MetricsServerOptions,
} from './server';
