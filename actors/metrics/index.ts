/** Usage of pods and nodes from the nodes' reports, served on mk.api.metrics by the leader. */
export { startMetrics, type MetricsMessage, type MetricsOptions, type MetricsService } from './metrics-actor';
export { MetricsStore, reportProblem, type LabelSource, type MetricsStoreOptions } from './metrics-store';
export { cpuQuantity, memoryQuantity, windowDuration } from './quantity';
export { HISTORY_MS, RING_SLOTS, SampleRing } from './ring';
