/**
 * `npm run bench -- <name>`: the benchmarks. Each runs against a real cluster started in a
 * network namespace of its own, and compares mk with a baseline measured in the same run.
 *
 *   pod-startup [--pods N]   apply -> Running through mk vs. the same sandboxes and containers
 *                            made by calling CRI directly (p50, p99 and the ratio).
 */
import { startCluster } from '../helpers/cluster';
import { cliBench } from './cli';
import { podStartupInner } from './pod-startup';

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  const flag = (f: string, d: string) => { const i = rest.indexOf(f); return i >= 0 ? rest[i + 1] : d; };
  if (name === 'cli') {
    await cliBench(rest);
    return;
  }
  if (name === 'pod-startup-inner') {
    await podStartupInner(flag('--data-dir', ''), Number(flag('--pods', '20')));
    return;
  }
  if (name !== 'pod-startup') {
    console.error(`usage: npm run bench -- pod-startup [--pods N]   (unknown benchmark "${name ?? ''}")`);
    process.exitCode = 2;
    return;
  }
  const pods = Number(flag('--pods', '20'));
  console.error('starting a cluster in a network namespace ...');
  const c = await startCluster();
  try {
    console.error(`measuring ${pods} pods one after another and ${pods} at once, through mk and through CRI ...`);
    const r = await c.run([process.execPath, __filename, 'pod-startup-inner', '--data-dir', c.dataDir, '--pods', String(pods)]);
    if (r.code !== 0) throw new Error(`benchmark failed:\n${r.stdout}\n${r.stderr}`);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const row = (label: string, mk: { p50: number; p99: number }, cri: { p50: number; p99: number }) =>
      `| ${label} | ${mk.p50} | ${mk.p99} | ${cri.p50} | ${cri.p99} | ${(mk.p50 / cri.p50).toFixed(2)}x | ${(mk.p99 / cri.p99).toFixed(2)}x |`;
    console.log('| pods | mk p50 (ms) | mk p99 (ms) | CRI p50 (ms) | CRI p99 (ms) | ratio p50 | ratio p99 |');
    console.log('|---|---|---|---|---|---|---|');
    console.log(row(`${pods} one after another`, res.mkSequential, res.criSequential));
    console.log(row(`${pods} at once`, res.mkConcurrent, res.criConcurrent));
  } finally {
    await c.destroy();
  }
}

main(process.argv.slice(2)).catch((err) => { console.error(err instanceof Error ? err.message : err); process.exitCode = 1; });
