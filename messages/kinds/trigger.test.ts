import { resolveKind } from '../registry';
import type { KubeObject } from '../meta';
import { TriggerKind } from './trigger';

const NOW = Date.parse('2026-01-01T10:10:00Z');
const hook = {
  apiVersion: 'mk.io/v1', kind: 'Trigger',
  metadata: { name: 'orders', namespace: 'shop', creationTimestamp: '2026-01-01T10:00:00Z' },
  spec: {
    target: { workflow: 'process', input: { source: 'web' } }, source: { http: { path: '/hooks/orders', methods: ['POST', 'PUT'] } },
    concurrencyPolicy: 'Forbid', maxAttempts: 5,
  },
  status: {
    lastFiringTime: '2026-01-01T10:09:00Z', firings: 4, succeeded: 2, failed: 3, deadLettered: 1, skipped: 1, active: 0,
    conditions: [{ type: 'Ready', status: 'True', reason: 'Subscribed', message: 'serving POST, PUT /hooks/orders on the gateways' }],
  },
} as unknown as KubeObject;

describe('the Trigger kind', () => {
  it('is found by its names', () => {
    for (const n of ['triggers', 'trigger', 'trig', 'Trigger']) expect(resolveKind(n)).toBe(TriggerKind);
  });

  it('prints NAME SOURCE TARGET LAST-FIRING AGE, and POLICY ATTEMPTS wide', () => {
    const cells = Object.fromEntries(TriggerKind.columns.map((c) => [c.name, c.value(hook, NOW)]));
    expect(cells).toEqual({
      NAME: 'orders', SOURCE: 'http POST,PUT /hooks/orders', TARGET: 'workflow/process', 'LAST-FIRING': '60s', AGE: '10m', POLICY: 'Forbid', ATTEMPTS: '5',
    });
    expect(TriggerKind.columns.filter((c) => c.priority === 1).map((c) => c.name)).toEqual(['POLICY', 'ATTEMPTS']);
    const cron = { ...hook, spec: { target: { function: 'tick' }, source: { schedule: { cron: '*/5 * * * *', timeZone: 'Europe/Paris' } } }, status: {} } as unknown as KubeObject;
    expect(TriggerKind.columns.map((c) => c.value(cron, NOW)).slice(1, 4)).toEqual(['schedule */5 * * * * (Europe/Paris)', 'function/tick', '<none>']);
  });

  it('describes the source, the target, the delivery, the counts and the conditions', () => {
    const text = TriggerKind.describer!.describe(hook, { related: [], events: [], now: NOW });
    for (const line of [
      'Source:\thttp POST,PUT /hooks/orders', '  Path:\t/hooks/orders', 'Target:\tworkflow/process', '  Input:\t{"source":"web"}',
      '  Concurrency Policy:\tForbid', '  Max Attempts:\t5', '  Backoff:\t1s doubling to 60s', '  Dead-Letter Subject:\tmk.trigger.dlq.shop.orders',
      'Firings:\t4 fired | 0 active | 2 succeeded | 3 failed tries | 1 dead-lettered | 1 skipped',
      '  Ready\tTrue\tSubscribed\tserving POST, PUT /hooks/orders on the gateways', 'Events:\t<none>',
    ]) expect(text).toContain(line);
  });
});
