/**
 * The chaos harness in CI: a round without faults first (the harness must not report what is not
 * there, and it must have watched every container), then short chaos rounds with fixed seeds
 * that SIGKILL nats-server, the control plane, the node agent and containerd at random moments,
 * with workflow runs going through (their journals must carry them across), then a round on two control planes that SIGKILLs the leader and pauses the node agent past the
 * node monitor grace period while owners are deleted with each propagation policy, namespaces
 * are deleted and finalizers hold pods, and a round that SIGKILLs the four processes while a
 * ReplicaSet is scaled, a Deployment and a DaemonSet rolled and a Job runs, and a round that SIGKILLs
 * them while Services come and go over scaled Deployments. A failed round prints its seed, what
 * was wrong and where its logs are.
 */
import os from 'node:os';
import path from 'node:path';
import { FAULT_TARGETS } from '../helpers/chaos-faults';
import { canRunE2e } from '../helpers/cluster';
import { cleanPauses, type EvictRecord } from './cluster-invariants';
import { cascadeKind } from './cascade';
import { DEFAULT_ROUND, runChaos, shapeArgs, type ChaosRun } from './harness';
import { leadershipKind } from './leadership';
import { podsKind } from './pods';
import { servicesKind } from './services';
import { workflowsKind } from './workflows';
import { workloadsKind } from './workloads';
import { NODE_PAUSE_MS, type RoundOptions } from './round';

const describeChaos = canRunE2e() ? describe : describe.skip;
jest.setTimeout(10 * 60_000);

/** Small enough for a 2-core CI machine: 20 bare pods, a 10 s window. */
const CI_ROUND: RoundOptions = { ...DEFAULT_ROUND, kinds: [podsKind], count: 20, windowMs: 10_000, settleMs: 60_000, cleanupMs: 60_000, stepDeadlineMs: 60_000 };
// 20254 kills the leader 0.8 s in and pauses the node agent 7.6 s in: room for the leader's lookup
// (the CLI reads the lease) and restart before the pause, which is then clean and must evict.
const SHAPED_SEED = 20_254;
// 20246 kills containerd 7.6 s after the node agent (the running agent must restart it); 20247 before it (a new agent starts a new one).
const CHAOS_SEEDS = 20_246;
// 20300 kills nats while the Deployment's new env is applied, the control plane 1.4 s into that
// rollout and the node agent during its undo, with the ReplicaSet scaled down to 1 just before;
// the DaemonSet's restart (6.6 s in) comes 0.2 s after the control plane's kill (6.4 s).
const WORKLOADS_SEED = 20_300;
// 300 kills nats 5.7 s in, between the two bursts of Services, the node agent at 9.3 s, the
// control plane at 17.4 s and containerd at 18.6 s, after the deletions and re-applies.
const SERVICES_SEED = 300;

const failuresOf = (run: ChaosRun) => run.failures.map((f) => ({
  seed: f.result.seed,
  violations: f.result.violations.map((v) => `[${v.invariant}] ${v.subject}: ${v.detail}`),
  reproduce: f.reproduce,
  logs: f.logsDir,
}));

