import type { Pod } from '../../messages';
import type { FaultEvent } from '../helpers/chaos-faults';
import {
  attemptOutcome, checkCalls, checkFunctionCleaned, checkMaxInstances, checkScaledToZero, OUTAGE_SLACK_MS, servingInstances, type CallAttempt, type CallRecord,
} from './function-invariants';
import type { WorldSnapshot } from './kind';

const ok = (startMs: number, i: number): CallAttempt => ({ startMs, endMs: startMs + 500, code: 0, stdout: `${JSON.stringify({ twice: i * 2 })}\n`, stderr: '' });
const failed = (startMs: number, endMs: number, stderr: string): CallAttempt => ({ startMs, endMs, code: 1, stdout: '', stderr });
const call = (id: number, attempts: CallAttempt[]): CallRecord => ({
  id, lane: 'stream', expected: { twice: id * 2 }, attempts, answered: attempts.some((a) => attemptOutcome(a, { twice: id * 2 }) === 'ok'),
});
const kill = (target: FaultEvent['target'], atMs: number, recoveredAfterMs?: number): FaultEvent => ({
  target, plannedAtMs: atMs, atMs, outcome: { killed: true, pid: 1 }, ...(recoveredAfterMs !== undefined ? { recoveredAfterMs } : {}),
});
const NOT_SERVING = 'nothing is serving mk.fn.invoke.default.f: is the function gateway running?';
const TIMEOUT = 'calling mk.fn.invoke.default.f failed: TIMEOUT';

const pod = (name: string, extra: { draining?: boolean; deleting?: boolean; fn?: string } = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: {
    name, namespace: 'default', labels: { 'mk.io/function': extra.fn ?? 'f' },
    annotations: extra.draining ? { 'mk.io/draining': 'true' } : {},
    ...(extra.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
  },
  spec: { containers: [] },
} as unknown as Pod);
const world = (pods: Pod[], functions: unknown[] = []): WorldSnapshot => ({
  atMs: 0, seenContainers: [], seenSandboxes: [], objects: new Map([['pods', pods], ['functions', functions as never]]),
});

describe('attemptOutcome', () => {
  it('tells a right result, a wrong one, a 503, another status and a transport failure apart', () => {
    expect(attemptOutcome(ok(0, 2), { twice: 4 })).toBe('ok');
    expect(attemptOutcome(ok(0, 2), { twice: 6 })).toBe('wrong-result');
    expect(attemptOutcome(failed(0, 1, 'Error (503): the gateway is stopping; retry'), {})).toBe('retry-after');
    expect(attemptOutcome(failed(0, 1, 'Error (504): function "f" did not answer within 30s'), {})).toBe('error');
    expect(attemptOutcome(failed(0, 1, 'Error (502): instance f-1 failed: socket hang up'), {})).toBe('error');
    expect(attemptOutcome(failed(0, 1, NOT_SERVING), {})).toBe('transport');
  });
});

describe('checkCalls', () => {
  it('passes calls answered at once, and retries after a 503', () => {
    expect(checkCalls([call(1, [ok(0, 1)]), call(2, [failed(0, 10, 'Error (503): too many calls waiting (1000); retry later'), ok(600, 2)])], [], 1000)).toEqual([]);
  });

  it('excuses a transport failure only while a killed gateway or nats-server was down (with slack)', () => {
    const retried = call(3, [failed(9_000, 9_100, NOT_SERVING), ok(9_600, 3)]);
    expect(checkCalls([retried], [kill('gateway', 8_900, 1_000)], 12_000)).toEqual([]);
    expect(checkCalls([retried], [kill('nats', 9_050, 800)], 12_000)).toEqual([]);
    // Down until 4 000 ms: the slack (5 s) covers 9 000 ms, not later.
    expect(checkCalls([retried], [kill('gateway', 3_000, 1_000)], 12_000)).toEqual([]);
    expect(checkCalls([retried], [kill('gateway', 1_000, 1_000)], 12_000).map((x) => x.invariant)).toEqual(['call-lost']);
    // A gateway still down when judged covers everything after its kill.
    expect(checkCalls([call(4, [failed(8_000, 8_100, TIMEOUT), ok(8_600, 4)])], [kill('gateway', 7_000)], 9_000)).toEqual([]);
    expect(OUTAGE_SLACK_MS).toBe(5_000);
  });

  it('does not excuse a transport failure during a control-plane or node-agent kill, nor one that did not kill', () => {
    const retried = call(5, [failed(5_000, 5_100, TIMEOUT), ok(5_600, 5)]);
    expect(checkCalls([retried], [kill('control-plane', 4_900, 1_000), kill('node-agent', 4_900, 1_000)], 9_000).map((x) => x.invariant)).toEqual(['call-lost']);
    const missed: FaultEvent = { target: 'gateway', plannedAtMs: 4_900, atMs: 4_900, outcome: { killed: false, reason: 'not running' } };
    expect(checkCalls([retried], [missed], 9_000).map((x) => x.invariant)).toEqual(['call-lost']);
  });

  it('flags a call answered with another status or a wrong result, and one never answered', () => {
    const v = checkCalls([
      call(6, [failed(0, 30_000, 'Error (504): function "f" did not answer within 30s (no instance became free)')]),
      call(7, [{ ...ok(0, 7), stdout: '{"twice":0}' }]),
      call(8, [failed(0, 10, 'Error (503): the gateway is stopping; retry')]),
    ], [], 40_000);
    expect(v.map((x) => [x.invariant, x.subject])).toEqual([
      ['call-failed', 'call 6 (stream)'], ['call-result', 'call 7 (stream)'], ['call-answered', 'call 8 (stream)'],
    ]);
    expect(v.every((x) => x.permanent)).toBe(true);
  });
});

describe('instances', () => {
  it('counts serving instances only: not draining, not being deleted, of this function', () => {
    expect(servingInstances([pod('a'), pod('b', { draining: true }), pod('c', { deleting: true }), pod('d', { fn: 'g' })], 'f').map((p) => p.metadata.name)).toEqual(['a']);
  });

  it('flags more serving instances than maxInstances', () => {
    expect(checkMaxInstances('f', 3, 3, 100)).toEqual([]);
    expect(checkMaxInstances('f', 3, 4, 100)[0]).toMatchObject({ invariant: 'max-instances', permanent: true });
  });

  it('waits for the function to go back to zero, and for its pods to go once deleted', () => {
    expect(checkScaledToZero('f', world([pod('g-1', { fn: 'g' })]))).toEqual([]);
    expect(checkScaledToZero('f', world([pod('f-1', { draining: true })]))[0]).toMatchObject({ invariant: 'scale-to-zero', permanent: false });
    expect(checkFunctionCleaned('f', world([]))).toEqual([]);
    const left = checkFunctionCleaned('f', world([pod('f-1', { deleting: true })], [{ metadata: { name: 'f', namespace: 'default' } }]));
    expect(left.map((x) => x.detail)).toEqual(['deleted, yet still in the store', 'pods of the deleted function left: f-1']);
  });
});
