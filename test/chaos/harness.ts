/**
 * A chaos run: rounds with seeds `seed`, `seed + 1`, ... against `mk up` clusters started in
 * network namespaces of their own. Each round gets a fresh cluster, so a seed rerun alone starts
 * from the same state (no restart backoff or leftovers carried over from earlier rounds); with
 * `reuseCluster`, passing rounds share one (each cleans up after itself). A failed round's logs
 * are saved and its cluster is always torn down, so one fault never masquerades as many.
 */
import fs from 'node:fs';
import path from 'node:path';
import { killPids, pidAlive, removeCgroup } from '../../node-agent/containerd';
import { ALL_FAULT_TARGETS, type FaultTarget } from '../helpers/chaos-faults';
import { roundSeed } from '../helpers/chaos-random';
import { startCluster, type TestCluster } from '../helpers/cluster';
import { until } from '../helpers/wait';
import { cascadeKind } from './cascade';
import { evictionKind, NODE_PAUSE_GRACE } from './eviction';
import { functionsKind } from './functions';
import { leadershipKind } from './leadership';
import { podsKind } from './pods';
import { servicesKind } from './services';
import { workflowsKind } from './workflows';
import { storageKind } from './storage';
import { workloadsKind } from './workloads';
import { reproduceCommand, roundLine, saveRoundLogs, violationLines } from './report';
import { runRound, type RoundOptions, type RoundResult } from './round';

/** Everything a run needs. */
export interface ChaosOptions extends RoundOptions {
  seed: number;
  rounds: number;
  /** Where failed rounds' logs go (a directory per round is made in it). */
  logsDir: string;
  /** The flags that give a round this run's shape, for the reproduce line. */
  shapeArgs: string[];
  print(line: string): void;
  /** Print every round's timeline (a failed round's is always printed). */
  verbose?: boolean;
  /** Save the logs of passing rounds too. */
  keepLogs?: boolean;
  /** Run passing rounds one after another on the same cluster (faster; rounds then depend on each other). */
  reuseCluster?: boolean;
  signal?: AbortSignal;
}

/** A failed round and where its logs are. */
export interface ChaosFailure {
  result: RoundResult;
  logsDir: string;
  reproduce: string;
}

/** What a run found. */
export interface ChaosRun {
  rounds: RoundResult[];
  failures: ChaosFailure[];
  /** Findings outside the rounds' invariants: pods a torn-down cluster left running (killed by the harness). */
  notes: string[];
}

/**
 * The kinds a round exercises: each brings its workload and invariants. A round that pauses the
 * node agent also gets the eviction kind (roundKinds).
 */
export const DEFAULT_KINDS = [podsKind, cascadeKind, leadershipKind, workloadsKind, servicesKind, storageKind, functionsKind, workflowsKind] as const;

/** The kinds of a round shaped like `o`: its own, plus the eviction pods when it pauses the node agent. */
export function roundKinds(o: RoundOptions): RoundOptions['kinds'] {
  return o.targets.includes('node-pause') && !o.kinds.includes(evictionKind) ? [...o.kinds, evictionKind] : o.kinds;
}

/** How many control planes a round's cluster runs: as asked, else two when the leader is a target. */
export function controlPlanesOf(o: RoundOptions): number {
  return o.controlPlanes ?? (o.targets.includes('leader') ? 2 : 1);
}

/**
 * A round with Services repairs allocation keys every 2 s, and takes a key 5 s old that its
 * service does not hold for a leak (the defaults, 60 s and 30 s, outlast a round's settling).
 */
export const SERVICE_REPAIR_ENV = { MK_SERVICE_REPAIR_PERIOD_MS: '2000', MK_SERVICE_REPAIR_GRACE_MS: '5000' } as const;

/**
 * How `mk up` starts a round's cluster: `--control-planes N`, and for a round that pauses the node
 * agent a node monitor grace period of NODE_PAUSE_GRACE, for a round with Services the repair's
 * SERVICE_REPAIR_ENV (`mk up` passes its environment on to the control planes).
 */
export function clusterShape(o: RoundOptions): { upArgs: string[]; env: Record<string, string> } {
  const n = controlPlanesOf(o);
  return {
    upArgs: n > 1 ? ['--control-planes', String(n)] : [],
    env: {
      ...(o.targets.includes('node-pause') ? { MK_NODE_MONITOR_GRACE_PERIOD: NODE_PAUSE_GRACE } : {}),
      ...(o.kinds.includes(servicesKind) ? SERVICE_REPAIR_ENV : {}),
      // As `mk up` does by default (test clusters turn it off): a function's cold start builds no image.
      ...(o.kinds.includes(functionsKind) ? { MK_WARM_RUNTIME_IMAGES: 'on' } : {}),
    },
  };
}

