/** The seeded parts of a chaos round: the random source, the pod and fault plans, the flags. */
import { ValidationError } from '../../messages';
import { ALL_FAULT_TARGETS, FAULT_TARGETS, isFaultTarget, planFaults } from '../helpers/chaos-faults';
import { createRng, roundSeed, toSeed } from '../helpers/chaos-random';
import { planPods } from './pods';
import { parseChaosArgs } from './run';
import { clusterShape, controlPlanesOf, roundKinds, SERVICE_REPAIR_ENV } from './harness';

describe('createRng', () => {
  it('gives the same sequence for the same seed, and another for another seed', () => {
    const seq = (s: number) => { const r = createRng(s); return Array.from({ length: 5 }, () => r.next()); };
    expect(seq(42)).toEqual(seq(42));
    expect(seq(42)).not.toEqual(seq(43));
    for (const x of seq(7)) expect(x >= 0 && x < 1).toBe(true);
  });

  it('draws integers in both bounds and nothing outside them', () => {
    const r = createRng(1);
    const seen = new Set(Array.from({ length: 500 }, () => r.int(2, 5)));
    expect([...seen].sort()).toEqual([2, 3, 4, 5]);
    expect(() => r.int(3, 2)).toThrow(RangeError);
  });

  it('forks sources that do not depend on how much of the parent was used', () => {
    const a = createRng(9);
    const b = createRng(9);
    b.next();
    b.next();
    expect(a.fork('faults').next()).toBe(b.fork('faults').next());
    expect(a.fork('faults').next()).not.toBe(a.fork('pods').next());
  });

  it('numbers rounds by consecutive seeds, wrapping at 32 bits', () => {
    expect(roundSeed(100, 3)).toBe(103);
    expect(roundSeed(0xffffffff, 1)).toBe(0);
    expect(toSeed(-1)).toBe(0xffffffff);
    expect(() => toSeed(Number.NaN)).toThrow(RangeError);
  });
});

describe('planPods', () => {
  const opts = { tag: 't', count: 30, windowMs: 20_000, stepDeadlineMs: 1 };

  it('is the same plan for the same seed', () => {
    expect(planPods(createRng(5), opts)).toEqual(planPods(createRng(5), opts));
  });

  it('places bursts and waves in the window and deletes a pod only after its burst', () => {
    for (let seed = 0; seed < 50; seed++) {
      const p = planPods(createRng(seed), opts);
      expect(p.pods).toHaveLength(30);
      expect(new Set(p.pods.map((x) => x.name)).size).toBe(30);
      for (let k = 0; k < p.bursts.length; k++) expect(p.pods.some((x) => x.burst === k)).toBe(true);
      for (const b of [...p.bursts, ...p.waves]) expect(b.atMs >= 0 && b.atMs <= opts.windowMs).toBe(true);
      for (const x of p.pods.filter((y) => y.wave !== undefined)) expect(p.waves[x.wave!].atMs).toBeGreaterThan(p.bursts[x.burst].atMs);
    }
  });
});

describe('planFaults', () => {
  it('kills each target the asked number of times inside the window, in time order', () => {
    const f = planFaults(createRng(3), FAULT_TARGETS, 2, 10_000);
    expect(f).toHaveLength(8);
    for (const t of FAULT_TARGETS) expect(f.filter((x) => x.target === t)).toHaveLength(2);
    expect(f.map((x) => x.plannedAtMs)).toEqual([...f.map((x) => x.plannedAtMs)].sort((a, b) => a - b));
    for (const x of f) expect(x.plannedAtMs >= 500 && x.plannedAtMs <= 9_500).toBe(true);
    expect(planFaults(createRng(3), [], 2, 10_000)).toEqual([]);
  });

  it('pauses the node agent in the second half of the window, and leaves the other targets\' moments as they were', () => {
    const all = planFaults(createRng(3), ALL_FAULT_TARGETS, 5, 10_000);
    for (const x of all.filter((y) => y.target === 'node-pause')) expect(x.plannedAtMs >= 5_000 && x.plannedAtMs <= 9_500).toBe(true);
    const four = planFaults(createRng(3), FAULT_TARGETS, 1, 10_000);
    const six = planFaults(createRng(3), ALL_FAULT_TARGETS, 1, 10_000);
    expect(six.filter((x) => isFaultTarget(x.target) && (FAULT_TARGETS as readonly string[]).includes(x.target))).toEqual(four);
  });
});

