/**
 * One chaos round against a running `mk up` cluster:
 *
 *  1. the seed draws every kind's workload (timed steps) and the faults (which process is
 *     SIGKILLed, or the node agent SIGSTOPped for a while, when, within the chaos window);
 *  2. the workloads' lanes and the fault lane run side by side, while a CRI observer remembers
 *     every container the node runs;
 *  3. once every lane is done, the round waits (one deadline) for every killed process to run
 *     again, then polls the world until every invariant holds for `stableMs` in a row, counted
 *     from the last restart at the earliest; a violation left at the deadline fails the round,
 *     and so does a world that took longer than `convergeMs` to get there;
 *  4. a passing round deletes what it made and waits until it is gone from the store and the node,
 *     which must also take no longer than `convergeMs`.
 */
import { CONTROL_PLANE_LEASE, LEASE_NAMESPACE, TimeoutError, type Lease } from '../../messages';
import { signal as signalPid } from '../../embedded/processes';
import { pidAlive } from '../../node-agent/containerd';
import {
  childPid, controlPlaneChildOf, holderPid, killChild, killTarget, planFaults, targetPid, type FaultEvent, type FaultTarget, type KillOutcome,
} from '../helpers/chaos-faults';
import { LeadershipScanner } from '../helpers/chaos-leadership';
import { CriObserver, type CriOutage } from '../helpers/chaos-observer';
import { createRng } from '../helpers/chaos-random';
import type { RunResult } from '../helpers/run';
import { until } from '../helpers/wait';
import type { ChaosKind, ChaosWorkload, RoundContext, Violation, WorldSnapshot } from './kind';
import { firstLine, snapshot, type ChaosCluster } from './snapshot';

/** How a round is shaped; every field is the same for each round of a run. */
export interface RoundOptions {
  kinds: readonly ChaosKind[];
  /** Objects per kind (pods: N). */
  count: number;
  /** The chaos window: steps and kills fall in it. */
  windowMs: number;
  /** After the lanes are done: how long the world may take to recover and settle. */
  settleMs: number;
  /** How long the invariants must hold, poll after poll, before the round passes. */
  stableMs: number;
  /**
   * Liveness: once the lanes are done and every killed process runs again, the invariants must
   * hold within this long (a watch that stalls for a minute fails the round even though it
   * would mend before `settleMs`).
   */
  convergeMs: number;
  /** How long the cleanup may take. */
  cleanupMs: number;
  /** How long a step may retry against a cluster that is down. */
  stepDeadlineMs: number;
  /** What gets killed, each `killsPerTarget` times per round. */
  targets: readonly FaultTarget[];
  killsPerTarget: number;
  /** Pace of the settle and cleanup polls. */
  pollMs?: number;
  /** `node-pause`: how long the node agent stays SIGSTOPped (default NODE_PAUSE_MS). */
  nodePauseMs?: number;
  /** How many control planes the cluster runs (`mk up --control-planes N`); default: 2 when `leader` is a target, else 1. */
  controlPlanes?: number;
}

/**
 * How long a `node-pause` keeps the node agent stopped: past the 15 s node monitor grace period
 * the harness gives such clusters (the agent heartbeats every 10 s), plus the eviction pods' 2 s
 * toleration, with room for the node monitor to act.
 */
export const NODE_PAUSE_MS = 26_000;

/** How long a fault looks for its target (the leader, a node agent that is restarting) before it is skipped. */
const LOOK_FOR_TARGET_MS = 20_000;

/** Where the fault's process is found again: the supervised child it hit (or the target's own pid file). */
function recoveredPid(dataDir: string, f: FaultEvent): number | undefined {
  if (f.child !== undefined) return childPid(dataDir, f.child);
  if (f.target === 'leader' || f.target === 'node-pause') return undefined;
  return targetPid(dataDir, f.target);
}

