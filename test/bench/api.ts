/**
 * `npm run bench -- api [--objects N] [--rounds R] [--lists L]`: what the api costs over the store
 * it writes. Against a nats-server and the real control plane (control-plane-env.ts), N objects
 * are created, read, updated (one request at a time, each waiting for its reply) and listed L
 * times through `mk.api.*`, and every update is timed until a subscriber of `mk.watch` sees it.
 * In the same run, on the same server, the baseline does the same with raw JetStream KV on a
 * bucket of its own (same payload size, same per-key history): create, get, update with the
 * revision, the store's own listing, and a KV watcher. Halves alternate, the order flipped every
 * round, each started on a quiet CPU.
 *
 * The objects are namespaces: cluster-scoped (no namespace read before each write) and with no
 * side effect on creation or update (their actor only reads them), so the figures are the api's
 * alone. Pods would set off the scheduler on every create (unschedulable without a node: a status
 * write and an event each), measuring the scheduler as well.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { Kvm, KvWatchInclude, type KV } from '@nats-io/kv';
import { decode, request, ObjectStore, type Bus } from '../../bus';
import { API, type ApplyResult, type ListResult, type Namespace, type WatchEvent } from '../../messages';
import {
  API_OPS, formatApi, opFigures, type ApiOp, type ApiResult, type ApiRound, type HalfFigures,
} from './api-report';
import { startControlPlaneEnv } from './control-plane-env';
import { waitForQuietCpu } from './quiet';
import { round } from './stats';
import { intFlag } from './flags';

const RAW_BUCKET = 'bench-raw';
/** Label on every benchmark namespace. */
const LABEL = 'bench-api';
/** How long a half may wait for its watch events, or the store to be emptied after it. */
const SETTLE_DEADLINE_MS = 120_000;
const QUIET = { deadlineMs: 20_000 };
/** Requests in flight in the parallel phase of each half. */
const PARALLEL = 64;

/** Clock ticks a second, the unit of /proc/<pid>/stat's CPU times. */
const CLK_TCK = ((): number => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { return 100; }
})();

/** CPU time (user + system) process `pid` has used so far, ms. */
export function cpuMsOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces); utime and stime are fields 14 and 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

/** Runs `fn` on every item with at most `limit` in flight; returns the items done a second. */
async function ratePerSecond<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
  return (items.length * 1000) / (performance.now() - t0);
}

/** A benchmark namespace; `rev` changes on every update. */
function namespace(name: string, rev: number): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [LABEL]: 'true', rev: String(rev) } } } as Namespace;
}

export type Samples = Record<ApiOp, number[]>;
const emptySamples = (): Samples => ({ create: [], get: [], update: [], list: [], watch: [] });
const figures = (s: Samples): HalfFigures => Object.fromEntries(API_OPS.map((op) => [op, opFigures(s[op])])) as HalfFigures;

/** Waits until `cond` holds, polling; throws naming `what` after `ms`. */
async function settle(what: string, cond: () => boolean | Promise<boolean>, ms = SETTLE_DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what} not done after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Times `fn` in ms. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** What the mk half measured besides its samples: CPU per request, and the parallel phase's rate. */
export interface MkExtra { cpu: { create: number; get: number; update: number }; rate: number }

/**
 * The mk half: creates, gets, updates and lists `names` through mk.api.*, then applies them again
 * with PARALLEL in flight (rate only), then deletes them (untimed). `cpu` reads the control
 * plane's CPU time.
 */
