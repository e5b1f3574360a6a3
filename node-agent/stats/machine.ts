/**
 * The machine's own use, as the node's line in `mk top nodes`: CPU from two readings of
 * /proc/stat's `cpu` line, memory as MemTotal - MemAvailable of /proc/meminfo (what the kernel
 * could not hand out without reclaiming hard), the working set the kubelet reports for a node.
 */
import * as fs from 'node:fs/promises';
import os from 'node:os';

/** Time counters of /proc/stat's aggregate line, in clock ticks. */
export interface CpuTimes { busy: number; total: number; cpus: number }

/**
 * Parses /proc/stat: the `cpu` line's fields (user nice system idle iowait irq softirq steal ...)
 * summed; idle and iowait are idle time, the rest busy. Guest time is already counted in user.
 * Returns undefined when the text has no `cpu` line.
 */
export function parseProcStat(text: string): CpuTimes | undefined {
  const lines = text.split('\n');
  const agg = lines.find((l) => /^cpu\s/.test(l));
  if (!agg) return undefined;
  const f = agg.trim().split(/\s+/).slice(1, 9).map(Number);
  if (f.length < 4 || f.some((x) => !Number.isFinite(x))) return undefined;
  const idle = f[3] + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  const cpus = lines.filter((l) => /^cpu\d+\s/.test(l)).length || os.cpus().length || 1;
  return { busy: total - idle, total, cpus };
}

/** Nanocores used between two readings: the busy share of the ticks times the CPUs. */
export function machineCpuRate(prev: CpuTimes | undefined, cur: CpuTimes): number | undefined {
  if (!prev) return undefined;
  const total = cur.total - prev.total;
  const busy = cur.busy - prev.busy;
  if (!(total > 0) || busy < 0) return undefined;
  return Math.round(Math.min(1, busy / total) * cur.cpus * 1e9);
}

/** MemTotal - MemAvailable in bytes from /proc/meminfo's text; undefined when either is missing. */
export function parseMeminfo(text: string): number | undefined {
  const field = (name: string): number | undefined => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = field('MemTotal');
  const available = field('MemAvailable');
  return total === undefined || available === undefined ? undefined : Math.max(0, total - available);
}

/** Reads both files; a file that cannot be read gives undefined (not Linux, or /proc hidden). */
export async function readMachine(): Promise<{ cpu?: CpuTimes; memoryBytes?: number }> {
  const read = (f: string): Promise<string | undefined> => fs.readFile(f, 'utf8').catch(() => undefined);
  const [stat, meminfo] = await Promise.all([read('/proc/stat'), read('/proc/meminfo')]);
  const cpu = stat === undefined ? undefined : parseProcStat(stat);
  const memoryBytes = meminfo === undefined ? os.totalmem() - os.freemem() : parseMeminfo(meminfo);
  return { ...(cpu ? { cpu } : {}), ...(memoryBytes !== undefined ? { memoryBytes } : {}) };
}