/** What a round did and found. */
export interface RoundResult {
  round: number;
  seed: number;
  ok: boolean;
  /** Where it failed, when it did. */
  failedIn?: 'settle' | 'cleanup' | 'error' | 'interrupted';
  violations: Violation[];
  durationMs: number;
  /** From the end of the lanes or the last restart (the later) until the invariants held. */
  settledAfterMs?: number;
  /** How long the cleanup took, when it finished. */
  cleanupMs?: number;
  /** What the last poll that found something wrong found (how the world looked before it settled). */
  beforeSettled?: Violation[];
  faults: FaultEvent[];
  workloads: { kind: string; summary: string; report: unknown }[];
  timeline: string[];
  criOutages: CriOutage[];
  /** The uid of every pod that had a sandbox on the node during the round. */
  podUids: string[];
  /** The last snapshot the round judged, for the report. */
  lastWorld?: WorldSnapshot;
}

/** Resolves at `t0 + atMs` (at once when that has passed) or when the run is aborted: a planned moment, not a wait for a condition. */
function at(t0: number, atMs: number, signal: AbortSignal): Promise<void> {
  const ms = t0 + atMs - Date.now();
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Runs one round; see the module comment. Throws only when the harness itself breaks (the world's faults are in the result). */
export async function runRound(cluster: ChaosCluster, round: number, seed: number, o: RoundOptions, signal: AbortSignal): Promise<RoundResult> {
  const rng = createRng(seed);
  const tag = seed.toString(36);
  const workloads: ChaosWorkload[] = o.kinds.map((k) => k.generate(rng.fork(k.name), { tag, count: o.count, windowMs: o.windowMs, stepDeadlineMs: o.stepDeadlineMs }));
  const faults = planFaults(rng.fork('faults'), o.targets, o.killsPerTarget, o.windowMs);
  const plurals = [...new Set(workloads.flatMap((w) => w.plurals))];
  const pollMs = o.pollMs ?? 1_000;
  const t0 = Date.now();
  const timeline: string[] = [];
  const note = (line: string): void => { timeline.push(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`); };
  const ctx: RoundContext = {
    mk: (args, opts) => cluster.mk(args, { timeoutMs: 30_000, ...opts }),
    async mkUntil(what, args, opts = {}) {
      const done = opts.done ?? ((r: RunResult) => r.code === 0);
      let attempts = 0;
      let last = '';
      const deadlineMs = opts.deadlineMs ?? o.stepDeadlineMs;
      let accepted: { result: RunResult; attempts: number } | 'aborted';
      try {
        accepted = await until(what, async () => {
          if (signal.aborted) return 'aborted' as const;
          attempts++;
          const r = await cluster.mk(args(attempts), { stdin: opts.stdin, timeoutMs: 30_000 }).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
          if (done(r, attempts)) return { result: r, attempts };
          last = firstLine(r.stderr) || `exit ${r.code}`;
          return undefined;
        }, deadlineMs, 500);
      } catch (e) {
        throw new TimeoutError(`${what}: not done after ${attempts} attempt(s) in ${deadlineMs} ms; last answer: ${last}`, { cause: e });
      }
      if (accepted === 'aborted') throw new TimeoutError(`${what}: the run was interrupted after ${attempts} attempt(s)`);
      return accepted;
    },
    note,
    elapsedMs: () => Date.now() - t0,
    signal,
  };
  for (const w of workloads) note(`${w.kind}: ${w.summary()}`);
  note(`faults: ${faults.length === 0 ? 'none' : faults.map((f) => `${f.target}@${(f.plannedAtMs / 1000).toFixed(1)}s`).join(', ')}`);

  const observer = CriObserver.start(`${cluster.dataDir}/node/containerd/containerd.sock`);
  const result: RoundResult = {
    round, seed, ok: false, violations: [], durationMs: 0, faults, timeline, criOutages: [], podUids: [],
    workloads: workloads.map((w) => ({ kind: w.kind, summary: w.summary(), report: undefined })),
  };
  const paused: { f: FaultEvent; pid: number }[] = [];
  // Ends a pause: SIGCONT, or nothing to send when the stopped agent was SIGKILLed meanwhile.
  const resume = (f: FaultEvent, pid: number, killed = false): void => {
    if (f.resumedAtMs !== undefined) return;
    if (!killed) signalPid(pid, 'SIGCONT');
    f.resumedAtMs = Date.now() - t0;
    f.newPid = pid;
    f.recoveredAfterMs = f.resumedAtMs - f.atMs!;
    note(killed ? `node-agent (pid ${pid}) was SIGKILLed while stopped, ${(f.recoveredAfterMs / 1000).toFixed(1)} s into its pause`
      : `SIGCONT node-agent (pid ${pid}), ${(f.recoveredAfterMs / 1000).toFixed(1)} s after it was stopped`);
  };
  const killedPids = new Set<number>();
  const leadership = new LeadershipScanner(cluster.dataDir);
  // A snapshot, and what each kind observes of the node beyond it.
  const look = async (): Promise<WorldSnapshot> => {
    const world = await snapshot(cluster, plurals, observer, { leadership, faults });
    for (const w of workloads) if (w.observe) await w.observe(cluster, world);
    return world;
  };
  try {
    const recoveries: Promise<void>[] = [];
    let recoveryDeadline = Number.POSITIVE_INFINITY;
    const watchRecovery = async (f: FaultEvent, oldPid: number): Promise<void> => {
      // The supervisor (or the node agent, for containerd) writes the new pid into the pid file.
      await until(`${f.target} to run again`, () => {
        if (signal.aborted || Date.now() >= recoveryDeadline) return false;
        const pid = recoveredPid(cluster.dataDir, f);
        if (pid === undefined || pid === oldPid) return undefined;
        f.newPid = pid;
        f.recoveredAfterMs = Date.now() - t0 - f.atMs!;
        note(`${f.target} runs again (pid ${pid}), ${(f.recoveredAfterMs / 1000).toFixed(1)} s after its kill`);
        return true;
      }, Number.MAX_SAFE_INTEGER, 100);
    };
    const pauseMs = o.nodePauseMs ?? NODE_PAUSE_MS;
    // The leader, from the lease (it names its holder's pid), as one of the supervised control
    // planes. The bus may be down, or the lease between holders: look again for a while.
    const killLeader = async (f: FaultEvent): Promise<KillOutcome> => {
      let why = '';
      const child = await until('a live leader', async () => {
        if (signal.aborted) return false;
        const r = await cluster.mk(['get', 'lease', CONTROL_PLANE_LEASE, '-n', LEASE_NAMESPACE, '-o', 'json'], { timeoutMs: 10_000 })
          .catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
        if (r.code !== 0) { why = `the lease could not be read: ${firstLine(r.stderr) || `exit ${r.code}`}`; return undefined; }
        const holder = (JSON.parse(r.stdout) as Lease).spec?.holderIdentity;
        const c = controlPlaneChildOf(cluster.dataDir, holderPid(holder));
        if (!c) why = `the lease's holder ${holder || '(none)'} is no running control plane`;
        return c;
      }, LOOK_FOR_TARGET_MS, 500).catch(() => false as const);
      if (!child) return { killed: false, reason: why || 'interrupted' };
      f.child = child;
      f.atMs = Date.now() - t0;
      return killChild(cluster.dataDir, child);
    };
    const faultLane = async (): Promise<void> => {
      for (const f of faults) {
        await at(t0, f.plannedAtMs, signal);
        if (signal.aborted) return;
        f.atMs = Date.now() - t0;
        if (f.target === 'node-pause') {
          // A pause that comes before the pods it should evict run proves nothing: on a busy
          // machine it waits for them (as long as the window lasts).
          await until('the workloads ready for a node pause', () => (signal.aborted || workloads.every((w) => w.readyForPause?.() ?? true)) || undefined,
            o.windowMs, 200).catch(() => undefined);
          // A node agent killed a moment ago is paused once it runs again.
          const pid = await until('the node agent', () => (signal.aborted ? false : targetPid(cluster.dataDir, 'node-agent')), LOOK_FOR_TARGET_MS, 200)
            .catch(() => undefined) || undefined;
          f.atMs = Date.now() - t0;
          f.outcome = pid === undefined ? { killed: false, reason: 'the node agent is not running' }
            : signalPid(pid, 'SIGSTOP') ? { killed: true, pid } : { killed: false, reason: `pid ${pid} exited first` };
          if (f.outcome.killed) {
            const stopped = f.outcome.pid;
            paused.push({ f, pid: stopped });
            note(`SIGSTOP node-agent (pid ${stopped}) for ${(pauseMs / 1000).toFixed(0)} s`);
            const ends = t0 + f.atMs + pauseMs;
            recoveries.push(until('the pause to end', async () => {
              if (signal.aborted || Date.now() >= ends) return 'time' as const;
              return (await pidAlive(stopped)) ? undefined : 'killed' as const;
            }, Number.MAX_SAFE_INTEGER, 200).then((why) => resume(f, stopped, why === 'killed')));
          } else {
            note(`SIGSTOP node-agent: skipped, ${f.outcome.reason}`);
          }
          continue;
        }
        f.outcome = f.target === 'leader' ? await killLeader(f) : killTarget(cluster.dataDir, f.target);
        // Two targets may be one process (the leader is one of the control planes).
        if (f.outcome.killed && killedPids.has(f.outcome.pid)) f.outcome = { killed: false, reason: `pid ${f.outcome.pid} was killed by an earlier fault a moment ago` };
        if (f.outcome.killed) killedPids.add(f.outcome.pid);
        const what = f.child ? `${f.target} (${f.child})` : f.target;
        if (f.outcome.killed) {
          note(`SIGKILL ${what} (pid ${f.outcome.pid})`);
          recoveries.push(watchRecovery(f, f.outcome.pid));
        } else {
          note(`SIGKILL ${what}: skipped, ${f.outcome.reason}`);
        }
      }
    };
    const workloadLane = async (w: ChaosWorkload): Promise<void> => {
      for (const s of w.steps) {
        await at(t0, s.atMs, signal);
        if (signal.aborted) return;
        note(`${w.kind}: ${s.what}`);
        await s.run(ctx);
      }
    };
    await Promise.all([faultLane(), ...workloads.map(workloadLane)]);
    const lanesDone = Date.now();
    note('lanes done; waiting for killed processes to run again and the world to settle');
    recoveryDeadline = lanesDone + o.settleMs;
    await Promise.all(recoveries);
    const unrecovered: Violation[] = [];
    for (const f of faults.filter((x) => x.outcome?.killed && x.newPid === undefined && !signal.aborted)) {
      // A later kill of the same target that recovered covers an earlier one (a new pid came).
      if (faults.some((g) => g.target === f.target && g.atMs! > f.atMs! && g.newPid !== undefined)) continue;
      if (recoveredPid(cluster.dataDir, f) !== undefined) continue;
      unrecovered.push({
        invariant: 'recovery', subject: f.target, permanent: true,
        detail: `SIGKILLed at ${(f.atMs! / 1000).toFixed(1)} s and not running again ${((Date.now() - t0 - f.atMs!) / 1000).toFixed(0)} s later`,
      });
    }
    for (const v of unrecovered) note(`${v.subject} did not come back`);

    // The world may converge from the end of the lanes and the last restart on, whichever is later.
    const lastRestart = (): number => Math.max(lanesDone, ...faults.filter((f) => f.newPid !== undefined).map((f) => t0 + f.atMs! + f.recoveredAfterMs!));
    let cleanSince: number | undefined;
    let dirty: { atMs: number; violations: Violation[] } | undefined;
    let last: Violation[] = [];
    let lastWorld: WorldSnapshot | undefined;
    const settled = await until('the invariants to hold', async () => {
      if (signal.aborted) return 'aborted';
      const world = await look();
      lastWorld = world;
      last = [...unrecovered, ...workloads.flatMap((w) => [...w.stepViolations(), ...w.check(world)])];
      if (last.length > 0 && last.every((v) => v.permanent)) return 'permanent';
      if (last.length > 0) {
        cleanSince = undefined;
        dirty = { atMs: world.atMs, violations: last };
        return undefined;
      }
      cleanSince ??= world.atMs;
      // A restarted process may still be starting up while the store shows what its predecessor
      // wrote: the stable run only counts from the last restart on.
      return Date.now() - Math.max(cleanSince, lastRestart()) >= o.stableMs ? 'ok' : undefined;
    }, Math.max(0, lanesDone + o.settleMs - Date.now()), pollMs).catch(() => 'deadline');
    result.lastWorld = lastWorld;
    result.violations = last;
    result.beforeSettled = dirty?.violations;
    if (settled !== 'ok') {
      result.failedIn = settled === 'aborted' ? 'interrupted' : 'settle';
      note(`not settled (${settled}): ${last.length} violation(s)`);
      return result;
    }
    const failedStarts = observer.containers().filter((c) => c.exit && c.exit.startedAtMs === 0);
    if (failedStarts.length > 0) {
      note(`${failedStarts.length} container start(s) failed and were retried: `
        + [...new Set(failedStarts.map((c) => `${c.exit!.reason} (exit ${c.exit!.exitCode})`))].join(', '));
    }
    const from = lastRestart();
    result.settledAfterMs = Math.max(0, cleanSince! - from);
    note(`settled ${(result.settledAfterMs / 1000).toFixed(1)} s after the lanes ended and the last killed process ran again`);
    if (result.settledAfterMs > o.convergeMs) {
      const shown = dirty!.violations.slice(0, 5).map((v) => `[${v.invariant}] ${v.subject}: ${v.detail}`);
      result.failedIn = 'settle';
      result.violations = [{
        invariant: 'converge', subject: 'cluster', permanent: true,
        detail: `the invariants held only ${(result.settledAfterMs / 1000).toFixed(1)} s after the lanes ended and the last killed process ran again `
          + `(limit ${o.convergeMs / 1000} s); the last poll before that, ${((dirty!.atMs - from) / 1000).toFixed(1)} s in, found ${dirty!.violations.length}: `
          + shown.join('; ') + (dirty!.violations.length > shown.length ? '; ...' : ''),
      }];
      return result;
    }
    note('cleaning up');
    const cleanupStart = Date.now();
    try {
      for (const w of workloads) await w.cleanup(ctx);
    } catch (e) {
      result.failedIn = 'cleanup';
      result.violations = [{ invariant: 'cleanup', subject: 'delete', permanent: true, detail: (e as Error).message }];
      return result;
    }
    const cleaned = await until('the workloads to be gone', async () => {
      const world = await look();
      result.lastWorld = world;
      last = workloads.flatMap((w) => w.checkCleaned(world));
      return last.length === 0 ? true : undefined;
    }, o.cleanupMs, pollMs).catch(() => false);
    if (!cleaned) {
      result.failedIn = 'cleanup';
      result.violations = last;
      note(`cleanup incomplete: ${last.length} violation(s)`);
      return result;
    }
    result.cleanupMs = Date.now() - cleanupStart;
    note(`cleaned up in ${(result.cleanupMs / 1000).toFixed(1)} s`);
    if (result.cleanupMs > o.convergeMs) {
      // Nothing was killed any more: deleting a round's pods is as bounded as converging.
      result.failedIn = 'cleanup';
      result.violations = [{
        invariant: 'converge', subject: 'cleanup', permanent: true,
        detail: `the round's pods took ${(result.cleanupMs / 1000).toFixed(1)} s to be gone from the store and the node (limit ${o.convergeMs / 1000} s)`,
      }];
      return result;
    }
    result.ok = true;
    return result;
  } catch (e) {
    result.failedIn = 'error';
    result.violations.push({ invariant: 'harness', subject: 'round', permanent: true, detail: (e as Error).stack ?? String(e) });
    return result;
  } finally {
    // A paused node agent is never left stopped, whatever happened to the round.
    for (const p of paused) resume(p.f, p.pid);
    await observer.stop();
    result.criOutages = observer.outages();
    result.podUids = [...new Set(observer.sandboxes().map((sb) => sb.podUid))];
    result.workloads = workloads.map((w) => ({ kind: w.kind, summary: w.summary(), report: w.report() }));
    result.durationMs = Date.now() - t0;
  }
}
