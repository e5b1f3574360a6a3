import { instancePodForTest } from './pool-policy.fixtures';
import { parsePoolSize, poolCap, poolEligibility, poolTarget, RECENT_COLD_START_MS } from './pool-policy';

describe('the warm pool size', () => {
  it('reads 0..16 and defaults to 2; anything else is an error naming where it came from', () => {
    expect(parsePoolSize(undefined)).toBe(2);
    expect(parsePoolSize('')).toBe(2);
    expect(parsePoolSize('0')).toBe(0);
    expect(parsePoolSize(' 16 ')).toBe(16);
    expect(parsePoolSize(3)).toBe(3);
    expect(() => parsePoolSize('17')).toThrow('MK_FUNCTION_POOL_SIZE must be an integer from 0 (no warm pool) to 16, not "17"');
    expect(() => parsePoolSize('-1', '--function-pool-size')).toThrow(/^--function-pool-size must be an integer/);
    expect(() => parsePoolSize('1.5')).toThrow(/integer/);
    expect(() => parsePoolSize('two')).toThrow(/integer/);
  });

  it('grows by one per cold start of the last 5 minutes, up to twice the base (at most 8), and falls back when they age out', () => {
    const now = 10 * RECENT_COLD_START_MS;
    expect(poolTarget(2, [], now)).toBe(2);
    expect(poolTarget(2, [now - 1000], now)).toBe(3);
    expect(poolTarget(2, [now - 3, now - 2, now - 1], now)).toBe(4);
    expect(poolTarget(2, [now - RECENT_COLD_START_MS, now - RECENT_COLD_START_MS - 1], now)).toBe(2);
    expect(poolTarget(0, [now], now)).toBe(0);
    expect(poolTarget(1, [now, now], now)).toBe(2);
    expect(poolCap(6)).toBe(8);
    expect(poolCap(16)).toBe(16);
    expect(poolTarget(16, [now], now)).toBe(16);
  });
});

describe('which pods may take a warm container', () => {
  it('takes a function instance pod as the controller makes it', () => {
    expect(poolEligibility(instancePodForTest())).toEqual({ runtime: 'python3' });
    expect(poolEligibility(instancePodForTest({ image: 'registry.mk.local/mk-runtime-node:latest' }))).toEqual({ runtime: 'node' });
    expect(poolEligibility(instancePodForTest({ env: [{ name: 'MK_FUNCTION_COMMAND', value: 'python3 add.py' }] }))).toEqual({ runtime: 'python3' });
    // Resources are applied to the member when it is taken.
    expect(poolEligibility(instancePodForTest({ resources: { limits: { memory: '64Mi', cpu: '500m' } } }))).toEqual({ runtime: 'python3' });
  });

  it.each<[string, Parameters<typeof instancePodForTest>[0], RegExp]>([
    ['no function label', { labels: {} }, /not a function instance/],
    ['an extra volume', { extraVolume: true }, /volumes other than one functions\.mk\.io csi volume/],
    ['a command', { command: ['sh'] }, /container field command is set/],
    ['a securityContext', { securityContext: { runAsUser: 1000 } }, /container field securityContext is set/],
    ['another image', { image: 'busybox' }, /not a runtime image/],
    ['a hashed runtime image name', { image: 'registry.mk.local/mk-runtime-python3:0123abcd' }, /is not registry\.mk\.local\/mk-runtime-python3:latest/],
    ['both handler and command', { env: [{ name: 'MK_FUNCTION_HANDLER', value: 'a.b' }, { name: 'MK_FUNCTION_COMMAND', value: 'x' }] }, /not exactly one/],
    ['an env referring to the pod IP', { env: [{ name: 'MK_FUNCTION_HANDLER', value: 'a.b' }, { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] }, /pod's status/],
    ['a host port', { hostPort: 8080 }, /host port/],
    ['a pod-level field a member lacks', { hostname: 'x' }, /spec\.hostname is set/],
    ['a code mount elsewhere', { mountPath: '/src' }, /not mounted as a whole at \/code/],
  ])('refuses a pod with %s', (_what, o, reason) => {
    const e = poolEligibility(instancePodForTest(o));
    expect(e).toEqual({ reason: expect.stringMatching(reason) });
  });
});
