/**
 * The CLI's side of the subject API: connect with the context's credentials, then typed calls to
 * mk.api.* and mk.node.<node>.*. Errors arrive as the classes of messages/errors.ts. Core NATS
 * only: the CLI never loads the JetStream client, the logger or the schemas (a short command's
 * start-up is most of its time; test/unit/cli/startup.test.ts keeps it so).
 */
import { request, type CoreBus } from '../bus/core-client';
import { connectWithContext, type Context } from '../embedded/context';
import type {
  ApplyRequest, ApplyResult, CreateRequest, CreateResult, DeleteResult, GetResult, KindInfo, KubeObject, ListResult, PatchRequest, PatchResult,
  PropagationPolicy, UpdateRequest, UpdateResult, UpdateStatusRequest,
} from '../messages';
import { isNotFound } from '../messages/errors';
import { API } from '../messages/subjects';
import { RETRY_PAUSE_MS, replyLost, retryRead, retryUntaken } from './api-retry';

/** The bus's JSON codec and request, for commands that talk to node agents. */
export { decode, encode, request } from '../bus/core-client';

/** Default time to wait for an api reply. */
export const API_TIMEOUT_MS = 15_000;

/** A connected CLI: the bus, the context it came from, and typed api calls. */
export interface Client {
  bus: CoreBus;
  ctx: Context;
  dataDir: string;
  api: Api;
  close(): Promise<void>;
}

/** Options for connecting. */
export interface ConnectOptions {
  /** First-connect timeout, ms. */
  timeoutMs?: number;
  /** Connection name the server shows. */
  name?: string;
}

/**
 * Reads the context of `dataDir` and connects. Throws ContextError without a context, and
 * UnavailableError (`cannot reach the bus at ... (is the cluster up? run \`mk up\`)`) when the bus
 * is down.
 */
export async function openClient(dataDir: string, opts: ConnectOptions = {}): Promise<Client> {
  const { bus, ctx } = await connectWithContext(dataDir, { name: opts.name ?? 'mk-cli', timeoutMs: opts.timeoutMs ?? 3000 });
  return { bus, ctx, dataDir, api: new Api(bus), close: () => bus.close() };
}

