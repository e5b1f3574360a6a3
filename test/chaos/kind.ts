/**
 * What a kind brings to a chaos round. Each kind (pods today; ReplicaSets, Deployments, Services
 * later) has a workload generator, which turns a seeded random source into timed steps against
 * the real CLI, and invariants, which judge a snapshot of the world once the faults stop. The
 * round runs every kind's steps side by side with the faults and asks every kind's invariants.
 */
import type { KubeObject } from '../../messages';
import type { RunResult } from '../helpers/run';
import type { CriListing, SeenContainer, SeenSandbox } from '../helpers/chaos-observer';
import type { Rng } from '../helpers/chaos-random';
import type { FaultEvent } from '../helpers/chaos-faults';
import type { ControlPlaneSeen } from '../helpers/chaos-leadership';
import type { ActorsSeen } from './actor-invariants';
import type { ChaosCluster } from './snapshot';

/** Something that was wrong, as an invariant saw it. */
export interface Violation {
  /** Short name of the broken invariant (`running`, `lost`, `leak`, `attempt-twice`, ...). */
  invariant: string;
  /** What it is about: `pod default/x`, `sandbox 1a2b..`. */
  subject: string;
  detail: string;
  /**
   * True when waiting longer cannot mend it (an object lost, a container that ran twice): the
   * round stops waiting for the world to settle once only permanent violations are left.
   */
  permanent: boolean;
}

/** What a step or a cleanup may do during a round. */
export interface RoundContext {
  /** Runs `mk ARGS` once in the cluster's namespace; rejects only when it cannot run or overruns `timeoutMs`. */
  mk(args: string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<RunResult>;
  /**
   * Runs `mk ARGS` until `done` accepts a result (by default: exit 0), retrying while the
   * cluster is down, until `deadlineMs` passes. `args` may change with the attempt number (a
   * retry of a delete must accept "not found"). Resolves with the accepted result and the
   * number of attempts; rejects with a TimeoutError carrying the last output.
   */
  mkUntil(what: string, args: (attempt: number) => string[], opts?: {
    stdin?: string; deadlineMs?: number; done?: (r: RunResult, attempt: number) => boolean;
  }): Promise<{ result: RunResult; attempts: number }>;
  /** Adds a line to the round's timeline (its time since the round began is prefixed). */
  note(line: string): void;
  /** Milliseconds since the round began. */
  elapsedMs(): number;
  /** Aborted when the run is cancelled (Ctrl-C): steps stop early. */
  signal: AbortSignal;
}

/** The world as one poll saw it. */
export interface WorldSnapshot {
  atMs: number;
  /** Every object of each plural the workloads asked for, all namespaces; absent when the api did not answer. */
  objects?: Map<string, KubeObject[]>;
  /** Why the api did not answer. */
  apiError?: string;
  /** The node's sandboxes and containers labelled with a pod uid; absent when containerd did not answer. */
  cri?: CriListing;
  criError?: string;
  /** Every container and sandbox instance seen since the round began. */
  seenContainers: SeenContainer[];
  seenSandboxes: SeenSandbox[];
  /** The cluster's control planes: live pids and what their logs say of leading. */
  controlPlanes?: ControlPlaneSeen[];
  /** The round's faults so far, with their outcomes (kills, pauses and when they ended). */
  faults?: readonly FaultEvent[];
  /** The pod actors of the leader and of the pods' nodes (`mk actors`), when pods were listed. */
  actors?: ActorsSeen;
  /** What each kind's `observe` saw of the node beyond the store and CRI, by kind. */
  observed?: Record<string, unknown>;
}

/** A timed action of a workload, run on the workload's own lane in order. */
export interface WorkloadStep {
  /** When it is due, in ms since the round began (it runs later when the one before overran). */
  atMs: number;
  what: string;
  run(ctx: RoundContext): Promise<void>;
}

/** One kind's part of one round: its plan, the state it tracks, and its invariants. */
export interface ChaosWorkload {
  readonly kind: string;
  /** The plurals a snapshot must list for `check` and `checkCleaned` (`pods`). */
  readonly plurals: readonly string[];
  readonly steps: readonly WorkloadStep[];
  /** One line saying what it plans (`30 pods in 3 bursts, 9 deleted in 2 waves`). */
  summary(): string;
  /** Violations seen by the steps themselves (an object missing right after it was applied). */
  stepViolations(): Violation[];
  /**
   * Looks at what the snapshot cannot (the node's iptables, its DNS) and puts it under
   * `world.observed[kind]`, after the snapshot and before `check` or `checkCleaned`. Never throws.
   */
  observe?(cluster: ChaosCluster, world: WorldSnapshot): Promise<void>;
  /**
   * Whether a node pause may begin: a workload whose invariant needs its pods running before the
   * node stops (eviction) says no until they run. The fault lane waits on it, with a deadline.
   */
  readyForPause?(): boolean;
  /** The invariants that must hold once the faults have stopped and the world has settled. */
  check(world: WorldSnapshot): Violation[];
  /** Deletes whatever the workload made that still exists. Throws when the cluster does not take the deletions in time. */
  cleanup(ctx: RoundContext): Promise<void>;
  /** What the workload made that is still there after `cleanup`. */
  checkCleaned(world: WorldSnapshot): Violation[];
  /** The workload's plan and what became of it, for the round's report (JSON). */
  report(): unknown;
}

/** Options every generator gets. */
export interface WorkloadOptions {
  /** Unique per round and short: goes into object names and a label. */
  tag: string;
  /** How many objects of the kind to make. */
  count: number;
  /** The length of the chaos window: steps are placed in it. */
  windowMs: number;
  /** How long a step may retry against a cluster that is down. */
  stepDeadlineMs: number;
}

/** A kind the chaos round knows: its name and its workload generator. */
export interface ChaosKind {
  readonly name: string;
  generate(rng: Rng, opts: WorkloadOptions): ChaosWorkload;
}
