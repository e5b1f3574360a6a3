/**
 * The scheduling benchmark's figures and printed form, and the readers of /proc it needs: a
 * process's resident memory (status: VmRSS, VmHWM) and CPU time (stat: utime + stime). Pure.
 */
import { percentile, round } from './stats';

/** kube-scheduler's throughput in Kubernetes' own scalability tests, for the reader's scale. */
export const KUBE_SCHEDULER_REFERENCE = 'kube-scheduler sustains about 100 pods/s at 5,000 nodes in Kubernetes\' scalability tests';
/** The aim: pods bound per second ... */
export const AIM_PODS_PER_S = 1000;
/** ... at this many nodes. */
export const AIM_NODES = 1000;

/** A memory field of /proc/<pid>/status (`VmRSS:   123456 kB`) in kB. Throws when it is missing. */
export function procStatusKb(text: string, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
  if (!m) throw new Error(`/proc status has no ${field} line`);
  return Number(m[1]);
}

/**
 * CPU time (user + system) in clock ticks from a /proc/<pid>/stat line. The command name (field 2)
 * may hold spaces and parentheses, so fields are counted after its last `)`.
 */
export function procCpuTicks(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('/proc stat line without utime and stime');
  return utime + stime;
}

/** Times of one pod (ms, performance.now() of the measuring process). */
export interface PodTimes { createdAt: number; boundAt?: number; runningAt?: number; node?: string }

/** One run: N hollow nodes, P pods. */
export interface SchedulingRun {
  nodes: number;
  pods: number;
  hollowProcesses: number;
  /** Applies in flight at a time. */
  window: number;
  /** First apply sent -> last apply answered, ms. */
  createMs: number;
  /** First apply sent -> last binding seen, ms (up to the deadline when not every pod was bound). */
  boundMs: number;
  bound: number;
  /** First apply sent -> last Running seen (reported by the hollow nodes), ms. */
  runningMs: number;
  running: number;
  /** Apply sent -> binding seen, per pod, ms. */
  bindLatency: { p50: number; p99: number };
  /** Fewest and most pods bound to one node. */
  perNode: { min: number; max: number };
  /** The control plane's resident memory, kB: before the first pod, after the last is Running, and its peak. */
  rss: { beforeKb: number; afterKb: number; peakKb: number };
  /** CPU seconds spent from the first apply to the end, per process group. */
  cpuSeconds: { controlPlane: number; nats: number; hollow: number; client: number };
  /** Busy share of the CPU before the first apply (0..1). */
  busyBefore: number;
}

/** What one run's pod times and counts come to. */
export function summarizePods(times: PodTimes[], nodes: number): Pick<SchedulingRun, 'createMs' | 'boundMs' | 'bound' | 'runningMs' | 'running' | 'bindLatency' | 'perNode'> & { t0: number } {
  const t0 = Math.min(...times.map((t) => t.createdAt));
  const bound = times.filter((t) => t.boundAt !== undefined);
  const running = times.filter((t) => t.runningAt !== undefined);
  const last = (xs: number[]) => (xs.length ? Math.max(...xs) - t0 : NaN);
  const lat = bound.map((t) => t.boundAt! - t.createdAt);
  const perNode = new Map<string, number>();
  for (const t of bound) perNode.set(t.node!, (perNode.get(t.node!) ?? 0) + 1);
  const counts = [...perNode.values()];
  return {
    t0,
    createMs: NaN,
    boundMs: round(last(bound.map((t) => t.boundAt!))),
    bound: bound.length,
    runningMs: round(last(running.map((t) => t.runningAt!))),
    running: running.length,
    bindLatency: { p50: round(percentile(lat, 50)), p99: round(percentile(lat, 99)) },
    // A node with no pod counts as 0.
    perNode: { min: counts.length < nodes ? 0 : Math.min(...counts), max: counts.length ? Math.max(...counts) : 0 },
  };
}

/** Pods per second over `ms`. */
export const perSecond = (pods: number, ms: number): number => round((pods * 1000) / ms);

/** The control plane's memory growth per 1,000 pods, MB (MiB). */
export const rssPer1000Pods = (r: SchedulingRun): number => round(((r.rss.afterKb - r.rss.beforeKb) / 1024) * (1000 / r.pods));

/** The runs as markdown lines, with the reference and whether the aim was met. */
export function formatScheduling(runs: SchedulingRun[]): string[] {
  const mb = (kb: number) => round(kb / 1024).toString();
  const out = [
    '| nodes | pods | bound/s | applies/s | Running/s | apply -> bound p50 / p99 (ms) | pods per node | CP RSS before / after / peak (MB) | CP MB per 1,000 pods | CPU s: CP / NATS / hollow / client |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of runs) {
    const cpu = r.cpuSeconds;
    out.push(`| ${r.nodes} | ${r.pods}${r.bound < r.pods ? ` (${r.bound} bound)` : ''} | ${perSecond(r.bound, r.boundMs)} | ${perSecond(r.pods, r.createMs)} | `
      + `${perSecond(r.running, r.runningMs)} | ${r.bindLatency.p50} / ${r.bindLatency.p99} | ${r.perNode.min}-${r.perNode.max} | `
      + `${mb(r.rss.beforeKb)} / ${mb(r.rss.afterKb)} / ${mb(r.rss.peakKb)} | ${rssPer1000Pods(r)} | `
      + `${round(cpu.controlPlane)} / ${round(cpu.nats)} / ${round(cpu.hollow)} / ${round(cpu.client)} |`);
  }
  out.push('', `Reference: ${KUBE_SCHEDULER_REFERENCE}.`);
  const atAim = runs.filter((r) => r.nodes === AIM_NODES);
  if (atAim.length === 0) {
    out.push(`Aim: ${AIM_PODS_PER_S} pods/s at ${AIM_NODES} nodes: not judged (no run at ${AIM_NODES} nodes).`);
  } else {
    for (const r of atAim) {
      const rate = perSecond(r.bound, r.boundMs);
      const met = r.bound === r.pods && rate >= AIM_PODS_PER_S;
      out.push(`Aim: ${AIM_PODS_PER_S} pods/s at ${AIM_NODES} nodes: ${met ? 'met' : 'not met'} (${rate} pods/s, ${r.bound} of ${r.pods} bound).`);
    }
  }
  const busy = runs.filter((r) => r.busyBefore >= 0.1);
  if (busy.length) out.push(`${busy.length} of ${runs.length} runs started with the CPU still busy (up to ${Math.round(Math.max(...busy.map((r) => r.busyBefore)) * 100)} %): another workload ran on this machine.`);
  return out;
}
