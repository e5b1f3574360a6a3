import { connectBus } from '../../../bus/connection';
import { ObjectStore } from '../../../bus/object-store';
import { UnavailableError } from '../../../messages/errors';
import { caught, startNatsServer, type NatsServer } from '../../helpers/nats-server';

describe('connectBus', () => {
  let server: NatsServer;

  beforeAll(async () => {
    server = await startNatsServer({ user: 'admin', pass: 's3cret "quoted"' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('fails fast with UnavailableError when nothing listens', async () => {
    const started = Date.now();
    const err = await caught(connectBus({ servers: 'nats://127.0.0.1:1', name: 'test', timeoutMs: 2000 }));
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toMatch(/^cannot reach the bus at nats:\/\/127\.0\.0\.1:1: connection refused .*mk up/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('says authorization failed for bad credentials', async () => {
    const err = await caught(connectBus({ servers: server.url, user: 'admin', pass: 'wrong', name: 'test' }));
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toMatch(/authorization failed/);
    const none = await caught(connectBus({ servers: server.url, name: 'test' }));
    expect((none as Error).message).toMatch(/authorization failed/);
  });

  it('connects with the right credentials and closes idempotently', async () => {
    const bus = await connectBus({ servers: [server.url], user: 'admin', pass: 's3cret "quoted"', name: 'test' });
    const store = await ObjectStore.open(bus, { bucket: 'auth-check' });
    await store.create('a.b.c', { ok: true });
    expect((await store.get<{ ok: boolean }>('a.b.c'))?.object.ok).toBe(true);
    await Promise.all([bus.close(), bus.close()]);
    expect(bus.nc.isClosed()).toBe(true);
  });
});
