import type { Trigger } from '../../messages/trigger';
import { decideConcurrency, deliveryPolicy, nextAttemptDelay } from './delivery';

const trigger = (spec: Partial<Trigger['spec']> = {}): Trigger => ({
  apiVersion: 'mk.io/v1', kind: 'Trigger', metadata: { name: 'on-order', namespace: 'shop' },
  spec: { target: { function: 'add' }, source: { subject: { subject: 'orders.created' } }, ...spec },
});

describe('trigger delivery', () => {
  it('defaults: Allow, 3 tries, 1 s doubling to 60 s, a dead-letter subject named after the trigger', () => {
    expect(deliveryPolicy(trigger())).toEqual({
      concurrencyPolicy: 'Allow', maxAttempts: 3, initialBackoffMs: 1000, maxBackoffMs: 60_000, deadLetterSubject: 'mk.trigger.dlq.shop.on-order',
    });
    expect(deliveryPolicy(trigger({ concurrencyPolicy: 'Replace', maxAttempts: 5, backoffSeconds: 2, maxBackoffSeconds: 5, deadLetterSubject: 'dead.orders' })))
      .toEqual({ concurrencyPolicy: 'Replace', maxAttempts: 5, initialBackoffMs: 2000, maxBackoffMs: 5000, deadLetterSubject: 'dead.orders' });
  });

  it.each([
    // [maxAttempts, initial s, max s, the waits after tries 1.., then the dead letter]
    [3, 1, 60, [1000, 2000]],
    [6, 1, 60, [1000, 2000, 4000, 8000, 16_000]],
    [6, 2, 5, [2000, 4000, 5000, 5000, 5000]],
    [1, 1, 60, []],
  ])('maxAttempts %i, backoff %i s capped at %i s', (maxAttempts, initial, max, waits) => {
    const policy = deliveryPolicy(trigger({ maxAttempts, backoffSeconds: initial, maxBackoffSeconds: max }));
    const got: (number | undefined)[] = [];
    for (let attempt = 1; attempt <= maxAttempts; attempt++) got.push(nextAttemptDelay(attempt, policy));
    expect(got).toEqual([...waits, undefined]);
    // Past the last try it stays a dead letter.
    expect(nextAttemptDelay(maxAttempts + 1, policy)).toBeUndefined();
  });

  it.each([
    ['Allow', 0, 'start'], ['Allow', 2, 'start'], [undefined, 3, 'start'],
    ['Forbid', 0, 'start'], ['Forbid', 1, 'skip'],
    ['Replace', 0, 'start'], ['Replace', 2, 'replace'],
  ] as const)('concurrency %s with %i running: %s', (policy, running, want) => {
    expect(decideConcurrency(policy, running)).toBe(want);
  });
});
