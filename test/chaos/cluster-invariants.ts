/**
 * Invariants of the cluster's own machinery, as pure functions of what a round saw:
 *
 * - leadership (`mk up --control-planes N`): the lease `mk-system/mk-control-plane` has one holder,
 *   that holder is a running control plane of the cluster, it renewed the lease within the lease
 *   time, and it is the only control plane whose log says it leads;
 * - eviction (a node agent SIGSTOPped past the node monitor grace period): a pod that ran before
 *   a pause that nothing else disturbed, and whose unreachable toleration ran out in it, is evicted; an evicted pod is
 *   gone from the node once its agent is back; a pod that was not evicted runs on, its container
 *   never restarted.
 */
import { CONTROL_PLANE_LEASE, LEASE_NAMESPACE, type KubeObject, type Lease, type Pod } from '../../messages';
import { LABEL_POD_UID } from '../../node-agent/pods';
import { holderPid, type FaultEvent } from '../helpers/chaos-faults';
import type { ControlPlaneSeen } from '../helpers/chaos-leadership';
import type { Violation, WorldSnapshot } from './kind';
import { describePodStatus, isRunning, ran } from './pod-invariants';

/** The control planes' lease among `leases`, if there. */
export function controlPlaneLease(leases: readonly KubeObject[] | undefined): Lease | undefined {
  return leases?.find((l) => l.metadata.namespace === LEASE_NAMESPACE && l.metadata.name === CONTROL_PLANE_LEASE) as Lease | undefined;
}

/** The leadership invariant; see the module comment. `nowMs`: when the snapshot was taken. */
export function checkLeader(lease: Lease | undefined, planes: readonly ControlPlaneSeen[], nowMs: number): Violation[] {
  const subject = `lease ${LEASE_NAMESPACE}/${CONTROL_PLANE_LEASE}`;
  const v = (detail: string): Violation => ({ invariant: 'leader', subject, detail, permanent: false });
  if (!lease) return [v('no such lease: no control plane leads')];
  const holder = lease.spec?.holderIdentity;
  if (!holder) return [v('it has no holder: no control plane leads')];
  const out: Violation[] = [];
  const pid = holderPid(holder);
  const plane = planes.find((p) => p.pid !== undefined && p.pid === pid);
  if (!plane) {
    out.push(v(`its holder ${holder} is no running control plane of the cluster (running: `
      + `${planes.filter((p) => p.pid !== undefined).map((p) => `${p.child} ${p.pid}`).join(', ') || 'none'})`));
  }
  const renewed = Date.parse(lease.spec?.renewTime ?? '');
  const durationMs = (lease.spec?.leaseDurationSeconds ?? 15) * 1000;
  if (!Number.isFinite(renewed)) out.push(v(`its holder ${holder} never renewed it`));
  else if (nowMs - renewed > durationMs) out.push(v(`its holder ${holder} last renewed it ${((nowMs - renewed) / 1000).toFixed(1)} s ago (lease time ${durationMs / 1000} s)`));
  const leading = planes.filter((p) => p.pid !== undefined && p.leads === true);
  const others = leading.filter((p) => p.pid !== pid);
  if (others.length > 0) {
    out.push(v(`held by ${holder}, yet ${others.map((p) => `${p.child} (pid ${p.pid})`).join(', ')} also says it leads`));
  }
  if (plane && plane.leads !== true) out.push(v(`held by ${plane.child} (pid ${pid}), whose log does not say it leads`));
  return out;
}

/** One pod of the eviction workload and what the round did to it. */
export interface EvictRecord {
  name: string;
  namespace: string;
  uid?: string;
  /** When it was first seen Running (ms since the round began): from then on its node may evict it. */
  runningAtMs?: number;
}

/**
 * The pauses after which every evictable pod applied before them must be gone: node-pause
 * faults that lasted at least `mustEvictAfterMs` and overlapped no other fault (a restarted
 * control plane or bus may restart the node monitor's clock).
 */
export function cleanPauses(faults: readonly FaultEvent[], mustEvictAfterMs: number): FaultEvent[] {
  const spanOf = (f: FaultEvent): [number, number] => [f.atMs!, f.resumedAtMs ?? (f.atMs! + (f.recoveredAfterMs ?? 0))];
  return faults.filter((f) => {
    if (f.target !== 'node-pause' || !f.outcome?.killed || f.atMs === undefined || f.resumedAtMs === undefined) return false;
    if (f.resumedAtMs - f.atMs < mustEvictAfterMs) return false;
    const [a, b] = spanOf(f);
    return !faults.some((g) => g !== f && g.outcome?.killed && g.atMs !== undefined
      && g.atMs <= b && (g.atMs + (g.recoveredAfterMs ?? 0)) >= a);
  });
}

/** The eviction invariants; see the module comment. */
export function checkEvictions(records: readonly EvictRecord[], faults: readonly FaultEvent[], mustEvictAfterMs: number, world: WorldSnapshot): Violation[] {
  const pods = world.objects?.get('pods') as Pod[] | undefined;
  if (!pods) return [];
  const out: Violation[] = [];
  const pauses = cleanPauses(faults, mustEvictAfterMs);
  for (const r of records) {
    if (r.uid === undefined) continue;
    const subject = `pod ${r.namespace}/${r.name}`;
    const live = pods.find((p) => p.metadata.uid === r.uid);
    const pause = pauses.find((f) => r.runningAtMs !== undefined && r.runningAtMs < f.atMs!);
    if (live && pause) {
      out.push({
        invariant: 'evicted', subject, permanent: false,
        detail: `its node agent was paused ${((pause.resumedAtMs! - pause.atMs!) / 1000).toFixed(1)} s from ${(pause.atMs! / 1000).toFixed(1)} s, `
          + `past the grace period and its toleration, yet it is still in the store: ${describePodStatus(live)}`,
      });
      continue;
    }
    if (live) {
      if (!isRunning(live)) out.push({ invariant: 'running', subject, permanent: false, detail: `not evicted, but not Running: ${describePodStatus(live)}` });
      const exited = world.seenContainers.filter((c) => c.podUid === r.uid && c.states.includes('CONTAINER_EXITED') && ran(c));
      for (const c of exited) {
        out.push({ invariant: 'never-exits', subject, permanent: true, detail: `not evicted, yet its container ${c.name} attempt ${c.attempt} (${c.id.slice(0, 12)}) exited` });
      }
      continue;
    }
    // Evicted (or gone otherwise): its node, back, must have stopped and removed it.
    for (const s of world.cri?.sandboxes.filter((x) => x.labels[LABEL_POD_UID] === r.uid) ?? []) {
      out.push({ invariant: 'evicted', subject, permanent: false, detail: `evicted, but its sandbox ${s.id.slice(0, 12)} (${s.state}) is still on the node` });
    }
    for (const c of world.cri?.containers.filter((x) => x.labels[LABEL_POD_UID] === r.uid) ?? []) {
      out.push({ invariant: 'evicted', subject, permanent: false, detail: `evicted, but its container ${c.id.slice(0, 12)} (${c.state}) is still on the node` });
    }
  }
  return out;
}
