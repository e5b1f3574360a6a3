/**
 * What a chaos run prints and keeps: one line per round, and for a failed round the seed that
 * reproduces it, what was wrong, and a directory holding the cluster's logs and the round's
 * record (plan, timeline, faults, last snapshot).
 */
import fs from 'node:fs';
import path from 'node:path';
import { clusterPaths } from '../../embedded/paths';
import type { RoundResult } from './round';

const secs = (ms: number | undefined): string => (ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`);

/** The command that reruns one round by its seed, with the run's shape. */
export function reproduceCommand(seed: number, args: string[]): string {
  return ['npm run chaos --', '--rounds 1', `--seed ${seed}`, ...args].join(' ');
}

/** One line: round, seed, verdict, time, and each kill with its recovery time. */
export function roundLine(r: RoundResult): string {
  const kills = r.faults.map((f) => {
    if (!f.outcome?.killed) return `${f.target} skipped`;
    return `${f.target}@${secs(f.atMs)}→${f.recoveredAfterMs === undefined ? 'not back' : `back in ${secs(f.recoveredAfterMs)}`}`;
  });
  const verdict = r.ok ? `ok, converged in ${secs(r.settledAfterMs)}, cleaned up in ${secs(r.cleanupMs)}` : `FAILED in ${r.failedIn} with ${r.violations.length} violation(s)`;
  return `round ${r.round} seed ${r.seed}: ${verdict}; ${secs(r.durationMs)}; kills: ${kills.length > 0 ? kills.join(', ') : 'none'}`;
}

/** The violations of a round, grouped by invariant, at most `max` lines each. */
export function violationLines(r: RoundResult, max = 8): string[] {
  const groups = new Map<string, string[]>();
  for (const v of r.violations) groups.set(v.invariant, [...(groups.get(v.invariant) ?? []), `${v.subject}: ${v.detail}`]);
  const out: string[] = [];
  for (const [inv, lines] of groups) {
    out.push(`  [${inv}] ${lines.length} violation(s)`);
    for (const l of lines.slice(0, max)) out.push(`    ${l}`);
    if (lines.length > max) out.push(`    ... and ${lines.length - max} more (see violations.txt)`);
  }
  return out;
}

/** A directory under `root` for this round that does not exist yet. */
function freshDir(root: string, r: RoundResult): string {
  fs.mkdirSync(root, { recursive: true });
  const base = path.join(root, `seed-${r.seed}-round-${r.round}`);
  let dir = base;
  for (let i = 1; fs.existsSync(dir); i++) dir = `${base}-${i}`;
  fs.mkdirSync(dir);
  return dir;
}

/**
 * Saves the cluster's logs (`logs/*.log`, containerd's log) and the round's record under a new
 * directory in `root`, and returns that directory. Throws when it cannot write there.
 */
export function saveRoundLogs(dataDir: string, r: RoundResult, root: string, reproduce: string): string {
  const dir = freshDir(root, r);
  const paths = clusterPaths(dataDir);
  const copy = (from: string, to: string): void => {
    if (fs.existsSync(from)) fs.copyFileSync(from, path.join(dir, to));
  };
  if (fs.existsSync(paths.logsDir)) for (const f of fs.readdirSync(paths.logsDir)) copy(path.join(paths.logsDir, f), f);
  copy(path.join(paths.nodeData, 'containerd', 'containerd.log'), 'containerd.log');
  const { lastWorld, ...rest } = r;
  fs.writeFileSync(path.join(dir, 'round.json'), JSON.stringify(rest, null, 2));
  fs.writeFileSync(path.join(dir, 'timeline.txt'), `${r.timeline.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'violations.txt'), [`reproduce: ${reproduce}`, ...r.violations.map((v) => `[${v.invariant}] ${v.subject}: ${v.detail}`)].join('\n') + '\n');
  if (lastWorld) {
    fs.writeFileSync(path.join(dir, 'world.json'), JSON.stringify({ ...lastWorld, objects: lastWorld.objects ? Object.fromEntries(lastWorld.objects) : undefined }, null, 2));
  }
  return dir;
}
