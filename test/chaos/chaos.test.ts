/**
 * The chaos harness in CI: a round without faults first (the harness must not report what is not
 * there, and it must have watched every container), then short chaos rounds with fixed seeds
 * that SIGKILL nats-server, the control plane, the node agent and containerd at random moments.
 * A failed round prints its seed, what was wrong and where its logs are.
 */
import os from 'node:os';
import path from 'node:path';
import { FAULT_TARGETS } from '../helpers/chaos-faults';
import { canRunE2e } from '../helpers/cluster';
import { DEFAULT_ROUND, runChaos, shapeArgs, type ChaosRun } from './harness';
import type { RoundOptions } from './round';

const describeChaos = canRunE2e() ? describe : describe.skip;
jest.setTimeout(10 * 60_000);

/** Small enough for a 2-core CI machine: 20 pods, a 10 s window. */
const CI_ROUND: RoundOptions = { ...DEFAULT_ROUND, count: 20, windowMs: 10_000, settleMs: 60_000, cleanupMs: 60_000, stepDeadlineMs: 60_000 };
// 20246 kills containerd 7.6 s after the node agent (the running agent must restart it); 20247 before it (a new agent starts a new one).
const CHAOS_SEEDS = 20_246;

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
    const planned = (r.workloads[0].report as { records: { uid?: string }[] }).records;
    expect(planned.every((p) => p.uid !== undefined)).toBe(true);
    const seen = new Set(r.lastWorld!.seenContainers.filter((c) => c.states.includes('CONTAINER_RUNNING')).map((c) => c.podUid));
    expect(planned.filter((p) => !seen.has(p.uid!))).toEqual([]);
  });

  it('keeps every invariant while nats-server, control plane, node agent and containerd are SIGKILLed', async () => {
    const round = { ...CI_ROUND, targets: FAULT_TARGETS };
    const run = await runChaos({ ...round, seed: CHAOS_SEEDS, rounds: 2, logsDir, shapeArgs: shapeArgs(round), print });
    expect(run.rounds).toHaveLength(2);
    // Notes: pods a teardown left running.
    expect({ failures: failuresOf(run), notes: run.notes }).toEqual({ failures: [], notes: [] });
  });
});