describeChaos('chaos rounds against a one-machine cluster', () => {
  const logsDir = path.join(os.tmpdir(), 'mk-chaos');
  const lines: string[] = [];
  const print = (l: string) => { lines.push(l); };
  afterEach(() => {
    // Round lines and timelines help when a round fails; Jest shows them with the failure.
    if (lines.length > 0) process.stdout.write(`${lines.splice(0).join('\n')}\n`);
  });

  it('reports nothing wrong on a round without faults, having seen every pod\'s container', async () => {
    const round = { ...CI_ROUND, targets: [] };
    const run = await runChaos({ ...round, seed: 11, rounds: 1, logsDir, shapeArgs: shapeArgs(round), print });
    expect({ failures: failuresOf(run), notes: run.notes }).toEqual({ failures: [], notes: [] });
    const r = run.rounds[0];
    expect(r.ok).toBe(true);
    const planned = (r.workloads[0].report as { records: { uid?: string; deleteRequestedAtMs?: number }[] }).records;
    expect(planned.every((p) => p.uid !== undefined)).toBe(true);
    // Every pod that stayed was seen running (one deleted a moment after its apply may never start on a busy machine).
    const seen = new Set(r.lastWorld!.seenContainers.filter((c) => c.states.includes('CONTAINER_RUNNING')).map((c) => c.podUid));
    const kept = planned.filter((p) => p.deleteRequestedAtMs === undefined);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.filter((p) => !seen.has(p.uid!))).toEqual([]);
  });

  it('keeps every invariant of pods and workflow runs while nats-server, control plane, node agent and containerd are SIGKILLed', async () => {
    const round = { ...CI_ROUND, kinds: [podsKind, workflowsKind], targets: FAULT_TARGETS };
    const run = await runChaos({ ...round, seed: CHAOS_SEEDS, rounds: 2, logsDir, shapeArgs: shapeArgs(round), print });
    expect(run.rounds).toHaveLength(2);
    // The runs were all started (each round's workflow runs are judged by check()).
    for (const r of run.rounds) {
      const report = r.workloads.find((w) => w.kind === 'workflows')!.report as { done: string[]; plan: { runs: unknown[] } };
      expect(report.done).toHaveLength(report.plan.runs.length + 1);
    }
    // Notes: pods a teardown left running.
    expect({ failures: failuresOf(run), notes: run.notes }).toEqual({ failures: [], notes: [] });
  });

  it('keeps every invariant while the leader is SIGKILLed and the node agent paused, owners, namespaces and finalizers going', async () => {
    const round: RoundOptions = { ...CI_ROUND, kinds: [podsKind, cascadeKind, leadershipKind], count: 10, targets: ['leader', 'node-pause'] };
    const run = await runChaos({ ...round, seed: SHAPED_SEED, rounds: 1, logsDir, shapeArgs: shapeArgs(round), print });
    expect({ failures: failuresOf(run), notes: run.notes }).toEqual({ failures: [], notes: [] });
    const r = run.rounds[0];
    // The round did what it says: it killed the leader (a standby led in the settled world) and
    // paused the node long enough, with nothing else going on, that its eviction pods had to go.
    expect(r.faults.map((f) => [f.target, f.outcome?.killed])).toEqual([['leader', true], ['node-pause', true]]);
    const [pause] = cleanPauses(r.faults, NODE_PAUSE_MS - 2_000);
    expect(pause).toBeDefined();
    const evict = r.workloads.find((w) => w.kind === 'eviction')!.report as { records: EvictRecord[] };
    expect(evict.records.filter((e) => e.runningAtMs !== undefined && e.runningAtMs < pause.atMs!)).toHaveLength(3);
    expect(r.workloads.map((w) => w.kind)).toEqual(['pods', 'cascade', 'leadership', 'eviction']);
  });

  it('keeps the ReplicaSet, Deployment, DaemonSet and Job invariants while the four processes are SIGKILLed mid-rollout', async () => {
    const round: RoundOptions = { ...CI_ROUND, kinds: [workloadsKind], count: 1, windowMs: 12_000, targets: FAULT_TARGETS };
    const run = await runChaos({ ...round, seed: WORKLOADS_SEED, rounds: 1, logsDir, shapeArgs: shapeArgs(round), print });
    expect({ failures: failuresOf(run), notes: run.notes }).toEqual({ failures: [], notes: [] });
    const r = run.rounds[0];
    expect(r.faults.map((f) => f.target).sort()).toEqual([...FAULT_TARGETS].sort());
    // The steps all went through: both scales, the roll (and an undo when planned), the DaemonSet's restart.
    const report = r.workloads[0].report as { plan: { deployment: { name: string; undoAtMs?: number }; daemonSet: { name: string } }; done: string[] };
    const { deployment, daemonSet } = report.plan;
    expect(report.done.filter((d) => / scale /.test(d))).toHaveLength(2);
    expect(report.done.filter((d) => d.split(' ').includes(deployment.name) && /rollout|with a new env/.test(d))).toHaveLength(deployment.undoAtMs === undefined ? 1 : 2);
    expect(report.done.filter((d) => d.split(' ').includes(daemonSet.name))).toHaveLength(1);
  });

  it('keeps the Service invariants (allocations, EndpointSlices, proxy chains, DNS) while the four processes are SIGKILLed', async () => {
    const round: RoundOptions = { ...CI_ROUND, kinds: [servicesKind], windowMs: 20_000, targets: FAULT_TARGETS };
    const run = await runChaos({ ...round, seed: SERVICES_SEED, rounds: 1, logsDir, shapeArgs: shapeArgs(round), print });
    expect({ failures: failuresOf(run), notes: run.notes }).toEqual({ failures: [], notes: [] });
    const r = run.rounds[0];
    expect(r.faults.map((f) => f.target).sort()).toEqual([...FAULT_TARGETS].sort());
    // The settled world was judged on the node too: keys, chains and DNS answers were read.
    const report = r.workloads[0].report as { lastChecked: { services: number; endpoints: number; keys: number; chains: number; dnsNames: number } };
    const c = report.lastChecked;
    expect(c.services).toBeGreaterThan(0);
    expect(c.endpoints).toBeGreaterThan(0);
    expect(c.keys).toBeGreaterThan(0);
    expect(c.chains).toBeGreaterThan(0);
    expect(c.dnsNames).toBe(c.services);
  });
});