describe('parseChaosArgs', () => {
  it('defaults to one round of 30 pods with every fault: the four processes, the leader and a node pause', () => {
    const o = parseChaosArgs([], 1234);
    expect(o).toMatchObject({ rounds: 1, seed: 1234, count: 30, targets: [...ALL_FAULT_TARGETS], killsPerTarget: 1 });
    expect(o.controlPlanes).toBeUndefined();
    expect(controlPlanesOf(o)).toBe(2);
    expect(clusterShape(o)).toEqual({ upArgs: ['--control-planes', '2'], env: { MK_NODE_MONITOR_GRACE_PERIOD: '15s', ...SERVICE_REPAIR_ENV, MK_WARM_RUNTIME_IMAGES: 'on' } });
    expect(roundKinds(o).map((k) => k.name)).toEqual(['pods', 'cascade', 'leadership', 'workloads', 'services', 'storage', 'functions', 'workflows', 'eviction']);
    expect(o.shapeArgs).toEqual(['--pods 30', '--window-s 20', '--settle-s 120', '--converge-s 30']);
  });

  it('reads the flags, and --no-kill-containerd leaves containerd out', () => {
    const o = parseChaosArgs(['--rounds', '50', '--seed', '7', '--pods', '12', '--no-kill-containerd']);
    expect(o).toMatchObject({ rounds: 50, seed: 7, count: 12, targets: ['nats', 'control-plane', 'node-agent', 'leader', 'node-pause', 'gateway'] });
    expect(o.shapeArgs).toContain('--targets nats,control-plane,node-agent,leader,node-pause,gateway');
    const four = parseChaosArgs(['--targets', 'nats,control-plane,node-agent,containerd']);
    expect(clusterShape(four)).toEqual({ upArgs: [], env: { ...SERVICE_REPAIR_ENV, MK_WARM_RUNTIME_IMAGES: 'on' } });
    expect(roundKinds(four).map((k) => k.name)).toEqual(['pods', 'cascade', 'leadership', 'workloads', 'services', 'storage', 'functions', 'workflows']);
    const three = parseChaosArgs(['--targets', 'nats', '--control-planes', '3']);
    expect(three.shapeArgs).toEqual(expect.arrayContaining(['--targets nats', '--control-planes 3']));
    expect(clusterShape(three).upArgs).toEqual(['--control-planes', '3']);
    expect(parseChaosArgs(['--targets', 'none']).targets).toEqual([]);
    expect(parseChaosArgs(['--kinds', 'storage']).kinds.map((x) => x.name)).toEqual(['storage']);
    const w = parseChaosArgs(['--kinds', 'workloads,pods', '--targets', 'nats']);
    expect(w.kinds.map((x) => x.name)).toEqual(['pods', 'workloads']);
    expect(w.shapeArgs).toContain('--kinds pods,workloads');
    // Only a round with Services shortens the allocation repair's period.
    expect(clusterShape(w).env).toEqual({});
    expect(() => parseChaosArgs(['--kinds', 'pods,daemonsets'])).toThrow('--kinds: unknown kind(s) daemonsets');
    expect(parseChaosArgs(['--reuse-cluster', '--keep-logs'])).toMatchObject({ reuseCluster: true, keepLogs: true, verbose: false });
  });

  it('refuses unknown flags, targets and bad numbers', () => {
    expect(() => parseChaosArgs(['--round', '2'])).toThrow(ValidationError);
    expect(() => parseChaosArgs(['--targets', 'etcd'])).toThrow(/unknown target/);
    expect(() => parseChaosArgs(['--pods', '0'])).toThrow(/--pods must be a number >= 1/);
    expect(() => parseChaosArgs(['--seed'])).toThrow(/needs a value/);
    expect(() => parseChaosArgs(['--control-planes', '4'])).toThrow(/--control-planes must be 1 to 3/);
    expect(() => parseChaosArgs(['--control-planes', '1', '--targets', 'leader'])).toThrow(/leader needs --control-planes 2/);
  });
});
