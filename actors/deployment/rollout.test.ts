import type { Deployment, ReplicaSet } from '../../messages';
import {
  newReplicasForRollingUpdate, oldReplicasForRollingUpdate, podTemplateHash, resolveFenceposts, sameTemplate,
  scaledValue, setsToCleanUp, isScalingEvent, scaledSizes,
} from './rollout';
import { countStatus, isProgressing, withConditions } from './status';

const template = (image: string) => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } });
const deploy = (replicas: number, maxSurge: number | string = '25%', maxUnavailable: number | string = '25%', extra: Partial<Deployment['spec']> = {}): Deployment => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', generation: 1 },
  spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: template('v2'), strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } }, ...extra },
});
const rs = (name: string, replicas: number, pods = replicas, avail = pods, created = name, revision = 1): ReplicaSet => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet',
  metadata: { name, creationTimestamp: `2026-01-01T00:00:0${created.length % 10}Z`, annotations: { 'deployment.kubernetes.io/revision': String(revision) } },
  spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: template(name) },
  status: { replicas: pods, readyReplicas: avail, availableReplicas: avail },
});

describe('podTemplateHash', () => {
  it('is stable across key order and ignores the pod-template-hash label', () => {
    const a = podTemplateHash({ metadata: { labels: { app: 'web', tier: 'f' } }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    const b = podTemplateHash({ spec: { containers: [{ image: 'x', name: 'c' }] }, metadata: { labels: { tier: 'f', app: 'web', 'pod-template-hash': 'zz' } } });
    expect(a).toBe(b);
    expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  });
  it('differs for another template and for another collisionCount', () => {
    const t = template('v1');
    expect(podTemplateHash(t)).not.toBe(podTemplateHash(template('v2')));
    expect(podTemplateHash(t, 1)).not.toBe(podTemplateHash(t));
    expect(sameTemplate(t, { ...t, metadata: { labels: { app: 'web', 'pod-template-hash': 'q' } } })).toBe(true);
  });
});

describe('resolveFenceposts', () => {
  it('rounds maxSurge up and maxUnavailable down', () => {
    expect(scaledValue('25%', 10, true)).toBe(3);
    expect(scaledValue('25%', 10, false)).toBe(2);
    expect(resolveFenceposts(deploy(10))).toEqual({ maxSurge: 3, maxUnavailable: 2 });
    expect(resolveFenceposts(deploy(3))).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(resolveFenceposts(deploy(4, 2, 1))).toEqual({ maxSurge: 2, maxUnavailable: 1 });
  });
  it('makes maxUnavailable 1 when both come out 0', () => {
    expect(resolveFenceposts(deploy(1, '10%', '10%'))).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(resolveFenceposts(deploy(3, 0, '10%'))).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });
});

describe('rolling steps', () => {
  it('scales the new set up within maxSurge', () => {
    const d = deploy(10); // surge 3, unavailable 2
    const old = rs('old', 10);
    const fresh = rs('new', 0);
    expect(newReplicasForRollingUpdate(d, [old, fresh], fresh)).toBe(3);
    expect(newReplicasForRollingUpdate(d, [rs('old', 10), rs('new', 3)], rs('new', 3))).toBe(3);
    expect(newReplicasForRollingUpdate(d, [rs('old', 5), rs('new', 3)], rs('new', 3))).toBe(8);
    expect(newReplicasForRollingUpdate(d, [rs('old', 0), rs('new', 9)], rs('new', 9))).toBe(10);
  });
  it('scales old sets down keeping maxUnavailable, counting the new set\'s unavailable pods', () => {
    const d = deploy(10);
    const fresh = rs('new', 3, 3, 0);
    // 13 pods, min available 8, 3 new unavailable: 2 may go.
    expect(oldReplicasForRollingUpdate(d, [rs('old', 10), fresh], fresh)).toEqual(new Map([['old', 8]]));
    // Once the new ones are available, as many old as keeps 8 available.
    const ready = rs('new', 3, 3, 3);
    expect(oldReplicasForRollingUpdate(d, [rs('old', 8), ready], ready)).toEqual(new Map([['old', 5]]));
  });
  it('takes unhealthy old replicas first, oldest set first', () => {
    const d = deploy(4, 1, 1);
    const fresh = rs('new', 1, 1, 0);
    const a = rs('a', 2, 2, 1, 'a');
    const b = rs('bb', 2, 2, 2, 'bb');
    // 5 pods, min available 3, new unavailable 1: 1 may go, the unready one of a.
    expect(oldReplicasForRollingUpdate(d, [a, b, fresh], fresh)).toEqual(new Map([['a', 1]]));
  });
  it('never scales down when nothing may become unavailable', () => {
    const d = deploy(3, 1, 0);
    const fresh = rs('new', 1, 1, 0);
    expect(oldReplicasForRollingUpdate(d, [rs('old', 3), fresh], fresh).size).toBe(0);
  });
  it('simulated to the end, never exceeds surge nor drops below min available', () => {
    const d = deploy(10, 3, 2);
    let old = rs('old', 10);
    let fresh = rs('new', 0);
    for (let step = 0; step < 50 && !(fresh.spec.replicas === 10 && old.spec.replicas === 0); step++) {
      const up = newReplicasForRollingUpdate(d, [old, fresh], fresh);
      fresh = rs('new', up, up, up);
      const downs = oldReplicasForRollingUpdate(d, [old, fresh], fresh);
      const n = downs.get('old') ?? old.spec.replicas!;
      old = rs('old', n, n, n);
      expect(old.spec.replicas! + fresh.spec.replicas!).toBeLessThanOrEqual(13);
      expect(old.status!.availableReplicas! + fresh.status!.availableReplicas!).toBeGreaterThanOrEqual(8);
    }
    expect([old.spec.replicas, fresh.spec.replicas]).toEqual([0, 10]);
  });
});

describe('history and status', () => {
  it('deletes the oldest revisions scaled to 0 beyond the limit', () => {
    const d = deploy(1, 1, 0, { revisionHistoryLimit: 1 });
    const olds = [rs('r3', 0, 0, 0, 'r3', 3), rs('r1', 0, 0, 0, 'r1', 1), rs('r2', 0, 0, 0, 'r2', 2), rs('busy', 1, 1, 1, 'b', 4)];
    expect(setsToCleanUp(d, olds).map((r) => r.metadata.name)).toEqual(['r1', 'r2']);
  });
  it('sees progress in more available or fewer old replicas', () => {
    expect(isProgressing({ replicas: 4, updatedReplicas: 1, availableReplicas: 3 }, { replicas: 4, updatedReplicas: 1, availableReplicas: 3 })).toBe(false);
    expect(isProgressing({ replicas: 4, updatedReplicas: 1 }, { replicas: 3, updatedReplicas: 1 })).toBe(true);
  });
  it('turns Progressing False once the deadline passes without progress', () => {
    const d = deploy(2, 1, 0, { progressDeadlineSeconds: 10 });
    const fresh = rs('new', 1, 1, 0);
    const counts = countStatus(d, [fresh], fresh);
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const first = withConditions(d, undefined, counts, fresh, 'created', t0);
    expect(first.status.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('NewReplicaSetCreated');
    expect(first.requeueAfterMs).toBe(11_000);
    const later = withConditions(d, first.status, counts, fresh, 'none', t0 + 11_000);
    expect(later.status.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    const done = withConditions(d, later.status, countStatus(d, [rs('new', 2)], rs('new', 2)), rs('new', 2), 'none', t0 + 12_000);
    expect(done.status.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
    expect(done.status.conditions?.find((c) => c.type === 'Available')?.status).toBe('True');
  });
});

describe('scaling events', () => {
  const sized = (r: ReplicaSet, desired: number, max: number): ReplicaSet => ({
    ...r, metadata: { ...r.metadata, annotations: { ...r.metadata.annotations, 'deployment.kubernetes.io/desired-replicas': String(desired), 'deployment.kubernetes.io/max-replicas': String(max) } },
  });
  it('are seen when the active sets were sized for other replicas', () => {
    expect(isScalingEvent(deploy(10), [sized(rs('a', 10), 10, 13)])).toBe(false);
    expect(isScalingEvent(deploy(15), [sized(rs('a', 10), 10, 13)])).toBe(true);
    expect(isScalingEvent(deploy(15), [sized(rs('a', 0), 10, 13)])).toBe(false);
  });
  it('give a single active set the new size', () => {
    expect(scaledSizes(deploy(0), [sized(rs('a', 3), 3, 4)], undefined)).toEqual(new Map([['a', 0]]));
  });
  it('share the change among active sets in proportion, mid-rollout', () => {
    const d = deploy(15, 3, 2);
    const old = sized(rs('old', 8, 8, 8, 'o'), 10, 13);
    const fresh = sized(rs('new', 5, 5, 0, 'newer'), 10, 13);
    expect(scaledSizes(d, [old, fresh], fresh)).toEqual(new Map([['old', 11], ['new', 7]]));
    const down = deploy(5, 3, 2);
    const sizes = scaledSizes(down, [old, fresh], fresh);
    expect([...sizes.values()].reduce((a, b) => a + b, 0)).toBe(8);
    expect(sizes.get('old')).toBeGreaterThan(sizes.get('new')!);
  });
});

describe('progress after a completed rollout', () => {
  it('a pod lost later is no new rollout: no deadline runs', () => {
    const d = deploy(2, 1, 0, { progressDeadlineSeconds: 10 });
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const full = rs('new', 2);
    const done = withConditions(d, undefined, countStatus(d, [full], full), full, 'none', t0);
    expect(done.status.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
    const short = rs('new', 2, 2, 1);
    const later = withConditions(d, done.status, countStatus(d, [short], short), short, 'none', t0 + 60_000);
    expect(later.status.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
    expect(later.requeueAfterMs).toBeUndefined();
    // A rollback onto that set is a new revision: found, with its own clock.
    const back = withConditions(d, later.status, countStatus(d, [short], short), short, 'found', t0 + 61_000);
    expect(back.status.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('FoundNewReplicaSet');
    expect(back.requeueAfterMs).toBe(11_000);
  });
});
