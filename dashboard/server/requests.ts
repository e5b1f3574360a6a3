/**
 * The feed's one-shot requests: `at` (the time scrubber) and the writes (apply, delete, scale).
 * Writes go through the session's identity: a write session's `dashboard-write`, or the read-only
 * `dashboard`, whose write is refused by the bus itself (the error says the session is read-only).
 */
import { loadManifestYaml } from '../../common/manifest-yaml';
import type { Bus, ObjectStore } from '../../bus';
import { request } from '../../bus/core-client';
import { permissionViolation } from '../../bus/core-errors';
import {
  API, isConflict, isForbidden, MkError, objectKey,
  type ApplyResult, type DeleteResult, type GetResult, type KubeObject, type PatchResult, type UpdateResult,
} from '../../messages';
import { withoutSecretValues } from '../../messages/config-data';
import type { AtResult, ClientMessage, TreeRow, WriteResult } from '../protocol';
import { actorTreeAt, type ActorTreeAt } from './actor-history-adapter';
import { treeRow, sortRows } from './actor-trees';
import { FeedError } from './feed-error';
import { pageOf } from './tables';
import { kindNamed } from './views';

/** What a request needs of its session. */
export interface RequestContext {
  bus: Bus;
  user: string;
  writable: boolean;
  /** The objects bucket, opened read-only as the dashboard identity (for `at`). */
  objects(): Promise<ObjectStore>;
  treeAt?: ActorTreeAt;
}

type Msg<T extends ClientMessage['type']> = Extract<ClientMessage, { type: T }>;

/**
 * `at`: the tree (paged, path order) and the object as they were at the time. A Secret's past is
 * not shown: its stored values are encrypted, and the dashboard's identity may not read them
 * (embedded/permissions.ts); it is refused with Forbidden.
 */
export async function at(m: Msg<'at'>, ctx: RequestContext): Promise<AtResult> {
  const time = new Date(m.time);
  const out: AtResult = { time: time.toISOString(), tree: { total: 0, offset: m.offset, rows: [] } };
  if (m.object) {
    const kind = kindNamed(m.object.kind);
    if (kind.kind === 'Secret') {
      throw new FeedError('Forbidden', 'the dashboard does not show the past states of Secrets: their stored values are encrypted and not for pages to read');
    }
    const namespace = kind.namespaced ? m.object.namespace ?? 'default' : undefined;
    const store = await ctx.objects();
    const history = await store.history<KubeObject>(objectKey(kind.plural, namespace, m.object.name));
    const before = history.filter((h) => Date.parse(h.written) <= time.getTime());
    const last = before[before.length - 1];
    if (!last) {
      out.object = { deleted: false };
    } else if (last.object) {
      out.object = { object: last.object, revision: last.revision, written: last.written, deleted: false };
    } else {
      const alive = before.filter((h) => h.object).pop();
      out.object = { ...(alive?.object ? { object: alive.object, revision: alive.revision } : {}), written: last.written, deleted: true };
    }
  }
  try {
    const trees = await (ctx.treeAt ?? actorTreeAt)(ctx.bus, time, m.process);
    const rows: TreeRow[] = trees.flatMap((t) => t.actors.map((info) => treeRow(t.process, { info })));
    const page = pageOf(sortRows(rows, 'path'), m.offset, m.limit);
    out.tree = { total: page.total, offset: page.offset, rows: page.rows };
  } catch (err) {
    // An object asked for is still worth answering without the tree.
    if (!m.object) throw err;
  }
  return out;
}

/** The bus's refusal of a read-only session's write, said as such. */
function refused(err: unknown, ctx: RequestContext): never {
  const v = permissionViolation(err);
  if (v || isForbidden(err)) {
    const subject = v?.subject;
    const nats = v ? `Permissions Violation for ${v.operation === 'publish' ? 'Publish' : 'Subscription'} to "${v.subject}"` : (err as Error).message;
    throw new FeedError('Forbidden', `${ctx.writable ? 'the bus refused this write' : 'this dashboard session is read-only: the bus refused it'}`
      + ` (${ctx.user}: ${nats})${ctx.writable ? '' : '; open a write session with `mk dashboard`'}`, subject ? { subject } : {});
  }
  throw err;
}

