/**
 * The service proxy: follows a ServiceNetworkSource and keeps iptables in line with buildRules,
 * one `iptables-restore --noflush` transaction per sync writing only the chains that changed
 * since the last one. The first sync, and one every `fullResyncMs`, is full: it writes every
 * chain, deletes proxy chains it did not make (left by a killed predecessor) and puts back the
 * jumps from the built-in chains. Bursts of changes are coalesced: syncs are at least
 * `minSyncIntervalMs` apart, as kube-proxy's --iptables-min-sync-period.
 */
import { Gauge, Histogram, register } from 'prom-client';
import { backoffDelay, type BackoffPolicy } from '../../common/backoff';
import type { ServiceNetworkSource } from '../service-network/types';
import { ensureBridgeNetfilter } from './bridge';
import { JUMPS } from './chains';
import { HealthCheckServers } from './health';
import { chainsOf, ensureJump, hasConntrack, removeProxyRules, restore, runCommand, type Commands } from './iptables';
import { planRestore, snapshot, TABLES, type AppliedChains, type Table } from './restore';
import { buildRules, RuleCache, type ProxyNode, type UdpFlow } from './rules';

/** Options of startServiceProxy. */
export interface ServiceProxyOptions extends Commands {
  source: ServiceNetworkSource;
  node: ProxyNode;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void; debug?(o: object, m: string): void };
  /** Least time between two syncs (default 100 ms). */
  minSyncIntervalMs?: number;
  /** Between full syncs (default 5 minutes). */
  fullResyncMs?: number;
  /**
   * Between checks of the jumps from the built-in chains (default 30 s): another program may put
   * a rule before MK-POSTROUTING's jump (MK-POD-NETWORK does when the first other node appears).
   */
  jumpCheckMs?: number;
  /** Record prom-client metrics (default true). */
  metrics?: boolean;
  /** Set net.bridge.bridge-nf-call-iptables=1 in the namespace (default true): bridge.ts. */
  bridgeNetfilter?: boolean;
  /** After a failed sync, when the next (full) one runs (default 1 s doubling to 30 s). */
  retry?: BackoffPolicy;
  /**
   * Serve the health check node ports of Local services (health.ts) in this process's network
   * namespace (default: true without a command prefix, which programs another namespace).
   */
  healthChecks?: boolean;
}

const RETRY: BackoffPolicy = { initialMs: 1_000, maxMs: 30_000, jitter: 0.2 };

/** A running proxy. */
export interface ServiceProxy {
  /** Syncs now (after any sync in progress) and resolves when it is done; `full` forces a full one. */
  sync(opts?: { full?: boolean }): Promise<void>;
  /** Stops following changes; with `cleanup`, removes every rule and chain the proxy made. */
  stop(opts?: { cleanup?: boolean }): Promise<void>;
}

function metric<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

