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
import { Kvm, KvWatchInclude, type KV } from '@nats-io/kv';
import { decode, request, ObjectStore, type Bus } from '../../bus';
import { API, type ApplyResult, type ListResult, type Namespace, type WatchEvent } from '../../messages';
import {
  API_OPS, formatApi, opFigures, type ApiOp, type ApiResult, type ApiRound, type HalfFigures,
} from './api-report';
import { startControlPlaneEnv } from './control-plane-env';
import { waitForQuietCpu } from './quiet';
import { intFlag } from './flags';

const RAW_BUCKET = 'bench-raw';
/** Label on every benchmark namespace. */
const LABEL = 'bench-api';
/** How long a half may wait for its watch events, or the store to be emptied after it. */
const SETTLE_DEADLINE_MS = 120_000;
const QUIET = { deadlineMs: 20_000 };

/** A benchmark namespace; `rev` changes on every update. */
function namespace(name: string, rev: number): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [LABEL]: 'true', rev: String(rev) } } } as Namespace;
}

type Samples = Record<ApiOp, number[]>;
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

/** The mk half: creates, gets, updates and lists `names` through mk.api.*, then deletes them (untimed). */
async function mkHalf(bus: Bus, names: string[], lists: number): Promise<Samples> {
  const s = emptySamples();
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
    for (const n of names) {
      s.create.push(await timed(async () => {
        const r = await request<ApplyResult>(bus, API.apply, { object: namespace(n, 0) });
        if (r.result !== 'created') throw new Error(`apply of new namespace ${n} answered ${r.result}`);
      }));
    }
    for (const n of names) s.get.push(await timed(() => request(bus, API.get, { kind: 'namespaces', name: n })));
    for (const n of names) {
      sentAt.set(n, performance.now());
      s.update.push(await timed(async () => {
        const r = await request<ApplyResult>(bus, API.apply, { object: namespace(n, 1) });
        if (r.result !== 'configured') throw new Error(`apply of changed namespace ${n} answered ${r.result}`);
      }));
    }
    for (let i = 0; i < lists; i++) {
      s.list.push(await timed(async () => {
        const r = await request<ListResult>(bus, API.list, { kind: 'namespaces' });
        if (r.items.length < names.length) throw new Error(`mk.api.list returned ${r.items.length} namespaces, fewer than the ${names.length} made`);
      }));
    }
    await settle('mk.watch events of every update', () => sentAt.size === 0);
  } finally {
    sub.unsubscribe();
  }
  for (const n of names) await request(bus, API.delete, { kind: 'namespaces', name: n });
  await settle('deleting the benchmark namespaces', async () => {
    const r = await request<ListResult>(bus, API.list, { kind: 'namespaces', labelSelector: `${LABEL}=true` });
    return r.items.length === 0;
  });
  return s;
}

/** The raw KV half: the same operations on `kv`, the same keys and payload size; emptied after (untimed). */
async function kvHalf(bus: Bus, kv: KV, raw: ObjectStore, names: string[], lists: number, payload: (rev: number) => Uint8Array): Promise<Samples> {
  const s = emptySamples();
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
      s.update.push(await timed(() => kv.update(key(n), payload(1), revs.get(n)!)));
    }
    for (let i = 0; i < lists; i++) {
      s.list.push(await timed(async () => {
        const r = await raw.list('>');
        if (r.items.length < names.length) throw new Error(`the raw bucket listed ${r.items.length} keys, fewer than the ${names.length} made`);
      }));
    }
    await settle('KV watch entries of every update', () => sentAt.size === 0);
  } finally {
    watch.stop();
    await watching;
  }
  await bus.jsm.streams.purge(`KV_${RAW_BUCKET}`);
  return s;
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
    await mkHalf(bus, warmNames, 2);
    await kvHalf(bus, kv, raw, warmNames, 2, payload);

    const out: ApiRound[] = [];
    for (let r = 1; r <= rounds; r++) {
      const names = Array.from({ length: objects }, (_, i) => `api-r${r}-${i}`);
      const first = r % 2 === 1 ? 'kv' : 'mk';
      const busyBefore = { mk: 0, kv: 0 };
      let mk: HalfFigures | undefined;
      let base: HalfFigures | undefined;
      for (const side of first === 'kv' ? ['kv', 'mk'] as const : ['mk', 'kv'] as const) {
        busyBefore[side] = (await waitForQuietCpu(QUIET)).busy;
        if (side === 'mk') mk = figures(await mkHalf(bus, names, lists));
        else base = figures(await kvHalf(bus, kv, raw, names, lists, payload));
      }
      out.push({ round: r, first, mk: mk!, kv: base!, busyBefore });
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
