/**
 * The Job controller's decisions, as a pure function of the Job and its pods: what its status is,
 * which pods to create or delete, which pods' tracking finalizers go, and when to look again. The
 * semantics follow Kubernetes' Job controller (https://kubernetes.io/docs/concepts/workloads/controllers/job/).
 *
 * Counting, and why it survives a control-plane SIGKILL at any moment: every pod is created with
 * the finalizer batch.kubernetes.io/job-tracking, so it cannot vanish before the Job has seen it
 * finish. A finished pod is counted in two steps, as Kubernetes does it: (1) its uid is written
 * into status.uncountedTerminatedPods (one write of the Job, checked by revision), and only then
 * (2) its finalizer is removed; (3) a uid in uncountedTerminatedPods whose pod has no finalizer
 * any more (or is gone) moves to status.succeeded/failed in one write. A crash between any two
 * steps is repaired by the next reconcile from what the store holds: a uid is never in both the
 * list and a counter, a pod without the finalizer is never recorded again, and a pod with it is
 * never removed, so no pod is counted twice or lost.
 */
import {
  formatIndexes, JOB_COMPLETION_INDEX, JOB_CONTROLLER_UID_LABEL, JOB_LEGACY_CONTROLLER_UID_LABEL, JOB_LEGACY_NAME_LABEL,
  JOB_NAME_LABEL, JOB_TRACKING_FINALIZER, jobCondition, parseIndexes, timestamp,
  type Job, type JobCondition, type JobStatus, type Pod,
} from '../../messages';

/** A pod of the Job as read from the store. */
export interface OwnedPod { key: string; pod: Pod }

/** What to do for one Job; the shell does it in this order: status, finalizers, deletions, creations. */
export interface JobDecision {
  /** The Job's status as it should be (written when it differs from what is stored). */
  status: JobStatus;
  /** Keys of pods whose tracking finalizer goes (their outcome is in `status`). */
  removeFinalizers: string[];
  /** Keys of pods to delete. */
  deletePods: string[];
  /** Pods to create (before admission). */
  create: Pod[];
  /** True when ttlSecondsAfterFinished has passed: the Job is deleted, its pods with it. */
  deleteJob: boolean;
  requeueAfterMs?: number;
}

/** The pod failure backoff (https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-backoff-failure-policy): 10 s doubling, at most 6 min. */
export const JOB_BACKOFF_BASE_MS = 10_000;
export const JOB_BACKOFF_MAX_MS = 6 * 60_000;

/** What a reconcile may vary besides its inputs. */
export interface ReconcileOptions {
  /** The first delay of the failure backoff (tests shorten it). */
  backoffBaseMs?: number;
  /** Five characters of a new pod's name. */
  suffix?: () => string;
}

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Five random characters from an alphabet without vowels, as Kubernetes' generated names use. */
export function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += ALPHABET[Math.floor(Math.random() * ALPHABET.length)];
  return s;
}

/** The completion index of a pod (its annotation), or undefined. */
export function podIndex(pod: Pod): number | undefined {
  const v = pod.metadata.annotations?.[JOB_COMPLETION_INDEX];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** When a pod ended: the latest finishedAt of its containers, else its deletion; undefined if unknown. */
function finishedAt(pod: Pod): number | undefined {
  let t: number | undefined;
  for (const c of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]) {
    const f = c.state.terminated?.finishedAt;
    if (f && (t === undefined || Date.parse(f) > t)) t = Date.parse(f);
  }
  if (t === undefined && pod.metadata.deletionTimestamp) t = Date.parse(pod.metadata.deletionTimestamp);
  return t;
}

const isReady = (p: Pod): boolean => !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** `conds` with `c` set (its transition time kept when its status did not change). */
function setCondition(conds: JobCondition[], c: Omit<JobCondition, 'lastProbeTime' | 'lastTransitionTime'>, now: string): JobCondition[] {
  const old = conds.find((x) => x.type === c.type);
  if (old && old.status === c.status && old.reason === c.reason) return conds;
  const next: JobCondition = { ...c, lastProbeTime: now, lastTransitionTime: now };
  return old ? conds.map((x) => (x === old ? next : x)) : [...conds, next];
}

