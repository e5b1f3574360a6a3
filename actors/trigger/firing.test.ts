import { afterAttempt, currentAttemptId, firingKey, nextAttempt, type FiringRecord } from './firing';
import type { DeliveryPolicy } from './delivery';

const policy: DeliveryPolicy = { concurrencyPolicy: 'Allow', maxAttempts: 3, initialBackoffMs: 1000, maxBackoffMs: 60_000, deadLetterSubject: 'mk.trigger.dlq.default.t' };
const start: FiringRecord = {
  trigger: 'default/t', uid: 'u1', firing: 't-1767261660', target: { kind: 'function', name: 'add' }, input: { a: 1 },
  attempt: 1, phase: 'Running', created: '2026-01-01T10:00:00.000Z',
};
const T = Date.parse('2026-01-01T10:00:05Z');

describe('a firing from try to try', () => {
  it('succeeds on its first try under the firing\'s own id', () => {
    expect(currentAttemptId(start)).toBe('t-1767261660');
    expect(afterAttempt(start, { ok: true }, policy, T)).toEqual({ record: { ...start, phase: 'Succeeded', ended: '2026-01-01T10:00:05.000Z' } });
  });

  it('fails every try: waits 1 s then 2 s, each try with an id of its own, then a dead letter with the input and last error', () => {
    const first = afterAttempt(start, { ok: false, error: 'boom 1' }, policy, T);
    expect(first.retryInMs).toBe(1000);
    expect(first.record).toMatchObject({ phase: 'Waiting', nextAttemptAt: T + 1000, lastError: 'boom 1', attempt: 1 });
    const second = nextAttempt(first.record);
    expect(second).toMatchObject({ phase: 'Running', attempt: 2 });
    expect(second.nextAttemptAt).toBeUndefined();
    expect(currentAttemptId(second)).toBe('t-1767261660-2');
    const waiting = afterAttempt(second, { ok: false, error: 'boom 2' }, policy, T + 2000);
    expect(waiting.retryInMs).toBe(2000);
    const third = nextAttempt(waiting.record);
    expect(currentAttemptId(third)).toBe('t-1767261660-3');
    const last = afterAttempt(third, { ok: false, error: 'boom 3' }, policy, T + 5000);
    expect(last.retryInMs).toBeUndefined();
    expect(last.record).toMatchObject({ phase: 'DeadLettered', attempt: 3, lastError: 'boom 3', ended: '2026-01-01T10:00:10.000Z' });
    expect(last.deadLetter).toEqual({
      trigger: 'default/t', firing: 't-1767261660', input: { a: 1 }, error: 'boom 3', attempts: 3, target: 'function/add', time: '2026-01-01T10:00:10.000Z',
    });
  });

  it('one try only: the first failure is a dead letter', () => {
    expect(afterAttempt(start, { ok: false, error: 'x' }, { ...policy, maxAttempts: 1 }, T).deadLetter?.attempts).toBe(1);
  });

  it('an answer for a firing that is not running changes nothing', () => {
    const replaced: FiringRecord = { ...start, phase: 'Replaced' };
    expect(afterAttempt(replaced, { ok: true }, policy, T)).toEqual({ record: replaced });
    expect(nextAttempt(start)).toBe(start);
  });

  it('keys a record by trigger uid and firing, open or done', () => {
    expect(firingKey('u1', 't-5', false)).toBe('open.u1.t-5');
    expect(firingKey('u1', 't-5', true)).toBe('done.u1.t-5');
  });
});
