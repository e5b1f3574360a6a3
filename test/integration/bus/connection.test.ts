import net from 'node:net';
import { errors as natsErrors } from '@nats-io/transport-node';
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

  it('fails fast with UnavailableError when nothing listens: on the refusal, not by its connect timeout', async () => {
    const err = await caught(connectBus({ servers: 'nats://127.0.0.1:1', name: 'test', timeoutMs: 2000 }));
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toMatch(/^cannot reach the bus at nats:\/\/127\.0\.0\.1:1: connection refused .*mk up/);
    // What ended the first connect: the system refusing it, not the timer (that one says "timeout").
    const cause = (err as Error).cause as Error & { cause?: NodeJS.ErrnoException };
    expect(cause).toBeInstanceOf(natsErrors.ConnectionError);
    expect(cause.cause?.code).toBe('ECONNREFUSED');
  });

  it('gives up on a server that accepts but never answers by its connect timeout, and says so', async () => {
    const accepted: net.Socket[] = [];
    const silent = net.createServer((s) => { s.on('error', () => undefined); accepted.push(s); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `nats://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    try {
      const err = await caught(connectBus({ servers: url, name: 'test', timeoutMs: 300 }));
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as Error).message).toBe(`cannot reach the bus at ${url}: timeout (is the cluster up? run \`mk up\`)`);
      expect((err as Error).cause).toBeInstanceOf(natsErrors.TimeoutError);
    } finally {
      for (const s of accepted) s.destroy();
      await new Promise((r) => { silent.close(r); });
    }
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
