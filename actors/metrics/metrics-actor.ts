/**
 * The metrics actor, on the leading control plane only (started in bootstrap.ts lead()): it hears
 * every node's usage report on `mk.stats.*`, keeps them in a MetricsStore (its state; a restart
 * starts empty and fills again within two report intervals), and answers `mk.api.metrics` with
 * the labels of the leader's pod and node informers. A standby serves nothing, so only the leader
 * answers; after a failover the new leader's history starts at its term.
 */
import type { Msg } from '@nats-io/transport-node';
import { dispatch, query, spawn, stop as stopActor, type Ref } from 'nact';
import { decode, serve, startInformer, type Bus, type Informer, type ObjectStore } from '../../bus';
import { backoffOnCrash } from '../../common/supervision';
import { keyFilter, type KubeObject } from '../../messages';
import { METRICS_SUBJECT, STATS_WILDCARD, statsSubject, type MetricsRequest, type MetricsResult, type NodeUsageReport } from '../../messages/usage';
import { log } from '../log';
import { MetricsStore, type LabelSource, type MetricsStoreOptions } from './metrics-store';

/** Settings of the metrics actor. */
export interface MetricsOptions extends MetricsStoreOptions {
  /** How often stale nodes and old histories are dropped (default 5 s). */
  pruneEveryMs?: number;
}

type Outcome = { ok: true; value: MetricsResult } | { ok: false; error: unknown };

/** What the actor takes. */
export type MetricsMessage =
  | { type: 'metrics/report'; report: NodeUsageReport; receivedAt: number }
  | { type: 'metrics/query'; req: MetricsRequest; sender: Ref<Outcome> }
  | { type: 'metrics/prune'; now: number }
  | { type: 'metrics/start' };

/** A running metrics actor. */
export interface MetricsService {
  ref: Ref<MetricsMessage>;
  /** Resolves once the subscriptions are known to the server and the informers have listed. */
  ready: Promise<void>;
  /** Unsubscribes, stops the informers and the actor. */
  stop(): Promise<void>;
}

const QUERY_TIMEOUT_MS = 5_000;

/** Labels of one kind's objects by `namespace/name` (or name), kept by an informer. */
class LabelIndex {
  readonly labels = new Map<string, Record<string, string>>();
  observe(object: KubeObject | null, key: string, namespaced: boolean): void {
    const id = (o: KubeObject): string => (namespaced ? `${o.metadata.namespace ?? 'default'}/${o.metadata.name}` : o.metadata.name);
    if (object) {
      this.labels.set(id(object), object.metadata.labels ?? {});
      this.keys.set(key, id(object));
    } else {
      const known = this.keys.get(key);
      if (known !== undefined) this.labels.delete(known);
      this.keys.delete(key);
    }
  }
  private readonly keys = new Map<string, string>();
}

/**
 * Spawns the actor under `parent` and starts hearing reports and serving requests. `store` gives
 * the pods' and nodes' labels (its informers are shared on the leader).
 */
export function startMetrics(parent: Ref<unknown>, bus: Bus, store: ObjectStore, opts: MetricsOptions = {}): MetricsService {
  const pods = new LabelIndex();
  const nodes = new LabelIndex();
  const labels: LabelSource = {
    pod: (ns, name) => pods.labels.get(`${ns}/${name}`),
    node: (name) => nodes.labels.get(name),
  };
  const ref: Ref<MetricsMessage> = spawn(
    parent,
    (state: { metrics?: MetricsStore } = {}, msg: MetricsMessage): { metrics?: MetricsStore } => {
      const metrics = state.metrics ?? new MetricsStore(opts);
      switch (msg.type) {
        case 'metrics/report':
          try {
            metrics.ingest(msg.report, msg.receivedAt);
          } catch (err) {
            log.warn({ node: msg.report?.node, err: String(err) }, 'dropping a malformed usage report');
          }
          break;
        case 'metrics/query': {
          let out: Outcome;
          try { out = { ok: true, value: metrics.query(msg.req, labels) }; } catch (error) { out = { ok: false, error }; }
          try { dispatch(msg.sender, out); } catch { /* the requester gave up */ }
          break;
        }
        case 'metrics/prune':
          metrics.prune(msg.now);
          break;
        case 'metrics/start':
          break;
      }
      return { metrics };
    },
    'metrics',
    { onCrash: backoffOnCrash({ type: 'metrics/start' }, (f, m) => log.error(f, m)) },
  );

  const onReport = (err: Error | null, msg: Msg): void => {
    if (err) { log.warn({ err: String(err) }, 'the usage report subscription failed'); return; }
    let report: NodeUsageReport;
    try { report = decode<NodeUsageReport>(msg.data); } catch { log.debug({ subject: msg.subject }, 'a usage report that is not JSON'); return; }
    // The bus lets a node publish only on its own subject: a report naming another node is refused.
    if (typeof report?.node !== 'string' || statsSubject(report.node) !== msg.subject) {
      log.warn({ subject: msg.subject, node: report?.node }, 'a usage report names another node than its subject; dropped');
      return;
    }
    dispatch(ref, { type: 'metrics/report', report, receivedAt: Date.now() });
  };
  const sub = bus.nc.subscribe(STATS_WILDCARD, { callback: onReport });
  // One answer per request even if two control planes both believe they lead for a moment.
  const served = serve(bus, METRICS_SUBJECT, async (req: MetricsRequest) => {
    const out = await query(ref, (sender: Ref<Outcome>) => ({ type: 'metrics/query' as const, req: req ?? {}, sender }), QUERY_TIMEOUT_MS);
    if (!out.ok) throw out.error;
    return out.value;
  }, { queue: 'mk-metrics' });
  const pruner = setInterval(() => dispatch(ref, { type: 'metrics/prune', now: Date.now() }), opts.pruneEveryMs ?? 5_000);
  pruner.unref();

  const informers: Informer[] = [];
  let stopped = false;
  const watching = (async () => {
    for (const [kind, index, namespaced] of [['pods', pods, true], ['nodes', nodes, false]] as const) {
      const inf = await startInformer<KubeObject>(store, keyFilter(kind), (ev) => index.observe(ev.object, ev.key, namespaced));
      if (stopped) await inf.stop(); else informers.push(inf);
    }
  })();
  watching.catch((err: unknown) => log.warn({ err: String(err) }, 'the metrics actor cannot watch pods and nodes; label selectors match nothing'));

  return {
    ref,
    ready: Promise.all([served.ready, bus.nc.flush(), watching]).then(() => undefined),
    async stop() {
      stopped = true;
      clearInterval(pruner);
      if (!sub.isClosed()) sub.unsubscribe();
      await served.stop();
      await watching.catch(() => undefined);
      await Promise.all(informers.map((i) => i.stop()));
      stopActor(ref);
    },
  };
}
