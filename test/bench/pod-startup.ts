/**
 * The pod-startup benchmark's inner half, run inside the cluster's network namespace: time from
 * `mk.api.apply` to the pod's Running status (seen on mk.watch), for N pods one after another and
 * N at once; and the baseline, the same sandboxes and containers made by calling CRI directly on
 * the node's containerd.
 */
import fs from 'node:fs';
import path from 'node:path';
import { connectBus, decode, request, type Bus } from '../../bus';
import { API, type ApplyResult, type Pod, type WatchEvent } from '../../messages';
import { CriClient } from '../../node-agent/cri';
import { summary } from './stats';

const IMAGE = 'docker.io/library/busybox:latest';

function podManifest(name: string): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { bench: 'pod-startup' } },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: IMAGE, command: ['sleep', '3600'] }] },
  };
}

async function mkRun(bus: Bus, names: string[], concurrent: boolean): Promise<number[]> {
  const started = new Map<string, number>();
  const done = new Map<string, number>();
  let wake: (() => void) | undefined;
  const sub = bus.nc.subscribe(`${API.watchPrefix}.pods.default.>`, {
    callback: (_e, msg) => {
      const ev = decode<WatchEvent>(msg.data);
      const pod = ev.object as Pod;
      if (pod.status?.phase === 'Running' && started.has(pod.metadata.name) && !done.has(pod.metadata.name)) {
        done.set(pod.metadata.name, performance.now());
        wake?.();
      }
    },
  });
  await bus.nc.flush();
  const waitFor = (n: string) => new Promise<void>((resolve) => {
    const check = () => { if (done.has(n)) resolve(); else wake = check; };
    check();
  });
  const one = async (n: string) => {
    started.set(n, performance.now());
    await request<ApplyResult>(bus, API.apply, { object: podManifest(n) });
  };
  if (concurrent) {
    await Promise.all(names.map(one));
    const deadline = Date.now() + 300_000;
    while (names.some((n) => !done.has(n))) {
      if (Date.now() > deadline) throw new Error('pods did not all reach Running in 300 s');
      await new Promise<void>((r) => { wake = r; setTimeout(r, 1000); });
    }
  } else {
    for (const n of names) { await one(n); await waitFor(n); }
  }
  sub.unsubscribe();
  for (const n of names) await request(bus, API.delete, { kind: 'pods', name: n, gracePeriodSeconds: 0 });
  return names.map((n) => done.get(n)! - started.get(n)!);
}

async function criOne(cri: CriClient, name: string, logDir: string): Promise<{ ms: number; sandbox: string }> {
  const t0 = performance.now();
  const uid = `bench-${name}`;
  const config = {
    metadata: { name, uid, namespace: 'bench', attempt: 0 }, hostname: name, logDirectory: path.join(logDir, name),
    labels: { bench: 'cri' }, linux: { cgroupParent: `/kubepods/besteffort/pod${uid}` },
  };
  const sb = await cri.runPodSandbox({ config } as never);
  const c = await cri.createContainer({
    podSandboxId: sb.podSandboxId, sandboxConfig: config,
    config: { metadata: { name: 'main', attempt: 0 }, image: { image: IMAGE }, command: ['sleep', '3600'], logPath: 'main/0.log' },
  } as never);
  await cri.startContainer({ containerId: c.containerId });
  return { ms: performance.now() - t0, sandbox: sb.podSandboxId };
}

async function criRun(cri: CriClient, names: string[], concurrent: boolean, logDir: string): Promise<number[]> {
  const out = concurrent ? await Promise.all(names.map((n) => criOne(cri, n, logDir))) : [];
  if (!concurrent) for (const n of names) out.push(await criOne(cri, n, logDir));
  for (const { sandbox } of out) {
    await cri.stopPodSandbox({ podSandboxId: sandbox });
    await cri.removePodSandbox({ podSandboxId: sandbox });
  }
  return out.map((o) => o.ms);
}

/** Runs both halves and prints one JSON line of results. */
export async function podStartupInner(dataDir: string, n: number): Promise<void> {
  const ctx = JSON.parse(fs.readFileSync(path.join(dataDir, 'config.json'), 'utf8'));
  const bus = await connectBus({ servers: ctx.servers, user: ctx.user, pass: ctx.pass, name: 'mk-bench' });
  const socket = path.join(dataDir, 'node', 'containerd', 'containerd.sock');
  const cri = await CriClient.connect(socket);
  const logDir = fs.mkdtempSync(path.join(dataDir, 'bench-logs-'));
  const names = (p: string) => Array.from({ length: n }, (_, i) => `${p}-${i}`);
  // One warm-up each, so neither side pays first-use costs in the measurement.
  await mkRun(bus, ['warm'], false);
  await criRun(cri, ['warm'], false, logDir);
  const results = {
    mkSequential: summary(await mkRun(bus, names('seq'), false)),
    criSequential: summary(await criRun(cri, names('cseq'), false, logDir)),
    mkConcurrent: summary(await mkRun(bus, names('con'), true)),
    criConcurrent: summary(await criRun(cri, names('ccon'), true, logDir)),
  };
  console.log(JSON.stringify(results));
  cri.close();
  await bus.close();
}