export async function mkHalf(bus: Bus, names: string[], lists: number, cpu: () => number): Promise<{ s: Samples } & MkExtra> {
  const s = emptySamples();
  const used = { create: 0, get: 0, update: 0 };
  let rate: number;
  const sentAt = new Map<string, number>();
  const sub = bus.nc.subscribe(`${API.watchPrefix}.namespaces._cluster.>`, {
    callback: (_err, msg) => {
      const at = performance.now();
      const ev = decode<WatchEvent>(msg.data);
      const name = ev.object.metadata.name;
      const t0 = sentAt.get(name);
      if (ev.type !== 'MODIFIED' || t0 === undefined || ev.object.metadata.labels?.rev !== '1') return;
      sentAt.delete(name);
      s.watch.push(at - t0);
    },
  });
  try {
    await bus.nc.flush();
    let c0 = cpu();
    for (const n of names) {
      s.create.push(await timed(async () => {
        const r = await request<ApplyResult>(bus, API.apply, { object: namespace(n, 0) });
        if (r.result !== 'created') throw new Error(`apply of new namespace ${n} answered ${r.result}`);
      }));
    }
    used.create = cpu() - c0;
    c0 = cpu();
    for (const n of names) s.get.push(await timed(() => request(bus, API.get, { kind: 'namespaces', name: n })));
    used.get = cpu() - c0;
    c0 = cpu();
    for (const n of names) {
      sentAt.set(n, performance.now());
      s.update.push(await timed(async () => {
        const r = await request<ApplyResult>(bus, API.apply, { object: namespace(n, 1) });
        if (r.result !== 'configured') throw new Error(`apply of changed namespace ${n} answered ${r.result}`);
      }));
    }
    await settle('mk.watch events of every update', () => sentAt.size === 0);
    used.update = cpu() - c0;
    for (let i = 0; i < lists; i++) {
      s.list.push(await timed(async () => {
        const r = await request<ListResult>(bus, API.list, { kind: 'namespaces' });
        if (r.items.length < names.length) throw new Error(`mk.api.list returned ${r.items.length} namespaces, fewer than the ${names.length} made`);
      }));
    }
    rate = await ratePerSecond(names, PARALLEL, async (n) => {
      const r = await request<ApplyResult>(bus, API.apply, { object: namespace(n, 2) });
      if (r.result !== 'configured') throw new Error(`parallel apply of changed namespace ${n} answered ${r.result}`);
    });
  } finally {
    sub.unsubscribe();
  }
  for (const n of names) await request(bus, API.delete, { kind: 'namespaces', name: n });
  await settle('deleting the benchmark namespaces', async () => {
    const r = await request<ListResult>(bus, API.list, { kind: 'namespaces', labelSelector: `${LABEL}=true` });
    return r.items.length === 0;
  });
  const per = (ms: number) => round(ms / names.length, 3);
  return { s, cpu: { create: per(used.create), get: per(used.get), update: per(used.update) }, rate };
}

/**
 * The raw KV half: the same operations on `kv`, the same keys and payload size, the parallel phase
 * as KV updates; emptied after (untimed).
 */
async function kvHalf(
  bus: Bus, kv: KV, raw: ObjectStore, names: string[], lists: number, payload: (rev: number) => Uint8Array,
): Promise<{ s: Samples; rate: number }> {
  const s = emptySamples();
  let rate: number;
  const sentAt = new Map<string, number>();
  const watch = await kv.watch({ key: '>', include: KvWatchInclude.UpdatesOnly });
  const watching = (async () => {
    for await (const e of watch) {
      const at = performance.now();
      const t0 = sentAt.get(e.key);
      if (t0 === undefined || e.operation !== 'PUT') continue;
      sentAt.delete(e.key);
      s.watch.push(at - t0);
    }
  })();
  const key = (n: string) => `namespaces._cluster.${n}`;
  try {
    const revs = new Map<string, number>();
    for (const n of names) s.create.push(await timed(async () => { revs.set(n, await kv.create(key(n), payload(0))); }));
    for (const n of names) {
      s.get.push(await timed(async () => {
        if (!(await kv.get(key(n)))) throw new Error(`KV get ${key(n)}: nothing stored`);
      }));
    }
    for (const n of names) {
      sentAt.set(key(n), performance.now());
      s.update.push(await timed(async () => { revs.set(n, await kv.update(key(n), payload(1), revs.get(n)!)); }));
    }
    await settle('KV watch entries of every update', () => sentAt.size === 0);
    for (let i = 0; i < lists; i++) {
      s.list.push(await timed(async () => {
        const r = await raw.list('>');
        if (r.items.length < names.length) throw new Error(`the raw bucket listed ${r.items.length} keys, fewer than the ${names.length} made`);
      }));
    }
    rate = await ratePerSecond(names, PARALLEL, async (n) => { await kv.update(key(n), payload(2), revs.get(n)!); });
  } finally {
    watch.stop();
    await watching;
  }
  await bus.jsm.streams.purge(`KV_${RAW_BUCKET}`);
  return { s, rate };
}

