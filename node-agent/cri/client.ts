/**
 * CRI client: one async method per runtime.v1 RPC mk uses, over containerd's unix socket.
 * Requests and responses are the plain objects @grpc/proto-loader produces (see types.ts for the
 * conventions); gRPC failures become mk error classes so callers can branch on them.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { NotFoundError, TimeoutError, UnavailableError } from '../../messages/errors';
import { CRI_CALL_POLICY, DEFAULT_LANE_LIMITS, type CriLane, type CriLaneLimits, type CriRpc } from './call-policy';
import { CallLimiter, type LimiterStats } from './limiter';
import { criQueueWait, criRequestDuration, grpcCode } from './metrics';
import type * as T from './types';

/** Options of one call. */
export interface CallOptions {
  /**
   * Deadline of this call in ms, counted from when it is sent (after any wait for a slot).
   * Default: the RPC's entry in CRI_CALL_POLICY (or the connect-time override).
   */
  timeoutMs?: number;
}

/** Options of `CriClient.connect`. */
export interface ConnectOptions {
  /** How long to wait for the socket to answer Version (default 10 s). */
  timeoutMs?: number;
  /** Per-RPC deadlines replacing CRI_CALL_POLICY's (tests shorten them). */
  deadlines?: Partial<Record<CriRpc, number>>;
  /** Per-lane bounds replacing DEFAULT_LANE_LIMITS's; Infinity for no bound. */
  limits?: Partial<CriLaneLimits>;
  /** Told about every finished call (metrics, slow-call logs, benchmarks). Must not throw. */
  onCall?: (call: CallRecord) => void;
}

/** One finished CRI call, as `ConnectOptions.onCall` sees it. */
export interface CallRecord {
  rpc: CriRpc;
  /** Time spent waiting for a slot in its lane (0 for reads). */
  queuedMs: number;
  /** From sending to the answer: the runtime's share. */
  tookMs: number;
  /** The error it failed with, if it did. */
  error?: Error;
}

/** The loader options the whole project's CRI types assume: keep them in one place. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

// ExecSync output is capped at 16 MiB per stream by containerd; the default 4 MiB is too small.
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Finds runtime.proto next to this module, or in the source tree when running from dist/. */
function protoPath(): string {
  const candidates = [
    path.join(__dirname, 'runtime.proto'),
    path.resolve(__dirname, '..', '..', '..', 'node-agent', 'cri', 'runtime.proto'),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`runtime.proto not found (looked in ${candidates.join(', ')})`);
  return found;
}

type ServiceCtor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client;
let services: { runtime: ServiceCtor; image: ServiceCtor } | undefined;

function loadServices(): { runtime: ServiceCtor; image: ServiceCtor } {
  if (!services) {
    const def = protoLoader.loadSync(protoPath(), PROTO_LOADER_OPTIONS);
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      runtime: { v1: { RuntimeService: ServiceCtor; ImageService: ServiceCtor } };
    };
    services = { runtime: pkg.runtime.v1.RuntimeService, image: pkg.runtime.v1.ImageService };
  }
  return services;
}

function isServiceError(e: unknown): e is grpc.ServiceError {
  return e instanceof Error && typeof (e as Partial<grpc.ServiceError>).code === 'number';
}

/** Maps a gRPC failure of `rpc` to an mk error; the message always names the RPC. */
export function translateGrpcError(rpc: string, err: unknown): Error {
  if (!isServiceError(err)) return err instanceof Error ? err : new Error(`${rpc}: ${String(err)}`);
  const msg = `CRI ${rpc}: ${err.details || err.message}`;
  switch (err.code) {
    case grpc.status.NOT_FOUND: return new NotFoundError(msg, { cause: err });
    case grpc.status.DEADLINE_EXCEEDED: return new TimeoutError(`${msg} (deadline exceeded)`, { cause: err });
    case grpc.status.UNAVAILABLE: return new UnavailableError(msg, { cause: err });
    default: return new Error(`${msg} (grpc ${grpc.status[err.code] ?? err.code})`, { cause: err });
  }
}

