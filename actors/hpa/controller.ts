/**
 * The HPA actor logic: a thin shell around reconcile.ts. Every sync period (15 s, Kubernetes'
 * --horizontal-pod-autoscaler-sync-period; MK_HPA_SYNC_PERIOD sets another, for tests) each HPA
 * reads its target from the store (spec.replicas, spec.selector), the target's pods, and their
 * usage from mk.api.metrics (the leader's metrics actor, in this process or another), decides,
 * writes the target's spec.replicas checked by revision (a Conflict waits for the next sync), then
 * its own status, and records the events. A change of the HPA's spec syncs it at once; other
 * changes (its own status writes) wait for the period.
 *
 * What survives a control-plane SIGKILL is in the store: the target's replicas and the status
 * (lastScaleTime among it). The recommendations of the stabilization window and the recent
 * rescales live in this controller's memory, and start empty in a new one, as Kubernetes' do.
 */
import { EventRecorder, request, type ObjectStore, type RecordEvent } from '../../bus';
import {
  defaultHpa, isConflict, isNotFound, kindOf, KINDS, keyFilter, objectKey, parseKey, selectorEmpty, selectorMatches,
  type HorizontalPodAutoscaler, type KubeObject, type LabelSelector, type Pod,
} from '../../messages';
import { parseDuration } from '../../messages/duration';
import { METRICS_SUBJECT, type MetricsResult, type PodMetrics } from '../../messages/usage';
import { admitUpdate, stableJson } from '../api/admission';
import type { KindModule } from '../kind-module';
import type { KindController } from '../kind-supervisor';
import { log } from '../log';
import { emptyHistory, recordScale, type HpaHistory, type Rules } from './behavior';
import { reconcileHpa, rescaleFailed, type PodUsageSample, type TargetScale } from './reconcile';

/** The component HPA events are recorded as (Kubernetes' is `horizontal-pod-autoscaler`). */
export const HPA_COMPONENT = 'horizontal-pod-autoscaler';
/** Kubernetes' default sync period. */
export const DEFAULT_HPA_SYNC_PERIOD_MS = 15_000;
/** How long a sync waits for mk.api.metrics. */
const METRICS_TIMEOUT_MS = 5_000;

/** The sync period from MK_HPA_SYNC_PERIOD (a duration: `15s`, `500ms`), else 15 s. Throws ValidationError for a bad one. */
export function hpaSyncPeriodFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.MK_HPA_SYNC_PERIOD;
  return v ? parseDuration(v, 'MK_HPA_SYNC_PERIOD') : DEFAULT_HPA_SYNC_PERIOD_MS;
}

/** Settings of the controller (tests inject a clock and a period). */
export interface HpaControllerOptions {
  syncPeriodMs?: number;
  now?: () => number;
  recordEvent?: RecordEvent;
}

/** The target's kind module: one with spec.replicas, by apiVersion and kind (or kind alone when no apiVersion is given). */
function targetModule(modules: readonly KindModule[], ref: HorizontalPodAutoscaler['spec']['scaleTargetRef']): KindModule | string {
  const kind = ref.apiVersion ? kindOf(ref.apiVersion, ref.kind) : KINDS.find((k) => k.kind === ref.kind);
  const scalable = KINDS.filter((k) => k.scalable).map((k) => `${k.apiVersion} ${k.kind}`).join(', ');
  if (!kind) return `no kind ${ref.apiVersion ? `${ref.apiVersion} ` : ''}${ref.kind} is served (mk scales ${scalable})`;
  if (!kind.scalable) return `${kind.kind} has no spec.replicas to scale (mk scales ${scalable})`;
  return modules.find((m) => m.info === kind) ?? `no kind ${ref.kind} is served`;
}

/** The pods' usage by name, from the metrics API's answer. */
function usageByPod(result: MetricsResult): Map<string, PodUsageSample> {
  const out = new Map<string, PodUsageSample>();
  for (const item of result.items) {
    if (item.kind !== 'PodMetrics') continue;
    const m = item as PodMetrics;
    out.set(m.metadata.name, {
      cpuMillis: m.raw.cpuNanoCores / 1e6, memoryBytes: m.raw.memoryBytes,
      timestampMs: Date.parse(m.timestamp), windowMs: (parseFloat(m.window) || 0) * 1000,
    });
  }
  return out;
}

