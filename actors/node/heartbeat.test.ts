import type { Node, NodeCondition } from '../../messages';
import { heartbeatConditions, lastHeardFrom, NODE_STATUS_REPORT_MS, renewedLease } from './heartbeat';
import { reconcileNode } from './reconcile';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const ready = (status: 'True' | 'False', at: number): NodeCondition => ({
  type: 'Ready', status, reason: 'KubeletReady', message: 'ok', lastHeartbeatTime: iso(at), lastTransitionTime: iso(T0),
});

describe('heartbeatConditions', () => {
  it('skips the Node write when only heartbeat times would change', () => {
    expect(heartbeatConditions([ready('True', T0)], [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ok' }], T0 + 10_000)).toBeNull();
  });
  it('writes at once when Ready changes, keeping the transition time otherwise', () => {
    const out = heartbeatConditions([ready('True', T0)], [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'x' }], T0 + 10_000);
    expect(out?.[0]).toMatchObject({ status: 'False', lastTransitionTime: iso(T0 + 10_000), lastHeartbeatTime: iso(T0 + 10_000) });
  });
  it('writes at once when a pressure condition appears or changes', () => {
    const reported = [
      { type: 'Ready' as const, status: 'True' as const, reason: 'KubeletReady', message: 'ok' },
      { type: 'MemoryPressure' as const, status: 'True' as const, reason: 'KubeletHasInsufficientMemory', message: 'low' },
    ];
    expect(heartbeatConditions([ready('True', T0)], reported, T0 + 1000)?.map((c) => c.type)).toEqual(['MemoryPressure', 'Ready']);
  });
  it('writes after NODE_STATUS_REPORT_MS even when nothing changed', () => {
    const r = [{ type: 'Ready' as const, status: 'True' as const, reason: 'KubeletReady', message: 'ok' }];
    expect(heartbeatConditions([ready('True', T0)], r, T0 + NODE_STATUS_REPORT_MS - 1)).toBeNull();
    expect(heartbeatConditions([ready('True', T0)], r, T0 + NODE_STATUS_REPORT_MS)?.[0]?.lastHeartbeatTime).toBe(iso(T0 + NODE_STATUS_REPORT_MS));
  });
  it('writes when the stored Ready is Unknown and the node is back', () => {
    const unknown: NodeCondition = { ...ready('True', T0), status: 'Unknown' };
    expect(heartbeatConditions([unknown], [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ok' }], T0 + 1000)?.[0]?.status).toBe('True');
  });
});

describe('node staleness', () => {
  const node = (at: number): Node => ({
    apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'u1' }, spec: { podCIDR: '10.244.0.0/24' },
    status: { conditions: [ready('True', at)] },
  });
  it('takes the later of lease renewTime and Ready lastHeartbeatTime', () => {
    expect(lastHeardFrom(iso(T0), iso(T0 + 5000))).toBe(T0 + 5000);
    expect(lastHeardFrom(iso(T0 + 7000), iso(T0))).toBe(T0 + 7000);
    expect(lastHeardFrom(undefined, undefined)).toBe(0);
  });
  it('a renewed lease keeps a node with an old Ready heartbeat from going Unknown', () => {
    const now = T0 + 120_000;
    const fresh = reconcileNode(node(T0), now, { gracePeriodMs: 40_000, leaseRenewTime: iso(now - 10_000) });
    expect(fresh.actions.some((a) => a.type === 'mark-unknown')).toBe(false);
    expect(fresh.requeueAfterMs).toBe(30_100);
    const stale = reconcileNode(node(T0), now, { gracePeriodMs: 40_000, leaseRenewTime: iso(now - 41_000) });
    expect(stale.actions.some((a) => a.type === 'mark-unknown')).toBe(true);
  });
});

describe('renewedLease', () => {
  const n: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'u1' } };
  it('makes a lease held by the node and owned by its Node', () => {
    const l = renewedLease(n, undefined, T0);
    expect(l.metadata).toMatchObject({ name: 'n1', namespace: 'kube-node-lease', ownerReferences: [{ kind: 'Node', name: 'n1', uid: 'u1' }] });
    expect(l.spec).toMatchObject({ holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: '2026-01-01T00:00:00.000000Z', acquireTime: '2026-01-01T00:00:00.000000Z' });
  });
  it('moves renewTime and keeps acquireTime on renewal', () => {
    const l = renewedLease(n, renewedLease(n, undefined, T0), T0 + 10_000);
    expect(l.spec?.acquireTime).toBe('2026-01-01T00:00:00.000000Z');
    expect(l.spec?.renewTime).toBe('2026-01-01T00:00:10.000000Z');
  });
});
