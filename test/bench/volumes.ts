/**
 * The volumes benchmark's inner part, run inside the cluster's network namespace: apply -> Running
 * of a pod with an emptyDir, a ConfigMap and a claim of the default class (local-path) mounted,
 * against the same pod with no volume, N pods one after another per half, in alternating halves
 * of the same run.
 *
 * Each pod with volumes gets a claim of its own, applied just before it: its clock starts before
 * the claim's apply, so binding (WaitForFirstConsumer: after the pod is scheduled) and the
 * volume's directory are part of its start, as they are for a user who applies both. The
 * ConfigMap is made once, before the warm-up. Every half starts on a quiet node (containerd
 * empty, no benchmark pod, claim or volume left, the CPU idle again); the order flips every round.
 */
import { API, type KubeObject, type ListResult, type Pod } from '../../messages';
import { request } from '../../bus';
import { applyUntilRunning, BENCH_LABEL, benchPod, deletePods, noBenchPods, openBenchEnv, type BenchEnv } from './bench-env';
import { waitForQuietNode, type QuietReport } from './quiet';
import { percentile, round } from './stats';

/** Which pods a half makes. */
export type VolumeSide = 'with' | 'without';

/** One half of one round: per-pod apply -> Running in ms, and its figures. */
export interface VolumesHalf { p50: number; p90: number; min: number; max: number; n: number; ms: number[]; quiet: QuietReport }

/** Both halves of one round, and with / without. */
export interface VolumesRound { round: number; first: VolumeSide; with: VolumesHalf; without: VolumesHalf; ratioP50: number; ratioP90: number }

/** Everything the benchmark measured (printed as one JSON line). */
export interface VolumesResult {
  pods: number;
  rounds: number;
  /** The command that reruns it. */
  command: string;
  results: VolumesRound[];
}

/** Options of the inner benchmark. */
export interface VolumesOptions {
  dataDir: string;
  pods: number;
  rounds: number;
  progress?: (line: string) => void;
}

/** The ConfigMap every pod with volumes mounts. */
export const VOLUMES_CONFIGMAP = 'bench-volumes';

/** The command line that reruns the benchmark with these figures. */
export const volumesCommand = (pods: number, rounds: number): string => `npm run bench -- volumes --pods ${pods} --rounds ${rounds}`;

/** The sides in the order they run in round `r` (0-based): without volumes first in even rounds. */
export function volumeOrderOf(r: number): [VolumeSide, VolumeSide] {
  return r % 2 === 0 ? ['without', 'with'] : ['with', 'without'];
}

/** The claim of the pod `name`: the default class, 16Mi, ReadWriteOnce, labelled like the bench pods. */
export function benchClaim(name: string): KubeObject {
  return {
    apiVersion: 'v1', kind: 'PersistentVolumeClaim',
    metadata: { name: `${name}-data`, labels: { [BENCH_LABEL.key]: BENCH_LABEL.value } },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '16Mi' } } },
  } as KubeObject;
}

/** The bench pod with an emptyDir, the ConfigMap and its claim mounted. */
export function volumesPod(name: string): Pod {
  const p = benchPod(name);
  const c = p.spec.containers[0];
  return {
    ...p,
    spec: {
      ...p.spec,
      containers: [{ ...c, volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }, { name: 'config', mountPath: '/config', readOnly: true }, { name: 'data', mountPath: '/data' }] }],
      volumes: [
        { name: 'scratch', emptyDir: {} },
        { name: 'config', configMap: { name: VOLUMES_CONFIGMAP } },
        { name: 'data', persistentVolumeClaim: { claimName: `${name}-data` } },
      ],
    },
  } as Pod;
}

/** What a pod of `side` applies, in order (the pod last). */
export function objectsOf(side: VolumeSide, name: string): KubeObject[] {
  return side === 'with' ? [benchClaim(name), volumesPod(name) as KubeObject] : [benchPod(name) as KubeObject];
}

