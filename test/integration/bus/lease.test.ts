import { connectBus, type Bus } from '../../../bus/connection';
import { acquireLease, releaseLease, renewLease } from '../../../bus/lease';
import { ConflictError } from '../../../messages/errors';
import { caught, startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';

describe('leases', () => {
  let server: NatsServer;
  let a: Bus;
  let b: Bus;

  beforeAll(async () => {
    server = await startNatsServer();
    a = await connectBus({ servers: server.url, name: 'cp-a' });
    b = await connectBus({ servers: server.url, name: 'cp-b' });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await server?.stop();
  });

  it('has one holder at a time; renew extends it; release frees it', async () => {
    const la = await acquireLease(a, 'leader-1', 'cp-a', 10_000);
    expect(la).toMatchObject({ name: 'leader-1', holder: 'cp-a', ttlMs: 10_000 });
    expect(await acquireLease(b, 'leader-1', 'cp-b', 10_000)).toBeNull();
    const renewed = await renewLease(a, la!);
    expect(renewed.revision).toBeGreaterThan(la!.revision);
    expect(await caught(renewLease(a, la!))).toBeInstanceOf(ConflictError); // the old revision is stale
    const again = await acquireLease(a, 'leader-1', 'cp-a', 10_000); // the holder may re-acquire
    expect(again?.holder).toBe('cp-a');
    await releaseLease(a, again!);
    await releaseLease(a, again!); // idempotent
    expect((await acquireLease(b, 'leader-1', 'cp-b', 10_000))?.holder).toBe('cp-b');
  });

  it('lets a contender take an expired lease; the old holder cannot renew it', async () => {
    const la = await acquireLease(a, 'leader-2', 'cp-a', 300);
    expect(la).not.toBeNull();
    const lb = await waitFor(() => acquireLease(b, 'leader-2', 'cp-b', 10_000), 'the lease to expire');
    expect(lb.holder).toBe('cp-b');
    expect(await caught(renewLease(a, la!))).toBeInstanceOf(ConflictError);
  });

  it('has exactly one winner among concurrent contenders', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => acquireLease(i % 2 ? a : b, 'leader-3', `cp-${i}`, 10_000)));
    expect(results.filter((r) => r !== null)).toHaveLength(1);
  });
});
