/**
 * CriClient against a fake CRI server on a unix socket (no root, no containerd): the wire
 * conventions (camelCase, enums as strings, int64 as numbers, defaults present), error mapping
 * and deadlines.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { NotFoundError, TimeoutError, UnavailableError } from '../../messages/errors';
import { CriClient, PROTO_LOADER_OPTIONS, translateGrpcError } from './client';

type Handler = (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) => void;

async function startFake(socket: string, runtime: Record<string, Handler>, image: Record<string, Handler> = {}): Promise<grpc.Server> {
  const def = protoLoader.loadSync(path.join(__dirname, 'runtime.proto'), PROTO_LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: Record<string, { service: grpc.ServiceDefinition }> } };
  const server = new grpc.Server();
  server.addService(pkg.runtime.v1.RuntimeService.service, runtime as grpc.UntypedServiceImplementation);
  server.addService(pkg.runtime.v1.ImageService.service, image as grpc.UntypedServiceImplementation);
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  return server;
}

const version: Handler = (_c, cb) => cb(null, { version: '0.1.0', runtimeName: 'fake', runtimeVersion: '1.0', runtimeApiVersion: 'v1' });

describe('CriClient', () => {
  let dir: string;
  let server: grpc.Server | undefined;
  let client: CriClient | undefined;

  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'mk-cri-')); });
  afterEach(async () => {
    client?.close();
    client = undefined;
    server?.forceShutdown();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('decodes responses with the project conventions and sends camelCase requests', async () => {
    const socket = path.join(dir, 'cri.sock');
    let seen: Record<string, unknown> | undefined;
    server = await startFake(socket, {
      version,
      containerStatus: (call, cb) => {
        seen = call.request;
        cb(null, {
          status: {
            id: call.request.containerId, metadata: { name: 'web', attempt: 2 }, state: 'CONTAINER_EXITED',
            createdAt: 1_700_000_000_123_456_789n.toString(), exitCode: 3, logPath: '/logs/web/2.log', labels: { a: 'b' },
          },
        });
      },
      execSync: (_call, cb) => cb(null, { stdout: Buffer.from('hi\n'), exitCode: 0 }),
    });
    client = await CriClient.connect(socket, { timeoutMs: 5_000 });
    const res = await client.containerStatus({ containerId: 'c1', verbose: false });
    expect(seen).toMatchObject({ containerId: 'c1', verbose: false });
    const st = res.status;
    expect(st?.state).toBe('CONTAINER_EXITED');
    expect(typeof st?.createdAt).toBe('number');
    expect(st?.createdAt).toBeCloseTo(1.700000000123e18, -6);
    expect(st).toMatchObject({ exitCode: 3, logPath: '/logs/web/2.log', labels: { a: 'b' }, metadata: { name: 'web', attempt: 2 } });
    // defaults: true -> unset scalars and collections are present, unset messages are null.
    expect(st).toMatchObject({ startedAt: 0, finishedAt: 0, reason: '', annotations: {}, mounts: [], image: null });
    const ex = await client.execSync({ containerId: 'c1', cmd: ['echo', 'hi'], timeout: 5 });
    expect(Buffer.isBuffer(ex.stdout)).toBe(true);
    expect(ex.stdout.toString()).toBe('hi\n');
    expect(ex.stderr.length).toBe(0);
  });

  it('maps NOT_FOUND, DEADLINE_EXCEEDED and others to mk errors naming the RPC', async () => {
    const socket = path.join(dir, 'cri.sock');
    server = await startFake(socket, {
      version,
      podSandboxStatus: (_c, cb) => cb({ code: grpc.status.NOT_FOUND, details: 'an error occurred when try to find sandbox "x": not found' }),
      // Never answers: the client's deadline must fire.
      listContainers: () => undefined,
      removeContainer: (_c, cb) => cb({ code: grpc.status.INVALID_ARGUMENT, details: 'bad id' }),
    }, {
      imageStatus: (call, cb) => cb(null, { image: null, info: {} }),
    });
    client = await CriClient.connect(socket);
    await expect(client.podSandboxStatus({ podSandboxId: 'x' })).rejects.toThrow(NotFoundError);
    await expect(client.podSandboxStatus({ podSandboxId: 'x' })).rejects.toThrow(/PodSandboxStatus.*not found/);
    await expect(client.listContainers({}, { timeoutMs: 200 })).rejects.toThrow(TimeoutError);
    await expect(client.removeContainer({ containerId: 'x' })).rejects.toThrow(/CRI RemoveContainer: bad id \(grpc INVALID_ARGUMENT\)/);
    expect((await client.imageStatus({ image: { image: 'nope' } })).image).toBeNull();
  });

  it('fails connect with UnavailableError naming the socket and its own deadline when nothing listens', async () => {
    const socket = path.join(dir, 'missing.sock');
    const err = await CriClient.connect(socket, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    // The deadline it gave up at is the one asked for (300 ms), not the default 10 s.
    expect((err as Error).message).toContain(`CRI runtime at ${socket} did not answer Version within 300 ms: the socket does not exist`);
  });

  it('fails connect fast when the socket answers but serves no CRI', async () => {
    const socket = path.join(dir, 'other.sock');
    server = new grpc.Server();
    await new Promise<void>((resolve, reject) => server?.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    await expect(CriClient.connect(socket, { timeoutMs: 5_000 })).rejects.toThrow(/does not serve CRI runtime.v1/);
  });

  it('bounds mutating calls per lane, FIFO, and never queues reads', async () => {
    const socket = path.join(dir, 'cri.sock');
    const pending: Array<{ rpc: string; id: string; answer(): void }> = [];
    const hold = (rpc: string): Handler => (call, cb) => {
      pending.push({ rpc, id: String(call.request.containerId ?? call.request.podSandboxId ?? ''), answer: () => cb(null, {}) });
    };
    server = await startFake(socket, {
      version, startContainer: hold('start'), stopContainer: hold('stop'), removePodSandbox: hold('removeSandbox'),
      listContainers: (_c, cb) => cb(null, { containers: [] }),
    });
    client = await CriClient.connect(socket, { limits: { lifecycle: 2, stop: 1 } });
    const c = client;
    const starts = ['a', 'b', 'c', 'd'].map((id) => c.startContainer({ containerId: id }));
    const removal = c.removePodSandbox({ podSandboxId: 'e' });
    const stops = ['s1', 's2'].map((id) => c.stopContainer({ containerId: id, timeout: 0 }));
    // The calls the fake server holds unanswered, once they are exactly `ids` (in any order).
    const heldAre = async (ids: string[]): Promise<void> => {
      const want = [...ids].sort().join();
      for (const deadline = Date.now() + 5_000; pending.map((p) => p.id).sort().join() !== want;) {
        if (Date.now() > deadline) throw new Error(`the server holds ${pending.map((p) => p.id).join(', ')}, not ${want}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const answer = (id: string) => { const i = pending.findIndex((p) => p.id === id); pending.splice(i, 1)[0].answer(); };
    await heldAre(['a', 'b', 's1']);
    // Lifecycle is full with a and b, stop with s1; a read still goes straight through.
    await expect(c.listContainers({})).resolves.toEqual({ containers: [] });
    expect(c.laneStats()).toMatchObject({ lifecycle: { inFlight: 2, queued: 3 }, stop: { inFlight: 1, queued: 1 } });
    answer('b');
    await heldAre(['a', 'c', 's1']);
    answer('a');
    answer('s1');
    await heldAre(['c', 'd', 's2']);
    for (const id of ['c', 'd', 's2']) answer(id);
    await heldAre(['e']);
    answer('e');
    await Promise.all([...starts, removal, ...stops]);
    expect(c.laneStats().lifecycle).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('starts a queued call\'s deadline when it is sent; a call that timed out frees its slot', async () => {
    const socket = path.join(dir, 'cri.sock');
    const received: Array<{ id: string; at: number }> = [];
    server = await startFake(socket, {
      version,
      startContainer: (call, cb) => {
        const id = String(call.request.containerId);
        received.push({ id, at: Date.now() });
        // The first start never answers (a runtime stuck under load); the second answers at once.
        if (id !== 'stuck') cb(null, {});
      },
    });
    client = await CriClient.connect(socket, { limits: { lifecycle: 1 }, deadlines: { StartContainer: 400 } });
    const t0 = Date.now();
    const first = client.startContainer({ containerId: 'stuck' });
    const second = client.startContainer({ containerId: 'next' });
    await expect(first).rejects.toThrow(TimeoutError);
    // Queued for the whole 400 ms of the first call: were its deadline taken at queueing, it
    // would expire before being sent.
    await expect(second).resolves.toEqual({});
    expect(received.map((r) => r.id)).toEqual(['stuck', 'next']);
    expect(received[1].at - t0).toBeGreaterThanOrEqual(350);
  });

  it('gives StopContainer its grace period on top of its deadline', async () => {
    const socket = path.join(dir, 'cri.sock');
    server = await startFake(socket, {
      version,
      // Answers after 600 ms, as a container that ignores SIGTERM is killed after its grace.
      stopContainer: (_c, cb) => { setTimeout(() => cb(null, {}), 600); },
    });
    client = await CriClient.connect(socket, { deadlines: { StopContainer: 200 } });
    expect(client.deadlineOf('StopContainer')).toBe(200);
    // 200 ms plus a 30 s grace: answered. A deadline without the grace would cut it at 200 ms.
    await expect(client.stopContainer({ containerId: 'x', timeout: 30 })).resolves.toEqual({});
    await expect(client.stopContainer({ containerId: 'x', timeout: 0 })).rejects.toThrow(TimeoutError);
  });

  it('translateGrpcError passes non-gRPC errors through', () => {
    const e = new Error('plain');
    expect(translateGrpcError('Version', e)).toBe(e);
    expect(translateGrpcError('Version', 'text').message).toBe('Version: text');
  });
});