/** A half's figures from its samples. */
export function halfOf(ms: number[], quiet: QuietReport): VolumesHalf {
  return {
    p50: round(percentile(ms, 50)), p90: round(percentile(ms, 90)), min: round(Math.min(...ms)), max: round(Math.max(...ms)),
    n: ms.length, ms: ms.map((v) => round(v)), quiet: { ...quiet, busy: round(quiet.busy, 3) },
  };
}

/** True when the store holds no benchmark claim and no volume at all (the benchmark's cluster has no other). */
async function noBenchStorage(env: BenchEnv): Promise<boolean> {
  const sel = `${BENCH_LABEL.key}=${BENCH_LABEL.value}`;
  const claims = await request<ListResult>(env.bus, API.list, { kind: 'persistentvolumeclaims', namespace: 'default', labelSelector: sel });
  if (claims.items.length > 0) return false;
  const volumes = await request<ListResult>(env.bus, API.list, { kind: 'persistentvolumes' });
  return volumes.items.length === 0;
}

/** Deletes the pods at once (grace 0), then their claims (their volumes, policy Delete, follow). */
async function deleteHalf(env: BenchEnv, side: VolumeSide, names: string[]): Promise<void> {
  await deletePods(env.bus, names);
  if (side === 'with') for (const n of names) await request(env.bus, API.delete, { kind: 'persistentvolumeclaims', name: `${n}-data` });
}

/** Runs the benchmark and returns its figures. Throws when a pod fails or the node never empties. */
export async function volumesBench(opts: VolumesOptions): Promise<VolumesResult> {
  const say = opts.progress ?? (() => undefined);
  const env = await openBenchEnv(opts.dataDir, 'mk-bench-volumes');
  try {
    await request(env.bus, API.apply, {
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: VOLUMES_CONFIGMAP }, data: { 'settings.conf': 'level=info\n' } } as KubeObject,
    });
    const quiet = () => waitForQuietNode(env.cri, { alsoWaitFor: async () => (await noBenchPods(env.bus)) && noBenchStorage(env) });
    const names = (prefix: string) => Array.from({ length: opts.pods }, (_, i) => `${prefix}-${i}`);
    const run = async (side: VolumeSide, ns: string[]): Promise<number[]> => {
      try {
        const t = await applyUntilRunning(env.bus, ns, false, (n) => objectsOf(side, n));
        return t.map((x) => x.runningAt - x.appliedAt);
      } finally {
        await deleteHalf(env, side, ns).catch(() => undefined);
      }
    };

    // Warm-ups, not measured: first-use costs (code paths, the image, the provisioner) on both sides.
    for (const side of ['without', 'with'] as const) {
      say(`warm-up: 1 pod ${side} volumes`);
      await quiet();
      await run(side, [`warm-${side}`]);
    }

    const results: VolumesRound[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      const order = volumeOrderOf(r);
      const got: Partial<Record<VolumeSide, VolumesHalf>> = {};
      for (const side of order) {
        const q = await quiet();
        if (!q.idle) say(`  (the CPU was still ${Math.round(q.busy * 100)} % busy after ${q.waitedMs} ms: another workload on this machine?)`);
        got[side] = halfOf(await run(side, names(`r${r}-${side}`)), q);
      }
      const w = got.with!;
      const wo = got.without!;
      results.push({ round: r + 1, first: order[0], with: w, without: wo, ratioP50: round(w.p50 / wo.p50, 3), ratioP90: round(w.p90 / wo.p90, 3) });
      say(`round ${r + 1}/${opts.rounds}, ${order[0]} first: with volumes p50 ${w.p50} ms, without p50 ${wo.p50} ms`);
    }
    await quiet();
    return { pods: opts.pods, rounds: opts.rounds, command: volumesCommand(opts.pods, opts.rounds), results };
  } finally {
    await request(env.bus, API.delete, { kind: 'configmaps', name: VOLUMES_CONFIGMAP }).catch(() => undefined);
    await env.close();
  }
}

/** Entry of the inner process: runs the benchmark and prints its result as one JSON line. */
export async function volumesInner(opts: VolumesOptions): Promise<void> {
  const res = await volumesBench({ ...opts, progress: opts.progress ?? ((l) => console.error(l)) });
  console.log(JSON.stringify(res));
}
