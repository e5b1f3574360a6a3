/**
 * The Job actor logic: a thin shell around reconcile.ts. Each reconcile reads the Job and lists
 * the pods of its namespace from the store (a consistent read, so a pod created by the previous
 * reconcile is always seen and parallelism is never exceeded), decides, and writes in an order
 * that a crash at any point leaves repairable: status first (it records finished pods), then the
 * pods' tracking finalizers, then deletions and creations. An informer on pods reconciles the
 * owning Job whenever one of its pods changes.
 */
import { EventRecorder, startInformer, type Informer, type ObjectStore, type RecordEvent } from '../../bus';
import {
  isNotFound, JOB_TRACKING_FINALIZER, JobKind, keyFilter, objectKey, parseKey,
  type Job, type JobCondition, type KubeObject, type OwnerReference, type Pod,
} from '../../messages';
import { admitCreate, stableJson } from '../api/admission';
import { deleteObject } from '../deletion';
import type { KindController } from '../kind-supervisor';
import { log } from '../log';
import { podModule } from '../pod/kind';
import { JOB_BACKOFF_BASE_MS, reconcileJob, type OwnedPod } from './reconcile';

/** The Job that controls a pod, if any. */
export function jobOwner(pod: KubeObject): OwnerReference | undefined {
  return pod.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'Job' && r.apiVersion === 'batch/v1');
}

/** Removes the tracking finalizer from the pod at `key` (gone already: nothing to do). */
async function releasePod(store: ObjectStore, key: string): Promise<void> {
  try {
    await store.mutate<Pod>(key, (p) => {
      const f = p.metadata.finalizers ?? [];
      if (!f.includes(JOB_TRACKING_FINALIZER)) return null;
      const rest = f.filter((x) => x !== JOB_TRACKING_FINALIZER);
      if (rest.length) p.metadata.finalizers = rest; else delete p.metadata.finalizers;
      return p;
    });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

const tracked = (p: KubeObject): boolean => (p.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);

/** The component Job events are recorded as (Kubernetes' job controller's). */
export const JOB_CONTROLLER_COMPONENT = 'job-controller';

/** The events of the condition changes from `before` to `after`, as Kubernetes' job controller records them. */
function conditionEvents(job: Job, before: JobCondition[], after: JobCondition[], record: RecordEvent): void {
  for (const c of after) {
    const was = before.find((b) => b.type === c.type);
    if (was && was.status === c.status) continue;
    if (c.type === 'Complete' && c.status === 'True') record(job, 'Normal', 'Completed', 'Job completed');
    else if (c.type === 'FailureTarget' && c.status === 'True') record(job, 'Warning', c.reason ?? 'Failed', c.message ?? 'Job failed');
    else if (c.type === 'Suspended') record(job, 'Normal', c.status === 'True' ? 'Suspended' : 'Resumed', c.message ?? '');
  }
}

/**
 * The Job controller. The failure backoff's first delay is 10 s, or MK_JOB_BACKOFF_BASE_MS
 * milliseconds when that is set (tests shorten it).
 */
export function jobController(store: ObjectStore, recordEvent: RecordEvent = new EventRecorder(store.bus, { component: JOB_CONTROLLER_COMPONENT }).recordEvent): KindController {
  let enqueue: (key: string) => unknown = () => undefined;
  let pods: Informer | undefined;
  /** Pod key -> the key of the Job that controls it, for deletions (which carry no object). */
  const owners = new Map<string, string>();
  /** Pods that hold the tracking finalizer -> the key of their controlling Job, if any. */
  const held = new Map<string, string | undefined>();
  const backoffBaseMs = Number(process.env.MK_JOB_BACKOFF_BASE_MS) || JOB_BACKOFF_BASE_MS;

  return {
    plural: 'jobs',
    resyncMs: 30_000,
    bindEnqueue(e) { enqueue = e; },
    async prepare() {
      await pods?.stop();
      owners.clear();
      held.clear();
      pods = await startInformer<Pod>(store, keyFilter('pods'), (ev) => {
        const before = owners.get(ev.key);
        let jobKey: string | undefined;
        if (ev.type === 'DELETE' || !ev.object) {
          owners.delete(ev.key);
          held.delete(ev.key);
        } else {
          const owner = jobOwner(ev.object);
          if (owner) jobKey = objectKey(JobKind.plural, ev.object.metadata.namespace, owner.name);
          if (jobKey) owners.set(ev.key, jobKey); else owners.delete(ev.key);
          if (tracked(ev.object)) held.set(ev.key, jobKey); else held.delete(ev.key);
        }
        if (jobKey) enqueue(jobKey);
        if (before && before !== jobKey) enqueue(before);
      });
    },
    async stop() {
      await pods?.stop();
      pods = undefined;
    },
    // Pods whose Job is gone (or which lost their owner) may still hold the tracking finalizer
    // (the Job's last reconcile did not finish): released here, after the first listing and on
    // every resync. releasePod reads the pod again, so a stale entry does no harm.
    async listed(holds) {
      for (const [podKey, jobKey] of [...held]) if (!jobKey || !holds(jobKey)) await releasePod(store, podKey);
    },
    async reconcile(key) {
      const { namespace, name } = parseKey(key);
      const cur = await store.get<Job>(key);
      const { items } = await store.list<Pod>(keyFilter('pods', namespace));
      const job = cur?.object;
      if (!job || job.metadata.deletionTimestamp) {
        // Nothing counts the pods of a Job that goes: they are released to the garbage collector.
        for (const i of items) if (tracked(i.object) && jobOwner(i.object)?.name === name) await releasePod(store, i.key);
        return;
      }
      // Pods of an earlier Job of the same name (deleted, then made again) are released.
      for (const i of items) {
        const owner = jobOwner(i.object);
        if (tracked(i.object) && owner?.name === name && owner.uid !== job.metadata.uid) await releasePod(store, i.key);
      }
      const owned: OwnedPod[] = items.filter((i) => jobOwner(i.object)?.uid === job.metadata.uid).map((i) => ({ key: i.key, pod: i.object }));
      const d = reconcileJob(job, owned, Date.now(), { backoffBaseMs });
      if (d.deleteJob) {
        log.info({ key }, 'job deleted: ttlSecondsAfterFinished passed');
        await deleteObject(store, { info: JobKind }, key, { propagationPolicy: 'Background' });
        return;
      }
      if (stableJson(d.status) !== stableJson(job.status ?? {})) {
        // Checked by revision: a Job changed meanwhile is a Conflict, and the supervisor retries.
        await store.update(key, { ...job, status: d.status }, cur.revision);
        conditionEvents(job, job.status?.conditions ?? [], d.status.conditions ?? [], recordEvent);
      }
      for (const k of d.removeFinalizers) await releasePod(store, k);
      for (const k of d.deletePods) {
        if (await deleteObject(store, podModule, k)) recordEvent(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${parseKey(k).name}`);
      }
      for (const p of d.create) {
        const obj = admitCreate(podModule, p as KubeObject, namespace, new Date());
        await store.create(objectKey('pods', namespace, p.metadata.name), obj);
        recordEvent(job, 'Normal', 'SuccessfulCreate', `Created pod: ${p.metadata.name}`);
      }
      if (d.create.length) log.debug({ key, created: d.create.map((p) => p.metadata.name) }, 'job pods created');
      return d.requeueAfterMs !== undefined ? { requeueAfterMs: d.requeueAfterMs } : undefined;
    },
  };
}
