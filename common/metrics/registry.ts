/**
 * mk's metrics live in prom-client's default registry (`register`), so every part of a process
 * adds its own without importing anyone else's, and one `/metrics` serves them all (server.ts).
 * Names follow Prometheus' conventions (https://prometheus.io/docs/practices/naming/): an `mk_`
 * prefix, the unit in the name (`_seconds`, `_bytes`), `_total` on counters.
 *
 * The helpers below return the metric already registered under a name instead of throwing, so a
 * module loaded twice (tests, a bundle next to dist/) never fails on a duplicate name.
 */
import {
  collectDefaultMetrics, Counter, Gauge, Histogram, register,
  type CounterConfiguration, type GaugeConfiguration, type HistogramConfiguration, type Metric,
} from 'prom-client';

export { register } from 'prom-client';

function existing<M extends Metric<string>>(name: string, type: new (...a: never[]) => M): M | undefined {
  const m = register.getSingleMetric(name);
  if (m === undefined) return undefined;
  if (!(m instanceof type)) throw new Error(`metric ${name} is registered already with another type`);
  return m;
}

/** A counter in the default registry (the one registered under that name, if any). */
export function counter<L extends string>(cfg: CounterConfiguration<L>): Counter<L> {
  return existing(cfg.name, Counter<L>) ?? new Counter<L>(cfg);
}

/** A gauge in the default registry (the one registered under that name, if any). */
export function gauge<L extends string>(cfg: GaugeConfiguration<L>): Gauge<L> {
  return existing(cfg.name, Gauge<L>) ?? new Gauge<L>(cfg);
}

/** A histogram in the default registry (the one registered under that name, if any). */
export function histogram<L extends string>(cfg: HistogramConfiguration<L>): Histogram<L> {
  return existing(cfg.name, Histogram<L>) ?? new Histogram<L>(cfg);
}

/**
 * Histogram buckets in seconds on the 1-2.5-5 scale, from `minSeconds` to `maxSeconds` (both
 * rounded onto the scale, inclusive). The default, 0.5 ms to 10 s, suits request latencies;
 * slower things ask for a wider range (pod starts: `secondsBuckets(0.1, 300)`). Throws RangeError
 * for a range that is empty or not positive.
 */
export function secondsBuckets(minSeconds = 0.0005, maxSeconds = 10): number[] {
  if (!(minSeconds > 0) || !(maxSeconds >= minSeconds) || !Number.isFinite(maxSeconds)) {
    throw new RangeError(`bucket range must satisfy 0 < min <= max (got ${minSeconds} to ${maxSeconds})`);
  }
  const out: number[] = [];
  for (let decade = Math.floor(Math.log10(minSeconds)) - 1; ; decade++) {
    for (const step of [1, 2.5, 5]) {
      // Rounded to 12 significant digits: 10 ** -4 * 5 is not exactly 0.0005 in binary.
      const b = Number((step * 10 ** decade).toPrecision(12));
      if (b >= minSeconds * 0.999 && b <= maxSeconds * 1.001) out.push(b);
      if (b >= maxSeconds * 0.999) return out;
    }
  }
}

/** Latency buckets from 0.5 ms to 10 s: what API, watch, scheduling and CRI latencies use. */
export const LATENCY_BUCKETS: readonly number[] = Object.freeze(secondsBuckets());

/** Seconds since `startMs` (a `performance.now()` or `Date.now()` reading, as `nowMs` is). */
export function secondsSince(startMs: number, nowMs: number = performance.now()): number {
  return Math.max(0, (nowMs - startMs) / 1000);
}

let processMetrics: { role: string; name: string } | undefined;

/**
 * Starts prom-client's process metrics with the `mk_` prefix (CPU seconds, resident memory, heap,
 * open file descriptors, event loop lag, GC durations) and sets `mk_process_info{role,name}` to 1,
 * so a scrape says which mk process it read. Once per process: a second call changes nothing and
 * returns the first call's identity.
 */
export function startProcessMetrics(role: string, name: string): { role: string; name: string } {
  if (processMetrics) return processMetrics;
  processMetrics = { role, name };
  collectDefaultMetrics({ prefix: 'mk_' });
  // Gauges named like counters (promtool check metrics refuses them); each is the sum over the
  // `type` label of the gauge of the same name without `_total`, which stays.
  for (const name of ['mk_nodejs_active_handles_total', 'mk_nodejs_active_requests_total', 'mk_nodejs_active_resources_total']) {
    register.removeSingleMetric(name);
  }
  gauge({
    name: 'mk_process_info',
    help: 'Always 1: which mk process this is (role control-plane or node-agent, and its name).',
    labelNames: ['role', 'name'] as const,
  }).set({ role, name }, 1);
  return processMetrics;
}