/** Runs `fn` with a connected client and always closes it. */
export async function withClient<T>(dataDir: string, fn: (c: Client) => Promise<T>, opts?: ConnectOptions): Promise<T> {
  const client = await openClient(dataDir, opts);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Typed calls to the control plane's api (mk.api.*). */
/** How a deletion goes: grace period, what happens to the objects the deleted one owns, dry run. */
export interface DeleteOptions { gracePeriodSeconds?: number; propagationPolicy?: PropagationPolicy; dryRun?: boolean }

export class Api {
  constructor(private readonly bus: CoreBus, private readonly timeoutMs: number = API_TIMEOUT_MS) {}

  /**
   * Creates or updates one object (mk.api.apply). Sent again while no server takes it. When its
   * reply is lost (a control plane died holding it, or the store had no leader for a while and the
   * api answered Timeout), the same manifest is applied again, within twice the budget: apply is
   * declarative, so a later one converges on the same object whether or not an earlier one was
   * done, and its answer is returned with a warning that says so.
   */
  async apply(req: ApplyRequest): Promise<ApplyResult> {
    const send = (timeoutMs: number) => request<ApplyResult>(this.bus, API.apply, req, { timeoutMs });
    let first: unknown;
    try {
      return await retryUntaken(send, this.timeoutMs);
    } catch (err) {
      if (!replyLost(err)) throw err;
      first = err;
    }
    const again = await this.whileReplyLost(() => retryUntaken(send, this.timeoutMs));
    const done = again.result === 'unchanged' ? ' (so the first had most likely been applied)' : '';
    return { ...again, warnings: [...again.warnings, `the reply to the first request was lost (${(first as Error).message}); applied again: ${again.result}${done}`] };
  }

  /**
   * Runs `fn` again, after a pause, while its reply is lost and the budget (from now) lasts; then
   * throws its last error. For requests that are safe to repeat or that find out first.
   */
  private async whileReplyLost<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!replyLost(err) || Date.now() + RETRY_PAUSE_MS >= deadline) throw err;
        await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
      }
    }
  }

  /** Reads one object (tried again after a timeout or while the api is unavailable); throws NotFoundError when absent. */
  async get(kind: KindInfo, namespace: string | undefined, name: string): Promise<KubeObject> {
    const req = { kind: kind.plural, name, ...scope(kind, namespace) };
    const r = await retryRead((timeoutMs) => request<GetResult>(this.bus, API.get, req, { timeoutMs }), this.timeoutMs);
    return r.object;
  }

  /**
   * Lists a kind in one namespace, or in all when `namespace` is undefined. `fieldSelector` is for
   * events (`involvedObject.uid=...`).
   */
  async list(kind: KindInfo | string, namespace?: string, labelSelector?: string, fieldSelector?: string): Promise<KubeObject[]> {
    const plural = typeof kind === 'string' ? kind : kind.plural;
    const ns = typeof kind === 'string' || kind.namespaced ? namespace : undefined;
    const req = {
      kind: plural, ...(ns ? { namespace: ns } : {}), ...(labelSelector ? { labelSelector } : {}), ...(fieldSelector ? { fieldSelector } : {}),
    };
    const r = await retryRead((timeoutMs) => request<ListResult>(this.bus, API.list, req, { timeoutMs }), this.timeoutMs);
    return r.items;
  }

  /**
   * Lists like list(), with the listing's resourceVersion (where a watch goes on from). Throws the
   * server's ValidationError for a malformed selector.
   */
  async listAt(kind: KindInfo, namespace?: string, labelSelector?: string, fieldSelector?: string): Promise<ListResult> {
    const ns = kind.namespaced ? namespace : undefined;
    const req = { kind: kind.plural, ...(ns ? { namespace: ns } : {}), ...(labelSelector ? { labelSelector } : {}), ...(fieldSelector ? { fieldSelector } : {}) };
    return retryRead((timeoutMs) => request<ListResult>(this.bus, API.list, req, { timeoutMs }), this.timeoutMs);
  }

  /**
   * Marks an object for deletion (graceful for pods); throws NotFoundError when absent. Sent again
   * while no server takes it. When its reply is lost, the object is read to find out: gone
   * (`deleted`), marked (`terminating`), or untouched, and only then asked again.
   */
  async delete(kind: KindInfo, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    const { gracePeriodSeconds, propagationPolicy, dryRun } = opts;
    const req = {
      kind: kind.plural, name, ...scope(kind, namespace), ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}),
      ...(propagationPolicy ? { propagationPolicy } : {}), ...(dryRun ? { dryRun } : {}),
    };
    const send = (timeoutMs: number) => request<DeleteResult>(this.bus, API.delete, req, { timeoutMs });
    try {
      return await retryUntaken(send, this.timeoutMs);
    } catch (err) {
      if (!replyLost(err)) throw err;
      return this.whileReplyLost(async () => {
        let cur: KubeObject;
        try {
          cur = await this.get(kind, namespace, name);
        } catch (e) {
          if (!isNotFound(e)) throw e;
          const metadata = { name, ...(kind.namespaced && namespace ? { namespace } : {}) };
          return { object: { apiVersion: kind.apiVersion, kind: kind.kind, metadata }, result: 'deleted' as const };
        }
        if (cur.metadata.deletionTimestamp) return { object: cur, result: 'terminating' as const };
        return retryUntaken(send, this.timeoutMs);
      });
    }
  }

  // Writes are sent again only while no server takes them (no responders): nothing was done.

  /** Creates one object (mk.api.create); throws AlreadyExistsError when it exists. */
  create(req: CreateRequest): Promise<CreateResult> {
    return retryUntaken((timeoutMs) => request<CreateResult>(this.bus, API.create, req, { timeoutMs }), this.timeoutMs);
  }

  /** Replaces one object (mk.api.update); ConflictError when its resourceVersion is stale. */
  update(req: UpdateRequest): Promise<UpdateResult> {
    return retryUntaken((timeoutMs) => request<UpdateResult>(this.bus, API.update, req, { timeoutMs }), this.timeoutMs);
  }

  /** Patches one object (mk.api.patch); ValidationError when the patch does not apply. */
  patch(req: PatchRequest): Promise<PatchResult> {
    return retryUntaken((timeoutMs) => request<PatchResult>(this.bus, API.patch, req, { timeoutMs }), this.timeoutMs);
  }

  /** Writes the status of one object (mk.api.update-status). */
  updateStatus(req: UpdateStatusRequest): Promise<UpdateResult> {
    return retryUntaken((timeoutMs) => request<UpdateResult>(this.bus, API.updateStatus, req, { timeoutMs }), this.timeoutMs);
  }

  /** Answers when the control plane serves requests. */
  ping(timeoutMs = 2000): Promise<unknown> {
    return request<unknown>(this.bus, API.ping, {}, { timeoutMs });
  }
}

function scope(kind: KindInfo, namespace: string | undefined): { namespace?: string } {
  return kind.namespaced && namespace ? { namespace } : {};
}
