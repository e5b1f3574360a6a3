/**
 * The faults a chaos round injects into an `mk up` cluster: SIGKILL of one of its processes, found
 * by the pid file the cluster itself writes, at moments drawn from the round's seed. A pid is
 * signalled only when that process still runs and its command line names the cluster's data
 * directory, so a recycled pid is never hit.
 */
import path from 'node:path';
import { clusterPaths, type ChildName } from '../../embedded/paths';
import { livePid, signal } from '../../embedded/processes';
import type { Rng } from './chaos-random';

/** What a chaos round kills by default: each process of a one-machine cluster. */
export const FAULT_TARGETS = ['nats', 'control-plane', 'node-agent', 'containerd'] as const;
/**
 * Faults that need a cluster shaped for them: `leader` SIGKILLs the control plane that holds the
 * lease (`mk up --control-planes 2`); `node-pause` SIGSTOPs the node agent past the node monitor
 * grace period and SIGCONTs it later (a short grace period passed through the environment).
 */
export const SHAPED_FAULT_TARGETS = ['leader', 'node-pause'] as const;
/**
 * Processes a round kills when asked (and by default in `npm run chaos`), beyond FAULT_TARGETS:
 * `gateway` SIGKILLs the function gateway (`mk up` restarts it on its port).
 */
export const EXTRA_FAULT_TARGETS = ['gateway'] as const;
/** Every fault a round can inject. */
export const ALL_FAULT_TARGETS = [...FAULT_TARGETS, ...SHAPED_FAULT_TARGETS, ...EXTRA_FAULT_TARGETS] as const;
/** One of ALL_FAULT_TARGETS. */
export type FaultTarget = (typeof ALL_FAULT_TARGETS)[number];
/** The targets that are one supervised process, found by a pid file of its own. */
export type ProcessTarget = (typeof FAULT_TARGETS)[number] | (typeof EXTRA_FAULT_TARGETS)[number];

/** True when `s` names a fault target. */
export function isFaultTarget(s: string): s is FaultTarget {
  return (ALL_FAULT_TARGETS as readonly string[]).includes(s);
}

/** The supervised children that run control planes (`mk up --control-planes N`, N <= 3). */
export const CONTROL_PLANE_CHILDREN = ['control-plane', 'control-plane-2', 'control-plane-3'] as const;

/**
 * The pid in a lease holder identity (`<host>_<pid>_<random>`, actors/leadership.ts), or
 * undefined when it names none.
 */
export function holderPid(identity: string | undefined): number | undefined {
  const parts = identity?.split('_') ?? [];
  const pid = parts.length >= 3 ? parts[parts.length - 2] : '';
  return /^\d+$/.test(pid) ? Number(pid) : undefined;
}

/** The supervised control plane whose live pid is `pid`, if any. */
export function controlPlaneChildOf(dataDir: string, pid: number | undefined): string | undefined {
  if (pid === undefined) return undefined;
  return CONTROL_PLANE_CHILDREN.find((c) => childPid(dataDir, c) === pid);
}

/** The live pid of a supervised child by its pid file (`run/<child>.pid`). */
export function childPid(dataDir: string, child: string): number | undefined {
  return livePid(clusterPaths(dataDir).pid(child as ChildName), path.resolve(dataDir));
}

/**
 * The pid file of `target`: `mk up`'s supervisor writes `run/<child>.pid` for its children; the
 * node agent writes the pid of the containerd it started next to containerd's socket.
 */
export function faultPidFile(dataDir: string, target: ProcessTarget): string {
  const paths = clusterPaths(dataDir);
  return target === 'containerd' ? path.join(paths.nodeData, 'containerd', 'containerd.pid') : paths.pid(target);
}

/** The pid of `target` when it runs now (its pid file names a live process of this cluster). */
export function targetPid(dataDir: string, target: ProcessTarget): number | undefined {
  return livePid(faultPidFile(dataDir, target), path.resolve(dataDir));
}

/** What a kill did: the pid it hit, or why nothing was hit. */
export type KillOutcome = { killed: true; pid: number } | { killed: false; reason: string };

/** SIGKILLs the supervised child `child` (by its pid file) of the cluster at `dataDir`. */
export function killChild(dataDir: string, child: string): KillOutcome {
  const pid = childPid(dataDir, child);
  if (pid === undefined) return { killed: false, reason: `${child} is not running (no live pid in its pid file)` };
  return signal(pid, 'SIGKILL') ? { killed: true, pid } : { killed: false, reason: `pid ${pid} exited first` };
}

/** SIGKILLs `target` of the cluster at `dataDir`, as a crash would. Never throws for a process that is already gone. */
export function killTarget(dataDir: string, target: ProcessTarget): KillOutcome {
  const pid = targetPid(dataDir, target);
  if (pid === undefined) return { killed: false, reason: 'not running (no live pid in its pid file)' };
  return signal(pid, 'SIGKILL') ? { killed: true, pid } : { killed: false, reason: `pid ${pid} exited first` };
}

/** One planned kill and what became of it. */
export interface FaultEvent {
  target: FaultTarget;
  plannedAtMs: number;
  /** When it was sent (ms since the round began). */
  atMs?: number;
  outcome?: KillOutcome;
  /** `leader`: the supervised child that led when it was killed (its pid file tells its successor). */
  child?: string;
  /** `node-pause`: when the SIGCONT was sent (ms since the round began). */
  resumedAtMs?: number;
  /** The new process: how long after the kill it ran, and its pid. */
  recoveredAfterMs?: number;
  newPid?: number;
}

/**
 * Draws `killsPerTarget` faults of each target at moments in the middle 90 % of the window (a
 * node pause in its second half, so that pods run on the node before it), in time order.
 */
export function planFaults(rng: Rng, targets: readonly FaultTarget[], killsPerTarget: number, windowMs: number): FaultEvent[] {
  const from = (t: FaultTarget): number => (t === 'node-pause' ? 0.5 : 0.05);
  return targets.flatMap((target) => Array.from({ length: killsPerTarget }, () => ({ target, plannedAtMs: Math.round(rng.between(from(target), 0.95) * windowMs) })))
    .sort((a, b) => a.plannedAtMs - b.plannedAtMs);
}