/** The HPA controller. */
export function hpaController(store: ObjectStore, modules: readonly KindModule[], opts: HpaControllerOptions = {}): KindController {
  const period = opts.syncPeriodMs ?? hpaSyncPeriodFromEnv();
  const now = opts.now ?? Date.now;
  const recordEvent = opts.recordEvent ?? new EventRecorder(store.bus, { component: HPA_COMPONENT }).recordEvent;
  const histories = new Map<string, HpaHistory>();
  /** Key -> when it last synced and which generation, so status writes do not sync it early. */
  const synced = new Map<string, { atMs: number; generation: number | undefined }>();

  const readScale = async (hpa: HorizontalPodAutoscaler, namespace: string | undefined) => {
    const m = targetModule(modules, hpa.spec.scaleTargetRef);
    if (typeof m === 'string') return { scale: { error: m } as TargetScale };
    const key = objectKey(m.info.plural, namespace, hpa.spec.scaleTargetRef.name);
    const others = (await store.list<HorizontalPodAutoscaler>(keyFilter('horizontalpodautoscalers', namespace))).items.map((i) => i.object)
      .filter((o) => o.spec.scaleTargetRef.kind === hpa.spec.scaleTargetRef.kind && o.spec.scaleTargetRef.name === hpa.spec.scaleTargetRef.name);
    if (others.length > 1) {
      // Two autoscalers of one target would undo each other's work: neither scales (Kubernetes' AmbiguousSelector).
      const names = others.map((o) => `${namespace}/${o.metadata.name}`).sort().join(' ');
      return { scale: { error: `the pods of ${m.info.kind}/${hpa.spec.scaleTargetRef.name} are controlled by multiple HPAs: [${names}]`, reason: 'AmbiguousSelector' } as TargetScale };
    }
    const got = await store.get<KubeObject>(key);
    if (!got) return { scale: { error: `${m.info.plural} "${hpa.spec.scaleTargetRef.name}" not found` } as TargetScale };
    const spec = got.object.spec as { replicas?: number; selector?: LabelSelector } | undefined;
    if (selectorEmpty(spec?.selector)) {
      return { scale: { error: `the target ${m.info.kind}/${got.object.metadata.name} has no selector: cannot tell its pods`, reason: 'InvalidSelector' } as TargetScale };
    }
    const pods = (await store.list<Pod>(keyFilter('pods', namespace))).items.map((i) => i.object)
      .filter((p) => selectorMatches(spec!.selector!, p.metadata.labels));
    return { scale: { replicas: spec?.replicas ?? 1, pods } as TargetScale, module: m, key, target: got };
  };

  const readUsage = async (namespace: string | undefined): Promise<Map<string, PodUsageSample> | string> => {
    try {
      return usageByPod(await request<MetricsResult>(store.bus, METRICS_SUBJECT, { kind: 'pods', namespace }, { timeoutMs: METRICS_TIMEOUT_MS }));
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  };

  return {
    plural: 'horizontalpodautoscalers',
    async reconcile(key) {
      const cur = await store.get<HorizontalPodAutoscaler>(key);
      if (!cur) { histories.delete(key); synced.delete(key); return; }
      const { namespace } = parseKey(key);
      const t = now();
      const last = synced.get(key);
      if (last && last.generation === cur.object.metadata.generation && t - last.atMs < period) {
        return { requeueAfterMs: last.atMs + period - t };
      }
      const hpa = defaultHpa(cur.object);
      const history = structuredClone(histories.get(key) ?? emptyHistory());
      const { scale, module, key: targetKey, target } = await readScale(hpa, namespace);
      const usage = 'error' in scale ? new Map<string, PodUsageSample>() : await readUsage(namespace);
      let d = reconcileHpa(hpa, scale, usage, history, t);
      if (d.rescale && module && target && targetKey) {
        const incoming = { ...target.object, spec: { ...(target.object.spec as object), replicas: d.rescale.to } };
        try {
          const next = admitUpdate(module, target.object, incoming, { replace: true });
          if (next) await store.update(targetKey, next, target.revision);
          recordScale(history, d.rescale.from, d.rescale.to, hpa.spec.behavior as Rules, t);
          log.info({ key, target: targetKey, from: d.rescale.from, to: d.rescale.to }, 'hpa rescaled its target');
        } catch (err) {
          if (isConflict(err)) {
            // The target changed since it was read: the next sync reads it again.
            log.debug({ key, target: targetKey }, 'the target changed while rescaling; next sync');
            histories.set(key, history);
            synced.set(key, { atMs: t, generation: cur.object.metadata.generation });
            return { requeueAfterMs: period };
          }
          if (isNotFound(err)) throw err;
          d = rescaleFailed(d, cur.object.status, err instanceof Error ? err.message : String(err), t);
        }
      }
      histories.set(key, history);
      synced.set(key, { atMs: t, generation: cur.object.metadata.generation });
      for (const e of d.events) recordEvent(cur.object as unknown as KubeObject, e.type, e.reason, e.message);
      if (stableJson(d.status) !== stableJson(cur.object.status ?? {})) {
        // Re-read on a Conflict: the status is this controller's alone; a spec change meanwhile syncs again at once.
        await store.mutate<HorizontalPodAutoscaler>(key, (o) => (o.metadata.uid === cur.object.metadata.uid ? { ...o, status: d.status } : null))
          .catch((err: unknown) => { if (!isNotFound(err)) throw err; });
      }
      return { requeueAfterMs: period };
    },
  };
}
