/**
 * How many mutating CRI calls should one node send at once? Fires N pods together (a sandbox with
 * one busybox container each: RunPodSandbox, CreateContainer, StartContainer) at a private
 * containerd in a network namespace of its own, through a CriClient whose lifecycle lane is bounded
 * at each of the given limits, and prints per limit: the wall time of the burst, p50/p99 per pod
 * (from the burst's start to its StartContainer's answer, queueing included), the slowest single
 * call once sent (what a deadline must cover), and how many calls failed.
 *
 *   npm run build && node dist/test/bench/cri-burst.js [--pods 40] [--limits 1,2,4,8,inf] [--rounds 1]
 *
 * As root; needs what the containerd e2e tests need. Removes everything it made, also on failure.
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { CriClient, type CallRecord } from '../../node-agent/cri';
import type { PodSandboxConfig } from '../../node-agent/cri/types';
import { BUSYBOX_IMAGE } from '../../node-agent/images/build';
import { containerdE2eUnavailable, removeAllPods, startTestContainerd, type TestContainerd } from '../helpers/containerd';
import { createNetns, type TestNetns } from '../helpers/netns';
import { percentile } from './stats';

/** The figures of one burst. */
export interface BurstResult {
  limit: number;
  pods: number;
  wallMs: number;
  p50Ms: number;
  p99Ms: number;
  /** The slowest single call from send to answer, and which RPC it was. */
  slowestCallMs: number;
  slowestRpc: string;
  failed: number;
}

async function burst(ctrd: TestContainerd, limit: number, pods: number, round: string): Promise<BurstResult> {
  const calls: CallRecord[] = [];
  const cri = await CriClient.connect(ctrd.socketPath, { limits: { lifecycle: limit }, onCall: (c) => calls.push(c) });
  const logRoot = path.join(ctrd.dataDir, 'bench-logs');
  await mkdir(logRoot, { recursive: true });
  let t0 = 0;
  const one = async (i: number): Promise<number> => {
    const uid = `burst-${round}-${i}`;
    const config: PodSandboxConfig = {
      metadata: { name: `p${i}`, uid, namespace: 'bench', attempt: 0 }, hostname: `p${i}`, logDirectory: path.join(logRoot, uid),
      labels: { bench: 'cri-burst' }, linux: { cgroupParent: `${ctrd.cgroupParent}/pod${uid}` },
    };
    const { podSandboxId } = await cri.runPodSandbox({ config });
    const { containerId } = await cri.createContainer({
      podSandboxId, sandboxConfig: config,
      config: { metadata: { name: 'main', attempt: 0 }, image: { image: BUSYBOX_IMAGE }, command: ['sleep', '3600'], logPath: 'main/0.log' },
    });
    await cri.startContainer({ containerId });
    return performance.now() - t0;
  };
  t0 = performance.now();
  const results = await Promise.allSettled(Array.from({ length: pods }, (_, i) => one(i)));
  const wallMs = performance.now() - t0;
  const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const sent = calls.filter((c) => ['RunPodSandbox', 'CreateContainer', 'StartContainer'].includes(c.rpc));
  const slowest = sent.reduce<CallRecord | undefined>((m, c) => (!m || c.tookMs > m.tookMs ? c : m), undefined);
  cri.close();
  await removeAllPods(ctrd.cri);
  const r = (v: number): number => Math.round(v);
  return {
    limit, pods, wallMs: r(wallMs), p50Ms: r(percentile(ok, 50)), p99Ms: r(percentile(ok, 99)),
    slowestCallMs: r(slowest?.tookMs ?? 0), slowestRpc: slowest?.rpc ?? '', failed: results.length - ok.length,
  };
}

async function main(argv: string[]): Promise<void> {
  const flag = (f: string, d: string): string => { const i = argv.indexOf(f); return i >= 0 ? argv[i + 1] : d; };
  const pods = Number(flag('--pods', '40'));
  const rounds = Number(flag('--rounds', '1'));
  const limits = flag('--limits', '1,2,4,8,inf').split(',').map((s) => (s === 'inf' ? Infinity : Number(s)));
  const why = containerdE2eUnavailable();
  if (why) throw new Error(`cannot run: ${why}`);
  let ns: TestNetns | undefined;
  let ctrd: TestContainerd | undefined;
  try {
    ns = await createNetns('mkburst');
    ctrd = await startTestContainerd({ netns: ns });
    // One warm-up pod so no limit pays first-use costs (snapshots, CNI plugin binaries).
    await burst(ctrd, Infinity, 1, 'warm');
    console.log('| limit | pods | wall (ms) | p50 per pod (ms) | p99 per pod (ms) | slowest call once sent (ms) | failed |');
    console.log('|---|---|---|---|---|---|---|');
    for (let round = 0; round < rounds; round++) {
      for (const limit of limits) {
        const b = await burst(ctrd, limit, pods, `${round}-${limit}`);
        console.log(`| ${b.limit === Infinity ? 'none' : b.limit} | ${b.pods} | ${b.wallMs} | ${b.p50Ms} | ${b.p99Ms} | ${b.slowestCallMs} (${b.slowestRpc}) | ${b.failed} |`);
      }
    }
  } finally {
    await ctrd?.stop();
    await ns?.destroy();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => { console.error(err instanceof Error ? err.stack : err); process.exitCode = 1; });
}