/** Runs the benchmark, prints its tables and one JSON line. Throws when the cluster does not come up or an operation fails. */
export async function apiBench(argv: string[]): Promise<ApiResult> {
  const objects = intFlag(argv, '--objects', 1000);
  const rounds = intFlag(argv, '--rounds', 3);
  const lists = intFlag(argv, '--lists', 20);
  const say = (l: string) => console.error(l);
  say('starting a nats-server and a control plane ...');
  const env = await startControlPlaneEnv('api');
  try {
    const { bus } = env;
    // The same per-key history as the objects bucket, so both sides write the same way.
    const kv = await new Kvm(bus.js).create(RAW_BUCKET, { history: 5 });
    const raw = await ObjectStore.open(bus, { bucket: RAW_BUCKET, create: false });
    // The raw payload is an object as the store holds it: the same bytes on both sides.
    await request(bus, API.apply, { object: namespace('bench-api-size', 0) });
    const stored = (await request<{ object: Namespace }>(bus, API.get, { kind: 'namespaces', name: 'bench-api-size' })).object;
    await request(bus, API.delete, { kind: 'namespaces', name: 'bench-api-size' });
    const enc = new TextEncoder();
    const payload = (rev: number) => enc.encode(JSON.stringify({ ...stored, metadata: { ...stored.metadata, labels: { [LABEL]: 'true', rev: String(rev) } } }));
    const payloadBytes = payload(0).length;

    say('warm-up (not counted): 100 objects through each side ...');
    const warmNames = Array.from({ length: Math.min(100, objects) }, (_, i) => `api-warm-${i}`);
    const cpu = () => cpuMsOf(env.cpPid);
    await mkHalf(bus, warmNames, 2, cpu);
    await kvHalf(bus, kv, raw, warmNames, 2, payload);

    const out: ApiRound[] = [];
    for (let r = 1; r <= rounds; r++) {
      const names = Array.from({ length: objects }, (_, i) => `api-r${r}-${i}`);
      const first = r % 2 === 1 ? 'kv' : 'mk';
      const busyBefore = { mk: 0, kv: 0 };
      let mk: HalfFigures | undefined;
      let base: HalfFigures | undefined;
      let extra: MkExtra | undefined;
      let kvRate = 0;
      for (const side of first === 'kv' ? ['kv', 'mk'] as const : ['mk', 'kv'] as const) {
        busyBefore[side] = (await waitForQuietCpu(QUIET)).busy;
        if (side === 'mk') {
          const h = await mkHalf(bus, names, lists, cpu);
          mk = figures(h.s);
          extra = h;
        } else {
          const h = await kvHalf(bus, kv, raw, names, lists, payload);
          base = figures(h.s);
          kvRate = h.rate;
        }
      }
      out.push({
        round: r, first, mk: mk!, kv: base!, busyBefore, cpuMsPerRequest: extra!.cpu,
        parallel: { inFlight: PARALLEL, mk: Math.round(extra!.rate), kv: Math.round(kvRate) },
      });
      const last = out[out.length - 1];
      say(`round ${r}/${rounds}, ${first} first: ${API_OPS.map((o) => `${o} ${last.mk[o].p50}/${last.kv[o].p50}`).join(', ')} (p50 ms, mk/KV)`);
    }
    const res: ApiResult = { objects, lists, payloadBytes, rounds: out };
    for (const line of formatApi(res)) console.log(line);
    console.log(JSON.stringify(res));
    return res;
  } finally {
    await env.stop();
  }
}