function onPath(bin: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(path.join(d, bin)));
}

/**
 * A connection to a CRI runtime (containerd) on a unix socket. Mutating calls queue per lane
 * (CRI_CALL_POLICY, DEFAULT_LANE_LIMITS) so one node never has more than a few in flight; reads
 * go out at once. Every call's deadline starts when it is sent.
 */
export class CriClient {
  private readonly lanes: Record<CriLane, CallLimiter>;

  private constructor(
    /** The unix socket this client talks to. */
    readonly socketPath: string,
    private readonly runtime: grpc.Client,
    private readonly image: grpc.Client,
    private readonly deadlines: Partial<Record<CriRpc, number>>,
    limits: Partial<CriLaneLimits>,
    private readonly onCall?: (call: CallRecord) => void,
  ) {
    const bound = (lane: CriLane): CallLimiter => new CallLimiter(limits[lane] ?? DEFAULT_LANE_LIMITS[lane]);
    this.lanes = { lifecycle: bound('lifecycle'), stop: bound('stop'), pull: bound('pull') };
  }

  /**
   * Connects to the CRI socket and waits until it answers Version, retrying until the deadline.
   * Throws UnavailableError naming the socket (and saying whether the socket file exists and
   * containerd is installed) when it does not answer in time, or plain Error when the runtime
   * answers but does not serve CRI runtime.v1 (the CRI plugin failed to load).
   */
  static async connect(socketPath: string, opts: ConnectOptions = {}): Promise<CriClient> {
    const { runtime: RuntimeService, image: ImageService } = loadServices();
    const address = `unix://${path.resolve(socketPath)}`;
    const channelOpts: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    };
    const creds = grpc.credentials.createInsecure();
    const rt = new RuntimeService(address, creds, channelOpts);
    // Both services share one channel: grpc-js pools subchannels by address and options.
    const img = new ImageService(address, creds, channelOpts);
    const client = new CriClient(socketPath, rt, img, opts.deadlines ?? {}, opts.limits ?? {}, opts.onCall);
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    let last: unknown;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      try {
        await client.version({}, { timeoutMs: Math.min(left, 2_000) });
        return client;
      } catch (e) {
        last = e;
        const cause = (e as { cause?: unknown }).cause;
        if (isServiceError(cause) && cause.code === grpc.status.UNIMPLEMENTED) {
          client.close();
          throw new Error(`${socketPath} answers but does not serve CRI runtime.v1 (is containerd's CRI plugin disabled or failing? see its log)`, { cause: e });
        }
      }
      // Poll the socket, not a fixed sleep: a short back-off between attempts keeps CPU low.
      await new Promise((r) => setTimeout(r, Math.min(100, Math.max(0, deadline - Date.now()))));
    }
    client.close();
    const sock = existsSync(socketPath) ? 'the socket exists but does not answer' : 'the socket does not exist';
    const bin = onPath('containerd') ? 'is containerd running?' : 'containerd is not installed (no containerd on PATH)';
    throw new UnavailableError(`CRI runtime at ${socketPath} did not answer Version within ${opts.timeoutMs ?? 10_000} ms: ${sock}; ${bin}`, { cause: last });
  }

  /** Closes the channels; calls in flight fail with UnavailableError. */
  close(): void {
    this.runtime.close();
    this.image.close();
  }

  /** What each lane runs and queues now (diagnostics and tests). */
  laneStats(): Record<CriLane, LimiterStats> {
    return { lifecycle: this.lanes.lifecycle.stats(), stop: this.lanes.stop.stats(), pull: this.lanes.pull.stats() };
  }

  /** The default deadline of `rpc` in ms: the connect-time override, else CRI_CALL_POLICY's. */
  deadlineOf(rpc: CriRpc): number {
    return this.deadlines[rpc] ?? CRI_CALL_POLICY[rpc].deadlineMs;
  }

  /** Queues the call in its lane (if it has one), then sends it. */
  private call<Req, Res>(svc: grpc.Client, rpc: CriRpc, req: Req, opts?: CallOptions, extraMs = 0): Promise<Res> {
    const timeoutMs = opts?.timeoutMs ?? this.deadlineOf(rpc) + extraMs;
    const { lane, priority } = CRI_CALL_POLICY[rpc];
    const queuedAt = performance.now();
    const send = async (): Promise<Res> => {
      const sentAt = performance.now();
      if (lane) criQueueWait.observe({ method: rpc }, (sentAt - queuedAt) / 1000);
      try {
        const res = await this.send<Req, Res>(svc, rpc, req, timeoutMs);
        const tookMs = performance.now() - sentAt;
        criRequestDuration.observe({ method: rpc, code: 'OK' }, tookMs / 1000);
        this.onCall?.({ rpc, queuedMs: sentAt - queuedAt, tookMs });
        return res;
      } catch (e) {
        const tookMs = performance.now() - sentAt;
        criRequestDuration.observe({ method: rpc, code: grpcCode(e) }, tookMs / 1000);
        this.onCall?.({ rpc, queuedMs: sentAt - queuedAt, tookMs, error: e as Error });
        throw e;
      }
    };
    return lane ? this.lanes[lane].run(send, priority) : send();
  }

  private send<Req, Res>(svc: grpc.Client, rpc: CriRpc, req: Req, timeoutMs: number): Promise<Res> {
    const method = rpc.charAt(0).toLowerCase() + rpc.slice(1);
    const fn = (svc as unknown as Record<string, (r: Req, m: grpc.Metadata, o: grpc.CallOptions, cb: grpc.requestCallback<Res>) => void>)[method];
    // Taken here, not when the call was queued: waiting for a slot is not the runtime being slow.
    const deadline = new Date(Date.now() + timeoutMs);
    return new Promise<Res>((resolve, reject) => {
      try {
        fn.call(svc, req, new grpc.Metadata(), { deadline }, (err, res) => {
          if (err) reject(translateGrpcError(rpc, err));
          else resolve(res as Res);
        });
      } catch (e) {
        // grpc-js throws synchronously on a closed channel or an unencodable request.
        reject(new UnavailableError(`CRI ${rpc}: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
      }
    });
  }

  // ---- RuntimeService ----
  /** Version of the runtime and of the CRI API it speaks. */
  version(req: T.VersionRequest = {}, o?: CallOptions): Promise<T.VersionResponse> { return this.call(this.runtime, 'Version', req, o); }
  /** Runtime conditions (RuntimeReady, NetworkReady). */
  status(req: T.StatusRequest = {}, o?: CallOptions): Promise<T.StatusResponse> { return this.call(this.runtime, 'Status', req, o); }
  /** Creates and starts a sandbox (pause container + CNI network). */
  runPodSandbox(req: T.RunPodSandboxRequest, o?: CallOptions): Promise<T.RunPodSandboxResponse> { return this.call(this.runtime, 'RunPodSandbox', req, o); }
  /** Stops a sandbox and its containers and frees its IP; idempotent. */
  stopPodSandbox(req: T.StopPodSandboxRequest, o?: CallOptions): Promise<T.Empty> { return this.call(this.runtime, 'StopPodSandbox', req, o); }
  /** Removes a sandbox and its containers; idempotent. */
  removePodSandbox(req: T.RemovePodSandboxRequest, o?: CallOptions): Promise<T.Empty> { return this.call(this.runtime, 'RemovePodSandbox', req, o); }
  /** Status of one sandbox; NotFoundError when absent. */
  podSandboxStatus(req: T.PodSandboxStatusRequest, o?: CallOptions): Promise<T.PodSandboxStatusResponse> { return this.call(this.runtime, 'PodSandboxStatus', req, o); }
  /** Sandboxes matching the filter. */
  listPodSandbox(req: T.ListPodSandboxRequest = {}, o?: CallOptions): Promise<T.ListPodSandboxResponse> { return this.call(this.runtime, 'ListPodSandbox', req, o); }
  /** Creates a container in a sandbox; NotFoundError when the sandbox or image is absent. */
  createContainer(req: T.CreateContainerRequest, o?: CallOptions): Promise<T.CreateContainerResponse> { return this.call(this.runtime, 'CreateContainer', req, o); }
  /** Starts a created container. */
  startContainer(req: T.StartContainerRequest, o?: CallOptions): Promise<T.Empty> { return this.call(this.runtime, 'StartContainer', req, o); }
  /**
   * SIGTERM, then SIGKILL after `timeout` seconds; idempotent. The default deadline is the
   * table's plus the grace period, so the runtime can use all of it.
   */
  stopContainer(req: T.StopContainerRequest, o?: CallOptions): Promise<T.Empty> {
    return this.call(this.runtime, 'StopContainer', req, o, (req.timeout ?? 0) * 1000);
  }
  /** Removes a container (killing it if running); idempotent. */
  removeContainer(req: T.RemoveContainerRequest, o?: CallOptions): Promise<T.Empty> { return this.call(this.runtime, 'RemoveContainer', req, o); }
  /** Containers matching the filter. */
  listContainers(req: T.ListContainersRequest = {}, o?: CallOptions): Promise<T.ListContainersResponse> { return this.call(this.runtime, 'ListContainers', req, o); }
  /** Status of one container; NotFoundError when absent. */
  containerStatus(req: T.ContainerStatusRequest, o?: CallOptions): Promise<T.ContainerStatusResponse> { return this.call(this.runtime, 'ContainerStatus', req, o); }
  /** Applies new cgroup resources (cpu shares and quota, memory limit) to a container; NotFoundError when absent. */
  updateContainerResources(req: T.UpdateContainerResourcesRequest, o?: CallOptions): Promise<T.Empty> {
    return this.call(this.runtime, 'UpdateContainerResources', req, o);
  }
  /** Runs a command in a running container and returns its output and exit code. */
  execSync(req: T.ExecSyncRequest, o?: CallOptions): Promise<T.ExecSyncResponse> {
    // The command's own timeout must fit inside the call deadline, or the deadline wins first.
    return this.call(this.runtime, 'ExecSync', req, o, (req.timeout ?? 0) * 1000);
  }
  /** CPU and memory of one container; NotFoundError when absent. */
  containerStats(req: T.ContainerStatsRequest, o?: CallOptions): Promise<T.ContainerStatsResponse> { return this.call(this.runtime, 'ContainerStats', req, o); }
  /** Stats of the containers matching the filter. */
  listContainerStats(req: T.ListContainerStatsRequest = {}, o?: CallOptions): Promise<T.ListContainerStatsResponse> { return this.call(this.runtime, 'ListContainerStats', req, o); }

  // ---- ImageService ----
  /** Images known to the runtime (CRI's namespace k8s.io). */
  listImages(req: T.ListImagesRequest = {}, o?: CallOptions): Promise<T.ListImagesResponse> { return this.call(this.image, 'ListImages', req, o); }
  /** One image; `image` is null when absent (not an error). */
  imageStatus(req: T.ImageStatusRequest, o?: CallOptions): Promise<T.ImageStatusResponse> { return this.call(this.image, 'ImageStatus', req, o); }
  /** Pulls from a registry (default deadline 10 min: pulls are slow). */
  pullImage(req: T.PullImageRequest, o?: CallOptions): Promise<T.PullImageResponse> { return this.call(this.image, 'PullImage', req, o); }
  /** Removes an image; idempotent. */
  removeImage(req: T.RemoveImageRequest, o?: CallOptions): Promise<T.Empty> { return this.call(this.image, 'RemoveImage', req, o); }
}
