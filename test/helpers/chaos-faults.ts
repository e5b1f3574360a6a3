/**
 * The faults a chaos round injects into an `mk up` cluster: SIGKILL of one of its processes, found
 * by the pid file the cluster itself writes, at moments drawn from the round's seed. A pid is
 * signalled only when that process still runs and its command line names the cluster's data
 * directory, so a recycled pid is never hit.
 */
import path from 'node:path';
import { clusterPaths } from '../../embedded/paths';
import { livePid, signal } from '../../embedded/processes';
import type { Rng } from './chaos-random';

/** What a chaos round can kill. */
export const FAULT_TARGETS = ['nats', 'control-plane', 'node-agent', 'containerd'] as const;
/** One of FAULT_TARGETS. */
export type FaultTarget = (typeof FAULT_TARGETS)[number];

/** True when `s` names a fault target. */
export function isFaultTarget(s: string): s is FaultTarget {
  return (FAULT_TARGETS as readonly string[]).includes(s);
}

/**
 * The pid file of `target`: `mk up`'s supervisor writes `run/<child>.pid` for its children; the
 * node agent writes the pid of the containerd it started next to containerd's socket.
 */
export function faultPidFile(dataDir: string, target: FaultTarget): string {
  const paths = clusterPaths(dataDir);
  return target === 'containerd' ? path.join(paths.nodeData, 'containerd', 'containerd.pid') : paths.pid(target);
}

/** The pid of `target` when it runs now (its pid file names a live process of this cluster). */
export function targetPid(dataDir: string, target: FaultTarget): number | undefined {
  return livePid(faultPidFile(dataDir, target), path.resolve(dataDir));
}

/** What a kill did: the pid it hit, or why nothing was hit. */
export type KillOutcome = { killed: true; pid: number } | { killed: false; reason: string };

/** SIGKILLs `target` of the cluster at `dataDir`, as a crash would. Never throws for a process that is already gone. */
export function killTarget(dataDir: string, target: FaultTarget): KillOutcome {
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
  /** The new process: how long after the kill it ran, and its pid. */
  recoveredAfterMs?: number;
  newPid?: number;
}

/** Draws `killsPerTarget` kills of each target at moments in the middle 90 % of the window, in time order. */
export function planFaults(rng: Rng, targets: readonly FaultTarget[], killsPerTarget: number, windowMs: number): FaultEvent[] {
  return targets.flatMap((target) => Array.from({ length: killsPerTarget }, () => ({ target, plannedAtMs: Math.round(rng.between(0.05, 0.95) * windowMs) })))
    .sort((a, b) => a.plannedAtMs - b.plannedAtMs);
}
