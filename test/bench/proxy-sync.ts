/**
 * `npm run bench -- proxy-sync [--services S] [--endpoints E] [--rounds R]` (as root): the
 * service proxy (node-agent/proxy) programs real iptables in a network namespace the benchmark
 * creates: the time of its first sync of S services x E endpoints, then of the sync after one
 * endpoint changed among them (partial: only the chains that changed), against a full resync of
 * the same state, alternating over R rounds. Prints the iptables-restore input size of each.
 */
import { buildRules, startServiceProxy, type ProxyNode, type ServiceProxy } from '../../node-agent/proxy';
import { planRestore, snapshot } from '../../node-agent/proxy/restore';
import { intFlag } from './flags';
import { cleanup, netns, onCleanup, serviceOf, sliceOf, StaticSource } from './net-env';
import { formatProxySync, type ProxySyncRound, type ProxySyncRun } from './proxy-sync-report';
import { measureBusy } from './quiet';

const NODE: ProxyNode = { name: 'n1', clusterCIDR: '10.244.0.0/16', podCIDR: '10.244.1.0/24' };
const quietLog = { info: () => undefined, warn: (o: object, m: string) => console.error(m, JSON.stringify(o)) };

/** The i-th address counted from a.b.0.0. */
const addr = (a: number, b: number, i: number): string => `${a}.${b + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
const endpointsOf = (s: number, e: number, moved = false): string[] =>
  Array.from({ length: e }, (_, j) => (moved && j === 0 ? addr(10, 245, s) : addr(10, 244, 256 + s * e + j)));

const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

export async function proxySyncBench(args: string[], usage: string): Promise<void> {
  const services = intFlag(args, '--services', 1000, usage);
  const endpoints = intFlag(args, '--endpoints', 10, usage);
  const rounds = intFlag(args, '--rounds', 5, usage);
  if (process.getuid?.() !== 0) throw new Error('proxy-sync needs root (it creates a network namespace and programs its iptables)');
  try {
    const node = await netns('mkbn-sync');
    const source = new StaticSource();
    for (let s = 0; s < services; s++) {
      const name = `svc-${s}`;
      source.put(serviceOf(name, addr(10, 96, 256 + s), 30000 + (s % 2768)), [sliceOf(name, endpointsOf(s, endpoints))]);
    }
    const rulesNow = () => buildRules(source.services(), (ns, n) => source.slicesOf(ns, n), NODE);
    const initial = rulesNow();
    const natRules = [...initial.nat.values()].reduce((n, r) => n + r.length, 0);
    const firstBytes = planRestore(undefined, initial).input.length;
    const busyBefore = await measureBusy(500);
    console.error(`programming ${services} services x ${endpoints} endpoints (${natRules} nat rules) ...`);
    const t0 = process.hrtime.bigint();
    const proxy: ServiceProxy = await startServiceProxy({
      source, log: quietLog, node: NODE, prefix: ['nsenter', `--net=${node.path}`, '--'], metrics: false,
      bridgeNetfilter: false, healthChecks: false, minSyncIntervalMs: 0, fullResyncMs: 24 * 3600_000, jumpCheckMs: 24 * 3600_000,
    }).catch((err: unknown) => {
      throw new Error(`the first sync of ${natRules} nat rules (${firstBytes} bytes of restore input) failed after ${Math.round(ms(t0))} ms: ${String(err)}`);
    });
    const firstSyncMs = ms(t0);
    onCleanup(() => proxy.stop({ cleanup: true }));
    console.error(`first sync: ${Math.round(firstSyncMs)} ms`);

    const out: ProxySyncRound[] = [];
    for (let i = 0; i < rounds; i++) {
      const first = i % 2 === 0 ? 'partial' : 'full';
      const s = (i * 97) % services;
      let partialMs = 0;
      let fullMs = 0;
      let partialBytes = 0;
      let fullBytes = 0;
      const partial = async (): Promise<void> => {
        const before = snapshot(rulesNow());
        // Endpoint 0 of service s moves to another address (and back in the next round on it).
        const name = `svc-${s}`;
        const moved = source.slicesOf('default', name)[0].endpoints![0].addresses[0].startsWith('10.245.');
        source.put(serviceOf(name, addr(10, 96, 256 + s), 30000 + (s % 2768)), [sliceOf(name, endpointsOf(s, endpoints, !moved))]);
        partialBytes = planRestore(before, rulesNow()).input.length;
        const t = process.hrtime.bigint();
        await proxy.sync();
        partialMs = ms(t);
      };
      const full = async (): Promise<void> => {
        fullBytes = planRestore(undefined, rulesNow()).input.length;
        const t = process.hrtime.bigint();
        await proxy.sync({ full: true });
        fullMs = ms(t);
      };
      if (first === 'partial') { await partial(); await full(); } else { await full(); await partial(); }
      out.push({ first, partialMs, fullMs, partialBytes, fullBytes });
      console.error(`round ${i + 1}: partial ${partialMs.toFixed(1)} ms (${partialBytes} B), full ${fullMs.toFixed(1)} ms (${fullBytes} B)`);
    }
    // The rules are in place: the last endpoint moved is in the namespace's nat table.
    const save = (await node.run(['iptables-save', '-t', 'nat'])).stdout;
    const last = source.slicesOf('default', `svc-${((rounds - 1) * 97) % services}`)[0].endpoints![0].addresses[0];
    if (!save.includes(`--to-destination ${last}:8080`)) throw new Error(`the last change is not in iptables (no DNAT to ${last}:8080)`);
    const run: ProxySyncRun = { services, endpoints, firstSyncMs, firstBytes, natRules, rounds: out, busyBefore };
    for (const line of formatProxySync(run)) console.log(line);
    console.log(JSON.stringify(run));
  } finally {
    await cleanup();
  }
}
