/**
 * The pod invariants of a chaos round, as pure functions of what the round did (PodRecord) and
 * what it saw (WorldSnapshot), so unit tests can feed them made-up worlds.
 *
 * - every pod applied and never deleted is Running, under the uid it was created with (none lost);
 * - every deleted pod is gone from the store and from the node;
 * - nothing on the node is labelled with the uid of a pod the store does not have (no leak);
 * - no container attempt ran twice (per pod uid and container name, attempts are distinct), and
 *   the container's restartCount is the number of its earlier instances whose program ran (a start
 *   the runtime abandoned takes an attempt number, but is no restart: nothing ran);
 * - a container whose command never ends (a long sleep) never exited after it started, and its
 *   restartCount is 0.
 */
import type { KubeObject, Pod } from '../../messages';
import { LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from '../../node-agent/pods';
import type { SeenContainer } from '../helpers/chaos-observer';
import type { Violation, WorldSnapshot } from './kind';

/** One pod of a workload: its plan, and what the round did to it. */
export interface PodRecord {
  name: string;
  namespace: string;
  /** Which apply burst made it. */
  burst: number;
  /** The uid it had right after its apply (undefined: the apply never succeeded). */
  uid?: string;
  appliedAtMs?: number;
  /** Set when the round sent (or began to send) its deletion. */
  deleteRequestedAtMs?: number;
  /** True once the deletion was accepted. */
  deleteConfirmed?: boolean;
}

const podKey = (ns: string | undefined, name: string): string => `${ns ?? 'default'}/${name}`;

/** A container instance ran when it was seen running, or exited after having started. */
export function ran(c: SeenContainer): boolean {
  return c.states.includes('CONTAINER_RUNNING') || (c.states.includes('CONTAINER_EXITED') && (c.exit?.startedAtMs ?? 0) > 0);
}

/** A short account of a pod's status for a violation's detail. */
export function describePodStatus(p: Pod): string {
  const s = p.status;
  const parts = [`phase ${s?.phase ?? 'none'}`];
  if (p.metadata.deletionTimestamp) parts.push(`deletionTimestamp ${p.metadata.deletionTimestamp}`);
  if (!p.spec.nodeName) parts.push('not bound to a node');
  for (const c of s?.containerStatuses ?? []) {
    const st = c.state.running ? 'running' : c.state.waiting ? `waiting ${c.state.waiting.reason ?? ''}${c.state.waiting.message ? ` (${c.state.waiting.message})` : ''}`
      : c.state.terminated ? `terminated ${c.state.terminated.reason ?? ''} exit ${c.state.terminated.exitCode}` : 'no state';
    parts.push(`${c.name}: ${st}, restartCount ${c.restartCount}`);
  }
  if (s?.message) parts.push(`message "${s.message}"`);
  return parts.join('; ');
}

/** True when the pod is Running with every container running. */
export function isRunning(p: Pod): boolean {
  const statuses = p.status?.containerStatuses ?? [];
  return p.status?.phase === 'Running' && statuses.length === p.spec.containers.length && statuses.every((c) => !!c.state.running);
}

/**
 * Per pod uid, container name and attempt, the container ids that ran: more than one id for an
 * attempt means the node started the same attempt twice.
 */
export function attemptsRunTwice(seen: SeenContainer[]): Violation[] {
  const byAttempt = new Map<string, SeenContainer[]>();
  for (const c of seen.filter(ran)) {
    const k = `${c.podUid}\u0000${c.name}\u0000${c.attempt}`;
    byAttempt.set(k, [...(byAttempt.get(k) ?? []), c]);
  }
  const out: Violation[] = [];
  for (const cs of byAttempt.values()) {
    if (cs.length < 2) continue;
    const { pod, podUid, name, attempt } = cs[0];
    out.push({
      invariant: 'attempt-twice', subject: `pod ${pod}`, permanent: true,
      detail: `container ${name} attempt ${attempt} (pod uid ${podUid}) ran as ${cs.length} containers: `
        + cs.map((c) => `${c.id.slice(0, 12)} in sandbox ${c.sandboxId.slice(0, 12)} [${c.states.join(',')}]`).join(', '),
    });
  }
  return out;
}

/** The invariants over the pods of one workload plus the node-wide leak check; see the module comment. */
export function checkPods(records: readonly PodRecord[], world: WorldSnapshot): Violation[] {
  const out: Violation[] = [];
  const pods = world.objects?.get('pods') as Pod[] | undefined;
  if (!pods) out.push({ invariant: 'api', subject: 'mk get pods', detail: `the api did not answer: ${world.apiError ?? 'unknown'}`, permanent: false });
  if (!world.cri) out.push({ invariant: 'cri', subject: 'containerd', detail: `containerd did not answer: ${world.criError ?? 'unknown'}`, permanent: false });
  const byKey = new Map((pods ?? []).map((p) => [podKey(p.metadata.namespace, p.metadata.name), p]));
  const storeUids = new Set((pods ?? []).map((p) => p.metadata.uid));
  const seenBy = (uid: string, name: string) => world.seenContainers.filter((c) => c.podUid === uid && c.name === name);
  const known = new Set<string>();

  for (const r of records) {
    if (r.uid === undefined) continue;
    known.add(r.uid);
    const key = podKey(r.namespace, r.name);
    const subject = `pod ${key}`;
    const p = byKey.get(key);
    if (r.deleteRequestedAtMs === undefined) {
      if (!pods) continue;
      if (!p) {
        out.push({ invariant: 'lost', subject, detail: `applied (uid ${r.uid}) and never deleted, but not in the store`, permanent: true });
        continue;
      }
      if (p.metadata.uid !== r.uid) {
        out.push({ invariant: 'lost', subject, detail: `created with uid ${r.uid}, the store now has uid ${p.metadata.uid}`, permanent: true });
        continue;
      }
      if (!isRunning(p)) out.push({ invariant: 'running', subject, detail: `not Running: ${describePodStatus(p)}`, permanent: false });
      for (const cs of p.status?.containerStatuses ?? []) {
        const seen = seenBy(r.uid, cs.name);
        const exited = seen.filter((c) => c.states.includes('CONTAINER_EXITED'));
        // A start that failed (StartError: the agent was killed mid-StartContainer and containerd
        // cancelled the call) is an exit the kubelet counts too, but nothing ever ran.
        for (const c of exited.filter(ran)) {
          out.push({
            invariant: 'never-exits', subject, permanent: true,
            detail: `container ${cs.name} attempt ${c.attempt} (${c.id.slice(0, 12)}) exited`
              + (c.exit ? ` with code ${c.exit.exitCode} (${c.exit.reason || 'no reason'})` : '') + ', though its command never ends',
          });
        }
        if (cs.restartCount > 0 && !exited.some(ran)) {
          out.push({ invariant: 'restart-count', subject, permanent: true, detail: `container ${cs.name} has restartCount ${cs.restartCount}, but no instance of it was ever seen to run and exit` });
        }
        // The instances that ran, less the one running now, are the restarts the status counts.
        const runs = seen.filter(ran).length;
        if (runs > 0 && runs - 1 !== cs.restartCount) {
          out.push({
            invariant: 'attempt-vs-restarts', subject, permanent: false,
            detail: `container ${cs.name}: ${runs} instance(s) ran, so restartCount should be ${runs - 1}; it is ${cs.restartCount}`,
          });
        }
      }
    } else {
      if (p && p.metadata.uid === r.uid) {
        out.push({ invariant: 'gone', subject, permanent: false, detail: `deleted ${r.deleteConfirmed ? '' : '(deletion not confirmed) '}but still in the store: ${describePodStatus(p)}` });
      } else if (p) {
        out.push({ invariant: 'gone', subject, permanent: true, detail: `deleted (uid ${r.uid}), but the store has a pod of that name with uid ${p.metadata.uid}` });
      }
      for (const s of world.cri?.sandboxes.filter((x) => x.labels[LABEL_POD_UID] === r.uid) ?? []) {
        out.push({ invariant: 'gone', subject, permanent: false, detail: `deleted, but its sandbox ${s.id.slice(0, 12)} (${s.state}) is still on the node` });
      }
      for (const c of world.cri?.containers.filter((x) => x.labels[LABEL_POD_UID] === r.uid) ?? []) {
        out.push({ invariant: 'gone', subject, permanent: false, detail: `deleted, but its container ${c.metadata?.name ?? '?'} ${c.id.slice(0, 12)} (${c.state}) is still on the node` });
      }
    }
  }

  // Node-wide: anything labelled with a uid the store does not hold (the records' own deleted pods are reported above).
  if (pods && world.cri) {
    for (const s of world.cri.sandboxes) {
      const uid = s.labels[LABEL_POD_UID];
      if (!storeUids.has(uid) && !known.has(uid)) {
        out.push({ invariant: 'leak', subject: `sandbox ${s.id.slice(0, 12)}`, permanent: false, detail: `${s.state} sandbox of pod ${s.metadata?.namespace}/${s.metadata?.name} (uid ${uid}), which the store does not have` });
      }
    }
    for (const c of world.cri.containers) {
      const uid = c.labels[LABEL_POD_UID];
      if (!storeUids.has(uid) && !known.has(uid)) {
        out.push({ invariant: 'leak', subject: `container ${c.id.slice(0, 12)}`, permanent: false, detail: `${c.state} container ${c.labels[LABEL_CONTAINER_NAME] ?? c.metadata?.name} of pod ${c.labels[LABEL_POD_NAMESPACE]}/${c.labels[LABEL_POD_NAME]} (uid ${uid}), which the store does not have` });
      }
    }
  }
  out.push(...attemptsRunTwice(world.seenContainers));
  return out;
}

/** After cleanup: no pod of the workload (by label or by uid) is in the store or on the node. */
export function checkPodsCleaned(uids: ReadonlySet<string>, selector: { key: string; value: string }, world: WorldSnapshot): Violation[] {
  const out: Violation[] = [];
  const pods = world.objects?.get('pods') as KubeObject[] | undefined;
  if (!pods) return [{ invariant: 'api', subject: 'mk get pods', detail: `the api did not answer: ${world.apiError ?? 'unknown'}`, permanent: false }];
  if (!world.cri) return [{ invariant: 'cri', subject: 'containerd', detail: `containerd did not answer: ${world.criError ?? 'unknown'}`, permanent: false }];
  for (const p of pods) {
    if (uids.has(p.metadata.uid ?? '') || p.metadata.labels?.[selector.key] === selector.value) {
      out.push({ invariant: 'cleanup', subject: `pod ${podKey(p.metadata.namespace, p.metadata.name)}`, permanent: false, detail: `still in the store after its deletion: ${describePodStatus(p as Pod)}` });
    }
  }
  for (const s of world.cri.sandboxes.filter((x) => uids.has(x.labels[LABEL_POD_UID]))) {
    out.push({ invariant: 'cleanup', subject: `pod ${s.metadata?.namespace}/${s.metadata?.name}`, permanent: false, detail: `sandbox ${s.id.slice(0, 12)} (${s.state}) still on the node after the pod's deletion` });
  }
  for (const c of world.cri.containers.filter((x) => uids.has(x.labels[LABEL_POD_UID]))) {
    out.push({ invariant: 'cleanup', subject: `pod ${c.labels[LABEL_POD_NAMESPACE]}/${c.labels[LABEL_POD_NAME]}`, permanent: false, detail: `container ${c.id.slice(0, 12)} (${c.state}) still on the node after the pod's deletion` });
  }
  return out;
}
