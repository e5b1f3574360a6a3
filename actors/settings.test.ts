import { isValidation } from '../messages';
import { DEFAULT_SETTINGS, parseDuration, resolveSettings } from './settings';

const caught = (fn: () => unknown): unknown => { try { fn(); } catch (e) { return e; } return undefined; };

describe('control plane settings', () => {
  it('parses Go-style durations and bare seconds', () => {
    expect(parseDuration('40s', 'x')).toBe(40_000);
    expect(parseDuration('1m30s', 'x')).toBe(90_000);
    expect(parseDuration('500ms', 'x')).toBe(500);
    expect(parseDuration('3', 'x')).toBe(3000);
  });

  it('refuses what is not a positive duration, naming the setting', () => {
    const e = caught(() => parseDuration('soon', 'MK_NODE_MONITOR_GRACE_PERIOD'));
    expect(isValidation(e)).toBe(true);
    expect(String(e)).toContain('MK_NODE_MONITOR_GRACE_PERIOD');
    expect(isValidation(caught(() => parseDuration('0s', 'x')))).toBe(true);
    expect(isValidation(caught(() => parseDuration('5s garbage', 'x')))).toBe(true);
  });

  it('takes options over the environment over the defaults', () => {
    expect(resolveSettings({}, {})).toEqual(DEFAULT_SETTINGS);
    const env = { MK_NODE_MONITOR_GRACE_PERIOD: '5s', MK_DEFAULT_NOT_READY_TOLERATION_SECONDS: '10', MK_DEFAULT_UNREACHABLE_TOLERATION_SECONDS: '0' };
    expect(resolveSettings({}, env)).toEqual({ nodeMonitorGracePeriodMs: 5000, defaultNotReadyTolerationSeconds: 10, defaultUnreachableTolerationSeconds: 0 });
    expect(resolveSettings({ nodeMonitorGracePeriodMs: 1000 }, env).nodeMonitorGracePeriodMs).toBe(1000);
    expect(isValidation(caught(() => resolveSettings({}, { MK_DEFAULT_NOT_READY_TOLERATION_SECONDS: '-1' })))).toBe(true);
  });
});
