import type { NodeCondition } from '../../messages';
import { mergeConditions } from './conditions';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:00:10Z';

describe('mergeConditions', () => {
  it('moves lastTransitionTime only when the status changes, and keeps kubectl\'s order', () => {
    const existing: NodeCondition[] = [
      { type: 'Ready', status: 'True', reason: 'NodeReady', message: '', lastHeartbeatTime: T0, lastTransitionTime: T0 },
      { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: '', lastHeartbeatTime: T0, lastTransitionTime: T0 },
    ];
    const out = mergeConditions(existing, [
      { type: 'Ready', status: 'True', reason: 'NodeReady', message: 'ok' },
      { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'low' },
      { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: '' },
    ], T1);
    expect(out.map((c) => c.type)).toEqual(['MemoryPressure', 'PIDPressure', 'Ready']);
    expect(out.find((c) => c.type === 'Ready')).toMatchObject({ lastHeartbeatTime: T1, lastTransitionTime: T0, message: 'ok' });
    expect(out.find((c) => c.type === 'MemoryPressure')).toMatchObject({ status: 'True', lastHeartbeatTime: T1, lastTransitionTime: T1 });
    expect(out.find((c) => c.type === 'PIDPressure')).toMatchObject({ lastTransitionTime: T1 });
  });

  it('leaves conditions that are not reported as they were', () => {
    const disk: NodeCondition = { type: 'DiskPressure', status: 'Unknown', lastHeartbeatTime: T0, lastTransitionTime: T0 };
    const out = mergeConditions([disk], [{ type: 'Ready', status: 'False', reason: 'X', message: 'y' }], T1);
    expect(out).toEqual([disk, { type: 'Ready', status: 'False', reason: 'X', message: 'y', lastHeartbeatTime: T1, lastTransitionTime: T1 }]);
  });
});
