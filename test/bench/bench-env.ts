/**
 * What the benchmarks' inner halves share: a connection to the cluster's bus and to its node's
 * containerd (from inside the cluster's network namespace), the benchmark pod, and driving mk
 * from apply to Running.
 */
import fs from 'node:fs';
import path from 'node:path';
import { connectBus, decode, request, type Bus } from '../../bus';
import { API, type ApplyResult, type KubeObject, type ListResult, type Pod, type WatchEvent } from '../../messages';
import { CriClient } from '../../node-agent/cri';

/** The image of every benchmark pod (built into the node by `mk up`). */
export const BENCH_IMAGE = 'docker.io/library/busybox:latest';
/** Label on every pod the benchmarks create through mk. */
export const BENCH_LABEL = { key: 'bench', value: 'pod-startup' } as const;
/** How long one pod may take to reach Running before a half gives up. */
const RUNNING_DEADLINE_MS = 120_000;

/** A connection to a running cluster's bus and to its node's containerd. */
export interface BenchEnv {
  dataDir: string;
  bus: Bus;
  cri: CriClient;
  /** The node agent's pod log root, so baseline sandboxes log where mk's do. */
  podLogsRoot: string;
  close(): Promise<void>;
}

/**
 * Connects to the cluster in `dataDir` with the CLI's credentials (requests and watches only, like
 * the CLI). Throws when either is down.
 */
export async function openBenchEnv(dataDir: string, name: string): Promise<BenchEnv> {
  const ctx = JSON.parse(fs.readFileSync(path.join(dataDir, 'config.json'), 'utf8')) as { servers: string[]; user: string; pass: string; caFile?: string };
  const bus = await connectBus({ servers: ctx.servers, user: ctx.user, pass: ctx.pass, caFile: ctx.caFile, name, checkJetStream: false });
  const cri = await CriClient.connect(path.join(dataDir, 'node', 'containerd', 'containerd.sock'));
  return {
    dataDir, bus, cri, podLogsRoot: path.join(dataDir, 'node', 'pods'),
    async close() { cri.close(); await bus.close(); },
  };
}

/** The benchmark pod: busybox sleeping, nothing else, so only startup itself is timed. */
export function benchPod(name: string): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { [BENCH_LABEL.key]: BENCH_LABEL.value } },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: BENCH_IMAGE, command: ['sleep', '3600'] }] },
  };
}

/** Start and Running times (performance.now()) of one pod made through mk. */
export interface MkPodTiming { name: string; appliedAt: number; runningAt: number }

/**
 * Applies the pods through `mk.api.apply` and waits for each one's Running status on
 * `mk.watch.pods.default.<name>`: one after another (each waits for the one before), or all at
 * once. `objectsOf(name)` gives what is applied for a pod, in order, the pod last (by default the
 * bench pod alone); its clock starts before the first of them. Throws when a pod is not Running
 * within two minutes or an apply is refused.
 */
export async function applyUntilRunning(
  bus: Bus, names: string[], concurrent: boolean, objectsOf: (name: string) => KubeObject[] = (n) => [benchPod(n) as KubeObject],
): Promise<MkPodTiming[]> {
  const applied = new Map<string, number>();
  const running = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const sub = bus.nc.subscribe(`${API.watchPrefix}.pods.default.>`, {
    callback: (_err, msg) => {
      const at = performance.now();
      const pod = decode<WatchEvent>(msg.data).object as Pod;
      const n = pod.metadata.name;
      if (pod.status?.phase !== 'Running' || !applied.has(n) || running.has(n)) return;
      running.set(n, at);
      waiters.get(n)?.();
    },
  });
  try {
    await bus.nc.flush();
    const untilRunning = (n: string) => new Promise<void>((resolve, reject) => {
      if (running.has(n)) { resolve(); return; }
      const timer = setTimeout(() => reject(new Error(`pod ${n} did not reach Running within ${RUNNING_DEADLINE_MS} ms`)), RUNNING_DEADLINE_MS);
      waiters.set(n, () => { clearTimeout(timer); resolve(); });
    });
    const one = async (n: string) => {
      applied.set(n, performance.now());
      for (const object of objectsOf(n)) await request<ApplyResult>(bus, API.apply, { object });
      await untilRunning(n);
    };
    if (concurrent) await Promise.all(names.map(one));
    else for (const n of names) await one(n);
  } finally {
    sub.unsubscribe();
  }
  return names.map((n) => ({ name: n, appliedAt: applied.get(n)!, runningAt: running.get(n)! }));
}

/** Deletes the pods at once (grace 0): the node agent tears their sandboxes down. */
export async function deletePods(bus: Bus, names: string[]): Promise<void> {
  for (const n of names) await request(bus, API.delete, { kind: 'pods', name: n, gracePeriodSeconds: 0 });
}

/** True when the store holds no benchmark pod any more. */
export async function noBenchPods(bus: Bus): Promise<boolean> {
  const res = await request<ListResult>(bus, API.list, { kind: 'pods', namespace: 'default', labelSelector: `${BENCH_LABEL.key}=${BENCH_LABEL.value}` });
  return res.items.length === 0;
}
