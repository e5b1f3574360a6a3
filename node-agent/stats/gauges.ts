/**
 * The node agent's usage gauges in prom-client's default registry (served on /metrics by the
 * agent), named like the kubelet's resource metrics (container_cpu_usage_seconds_total's rate,
 * container_memory_working_set_bytes). Series of containers that are gone are removed.
 */
import { Gauge, register } from 'prom-client';
import type { NodeUsageReport } from '../../messages/usage';

type ContainerLabel = 'namespace' | 'pod' | 'container';

/** The gauge named `name`, made once per process (a registry refuses a second of one name). */
function gauge<L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> {
  const found = register.getSingleMetric(name) as Gauge<L> | undefined;
  return found ?? new Gauge<L>({ name, help, labelNames });
}

/** Publishes each report to the gauges; remembers its series so a gone pod's are removed. */
export class UsageGauges {
  private readonly containerCpu = gauge<ContainerLabel>('mk_container_cpu_usage_cores', 'CPU a container uses, in cores, over the last sampling window', ['namespace', 'pod', 'container']);
  private readonly containerMemory = gauge<ContainerLabel>('mk_container_memory_working_set_bytes', 'Working set of a container, in bytes', ['namespace', 'pod', 'container']);
  private readonly nodeCpu = gauge('mk_node_cpu_usage_cores', 'CPU the whole machine uses, in cores, over the last sampling window', []);
  private readonly nodeMemory = gauge('mk_node_memory_working_set_bytes', 'Memory the machine uses (MemTotal - MemAvailable), in bytes', []);
  private series = new Map<string, Record<ContainerLabel, string>>();

  /** Sets every gauge from `report`, and removes the series it no longer has. */
  update(report: NodeUsageReport): void {
    const now = new Map<string, Record<ContainerLabel, string>>();
    for (const p of report.pods) {
      for (const c of p.containers) {
        const labels = { namespace: p.namespace, pod: p.name, container: c.name };
        now.set(JSON.stringify(labels), labels);
        this.containerCpu.set(labels, c.cpuNanoCores / 1e9);
        this.containerMemory.set(labels, c.memoryBytes);
      }
    }
    for (const [key, labels] of this.series) {
      if (!now.has(key)) {
        this.containerCpu.remove(labels);
        this.containerMemory.remove(labels);
      }
    }
    this.series = now;
    this.nodeCpu.set(report.usage.cpuNanoCores / 1e9);
    this.nodeMemory.set(report.usage.memoryBytes);
  }

  /** Removes every series this set made (the agent stops). */
  clear(): void {
    for (const labels of this.series.values()) {
      this.containerCpu.remove(labels);
      this.containerMemory.remove(labels);
    }
    this.series.clear();
  }
}