const syncDuration = (): Histogram<'kind'> => metric('mk_proxy_sync_duration_seconds', () => new Histogram({
  name: 'mk_proxy_sync_duration_seconds', help: 'Time one service proxy sync took (iptables-restore included)',
  labelNames: ['kind'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
}));
const rulesGauge = (): Gauge<'table'> => metric('mk_proxy_rules', () => new Gauge({
  name: 'mk_proxy_rules', help: 'Rules the service proxy keeps, per table', labelNames: ['table'],
}));
const lastSync = (): Gauge => metric('mk_proxy_last_sync_timestamp_seconds', () => new Gauge({
  name: 'mk_proxy_last_sync_timestamp_seconds', help: 'When the service proxy last synced iptables successfully (Unix time)',
}));

/**
 * Starts the proxy: one full sync now (throws what it throws: iptables missing, not permitted),
 * then a sync after every change of `source`. Later failures are logged and the next sync is full.
 */
export async function startServiceProxy(opts: ServiceProxyOptions): Promise<ServiceProxy> {
  const cmds: Commands = { prefix: opts.prefix };
  const minInterval = opts.minSyncIntervalMs ?? 100;
  const metrics = opts.metrics === false ? undefined : { duration: syncDuration(), rules: rulesGauge(), last: lastSync() };
  let applied: AppliedChains | undefined;
  let appliedUdp: UdpFlow[] = [];
  let udpKnown = false;
  let conntrack: boolean | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let lastEnd = 0;
  let timer: NodeJS.Timeout | undefined;
  let wantFull = true;
  let failures = 0;
  const health = (opts.healthChecks ?? !opts.prefix?.length) ? new HealthCheckServers(opts.log) : undefined;
  let retryTimer: NodeJS.Timeout | undefined;

  const deleteConntrack = async (gone: Array<Omit<UdpFlow, 'endpoint'> & { endpoint?: string }>): Promise<void> => {
    if (gone.length === 0) return;
    conntrack ??= await hasConntrack(cmds);
    if (!conntrack) {
      opts.log.warn({ flows: gone.length }, 'conntrack is not installed: UDP flows to removed endpoints live on until they time out');
      return;
    }
    for (const f of gone) {
      const match = f.vip ? ['--orig-dst', f.vip, '--orig-port-dst', String(f.port)] : ['--orig-port-dst', String(f.port)];
      // Exit 1 means "nothing matched", which is fine.
      await runCommand(cmds, ['conntrack', '-D', '-p', 'udp', ...match, ...(f.endpoint ? ['--dst-nat', f.endpoint] : [])]).catch(() => undefined);
    }
  };

  let cache = new RuleCache();
  const pass = async (full: boolean): Promise<void> => {
    const started = process.hrtime.bigint();
    // A full pass builds everything afresh; a partial one recomputes only the services that changed.
    if (full) cache = new RuleCache();
    const rules = buildRules(opts.source.services(), (ns, name) => opts.source.slicesOf(ns, name), opts.node, cache);
    let present: Record<Table, string[]> | undefined;
    if (full) {
      present = { filter: [], nat: [] };
      for (const t of TABLES) present[t] = await chainsOf(cmds, t);
    }
    const plan = planRestore(full ? undefined : applied, rules, present);
    try {
      if (plan.input) await restore(cmds, plan.input);
    } catch (err) {
      applied = undefined;
      throw err;
    }
    applied = snapshot(rules);
    if (full) for (const j of JUMPS) await ensureJump(cmds, j);
    const now = new Set(rules.udp.map((f) => `${f.vip ?? ''}|${f.port}|${f.endpoint}`));
    const gone = appliedUdp.filter((f) => !now.has(`${f.vip ?? ''}|${f.port}|${f.endpoint}`));
    // A UDP service address that had no endpoint and now has one: the conntrack entries of
    // packets sent meanwhile (REJECTed, or to nowhere) would keep new packets from the DNAT, as
    // kube-proxy clears them (pkg/proxy/conntrack). Not on the first pass: nothing is known yet.
    const served = (flows: UdpFlow[]): Map<string, UdpFlow> => new Map(flows.map((f) => [`${f.vip ?? ''}|${f.port}`, f]));
    const before = served(appliedUdp);
    const gained = udpKnown ? [...served(rules.udp)].filter(([k]) => !before.has(k)).map(([, f]) => ({ vip: f.vip, port: f.port })) : [];
    appliedUdp = rules.udp;
    udpKnown = true;
    await deleteConntrack([...gone, ...gained]);
    await health?.sync(rules.health);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (metrics) {
      metrics.duration.observe({ kind: full ? 'full' : 'partial' }, seconds);
      for (const t of TABLES) metrics.rules.set({ table: t }, [...rules[t].values()].reduce((n, r) => n + r.length, 0));
      metrics.last.set(Date.now() / 1000);
    }
    const written = plan.written.nat.length + plan.written.filter.length;
    const removed = plan.removed.nat.length + plan.removed.filter.length;
    if (written + removed > 0) (opts.log.debug ?? opts.log.info).call(opts.log, { full, written, removed, ms: Math.round(seconds * 1000) }, 'service proxy synced');
  };

  /** Runs one pass after any pass in progress; a failure makes the next pass full. */
  const runPass = (full: boolean): Promise<void> => {
    const p = running.then(async () => {
      if (stopped) return;
      const isFull = full || wantFull;
      wantFull = false;
      try {
        await pass(isFull);
        failures = 0;
      } catch (err) {
        wantFull = true;
        const delay = backoffDelay(opts.retry ?? RETRY, failures++);
        opts.log.warn({ err: String(err), full: isFull, retryInMs: Math.round(delay) }, 'service proxy sync failed; the next sync is full');
        if (!retryTimer && !stopped) {
          retryTimer = setTimeout(() => { retryTimer = undefined; void runPass(true); }, delay);
          retryTimer.unref?.();
        }
      } finally {
        lastEnd = Date.now();
      }
    });
    running = p;
    return p;
  };

  /** Coalesces requests: one pass at most every minInterval. */
  const schedule = (): void => {
    if (timer || stopped) return;
    const wait = Math.max(0, lastEnd + minInterval - Date.now());
    timer = setTimeout(() => { timer = undefined; void runPass(false); }, wait);
    timer.unref?.();
  };

  if (opts.bridgeNetfilter !== false) {
    const problem = await ensureBridgeNetfilter(cmds);
    if (problem) opts.log.warn({ node: opts.node.name }, problem);
  }
  const unlisten = opts.source.onChange(() => schedule());
  // The first pass is on the same chain as every other, so a change during it waits for it.
  wantFull = false;
  const first = running.then(() => pass(true)).finally(() => { lastEnd = Date.now(); });
  running = first.catch(() => undefined);
  try {
    await first;
  } catch (err) {
    stopped = true;
    if (timer) clearTimeout(timer);
    unlisten();
    throw err;
  }
  const resync = setInterval(() => { void runPass(true); }, opts.fullResyncMs ?? 5 * 60_000);
  resync.unref();
  const jumpCheck = setInterval(() => {
    running = running.then(async () => {
      if (stopped) return;
      for (const j of JUMPS) await ensureJump(cmds, j);
    }).catch((err) => opts.log.warn({ err: String(err) }, 'service proxy jumps not checked'));
  }, opts.jumpCheckMs ?? 30_000);
  jumpCheck.unref();
  opts.log.info({ node: opts.node.name }, 'service proxy started');

  return {
    sync: (o) => runPass(o?.full ?? false),
    async stop(o) {
      stopped = true;
      unlisten();
      clearInterval(resync);
      clearInterval(jumpCheck);
      if (timer) clearTimeout(timer);
      if (retryTimer) clearTimeout(retryTimer);
      await running;
      await health?.close();
      if (o?.cleanup) await removeProxyRules(cmds);
    },
  };
}