/** Sends a write as the session's identity. */
async function write<T>(ctx: RequestContext, subject: string, body: unknown): Promise<T> {
  try {
    return await request<T>(ctx.bus, subject, body, { timeoutMs: 15_000 });
  } catch (err) {
    return refused(err, ctx);
  }
}

/**
 * `apply`: the text (YAML or JSON, one object). With the resourceVersion the page read, an
 * update conditional on it: Conflict, with the object's current resourceVersion, when it changed.
 */
export async function apply(m: Msg<'apply'>, ctx: RequestContext): Promise<WriteResult> {
  let object: unknown;
  try {
    object = loadManifestYaml(m.text);
  } catch (err) {
    throw new FeedError('Invalid', `the text is neither YAML nor JSON: ${(err as Error).message}`);
  }
  if (typeof object !== 'object' || object === null || Array.isArray(object)) {
    throw new FeedError('Invalid', 'the text must hold one object (a mapping with apiVersion, kind and metadata)');
  }
  const ns = m.namespace ? { namespace: m.namespace } : {};
  if (m.resourceVersion === undefined) {
    const r = await write<ApplyResult>(ctx, API.apply, { object, ...ns });
    return { object: withoutSecretValues(r.object), result: r.result, warnings: r.warnings };
  }
  const o = object as { kind?: string; metadata?: Record<string, unknown> };
  const withRv = { ...o, metadata: { ...(o.metadata ?? {}), resourceVersion: m.resourceVersion } };
  try {
    const r = await write<UpdateResult>(ctx, API.update, { object: withRv, ...ns });
    return { object: withoutSecretValues(r.object), result: r.result === 'replaced' ? 'configured' : 'unchanged', warnings: r.warnings };
  } catch (err) {
    if (!isConflict(err)) throw err;
    const current = await currentVersion(ctx, o.kind, (o.metadata?.namespace as string | undefined) ?? m.namespace, o.metadata?.name as string | undefined);
    throw new FeedError('Conflict', `${(err as MkError).message}: the object changed since revision ${m.resourceVersion}`
      + `${current ? ` (now ${current})` : ''}; read it again and reapply`, current ? { resourceVersion: current } : {});
  }
}

async function currentVersion(ctx: RequestContext, kind: string | undefined, namespace: string | undefined, name: string | undefined): Promise<string | undefined> {
  if (!kind || !name) return undefined;
  try {
    const r = await request<GetResult>(ctx.bus, API.get, { kind, name, ...(namespace ? { namespace } : {}) });
    return r.object.metadata.resourceVersion;
  } catch {
    return undefined;
  }
}

/** `delete`. */
export async function remove(m: Msg<'delete'>, ctx: RequestContext): Promise<WriteResult> {
  const kind = kindNamed(m.kind);
  const r = await write<DeleteResult>(ctx, API.delete, {
    kind: kind.plural, name: m.name, ...(kind.namespaced ? { namespace: m.namespace ?? 'default' } : {}),
  });
  return { object: withoutSecretValues(r.object), result: r.result };
}

/** `scale`: a merge patch of spec.replicas (conditional on the resourceVersion when given). */
export async function scale(m: Msg<'scale'>, ctx: RequestContext): Promise<WriteResult> {
  const kind = kindNamed(m.kind);
  const r = await write<PatchResult>(ctx, API.patch, {
    kind: kind.plural, name: m.name, ...(kind.namespaced ? { namespace: m.namespace ?? 'default' } : {}),
    type: 'merge', patch: { spec: { replicas: m.replicas } }, ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
  });
  return { object: withoutSecretValues(r.object), result: r.result };
}