/** `npm run chaos`'s default round: 30 pods, a 20 s window, one fault of each target. */
export const DEFAULT_ROUND: RoundOptions = {
  kinds: DEFAULT_KINDS,
  count: 30,
  windowMs: 20_000,
  settleMs: 120_000,
  stableMs: 5_000,
  convergeMs: 30_000,
  cleanupMs: 90_000,
  stepDeadlineMs: 90_000,
  targets: ALL_FAULT_TARGETS,
  killsPerTarget: 1,
};

/** The cgroups a pod of uid `uid` may have, whatever its QoS class (chaos pods are BestEffort). */
function podCgroups(uid: string): string[] {
  return [`/kubepods/besteffort/pod${uid}`, `/kubepods/burstable/pod${uid}`, `/kubepods/pod${uid}`];
}

/** The pids in one cgroup directory (none when it is gone). */
function cgroupPids(dir: string): number[] {
  try {
    return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l.trim() !== '').map(Number);
  } catch {
    return [];
  }
}

/** A process's name, for notes. */
function commOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/** Runs the rounds; see the module comment. Throws when a cluster cannot be started at all. */
export async function runChaos(o: ChaosOptions): Promise<ChaosRun> {
  const signal = o.signal ?? new AbortController().signal;
  const run: ChaosRun = { rounds: [], failures: [], notes: [] };
  const podUids = new Set<string>();
  let cluster: TestCluster | undefined;

  const retire = async (c: TestCluster): Promise<void> => {
    await c.destroy();
    // mk leaves pod cgroups behind; remove this run's. A cgroup that still holds processes means
    // the teardown left a pod running: report it, and kill those processes (they are this run's).
    for (const uid of podUids) {
      for (const g of podCgroups(uid)) {
        const busy = await removeCgroup(g);
        if (busy.length === 0) continue;
        const pids = [...new Set(busy.flatMap(cgroupPids))];
        run.notes.push(`pod uid ${uid}: ${pids.length} process(es) still ran after the cluster was torn down `
          + `(${pids.map((p) => `${commOf(p)} ${p}`).join(', ')}); killed`);
        killPids(pids, 'SIGKILL');
        await until(`the leftover processes of pod ${uid} to exit`, async () => {
          for (const p of pids) if (await pidAlive(p)) return undefined;
          return true;
        }, 10_000, 100).catch(() => undefined);
        const still = await removeCgroup(g);
        if (still.length > 0) run.notes.push(`pod uid ${uid}: cgroups could not be removed: ${still.join(', ')}`);
      }
    }
    podUids.clear();
  };

  try {
    for (let i = 0; i < o.rounds && !signal.aborted; i++) {
      const seed = roundSeed(o.seed, i);
      if (!cluster) {
        o.print(`starting a cluster (mk up in a new network namespace) ...`);
        cluster = await startCluster(clusterShape(o));
      }
      const r = await runRound(cluster, i, seed, { ...o, kinds: roundKinds(o) }, signal);
      for (const uid of r.podUids) podUids.add(uid);
      run.rounds.push(r);
      o.print(roundLine(r));
      if (o.verbose || !r.ok) for (const l of r.timeline) o.print(`  ${l}`);
      const reproduce = reproduceCommand(seed, o.shapeArgs);
      if (r.ok) {
        if (o.keepLogs) o.print(`  logs: ${saveRoundLogs(cluster.dataDir, r, o.logsDir, reproduce)}`);
        if (!o.reuseCluster) {
          await retire(cluster);
          cluster = undefined;
        }
        continue;
      }
      const dir = saveRoundLogs(cluster.dataDir, r, o.logsDir, reproduce);
      for (const l of violationLines(r)) o.print(l);
      o.print(`  reproduce: ${reproduce}`);
      o.print(`  logs: ${dir}`);
      run.failures.push({ result: r, logsDir: dir, reproduce });
      await retire(cluster);
      cluster = undefined;
    }
  } finally {
    if (cluster) await retire(cluster);
  }
  for (const n of run.notes) o.print(`note: ${n}`);
  return run;
}

/** The flags of `npm run chaos` that reproduce a round shaped like `o` (all but --rounds and --seed). */
export function shapeArgs(o: RoundOptions): string[] {
  const args = [`--pods ${o.count}`, `--window-s ${o.windowMs / 1000}`, `--settle-s ${o.settleMs / 1000}`, `--converge-s ${o.convergeMs / 1000}`];
  if (o.killsPerTarget !== 1) args.push(`--kills ${o.killsPerTarget}`);
  const all: readonly FaultTarget[] = ALL_FAULT_TARGETS;
  if (o.targets.length !== all.length) args.push(`--targets ${o.targets.length > 0 ? o.targets.join(',') : 'none'}`);
  if (o.controlPlanes !== undefined) args.push(`--control-planes ${o.controlPlanes}`);
  const kinds = o.kinds.filter((k) => k !== evictionKind).map((k) => k.name);
  if (kinds.join(',') !== DEFAULT_KINDS.map((k) => k.name).join(',')) args.push(`--kinds ${kinds.join(',')}`);
  return args;
}
