/**
 * Test fixtures of the pod lifecycle (unit tests only): pod builders, observation builders, an
 * in-memory fake CRI runtime with fault injection, and an in-memory nact persistence engine.
 */
import type { PersistedEvent, PersistedSnapshot, PersistenceEngine } from 'nact';
import { defaultPod, type Container, type Pod } from '../../messages/pod';
import type * as cri from '../cri/types';
import { NotFoundError, TimeoutError } from '../../messages/errors';
import type { ObservedContainer, ObservedPod, ObservedSandbox, PodRuntime } from './types';

/** A defaulted pod `default/web` (uid `uid-1`) with the given containers and spec fields. */
export function makePod(spec: Partial<Pod['spec']> = {}, meta: Partial<Pod['metadata']> = {}): Pod {
  const containers: Container[] = spec.containers ?? [{ name: 'app', image: 'busybox' }];
  return defaultPod({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1', ...meta },
    spec: { ...spec, containers },
  });
}

/** A ready sandbox observation. */
export function sandboxObs(o: Partial<ObservedSandbox> = {}): ObservedSandbox {
  return { id: 'sb-1', state: 'SANDBOX_READY', attempt: 0, createdAt: 1e18, ip: '10.244.0.5', additionalIps: [], ...o };
}

const S = 1e9;
/** A container observation; times in ns (default: running since t=1000 s). */
export function containerObs(o: Partial<ObservedContainer> & { name: string }): ObservedContainer {
  return {
    id: `${o.name}-${o.attempt ?? 0}`, podSandboxId: 'sb-1', attempt: 0, restartCount: o.attempt ?? 0, state: 'CONTAINER_RUNNING',
    createdAt: 1000 * S + (o.attempt ?? 0), startedAt: 1000 * S, finishedAt: 0, exitCode: 0, reason: '', message: '',
    image: 'busybox', imageRef: 'sha256:abc', logPath: `/logs/${o.name}/${o.attempt ?? 0}.log`, ...o,
  };
}

/** An observation; `images` defaults to busybox present. */
export function observed(o: Partial<ObservedPod> = {}): ObservedPod {
  return { sandboxes: [], containers: [], images: { busybox: { present: true, id: 'sha256:abc' } }, ...o };
}

interface FakeSandbox { id: string; config: cri.PodSandboxConfig; state: cri.PodSandboxState; createdAt: number; ip: string }
interface FakeContainer {
  id: string; sandboxId: string; config: cri.ContainerConfig; state: cri.ContainerState; logPath: string;
  createdAt: number; startedAt: number; finishedAt: number; exitCode: number; reason: string; message: string;
  /** A start the caller gave up on is still in progress in the runtime until this time (ms). */
  startingUntil?: number;
  /** What that start ends in, and the message of a failed one. */
  startEndsIn?: StuckStartOutcome;
  startFailure?: string;
}

/**
 * How a start that outlived its caller's deadline ends inside the runtime: `failed` as containerd
 * does when its context was cancelled (exited, 128, StartError), `running` when it finished after
 * all, `dropped` when it never got anywhere (the container stays created, as when an agent dies
 * between CreateContainer and StartContainer).
 */
export type StuckStartOutcome = 'failed' | 'running' | 'dropped';

/** The message containerd records on a container whose start was cut short by its context. */
export const START_CANCELLED_MESSAGE = 'failed to create containerd task: failed to create shim task: context canceled';

/**
 * An in-memory CRI runtime, named as the fake it is: it keeps sandboxes and containers in maps,
 * runs nothing, and lets a test make containers exit (`exit`, or `exitOnStart` per container
 * name). `fault(method)` may return an error to inject into any call (a CRI that times out).
 */
