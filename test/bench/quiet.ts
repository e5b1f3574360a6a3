/**
 * A quiet node before each measured half: nothing of the other side still running or being torn
 * down in containerd, and the machine's CPU idle again. Without this, one side pays for the other's
 * teardown (a deleted pod's sandbox is still being stopped while the next half starts).
 */
import fs from 'node:fs';
import type { CriClient } from '../../node-agent/cri';

/** Jiffies from the aggregate `cpu` line of /proc/stat: all of them, and the idle ones. */
export interface CpuTimes { total: number; idle: number }

/** Parses the aggregate `cpu` line of a /proc/stat text. Throws when there is none. */
export function parseProcStat(text: string): CpuTimes {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no aggregate cpu line');
  // user nice system idle iowait irq softirq steal (guest time is already inside user and nice).
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  return { total, idle: v[3] + (v[4] ?? 0) };
}

/** The busy share (0..1) of the whole machine between two samples; 0 when no time passed. */
export function busyShare(a: CpuTimes, b: CpuTimes): number {
  const total = b.total - a.total;
  if (total <= 0) return 0;
  return Math.min(1, Math.max(0, 1 - (b.idle - a.idle) / total));
}

/** The machine's busy share over `windowMs`, from /proc/stat (all CPUs, every namespace). */
export async function measureBusy(windowMs: number): Promise<number> {
  const a = parseProcStat(fs.readFileSync('/proc/stat', 'utf8'));
  await new Promise((r) => setTimeout(r, windowMs));
  return busyShare(a, parseProcStat(fs.readFileSync('/proc/stat', 'utf8')));
}

/** What waiting for a quiet node found. */
export interface QuietReport {
  /** ms spent waiting. */
  waitedMs: number;
  /** Busy share of the last CPU window measured. */
  busy: number;
  /** False when the deadline passed with the CPU still busier than the threshold. */
  idle: boolean;
}

/** Options of waitForQuietNode. */
export interface QuietOptions {
  /** Busy share under which the CPU counts as idle (default 0.10). */
  busyBelow?: number;
  /** Window of one CPU measurement in ms (default 500). */
  windowMs?: number;
  /** How long to wait in all (default 60 s). */
  deadlineMs?: number;
  /** Extra condition that must hold too (for example: the store holds no benchmark pod). */
  alsoWaitFor?: () => Promise<boolean>;
}

/**
 * Waits until containerd lists no sandbox and no container (and `alsoWaitFor` holds), then until
 * the CPU is idle. Throws when containerd still holds something at the deadline (a half that
 * leaks would make every later figure wrong); a CPU that stays busy (another workload on the
 * machine) is reported as `idle: false`, not thrown, so the caller can record it.
 */
export async function waitForQuietNode(cri: CriClient, opts: QuietOptions = {}): Promise<QuietReport> {
  const t0 = Date.now();
  const deadline = t0 + (opts.deadlineMs ?? 60_000);
  const busyBelow = opts.busyBelow ?? 0.10;
  const windowMs = opts.windowMs ?? 500;
  for (;;) {
    const [sb, ct] = await Promise.all([cri.listPodSandbox({}), cri.listContainers({})]);
    const left = (sb.items?.length ?? 0) + (ct.containers?.length ?? 0);
    if (left === 0 && (!opts.alsoWaitFor || (await opts.alsoWaitFor()))) break;
    if (Date.now() > deadline) throw new Error(`node not quiet after ${opts.deadlineMs ?? 60_000} ms: containerd still holds ${sb.items?.length ?? 0} sandboxes and ${ct.containers?.length ?? 0} containers`);
    await new Promise((r) => setTimeout(r, 100));
  }
  for (;;) {
    const busy = await measureBusy(windowMs);
    if (busy < busyBelow) return { waitedMs: Date.now() - t0, busy, idle: true };
    if (Date.now() > deadline) return { waitedMs: Date.now() - t0, busy, idle: false };
  }
}

/**
 * Waits until the CPU is idle (busy share under `busyBelow` over one window), at most
 * `deadlineMs`; a CPU still busy then (another workload on the machine) is reported as
 * `idle: false`, not thrown, so the caller can record it.
 */
export async function waitForQuietCpu(opts: Omit<QuietOptions, 'alsoWaitFor'> = {}): Promise<QuietReport> {
  const t0 = Date.now();
  const deadline = t0 + (opts.deadlineMs ?? 60_000);
  for (;;) {
    const busy = await measureBusy(opts.windowMs ?? 500);
    if (busy < (opts.busyBelow ?? 0.10)) return { waitedMs: Date.now() - t0, busy, idle: true };
    if (Date.now() > deadline) return { waitedMs: Date.now() - t0, busy, idle: false };
  }
}
