import { defaultTrigger, TriggerSchema, type Trigger } from '../../messages/trigger';

const t = (spec: Partial<Trigger['spec']> = {}): Trigger => ({
  apiVersion: 'mk.io/v1', kind: 'Trigger', metadata: { name: 'hook', namespace: 'shop' },
  spec: { target: { function: 'f', input: { a: 1 } }, source: { http: { path: '/hooks/x' } }, ...spec },
});

describe('the Trigger kind\'s defaults', () => {
  it('fills in the delivery and source defaults, and the stored trigger applies again as it is', () => {
    const d = defaultTrigger(t());
    expect(d.spec).toEqual({
      target: { function: 'f', input: { a: 1 }, inputMode: 'Merge' }, source: { http: { path: '/hooks/x', methods: ['POST'] } },
      concurrencyPolicy: 'Allow', maxAttempts: 3, backoffSeconds: 1, maxBackoffSeconds: 60,
    });
    expect(TriggerSchema.safeParse(d).success).toBe(true);
  });

  it('keeps a dead-letter subject that was given', () => {
    expect(defaultTrigger(t({ deadLetterSubject: 'dead.hooks' })).spec.deadLetterSubject).toBe('dead.hooks');
  });
});