export class FakeCriRuntime implements PodRuntime {
  readonly sandboxes = new Map<string, FakeSandbox>();
  readonly containers = new Map<string, FakeContainer>();
  /** Images the runtime has. */
  readonly images = new Set<string>(['busybox']);
  /** Images a pull can fetch. */
  readonly registry = new Set<string>();
  /** Container name -> exit code it exits with as soon as it starts. */
  readonly exitOnStart = new Map<string, number>();
  readonly calls: string[] = [];
  /** Ids of the containers each StartContainer was called for, in order. */
  readonly startCalls: string[] = [];
  fault: (method: string) => Error | undefined = () => undefined;
  /**
   * Container name -> the next StartContainer for it times out at the caller while the runtime
   * keeps working for `forMs`, then ends as `outcome`. Meanwhile the container is CREATED and
   * "starting": StartContainer and RemoveContainer on it fail as containerd's do.
   */
  readonly stuckStarts = new Map<string, { forMs: number; outcome: StuckStartOutcome; message?: string }>();
  /** Container name -> the next CreateContainer creates it but times out at the caller. */
  readonly lostCreates = new Set<string>();
  private seq = 0;

  constructor(private readonly clockMs: () => number = Date.now) {}

  private enter(method: string): void {
    this.calls.push(method);
    this.finishStuckStarts();
    const e = this.fault(method);
    if (e) throw e;
  }

  /** Ends the stuck starts whose time has come, the way the runtime would on its own. */
  private finishStuckStarts(): void {
    for (const c of this.containers.values()) {
      if (c.startingUntil === undefined || c.startingUntil > this.clockMs()) continue;
      const { startEndsIn: outcome, startFailure: message = START_CANCELLED_MESSAGE } = c;
      delete c.startingUntil;
      delete c.startEndsIn;
      delete c.startFailure;
      if (outcome === 'running') Object.assign(c, { state: 'CONTAINER_RUNNING', startedAt: this.ns() });
      if (outcome === 'failed') Object.assign(c, { state: 'CONTAINER_EXITED', finishedAt: this.ns(), exitCode: 128, reason: 'StartError', message });
    }
  }
  // Microsecond steps keep successive times distinct: ns epoch times exceed 2^53 precision.
  private ns(): number { return this.clockMs() * 1e6 + (this.seq++) * 1000; }

  /** Makes the newest running instance of container `name` exit with `code`. */
  exit(name: string, code: number): void {
    const c = [...this.containers.values()].filter((x) => x.config.metadata.name === name && x.state === 'CONTAINER_RUNNING').pop();
    if (!c) throw new Error(`no running container ${name}`);
    Object.assign(c, { state: 'CONTAINER_EXITED', finishedAt: this.ns(), exitCode: code, reason: code === 0 ? 'Completed' : 'Error' });
  }

  /** Ids of containers of container name `name`, oldest first. */
  idsOf(name: string): string[] {
    return [...this.containers.values()].filter((c) => c.config.metadata.name === name).map((c) => c.id);
  }

