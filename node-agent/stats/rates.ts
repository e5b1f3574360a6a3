/**
 * CPU rates from cumulative counters, the way the kubelet's summary API derives `usageNanoCores`
 * (kubernetes/kubernetes pkg/kubelet/stats/cri_stats_provider.go, getAndUpdateContainerUsageNanoCores):
 * the difference of two `usageCoreNanoSeconds` readings over the time between them. containerd's
 * own `usageNanoCores` is computed between any two callers' reads, so it is not used.
 */

/** One reading of a cumulative CPU counter: nanoseconds of CPU time at a time in nanoseconds. */
export interface CpuReading { timestampNs: number; usageCoreNanoSeconds: number }

/**
 * The rate in nanocores (1e9 = one core) between two readings of the same counter, or undefined
 * when it cannot be known: no earlier reading, a window of zero (or negative: the clock or the
 * runtime went back), or a counter that went down (a reset).
 */
export function cpuRate(prev: CpuReading | undefined, cur: CpuReading): number | undefined {
  if (!prev) return undefined;
  const window = cur.timestampNs - prev.timestampNs;
  const used = cur.usageCoreNanoSeconds - prev.usageCoreNanoSeconds;
  if (!(window > 0) || used < 0) return undefined;
  return Math.round((used / window) * 1e9);
}

/**
 * Keeps the last reading of each counter (a container id, or the node) and turns a new reading
 * into a rate. A new id starts with no rate (a restarted container has a new id); ids not seen in
 * a round are forgotten by `retain`.
 */
export class RateTracker {
  private readonly last = new Map<string, CpuReading>();

  /** Records `cur` for `id` and returns the rate since its previous reading, if any. */
  observe(id: string, cur: CpuReading): number | undefined {
    const rate = cpuRate(this.last.get(id), cur);
    // A reading from the same instant (the runtime had no newer sample) keeps the older one, so
    // the next round still has a window.
    const prev = this.last.get(id);
    if (!prev || cur.timestampNs !== prev.timestampNs) this.last.set(id, cur);
    return rate;
  }

  /** Forgets every id not in `alive` (containers removed since the last round). */
  retain(alive: Set<string>): void {
    for (const id of this.last.keys()) if (!alive.has(id)) this.last.delete(id);
  }

  /** How many counters are kept (tests). */
  get size(): number {
    return this.last.size;
  }
}
