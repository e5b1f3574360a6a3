import type { NatsConnection } from '@nats-io/transport-node';
import { encode, type CoreBus } from '../bus/core-client';
import { ErrorCodes } from '../messages/errors';
import { KINDS } from '../messages/registry';
import { applyObject } from './apply-merge';
import { Api } from './client';

/**
 * A fake connection (named as such): answers mk.api.* from a script, the way the api answers
 * while a store has no leader (Timeout errors in the reply envelope) and once it has one.
 */
function fakeBus(answer: (subject: string, n: number) => unknown): { bus: CoreBus; calls: string[] } {
  const calls: string[] = [];
  const nc = {
    request: async (subject: string) => {
      calls.push(subject);
      return { data: encode(answer(subject, calls.filter((s) => s === subject).length)) };
    },
  } as unknown as NatsConnection;
  return { bus: { nc, close: async () => undefined }, calls };
}

const timedOut = { ok: false, error: { code: ErrorCodes.Timeout, message: 'get pods.default.a: no reply; the other side may be overloaded or down, retry' } };
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'default' } };
const podKind = KINDS.find((k) => k.kind === 'Pod')!;

describe('Api (fake bus)', () => {
  it('applies again while the api answers Timeout (a store electing its leader), and says so', async () => {
    const { bus, calls } = fakeBus((_s, n) => (n <= 3 ? timedOut : { ok: true, object: pod, result: 'created', warnings: [] }));
    const r = await new Api(bus, 5_000).apply({ manifest: pod } as never);
    expect(r.result).toBe('created');
    expect(calls).toHaveLength(4);
    expect(r.warnings.join('\n')).toMatch(/reply to the first request was lost .*no reply.*applied again: created/);
  });

  it('gives up applying when the budget is spent, with the api\'s error', async () => {
    const { bus, calls } = fakeBus(() => timedOut);
    await expect(new Api(bus, 600).apply({ manifest: pod } as never)).rejects.toThrow(/get pods.default.a: no reply/);
    expect(calls.length).toBeGreaterThan(1);
  });

  it('finds out after a lost delete reply before asking again, as many times as the budget allows', async () => {
    const { bus, calls } = fakeBus((subject, n) => {
      if (subject.endsWith('.delete')) return n <= 2 ? timedOut : { ok: true, object: pod, result: 'deleted' };
      return { ok: true, object: pod }; // untouched: ask again
    });
    const r = await new Api(bus, 5_000).delete(podKind, 'default', 'a');
    expect(r.result).toBe('deleted');
    expect(calls.filter((s) => s.endsWith('.delete'))).toHaveLength(3);
    expect(calls.filter((s) => s.endsWith('.get'))).toHaveLength(2);
  });

  it('mk apply finds out after a lost create by reading again: the object is there and unchanged, with a warning', async () => {
    let created: unknown;
    const { bus, calls } = fakeBus((subject, n) => {
      if (subject.endsWith('.get')) {
        if (created) return { ok: true, object: created };
        return { ok: false, error: { code: ErrorCodes.NotFound, message: 'pods "a" not found' } };
      }
      if (subject.endsWith('.create')) {
        // The first create is done, but its answer is a Timeout (the store's reply came too late).
        created = { ...pod, metadata: { ...pod.metadata, resourceVersion: '7', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(pod) } } };
        return n === 1 ? timedOut : { ok: false, error: { code: ErrorCodes.AlreadyExists, message: 'exists' } };
      }
      return { ok: true, object: created, result: 'unchanged' };
    });
    const r = await applyObject(new Api(bus, 5_000), podKind, pod as never, { validate: 'strict', dryRun: 'none' });
    expect(r.result).toBe('unchanged');
    expect(calls.filter((s) => s.endsWith('.create'))).toHaveLength(1);
    expect(r.warnings.join('\n')).toMatch(/reply to a write was lost .*read again and applied: unchanged/);
  });
});
