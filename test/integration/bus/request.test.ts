import { connectBus, type Bus } from '../../../bus/connection';
import { request, serve } from '../../../bus/request';
import {
  ConflictError, ErrorCodes, isConflict, isNotFound, MkError, NotFoundError, TimeoutError, UnavailableError, ValidationError,
} from '../../../messages/errors';
import { caught, startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';

describe('request / serve', () => {
  let server: NatsServer;
  let bus: Bus;
  let client: Bus;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'test-server-side' });
    client = await connectBus({ servers: server.url, name: 'test-client-side' });
  });
  afterAll(async () => {
    await client?.close();
    await bus?.close();
    await server?.stop();
  });

  it('round-trips JSON in envelopes', async () => {
    const s = serve<{ a: number; b: number }, { sum: number }>(bus, 'test.add', async (req) => ({ sum: req.a + req.b }));
    await s.ready;
    try {
      await expect(request<{ sum: number }>(client, 'test.add', { a: 2, b: 3 })).resolves.toEqual({ sum: 5 });
    } finally {
      await s.stop();
    }
  });

  it('rebuilds the error class the handler threw', async () => {
    const s = serve<{ what: string }, object>(bus, 'test.fail', async (req) => {
    await s.ready;
      switch (req.what) {
        case 'invalid': throw new ValidationError('bad manifest', ['spec.replicas: must be >= 0']);
        case 'missing': throw new NotFoundError('pods "x" not found');
        case 'conflict': throw new ConflictError('stale');
        default: throw new Error('boom');
      }
    });
    try {
      const v = await caught(request(client, 'test.fail', { what: 'invalid' }));
      expect(v).toBeInstanceOf(ValidationError);
      expect((v as ValidationError).issues).toEqual(['spec.replicas: must be >= 0']);
      expect(isNotFound(await caught(request(client, 'test.fail', { what: 'missing' })))).toBe(true);
      expect(isConflict(await caught(request(client, 'test.fail', { what: 'conflict' })))).toBe(true);
      const internal = await caught(request(client, 'test.fail', { what: 'other' }));
      expect(internal).toBeInstanceOf(MkError);
      expect((internal as MkError).code).toBe(ErrorCodes.Internal);
      expect((internal as MkError).message).toBe('boom');
    } finally {
      await s.stop();
    }
  });

  it('answers malformed JSON with BadRequest', async () => {
    const s = serve(bus, 'test.json', async () => ({}));
    await s.ready;
    try {
      const msg = await client.nc.request('test.json', new TextEncoder().encode('{not json'), { timeout: 2000 });
      const reply = JSON.parse(new TextDecoder().decode(msg.data));
      expect(reply.ok).toBe(false);
      expect(reply.error.code).toBe(ErrorCodes.BadRequest);
    } finally {
      await s.stop();
    }
  });

  it('says nothing is serving a subject without responders', async () => {
    const err = await caught(request(client, 'mk.api.apply', {}));
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toBe('nothing is serving mk.api.apply: is the control plane running?');
  });

  it('times out naming the subject and the timeout, and stop() waits for the handler', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let answered = false;
    const s = serve(bus, 'test.slow', async () => { await held; answered = true; return {}; });
    await s.ready;
    try {
      const err = await caught(request(client, 'test.slow', {}, { timeoutMs: 200 }));
      expect(err).toBeInstanceOf(TimeoutError);
      expect((err as Error).message).toMatch(/test\.slow/);
      expect((err as Error).message).toMatch(/200 ms/);
    } finally {
      const stopping = s.stop();
      release();
      await stopping;
      expect(answered).toBe(true);
    }
  });

  it('shares a queue group: every request is answered exactly once', async () => {
    const seen: string[] = [];
    const s1 = serve<{ i: number }, object>(bus, 'test.q', async (r) => { seen.push(`1:${r.i}`); return {}; }, { queue: 'q' });
    await s1.ready;
    const s2 = serve<{ i: number }, object>(client, 'test.q', async (r) => { seen.push(`2:${r.i}`); return {}; }, { queue: 'q' });
    await s2.ready;
    try {
      await Promise.all(Array.from({ length: 20 }, (_, i) => request(client, 'test.q', { i })));
      await waitFor(() => seen.length >= 20, 'all requests');
      expect(seen.map((x) => Number(x.split(':')[1])).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    } finally {
      await s1.stop();
      await s2.stop();
    }
  });
});