  async runPodSandbox(req: cri.RunPodSandboxRequest): Promise<cri.RunPodSandboxResponse> {
    this.enter('runPodSandbox');
    const id = `sb-${++this.seq}`;
    this.sandboxes.set(id, { id, config: req.config, state: 'SANDBOX_READY', createdAt: this.ns(), ip: `10.244.0.${this.sandboxes.size + 2}` });
    return { podSandboxId: id };
  }
  async stopPodSandbox(req: cri.StopPodSandboxRequest): Promise<cri.Empty> {
    this.enter('stopPodSandbox');
    const sb = this.sandboxes.get(req.podSandboxId);
    if (sb) sb.state = 'SANDBOX_NOTREADY';
    for (const c of this.containers.values()) {
      if (c.sandboxId === req.podSandboxId && c.state === 'CONTAINER_RUNNING') Object.assign(c, { state: 'CONTAINER_EXITED', finishedAt: this.ns(), exitCode: 137, reason: 'Error' });
    }
    return {};
  }
  async removePodSandbox(req: cri.RemovePodSandboxRequest): Promise<cri.Empty> {
    this.enter('removePodSandbox');
    this.sandboxes.delete(req.podSandboxId);
    for (const [id, c] of this.containers) if (c.sandboxId === req.podSandboxId) this.containers.delete(id);
    return {};
  }
  async podSandboxStatus(req: cri.PodSandboxStatusRequest): Promise<cri.PodSandboxStatusResponse> {
    this.enter('podSandboxStatus');
    const s = this.sandboxes.get(req.podSandboxId);
    if (!s) throw new NotFoundError(`CRI PodSandboxStatus: ${req.podSandboxId} not found`);
    return { status: { ...this.sandboxItem(s), network: { ip: s.ip, additionalIps: [] } }, info: {} };
  }
  private sandboxItem(s: FakeSandbox): cri.PodSandbox {
    const m = s.config.metadata;
    return { id: s.id, metadata: { ...m, attempt: m.attempt ?? 0 }, state: s.state, createdAt: s.createdAt, labels: s.config.labels ?? {}, annotations: {}, runtimeHandler: '' };
  }
  async listPodSandbox(req: cri.ListPodSandboxRequest): Promise<cri.ListPodSandboxResponse> {
    this.enter('listPodSandbox');
    const sel = req.filter?.labelSelector ?? {};
    return { items: [...this.sandboxes.values()].filter((s) => matches(s.config.labels, sel)).map((s) => this.sandboxItem(s)) };
  }
  async createContainer(req: cri.CreateContainerRequest): Promise<cri.CreateContainerResponse> {
    this.enter('createContainer');
    if (!this.images.has(req.config.image.image)) throw new Error(`image ${req.config.image.image} not found`);
    const { name, attempt = 0 } = req.config.metadata;
    // containerd reserves a name per sandbox, container name and attempt: never two of one attempt.
    const twin = [...this.containers.values()].find((x) => x.sandboxId === req.podSandboxId && x.config.metadata.name === name && (x.config.metadata.attempt ?? 0) === attempt);
    if (twin) throw new Error(`failed to reserve container name "${name}_${attempt}": name is reserved for "${twin.id}"`);
    const id = `ct-${++this.seq}`;
    const logPath = `${req.sandboxConfig.logDirectory}/${req.config.logPath}`;
    this.containers.set(id, { id, sandboxId: req.podSandboxId, config: req.config, state: 'CONTAINER_CREATED', logPath, createdAt: this.ns(), startedAt: 0, finishedAt: 0, exitCode: 0, reason: '', message: '' });
    if (this.lostCreates.delete(name)) throw criTimeout('CreateContainer');
    return { containerId: id };
  }
  async startContainer(req: cri.StartContainerRequest): Promise<cri.Empty> {
    this.enter('startContainer');
    this.startCalls.push(req.containerId);
    const c = this.containers.get(req.containerId);
    if (!c) throw new NotFoundError(`CRI StartContainer: container "${req.containerId}" not found`);
    // containerd's own refusals (pkg/cri/server/container_start.go, setContainerStarting).
    if (c.state !== 'CONTAINER_CREATED') throw new Error(`failed to set starting state for container "${c.id}": container is in ${c.state.replace('CONTAINER_', '')} state`);
    if (c.startingUntil !== undefined) throw new Error(`failed to set starting state for container "${c.id}": container is already in starting state`);
    const stuck = this.stuckStarts.get(c.config.metadata.name);
    if (stuck) {
      this.stuckStarts.delete(c.config.metadata.name);
      Object.assign(c, { startingUntil: this.clockMs() + stuck.forMs, startEndsIn: stuck.outcome, ...(stuck.message ? { startFailure: stuck.message } : {}) });
      throw criTimeout('StartContainer');
    }
    Object.assign(c, { state: 'CONTAINER_RUNNING', startedAt: this.ns() });
    const code = this.exitOnStart.get(c.config.metadata.name);
    if (code !== undefined) Object.assign(c, { state: 'CONTAINER_EXITED', finishedAt: this.ns(), exitCode: code, reason: code === 0 ? 'Completed' : 'Error' });
    return {};
  }
  async stopContainer(req: cri.StopContainerRequest): Promise<cri.Empty> {
    this.enter('stopContainer');
    const c = this.containers.get(req.containerId);
    if (c?.state === 'CONTAINER_RUNNING') Object.assign(c, { state: 'CONTAINER_EXITED', finishedAt: this.ns(), exitCode: 143, reason: 'Error' });
    return {};
  }
  async removeContainer(req: cri.RemoveContainerRequest): Promise<cri.Empty> {
    this.enter('removeContainer');
    if (this.containers.get(req.containerId)?.startingUntil !== undefined) {
      throw new Error(`failed to set removing state for container "${req.containerId}": container is in starting state, can't be removed`);
    }
    this.containers.delete(req.containerId);
    return {};
  }
  private containerItem(c: FakeContainer): cri.Container {
    return {
      id: c.id, podSandboxId: c.sandboxId, metadata: { name: c.config.metadata.name, attempt: c.config.metadata.attempt ?? 0 },
      image: { image: c.config.image.image, annotations: {} }, imageRef: 'sha256:abc', state: c.state, createdAt: c.createdAt,
      labels: c.config.labels ?? {}, annotations: c.config.annotations ?? {},
    };
  }
  async listContainers(req: cri.ListContainersRequest): Promise<cri.ListContainersResponse> {
    this.enter('listContainers');
    const sel = req.filter?.labelSelector ?? {};
    return { containers: [...this.containers.values()].filter((c) => matches(c.config.labels, sel)).map((c) => this.containerItem(c)) };
  }
  async containerStatus(req: cri.ContainerStatusRequest): Promise<cri.ContainerStatusResponse> {
    this.enter('containerStatus');
    const c = this.containers.get(req.containerId);
    if (!c) throw new NotFoundError(`CRI ContainerStatus: ${req.containerId} not found`);
    const { podSandboxId: _s, ...item } = this.containerItem(c);
    return { status: { ...item, startedAt: c.startedAt, finishedAt: c.finishedAt, exitCode: c.exitCode, reason: c.reason, message: c.message, mounts: [], logPath: c.logPath }, info: {} };
  }
  async execSync(req: cri.ExecSyncRequest): Promise<cri.ExecSyncResponse> {
    this.enter('execSync');
    return { stdout: Buffer.from(`ran ${req.cmd.join(' ')} in ${req.containerId}\n`), stderr: Buffer.alloc(0), exitCode: 0 };
  }
  async imageStatus(req: cri.ImageStatusRequest): Promise<cri.ImageStatusResponse> {
    this.enter('imageStatus');
    const has = this.images.has(req.image.image);
    return { image: has ? { id: `sha256:${req.image.image}`, repoTags: [req.image.image], repoDigests: [], size: 1, uid: null, username: '', spec: null, pinned: false } : null, info: {} };
  }
  async pullImage(req: cri.PullImageRequest): Promise<cri.PullImageResponse> {
    this.enter('pullImage');
    if (!this.registry.has(req.image.image)) throw new Error(`CRI PullImage: failed to resolve reference "${req.image.image}": not found (grpc UNKNOWN)`);
    this.images.add(req.image.image);
    return { imageRef: `sha256:${req.image.image}` };
  }
}