/** Decides what to do for `job`, whose pods (those it controls, read consistently) are `pods`, at `nowMs`. */
export function reconcileJob(job: Job, pods: readonly OwnedPod[], nowMs: number, opts: ReconcileOptions = {}): JobDecision {
  const now = timestamp(new Date(nowMs));
  const spec = job.spec;
  const old = job.status ?? {};
  const indexed = spec.completionMode === 'Indexed';
  const completions = spec.completions ?? null;
  const parallelism = spec.parallelism ?? 1;
  const out: JobDecision = { status: {}, removeFinalizers: [], deletePods: [], create: [], deleteJob: false };
  const requeue = (ms: number) => { out.requeueAfterMs = Math.max(1, Math.min(out.requeueAfterMs ?? Infinity, Math.ceil(ms))); };

  let succeeded = old.succeeded ?? 0;
  let failed = old.failed ?? 0;
  const completed = new Set(parseIndexes(old.completedIndexes));
  const uncS = new Set(old.uncountedTerminatedPods?.succeeded ?? []);
  const uncF = new Set(old.uncountedTerminatedPods?.failed ?? []);
  const suspended = !!jobCondition(job, 'Suspended');
  const present = new Map<string, OwnedPod>();
  const active: OwnedPod[] = [];
  // An Indexed Job's succeeded index is kept in the write that records the pod (as Kubernetes
  // does), so it is not lost if the pod is gone before it is counted.
  const completeIndex = (pod: Pod) => {
    const i = podIndex(pod);
    if (indexed && i !== undefined && completions !== null && i < completions) completed.add(i);
  };
  const flush = (uid: string) => {
    if (uncS.delete(uid)) succeeded++;
    else if (uncF.delete(uid)) failed++;
  };

  for (const o of pods) {
    const p = o.pod;
    const uid = p.metadata.uid ?? '';
    present.set(uid, o);
    const tracked = (p.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
    const phase = p.status?.phase;
    const terminating = !!p.metadata.deletionTimestamp;
    if (uncS.has(uid) || uncF.has(uid)) {
      // Step 2, then step 3 once the finalizer is gone.
      if (uncS.has(uid)) completeIndex(p);
      if (tracked) out.removeFinalizers.push(o.key);
      else flush(uid);
      continue;
    }
    const outcome = phase === 'Succeeded' ? 'succeeded'
      : phase === 'Failed' ? 'failed'
        : terminating ? (suspended ? 'dropped' : 'failed')
          : 'active';
    if (outcome === 'active') { active.push(o); continue; }
    if (!tracked) continue; // counted before (or never ours to count)
    // Step 1: recorded in this status write; the finalizer goes after it.
    if (outcome === 'succeeded') {
      uncS.add(uid);
      completeIndex(p);
    } else if (outcome === 'failed') {
      uncF.add(uid);
    }
    out.removeFinalizers.push(o.key);
  }
  // Recorded pods that are gone: their finalizer went, so they are counted now.
  for (const uid of [...uncS, ...uncF]) if (!present.has(uid)) flush(uid);

  const succeededTotal = succeeded + uncS.size;
  // With restartPolicy OnFailure a failing container restarts inside its pod, and each restart
  // counts toward backoffLimit as a failed pod would
  // (https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-backoff-failure-policy).
  const restarts = spec.template.spec.restartPolicy === 'OnFailure'
    ? active.reduce((n, a) => n + (a.pod.status?.containerStatuses ?? []).reduce((m, c) => m + c.restartCount, 0)
      + (a.pod.status?.initContainerStatuses ?? []).reduce((m, c) => m + c.restartCount, 0), 0)
    : 0;
  const failedTotal = failed + uncF.size;
  const doneIndexes = completed;
  const uncountedEmpty = () => uncS.size === 0 && uncF.size === 0;
  let conditions = [...(old.conditions ?? [])];
  let startTime = old.startTime;
  let completionTime = old.completionTime;
  const deleteActive = () => { for (const a of active) if (!a.pod.metadata.deletionTimestamp) out.deletePods.push(a.key); };

  const finished = jobCondition(job, 'Complete') ?? jobCondition(job, 'Failed');
  if (finished) {
    deleteActive();
    const ttl = spec.ttlSecondsAfterFinished;
    const at = Date.parse(completionTime ?? finished.lastTransitionTime ?? now);
    if (ttl !== undefined) {
      const due = at + ttl * 1000;
      if (nowMs >= due) out.deleteJob = true; else requeue(due - nowMs);
    }
  } else {
    let target = jobCondition(job, 'FailureTarget') ?? jobCondition(job, 'SuccessCriteriaMet');
    if (!target && spec.suspend) {
      deleteActive();
      conditions = setCondition(conditions, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, now);
    } else if (!target) {
      if (suspended) {
        conditions = setCondition(conditions, { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }, now);
        // The deadline counts from the resume (Kubernetes resets startTime).
        startTime = now;
      }
      startTime ??= now;
      const deadline = spec.activeDeadlineSeconds !== undefined ? Date.parse(startTime) + spec.activeDeadlineSeconds * 1000 : undefined;
      const success = completions === null
        ? succeededTotal >= 1 && active.length === 0
        : indexed ? doneIndexes.size >= completions : succeededTotal >= completions;
      if (success) {
        conditions = setCondition(conditions, { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' }, now);
      } else if (failedTotal + restarts > (spec.backoffLimit ?? 6)) {
        conditions = setCondition(conditions, { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }, now);
      } else if (deadline !== undefined && nowMs >= deadline) {
        conditions = setCondition(conditions, { type: 'FailureTarget', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }, now);
      } else {
        if (deadline !== undefined) requeue(deadline - nowMs);
        createOrTrim();
      }
      target = conditions.find((c) => (c.type === 'FailureTarget' || c.type === 'SuccessCriteriaMet') && c.status === 'True');
    }
    if (target) {
      // The outcome is decided: the running pods go, and the Job finishes once every pod is counted.
      deleteActive();
      if (active.length === 0 && uncountedEmpty()) {
        if (target.type === 'SuccessCriteriaMet') {
          conditions = setCondition(conditions, { type: 'Complete', status: 'True', reason: target.reason, message: target.message }, now);
          completionTime ??= now;
        } else {
          conditions = setCondition(conditions, { type: 'Failed', status: 'True', reason: target.reason, message: target.message }, now);
        }
        if (spec.ttlSecondsAfterFinished !== undefined) requeue(spec.ttlSecondsAfterFinished * 1000);
      }
    }
  }

  function createOrTrim(): void {
    let want: number;
    let indexes: number[] = [];
    if (completions === null) {
      want = succeededTotal > 0 ? 0 : parallelism - active.length;
    } else if (indexed) {
      const running = new Set(active.map((a) => podIndex(a.pod)));
      for (let i = 0; i < completions && indexes.length < parallelism; i++) if (!doneIndexes.has(i) && !running.has(i)) indexes.push(i);
      want = Math.min(parallelism - active.length, indexes.length);
      indexes = indexes.slice(0, Math.max(0, want));
    } else {
      want = Math.min(parallelism, completions - succeededTotal) - active.length;
    }
    if (want < 0) {
      // Parallelism went down: the newest pods go, those not ready first.
      const extra = [...active].sort((a, b) => Number(isReady(a.pod)) - Number(isReady(b.pod))
        || (b.pod.metadata.creationTimestamp ?? '').localeCompare(a.pod.metadata.creationTimestamp ?? ''));
      for (const a of extra.slice(0, -want)) if (!a.pod.metadata.deletionTimestamp) out.deletePods.push(a.key);
      return;
    }
    if (want === 0) return;
    if (failedTotal > 0) {
      // The failure backoff, from the latest failure still to be seen; a success since resets it
      // (Kubernetes counts the failures after the last success).
      let last: number | undefined;
      let lastSuccess = -Infinity;
      const failures: number[] = [];
      for (const o of pods) {
        const t = finishedAt(o.pod);
        if (t === undefined) continue;
        if (o.pod.status?.phase === 'Succeeded') lastSuccess = Math.max(lastSuccess, t);
        else if (o.pod.status?.phase === 'Failed' || o.pod.metadata.deletionTimestamp) failures.push(t);
      }
      for (const t of failures) if (last === undefined || t > last) last = t;
      const since = failures.filter((t) => t > lastSuccess).length;
      const n = lastSuccess === -Infinity ? failedTotal : Math.min(since, failedTotal);
      const delay = n === 0 ? 0 : Math.min((opts.backoffBaseMs ?? JOB_BACKOFF_BASE_MS) * 2 ** (n - 1), JOB_BACKOFF_MAX_MS);
      if (last !== undefined && nowMs < last + delay) {
        requeue(last + delay - nowMs);
        return;
      }
    }
    const suffix = opts.suffix ?? randomSuffix;
    for (let n = 0; n < want; n++) out.create.push(newPod(job, indexed ? indexes[n] : undefined, suffix()));
  }

  const ready = active.filter((a) => isReady(a.pod) && !a.pod.metadata.deletionTimestamp).length;
  const status: JobStatus = {};
  if (conditions.length) status.conditions = conditions;
  if (startTime) status.startTime = startTime;
  if (completionTime) status.completionTime = completionTime;
  status.active = active.length - active.filter((a) => out.deletePods.includes(a.key)).length;
  status.ready = ready;
  status.succeeded = succeeded;
  status.failed = failed;
  if (indexed) status.completedIndexes = formatIndexes(completed);
  status.uncountedTerminatedPods = { succeeded: [...uncS], failed: [...uncF] };
  out.status = status;
  return out;
}

/** A pod of `job` (with `index` for an Indexed Job), owned by it and held by the tracking finalizer. */
export function newPod(job: Job, index: number | undefined, suffix: string): Pod {
  const name = job.metadata.name;
  const uid = job.metadata.uid ?? '';
  const tpl = job.spec.template;
  const labels: Record<string, string> = {
    ...(tpl.metadata?.labels ?? {}),
    [JOB_CONTROLLER_UID_LABEL]: uid, [JOB_LEGACY_CONTROLLER_UID_LABEL]: uid,
    [JOB_NAME_LABEL]: name, [JOB_LEGACY_NAME_LABEL]: name,
  };
  const annotations: Record<string, string> = { ...(tpl.metadata?.annotations ?? {}) };
  let spec = tpl.spec;
  if (index !== undefined) {
    labels[JOB_COMPLETION_INDEX] = String(index);
    annotations[JOB_COMPLETION_INDEX] = String(index);
    const withIndex = <C extends { env?: { name: string; value?: string }[] }>(c: C): C => ({
      ...c, env: [...(c.env ?? []).filter((e) => e.name !== 'JOB_COMPLETION_INDEX'), { name: 'JOB_COMPLETION_INDEX', value: String(index) }],
    });
    spec = { ...spec, containers: spec.containers.map(withIndex), ...(spec.initContainers ? { initContainers: spec.initContainers.map(withIndex) } : {}) };
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: index !== undefined ? `${name}-${index}-${suffix}` : `${name}-${suffix}`,
      namespace: job.metadata.namespace,
      labels,
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid, controller: true, blockOwnerDeletion: true }],
      finalizers: [JOB_TRACKING_FINALIZER],
    },
    spec,
  };
}
