/**
 * The CronJob actor logic: a thin shell around reconcile.ts. Each reconcile reads the CronJob and
 * the Jobs of its namespace from the store, decides, and writes in an order that a crash at any
 * point leaves repairable: the running Jobs Replace deletes, then the Job of the run that is due
 * (its name is fixed by the scheduled time, so a second create of the same run fails with
 * AlreadyExists), then the status, and last the finished Jobs beyond the history limits. It
 * asks to be reconciled again just after the next scheduled time (a timer), and an informer on
 * Jobs reconciles the owning CronJob whenever one of its Jobs changes.
 */
import { EventRecorder, startInformer, type Informer, type ObjectStore, type RecordEvent } from '../../bus';
import {
  CronJobKind, isAlreadyExists, keyFilter, objectKey, parseKey,
  type CronJob, type Job, type KubeObject, type OwnerReference,
} from '../../messages';
import { admitCreate, stableJson } from '../api/admission';
import { deleteObject } from '../deletion';
import { jobModule } from '../job/kind';
import type { KindController } from '../kind-supervisor';
import { log } from '../log';
import { reconcileCronJob } from './reconcile';

/** The CronJob that controls a Job, if any. */
export function cronJobOwner(job: KubeObject): OwnerReference | undefined {
  return job.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'CronJob' && r.apiVersion === 'batch/v1');
}

/** The component CronJob events are recorded as (Kubernetes' cronjob controller's). */
export const CRONJOB_CONTROLLER_COMPONENT = 'cronjob-controller';

/**
 * The controller's clock. Real time, unless MK_CRONJOB_CLOCK_SCALE is set (tests): then time runs
 * that many times faster from MK_CRONJOB_CLOCK_ORIGIN (epoch ms), so a `* * * * *` schedule fires
 * every 60/scale seconds. A restarted controller given the same two values reads the same time.
 */
export interface CronClock {
  /** Now, on the controller's clock. */
  now(): number;
  /** A real instant (a creationTimestamp) on the controller's clock. */
  at(realMs: number): number;
  /** Real milliseconds for `ms` on the controller's clock. */
  realDelay(ms: number): number;
}

/** The clock from the environment (see CronClock). */
export function cronClockFromEnv(env: NodeJS.ProcessEnv = process.env): CronClock {
  const scale = Number(env.MK_CRONJOB_CLOCK_SCALE) || 1;
  const origin = Number(env.MK_CRONJOB_CLOCK_ORIGIN) || 0;
  const at = (t: number) => (scale === 1 ? t : origin + (t - origin) * scale);
  return { now: () => at(Date.now()), at, realDelay: (ms) => Math.ceil(ms / scale) };
}

/** The CronJob controller. */
export function cronJobController(
  store: ObjectStore,
  recordEvent: RecordEvent = new EventRecorder(store.bus, { component: CRONJOB_CONTROLLER_COMPONENT }).recordEvent,
  clock: CronClock = cronClockFromEnv(),
): KindController {
  let enqueue: (key: string) => unknown = () => undefined;
  let jobs: Informer | undefined;
  /** Job key -> the key of the CronJob that controls it, for deletions (which carry no object). */
  const owners = new Map<string, string>();

  return {
    plural: 'cronjobs',
    resyncMs: 30_000,
    bindEnqueue(e) { enqueue = e; },
    async prepare() {
      await jobs?.stop();
      owners.clear();
      jobs = await startInformer<Job>(store, keyFilter('jobs'), (ev) => {
        const before = owners.get(ev.key);
        let cjKey: string | undefined;
        if (ev.type === 'DELETE' || !ev.object) {
          owners.delete(ev.key);
        } else {
          const owner = cronJobOwner(ev.object as unknown as KubeObject);
          if (owner) cjKey = objectKey(CronJobKind.plural, ev.object.metadata.namespace, owner.name);
          if (cjKey) owners.set(ev.key, cjKey); else owners.delete(ev.key);
        }
        if (cjKey) enqueue(cjKey);
        if (before && before !== cjKey) enqueue(before);
      });
    },
    async stop() {
      await jobs?.stop();
      jobs = undefined;
    },
    async reconcile(key) {
      const { namespace } = parseKey(key);
      const cur = await store.get<CronJob>(key);
      const cj = cur?.object;
      if (!cj) return;
      const { items } = await store.list<Job>(keyFilter('jobs', namespace));
      const owned = items.map((i) => i.object).filter((j) => cronJobOwner(j as unknown as KubeObject)?.uid === cj.metadata.uid);
      const now = clock.now();
      const created = clock.at(Date.parse(cj.metadata.creationTimestamp ?? '') || Date.now());
      const d = reconcileCronJob(cj, owned, now, created);
      const remove = async (names: string[]) => {
        for (const name of names) {
          if (await deleteObject(store, jobModule, objectKey('jobs', namespace, name), { propagationPolicy: 'Background' })) {
            recordEvent(cj as unknown as KubeObject, 'Normal', 'SuccessfulDelete', `Deleted job ${name}`);
          }
        }
      };
      await remove(d.replaceJobs);
      let status = d.status;
      if (d.create) {
        const obj = admitCreate(jobModule, d.create as unknown as KubeObject, namespace, new Date());
        try {
          await store.create(objectKey('jobs', namespace, d.create.metadata.name), obj);
          recordEvent(cj as unknown as KubeObject, 'Normal', 'SuccessfulCreate', `Created job ${d.create.metadata.name}`);
          log.debug({ key, job: d.create.metadata.name }, 'cronjob run created');
        } catch (err) {
          if (!isAlreadyExists(err)) throw err;
          // Another Job has the name: this run's Job if it is ours (recorded on the next
          // reconcile, which its informer event brings), else a conflict the user must resolve.
          status = { ...status, active: (status.active ?? []).filter((r) => r.name !== d.create?.metadata.name) };
          if (!status.active?.length) delete status.active;
          const other = await store.get<Job>(objectKey('jobs', namespace, d.create.metadata.name));
          if (other && cronJobOwner(other.object as unknown as KubeObject)?.uid !== cj.metadata.uid) {
            recordEvent(cj as unknown as KubeObject, 'Warning', 'FailedCreate', `Error creating job: job "${d.create.metadata.name}" already exists and is not owned by this CronJob`);
          }
        }
      }
      for (const e of d.events) recordEvent(cj as unknown as KubeObject, e.type, e.reason, e.message);
      if (stableJson(status) !== stableJson(cj.status ?? {})) {
        // Checked by revision: a CronJob changed meanwhile is a Conflict, and the supervisor retries.
        await store.update(key, { ...cj, status }, cur.revision);
      }
      // Last: a finished Job is only deleted once the status records its run (see reconcile.ts).
      await remove(d.deleteJobs);
      return d.requeueAfterMs !== undefined ? { requeueAfterMs: clock.realDelay(d.requeueAfterMs) } : undefined;
    },
  };
}
