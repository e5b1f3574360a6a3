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

  it('fails connect with UnavailableError naming the socket when nothing listens', async () => {
    const socket = path.join(dir, 'missing.sock');
    const t0 = Date.now();
    const err = await CriClient.connect(socket, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain(socket);
    expect((err as Error).message).toMatch(/socket does not exist/);
    expect(Date.now() - t0).toBeLessThan(3_000);
  });

  it('fails connect fast when the socket answers but serves no CRI', async () => {
    const socket = path.join(dir, 'other.sock');
    server = new grpc.Server();
    await new Promise<void>((resolve, reject) => server?.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    await expect(CriClient.connect(socket, { timeoutMs: 5_000 })).rejects.toThrow(/does not serve CRI runtime.v1/);
  });

  it('translateGrpcError passes non-gRPC errors through', () => {
    const e = new Error('plain');
    expect(translateGrpcError('Version', e)).toBe(e);
    expect(translateGrpcError('Version', 'text').message).toBe('Version: text');
  });
});
