/**
 * What `mk top pods` and `mk top nodes` share: the request to mk.api.metrics (a read, so tried
 * again like the api's reads) and kubectl's words when there are no metrics yet.
 */
import { request } from '../bus/core-client';
import { isNotFound } from '../messages/errors';
import { METRICS_SUBJECT, type MetricsRequest, type MetricsResult } from '../messages/usage';
import { retryRead } from './api-retry';
import { API_TIMEOUT_MS, type Client } from './client';
import { CliError } from './errors';
import { toJson, toYaml } from './output/format';

/** kubectl's message when the metrics of what was asked for are not there (yet). */
export const METRICS_NOT_AVAILABLE = 'metrics not available yet';

/**
 * Asks the leader for metrics. A named object whose metrics are not there yet becomes
 * CliError(`metrics not available yet`); other answers (a bad selector, a pod that does not
 * exist) come through as the server's errors.
 */
export async function fetchMetrics(client: Client, req: MetricsRequest): Promise<MetricsResult> {
  try {
    return await retryRead((timeoutMs) => request<MetricsResult>(client.bus, METRICS_SUBJECT, req, { timeoutMs }), API_TIMEOUT_MS);
  } catch (err) {
    if (isNotFound(err) && err.message.includes(METRICS_NOT_AVAILABLE)) throw new CliError(METRICS_NOT_AVAILABLE);
    throw err;
  }
}

/** `-o json|yaml`: one item alone when one was named, else a `<Kind>List` as the metrics API lists. */
export function renderMetrics(format: 'json' | 'yaml', kind: 'PodMetricsList' | 'NodeMetricsList', items: unknown[], single: boolean): string {
  const value = single && items.length === 1 ? items[0] : { apiVersion: 'metrics.k8s.io/v1beta1', kind, metadata: {}, items };
  return format === 'json' ? toJson(value) : toYaml(value);
}
