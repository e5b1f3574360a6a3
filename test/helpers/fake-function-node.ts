/**
 * A fake node for function tests, with no containerd: a Node object in the store and a loop that,
 * for each function instance pod bound to it, does what a node agent with the functions.mk.io
 * volume would: unpacks the code from the object store into a temp dir, spawns the real loader
 * (node-agent/functions/loader.py with the host's python3, or loader.js) on 127.0.0.<n>:8080
 * (every 127.0.0.x address is loopback on Linux), which loads the handler or command itself
 * from the pod's env, and writes the pod Running and Ready with podIP 127.0.0.<n>. A pod being
 * deleted, or gone, has its loader killed (and a deleted one is removed from the store).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ObjectStore } from '../../bus';
import { getCode, openCodeBucket, unpack } from '../../bus/function-code';
import { FUNCTION_LABEL, type Pod } from '../../messages';
import { fakeNode, putNode } from './fake-nodes';

const ROOT = path.resolve(__dirname, '..', '..');

interface Loader { child: ChildProcess; dir: string; ip: string; uid: string }

/** A running fake function node. */
export interface FakeFunctionNode {
  name: string;
  /** Loaders running now, by pod key. */
  loaders(): Map<string, { ip: string; pid: number }>;
  /** Loader starts so far. */
  started(): number;
  stop(): Promise<void>;
}

const kill = async (l: Loader): Promise<void> => {
  if (l.child.exitCode === null && l.child.signalCode === null) {
    const gone = new Promise((r) => l.child.once('exit', r));
    l.child.kill('SIGKILL');
    await gone;
  }
  fs.rmSync(l.dir, { recursive: true, force: true });
};


/** Starts the fake node `name` (see above); `firstHost` is the last octet of the first loader's address. */
export async function startFakeFunctionNode(store: ObjectStore, name = 'fn-fake-node', firstHost = 2): Promise<FakeFunctionNode> {
  await putNode(store, fakeNode(name));
  const bucket = await openCodeBucket(store.bus.nc);
  const loaders = new Map<string, Loader>();
  const starting = new Set<string>();
  let next = firstHost;
  let starts = 0;
  let stopped = false;

  const start = async (key: string, pod: Pod): Promise<void> => {
    const ip = `127.0.0.${next++}`;
    const c = pod.spec.containers[0];
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? '']));
    const digest = (pod.spec.volumes?.[0] as unknown as { csi?: { volumeAttributes?: { digest?: string } } })?.csi?.volumeAttributes?.digest ?? '';
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-fake-fn-'));
    try {
      unpack(await getCode(bucket, digest), dir);
    } catch (err) {
      // No loader owns the directory yet: it goes here.
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const python = c.image.includes('python');
    const loaderPath = path.join(ROOT, 'node-agent', 'functions', python ? 'loader.py' : 'loader.js');
    const child = spawn(python ? 'python3' : process.execPath, [loaderPath], {
      // The loader loads the code itself, from MK_FUNCTION_HANDLER or MK_FUNCTION_COMMAND, as in a pod.
      env: { ...process.env, ...env, MK_FUNCTION_CODE_DIR: dir, MK_FUNCTION_HOST: ip, MK_FUNCTION_PORT: '8080', PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const l: Loader = { child, dir, ip, uid: pod.metadata.uid ?? '' };
    loaders.set(key, l);
    starts++;
    const base = `http://${ip}:8080`;
    // Ready once /healthz says so (the code loaded); a loader that exited failed to load it.
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`loader on ${ip} exited ${child.exitCode} before it was ready`);
      const ready = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
      if (ready) break;
      if (i > 400) throw new Error(`loader on ${ip} was not ready after 10 s`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await store.mutate<Pod>(key, (cur) => (cur.metadata.uid !== pod.metadata.uid || cur.metadata.deletionTimestamp ? null : {
      ...cur,
      status: { ...cur.status, phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: at }] },
    })).catch(() => undefined);
  };

  const done = (async () => {
    while (!stopped) {
      const { items } = await store.list<Pod>('pods.>').catch(() => ({ items: [] as { key: string; object: Pod }[] }));
      const present = new Set<string>();
      for (const { key, object: p } of items) {
        if (p.spec.nodeName !== name || !p.metadata.labels?.[FUNCTION_LABEL]) continue;
        present.add(key);
        const l = loaders.get(key);
        if (p.metadata.deletionTimestamp) {
          if (l) { loaders.delete(key); await kill(l); }
          await store.delete(key).catch(() => undefined);
          continue;
        }
        if (l && l.uid !== p.metadata.uid) { loaders.delete(key); await kill(l); }
        if (!loaders.has(key) && !starting.has(key)) {
          starting.add(key);
          void start(key, p).catch(() => undefined).finally(() => starting.delete(key));
        }
      }
      for (const [key, l] of loaders) {
        if (!present.has(key) && !starting.has(key)) { loaders.delete(key); await kill(l); }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  return {
    name,
    loaders: () => new Map([...loaders].map(([k, l]) => [k, { ip: l.ip, pid: l.child.pid ?? 0 }])),
    started: () => starts,
    async stop() {
      stopped = true;
      await done;
      while (starting.size > 0) await new Promise((r) => setTimeout(r, 20));
      for (const l of loaders.values()) await kill(l);
      loaders.clear();
    },
  };
}
