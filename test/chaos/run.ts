/**
 * `npm run chaos -- [flags]` (as root): chaos rounds against `mk up` clusters in network
 * namespaces of their own. Exit code 0 when every round held every invariant, 1 when a round
 * failed, 2 on bad flags or a machine that cannot run it. See docs/chaos.md.
 *
 *   --rounds N            rounds to run (default 1)
 *   --seed S              seed of the first round; round i uses S + i (default: from the clock, printed)
 *   --pods N              pods per round (default 30)
 *   --window-s S          the chaos window in seconds (default 20)
 *   --settle-s S          how long the cluster may take to recover and settle (default 120)
 *   --converge-s S        once every killed process runs again, how long it may take to converge (default 30)
 *   --kills K             kills of each target per round (default 1)
 *   --targets LIST        comma-separated subset of nats,control-plane,node-agent,containerd,leader,node-pause,gateway, or none
 *   --control-planes N    control planes the cluster runs (default 2 when leader is a target, else 1)
 *   --kinds LIST          comma-separated subset of pods,cascade,leadership,workloads,services,storage,functions,workflows (default all)
 *   --no-kill-containerd  leave containerd alone (it is killed by default)
 *   --logs-dir DIR        where failed rounds' logs go (default /tmp/mk-chaos)
 *   --verbose             print every round's timeline, not only failed rounds'
 *   --keep-logs           save the logs of passing rounds too
 *   --reuse-cluster       run passing rounds on one cluster instead of a fresh one each
 */
import os from 'node:os';
import path from 'node:path';
import { ValidationError } from '../../messages';
import { ALL_FAULT_TARGETS, isFaultTarget, type FaultTarget } from '../helpers/chaos-faults';
import { toSeed } from '../helpers/chaos-random';
import { canRunE2e } from '../helpers/cluster';
import { DEFAULT_KINDS, DEFAULT_ROUND, runChaos, shapeArgs, type ChaosOptions } from './harness';

const USAGE = 'usage: npm run chaos -- [--rounds N] [--seed S] [--pods N] [--window-s S] [--settle-s S] [--converge-s S] [--kills K] '
  + '[--targets nats,control-plane,node-agent,containerd,leader,node-pause,gateway|none] [--control-planes N] [--kinds pods,cascade,leadership,workloads,services,storage,functions,workflows] [--no-kill-containerd] [--logs-dir DIR] [--verbose] [--keep-logs] [--reuse-cluster]';

/** Parses the flags into run options. Throws a ValidationError naming a bad flag. */
export function parseChaosArgs(argv: string[], now = Date.now()): Omit<ChaosOptions, 'print' | 'signal'> {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  const valued = ['--rounds', '--seed', '--pods', '--window-s', '--settle-s', '--converge-s', '--kills', '--targets', '--logs-dir', '--control-planes', '--kinds'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (['--no-kill-containerd', '--verbose', '--keep-logs', '--reuse-cluster'].includes(a)) { switches.add(a); continue; }
    if (!valued.includes(a)) throw new ValidationError(`unknown flag ${a}`);
    const v = argv[++i];
    if (v === undefined) throw new ValidationError(`${a} needs a value`);
    values.set(a, v);
  }
  const num = (flag: string, d: number, min: number): number => {
    const raw = values.get(flag);
    if (raw === undefined) return d;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new ValidationError(`${flag} must be a number >= ${min} (got ${raw})`);
    return n;
  };
  let targets: FaultTarget[] = [...ALL_FAULT_TARGETS];
  const t = values.get('--targets');
  if (t !== undefined) {
    const names = t === 'none' ? [] : t.split(',').map((s) => s.trim());
    const bad = names.filter((n) => !isFaultTarget(n));
    if (bad.length > 0) throw new ValidationError(`--targets: unknown target(s) ${bad.join(', ')} (known: ${ALL_FAULT_TARGETS.join(', ')}, or none)`);
    targets = names as FaultTarget[];
  }
  let kinds: ChaosOptions['kinds'] = DEFAULT_KINDS;
  const k = values.get('--kinds');
  if (k !== undefined) {
    const names = k.split(',').map((s) => s.trim());
    const known = DEFAULT_KINDS.map((x) => x.name);
    const bad = names.filter((n) => !(known as string[]).includes(n));
    if (bad.length > 0 || names.length === 0) throw new ValidationError(`--kinds: unknown kind(s) ${bad.join(', ') || '(none given)'} (known: ${known.join(', ')})`);
    kinds = DEFAULT_KINDS.filter((x) => names.includes(x.name));
  }
  if (switches.has('--no-kill-containerd')) targets = targets.filter((x) => x !== 'containerd');
  const round = {
    ...DEFAULT_ROUND,
    count: Math.floor(num('--pods', DEFAULT_ROUND.count, 1)),
    windowMs: num('--window-s', DEFAULT_ROUND.windowMs / 1000, 1) * 1000,
    settleMs: num('--settle-s', DEFAULT_ROUND.settleMs / 1000, 1) * 1000,
    convergeMs: num('--converge-s', DEFAULT_ROUND.convergeMs / 1000, 1) * 1000,
    killsPerTarget: Math.floor(num('--kills', DEFAULT_ROUND.killsPerTarget, 0)),
    targets,
    kinds,
    ...(values.has('--control-planes') ? { controlPlanes: Math.floor(num('--control-planes', 1, 1)) } : {}),
  };
  if (round.controlPlanes !== undefined && round.controlPlanes > 3) throw new ValidationError(`--control-planes must be 1 to 3 (got ${round.controlPlanes})`);
  if (round.controlPlanes === 1 && targets.includes('leader')) throw new ValidationError('--targets leader needs --control-planes 2 or more (a lone control plane has no standby)');
  return {
    ...round,
    rounds: Math.floor(num('--rounds', 1, 1)),
    seed: toSeed(num('--seed', toSeed(now), 0)),
    logsDir: path.resolve(values.get('--logs-dir') ?? path.join(os.tmpdir(), 'mk-chaos')),
    shapeArgs: shapeArgs(round),
    verbose: switches.has('--verbose'),
    keepLogs: switches.has('--keep-logs'),
    reuseCluster: switches.has('--reuse-cluster'),
  };
}

async function main(argv: string[]): Promise<number> {
  let opts;
  try {
    opts = parseChaosArgs(argv);
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!canRunE2e()) {
    console.error('chaos rounds need root, containerd and nsenter (they start real clusters in network namespaces)');
    return 2;
  }
  const abort = new AbortController();
  // Ctrl-C ends the current round early; the cluster is still torn down before exit.
  process.once('SIGINT', () => { console.error('interrupted: stopping the round and tearing the cluster down ...'); abort.abort(); });
  console.log(`chaos: ${opts.rounds} round(s) from seed ${opts.seed}; ${opts.count} pods, window ${opts.windowMs / 1000} s, `
    + `kills: ${opts.targets.length > 0 ? opts.targets.map((t) => `${t} x${opts.killsPerTarget}`).join(', ') : 'none'}`);
  const run = await runChaos({ ...opts, print: (l) => console.log(l), signal: abort.signal });
  const failed = run.failures.length;
  console.log(`chaos: ${run.rounds.length - failed} of ${run.rounds.length} round(s) passed`
    + (failed > 0 ? `; failing seeds: ${run.failures.map((f) => f.result.seed).join(', ')} (logs under ${opts.logsDir})` : ''));
  return failed > 0 || abort.signal.aborted ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : err);
    process.exitCode = 1;
  });
}
