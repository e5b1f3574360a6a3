import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP } from '../../messages/hpa';
import { emptyHistory, normalize, recordScale, scaleDownLimit, scaleUpLimit, type Rules } from './behavior';

const T0 = Date.parse('2026-01-01T12:00:00Z');
const s = (n: number) => T0 + n * 1000;
const defaults: Rules = { scaleUp: DEFAULT_SCALE_UP, scaleDown: DEFAULT_SCALE_DOWN };

describe('scaling policies', () => {
  it("Kubernetes' default scale up: 100 % or 4 pods per 15 s, whichever is more", () => {
    const h = emptyHistory();
    expect(scaleUpLimit(1, h, DEFAULT_SCALE_UP, T0)).toBe(5);
    expect(scaleUpLimit(10, h, DEFAULT_SCALE_UP, T0)).toBe(20);
    // Select Min: the smaller of the two.
    expect(scaleUpLimit(10, h, { ...DEFAULT_SCALE_UP, selectPolicy: 'Min' }, T0)).toBe(14);
    expect(scaleUpLimit(10, h, { ...DEFAULT_SCALE_UP, selectPolicy: 'Disabled' }, T0)).toBe(10);
  });

  it('counts the changes made within each policy\'s period from the count at its start', () => {
    const h = emptyHistory();
    const rules = { ...DEFAULT_SCALE_UP, policies: [{ type: 'Pods' as const, value: 2, periodSeconds: 60 }] };
    recordScale(h, 2, 4, { scaleUp: rules, scaleDown: DEFAULT_SCALE_DOWN }, s(0));
    // 30 s later the minute began at 2 replicas: at most 4, so no growth yet.
    expect(scaleUpLimit(4, h, rules, s(30))).toBe(4);
    // Once the period has passed, 2 more.
    expect(scaleUpLimit(4, h, rules, s(61))).toBe(6);
  });

  it('scale down: Percent rounds down, Pods subtracts; Max picks the larger change, Min the smaller', () => {
    const h = emptyHistory();
    const both = { stabilizationWindowSeconds: 0, selectPolicy: 'Max' as const, policies: [
      { type: 'Percent' as const, value: 50, periodSeconds: 60 }, { type: 'Pods' as const, value: 1, periodSeconds: 60 }] };
    expect(scaleDownLimit(5, h, both, T0)).toBe(2);
    expect(scaleDownLimit(5, h, { ...both, selectPolicy: 'Min' }, T0)).toBe(4);
    expect(scaleDownLimit(5, h, { ...both, selectPolicy: 'Disabled' }, T0)).toBe(5);
  });
});

describe('normalize: stabilization window, rate and bounds', () => {
  it('scales down only to the highest recommendation of the last 300 s', () => {
    const h = emptyHistory();
    expect(normalize(5, 5, 1, 10, h, defaults, s(0)).replicas).toBe(5);
    const n = normalize(5, 2, 1, 10, h, defaults, s(60));
    expect(n.replicas).toBe(5);
    expect(n.ableToScale.reason).toBe('ScaleDownStabilized');
    expect(normalize(5, 3, 1, 10, h, defaults, s(200)).replicas).toBe(5);
    // The 5 of t=0 leaves the window after 300 s; the 3 of t=200 is the highest left.
    const later = normalize(5, 2, 1, 10, h, defaults, s(301));
    expect(later.replicas).toBe(3);
    expect(normalize(3, 2, 1, 10, h, defaults, s(501)).replicas).toBe(2);
  });

  it('scales up at once with the default zero window, and a scale-up window takes the lowest recommendation', () => {
    expect(normalize(2, 6, 1, 10, emptyHistory(), defaults, s(0)).replicas).toBe(6);
    const rules: Rules = { scaleUp: { ...DEFAULT_SCALE_UP, stabilizationWindowSeconds: 60 }, scaleDown: DEFAULT_SCALE_DOWN };
    const h = emptyHistory();
    normalize(2, 2, 1, 10, h, rules, s(0));
    const n = normalize(2, 6, 1, 10, h, rules, s(30));
    expect(n).toMatchObject({ replicas: 2, ableToScale: { reason: 'ScaleUpStabilized' } });
    expect(normalize(2, 6, 1, 10, h, rules, s(61)).replicas).toBe(6);
  });

  it('clamps to max and min and says so (ScalingLimited)', () => {
    const up = normalize(4, 30, 1, 6, emptyHistory(), defaults, s(0));
    expect(up).toMatchObject({ replicas: 6, limited: true, limit: { reason: 'TooManyReplicas' } });
    const fast = normalize(2, 9, 1, 20, emptyHistory(), defaults, s(0));
    expect(fast).toMatchObject({ replicas: 6, limited: true, limit: { reason: 'ScaleUpLimit' } });
    const noWindow: Rules = { scaleUp: DEFAULT_SCALE_UP, scaleDown: { ...DEFAULT_SCALE_DOWN, stabilizationWindowSeconds: 0 } };
    const down = normalize(4, 1, 2, 6, emptyHistory(), noWindow, s(0));
    expect(down).toMatchObject({ replicas: 2, limited: true, limit: { reason: 'TooFewReplicas' } });
    const slow: Rules = { scaleUp: DEFAULT_SCALE_UP, scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } };
    expect(normalize(4, 1, 1, 6, emptyHistory(), slow, s(0))).toMatchObject({ replicas: 3, limit: { reason: 'ScaleDownLimit' } });
    expect(normalize(4, 5, 1, 6, emptyHistory(), defaults, s(0))).toMatchObject({ replicas: 5, limited: false, limit: { reason: 'DesiredWithinRange' } });
  });
});
