/**
 * What a kind's folder in actors/ declares: the control plane's side of the kind. The api, the
 * namespace cascade and the supervisors are generic over these modules (actors/kinds.ts lists
 * them), so a new kind is its schema in messages/ plus its folder here.
 */
import type { Bus, ObjectStore } from '../bus';
import type {
  GetRequest, GetResult, KindInfo, KubeObject, ListRequest, ListResult, WatchRequest, WatchStreamMessage,
} from '../messages';
import type { KindController } from './kind-supervisor';
import type { SchedulerRef } from './scheduler/scheduler-actor';

/** How objects of a kind are deleted. Without a policy they are deleted at once. */
export interface DeletionPolicy {
  /** Why `obj` may not be deleted (a built-in namespace), or undefined when it may. */
  refuse?(obj: KubeObject): string | undefined;
  /**
   * The grace period of a graceful deletion (the object is marked with deletionTimestamp and
   * removed later by its controller or node), or undefined to delete it at once. `requested` is
   * the request's `gracePeriodSeconds`.
   */
  graceSeconds?(obj: KubeObject, requested: number | undefined): number | undefined;
  /** Changes to make when the object is first marked (a namespace turns Terminating). */
  onMarked?(obj: KubeObject): KubeObject;
  /**
   * True when the kind's controller removes its marked objects itself (a namespace, once empty),
   * so the garbage collector does not remove them when their finalizers are emptied.
   */
  finishedByController?: boolean;
}

/** Where a kind's objects live when not in the object store (events live in a stream). */
export interface ObjectSource {
  get(req: GetRequest): Promise<GetResult>;
  list(req: ListRequest): Promise<ListResult>;
  /**
   * Removes every object of the kind in `namespace`: the namespace cascade calls it once the
   * store holds nothing of the namespace, just before the namespace itself goes.
   */
  deleteNamespace?(namespace: string): Promise<void>;
  /**
   * mk.api.watch for the kind (actors/api/watch.ts checks the subject and the limits, and sends
   * the heartbeats): sends the changes after `from` (a parsed resourceVersion; absent: an ADDED
   * for every object there now first) until stopped. Throws ValidationError for a bad request,
   * ExpiredError for a revision the source no longer has. Without it, the kind cannot be watched.
   */
  watch?(req: WatchRequest, from: number | undefined, out: WatchOutput): Promise<OpenedWatch>;
}

/** Where a source's watch sends its stream. */
export interface WatchOutput {
  send(m: WatchStreamMessage): void;
  /** The watch cannot go on (the stream ends with an ERROR Expired saying `message`). */
  expired(message: string): void;
}

/** A watch a source started. */
export interface OpenedWatch {
  /** The revision the stream starts after (the reply to mk.api.watch). */
  resourceVersion: string;
  /** The incarnation of what it reads (WatchStarted.epoch), when the source knows one. */
  epoch?: string;
  /** The last revision the stream has passed (what a BOOKMARK carries). */
  last(): number;
  stop(): Promise<void>;
}

/** What a controller may use. */
export interface ControllerContext {
  store: ObjectStore;
  bus: Bus;
  scheduler: SchedulerRef;
  /** Every kind module (the namespace cascade walks the namespaced ones). */
  modules: readonly KindModule[];
}

/** What KindModule.allocate took for one write. */
export interface AllocationClaim {
  object: KubeObject;
  undo(): Promise<void>;
  done(): Promise<void>;
}

/** The control plane's side of one kind. */
export interface KindModule {
  /** The kind as messages/ declares it. */
  info: KindInfo;
  /** Kubernetes' defaulting, applied on every create and update. */
  defaults?(obj: KubeObject): KubeObject;
  /** The status an object is created with (status in a manifest is ignored). */
  initialStatus?(obj: KubeObject): unknown;
  /**
   * Admits an update: throws ValidationError for a change Kubernetes forbids, and returns `next`
   * with the server-owned fields of `existing` carried over (a pod's node, a node's pod CIDR).
   */
  admitUpdate?(existing: KubeObject, next: KubeObject): KubeObject;
  /**
   * Takes what the object holds that must be unique across the cluster (a Service's cluster IP
   * and node ports) after admission and before the write: `existing` is the stored object on an
   * update (undefined on a create). Returns the object with what was allocated filled in; the
   * api calls `undo` when its write fails and `done` once it succeeded (to give back what
   * `existing` held and the object no longer does). Throws ValidationError for a value taken or
   * out of range. With `dryRun`, takes nothing.
   */
  allocate?(store: ObjectStore, existing: KubeObject | undefined, next: KubeObject, dryRun: boolean): Promise<AllocationClaim>;
  deletion?: DeletionPolicy;
  /** The controller that keeps each object, one actor per object. */
  controller?(ctx: ControllerContext): KindController | Promise<KindController>;
  /** For kinds outside the object store: how the api reads them. */
  source?(bus: Bus): ObjectSource;
}