function matches(labels: Record<string, string> | undefined, sel: Record<string, string>): boolean {
  return Object.entries(sel).every(([k, v]) => labels?.[k] === v);
}

/** A fault that makes a fake CRI behave like one that does not answer. */
export const criTimeout = (method: string): TimeoutError => new TimeoutError(`CRI ${method}: deadline exceeded`);

/** An in-memory nact persistence engine (what the JetStream engine does, without a server). */
export class MemoryPersistenceEngine implements PersistenceEngine {
  readonly journal = new Map<string, PersistedEvent[]>();
  readonly snapshots = new Map<string, PersistedSnapshot>();
  events(key: string, offset = 0): ReturnType<PersistenceEngine['events']> {
    return (this.journal.get(key) ?? []).filter((e) => e.sequenceNumber > offset) as unknown as ReturnType<PersistenceEngine['events']>;
  }
  async latestSnapshot(key: string): Promise<PersistedSnapshot> {
    return this.snapshots.get(key) as PersistedSnapshot;
  }
  async takeSnapshot(s: PersistedSnapshot): Promise<void> {
    this.snapshots.set(s.key, s);
  }
  async persist(e: PersistedEvent): Promise<void> {
    this.journal.set(e.key, [...(this.journal.get(e.key) ?? []), JSON.parse(JSON.stringify(e)) as PersistedEvent]);
  }
}
