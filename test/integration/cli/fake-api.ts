/**
 * A fake api for CLI integration tests: serves mk.api.* (and one node's logs and exec) on a real
 * bus from an in-memory map, and counts every request, so a test can assert "no call was made".
 * It reuses the real contract (validateManifest, resolveKind, the bus's serve()), not the real actors;
 * events are read from the real events stream with the api's own handlers.
 *
 * Deletion follows the real api: a pod on a node (every pod here is) with a grace period other than
 * 0 is only marked (deletionTimestamp, deletionGracePeriodSeconds) and answered `terminating`; it
 * disappears later, as when its node has stopped it: after `terminationMs`, or, with that unset,
 * when the test calls finishTerminating(). Grace 0 and every other kind are removed at once.
 */
import { eventSource } from '../../../actors/event/source';
import { encode, serve, type Bus, type Served } from '../../../bus';
import {
  AlreadyExistsError, API, jsonEqual, logsStreamSubject, NotFoundError, nodeSubject, resolveKind, validateManifest,
  type ApplyRequest, type DeleteRequest, type ExecRequest, type GetRequest, type KubeObject, type ListRequest, type LogsRequest,
} from '../../../messages';

/** The fake api's state and the requests it received. */
export interface FakeApi {
  objects: Map<string, KubeObject>;
  calls: { subject: string; req: unknown }[];
  /** How long a marked pod takes to disappear; undefined: it stays until finishTerminating(). */
  terminationMs: number | undefined;
  /** Removes every marked pod now, as their node would once they stopped; returns their keys. */
  finishTerminating(): string[];
  stop(): Promise<void>;
}

/** How long a marked pod takes to go unless a test says otherwise: a quick node. */
export const DEFAULT_TERMINATION_MS = 300;

const key = (plural: string, ns: string | undefined, name: string): string => `${plural}/${ns ?? ''}/${name}`;

/** Serves the fake api on `bus`; pods it stores are Running on `node`. */
export function serveFakeApi(bus: Bus, node: string): FakeApi {
  const objects = new Map<string, KubeObject>();
  const calls: { subject: string; req: unknown }[] = [];
  const applied = new Map<string, string>();
  const timers = new Set<NodeJS.Timeout>();
  let rv = 0;
  // Removes the pod at `k` if it is still the marked incarnation `uid` (a test may have replaced it).
  const finish = (k: string, uid: string | undefined): boolean => {
    const o = objects.get(k);
    if (!o?.metadata.deletionTimestamp || o.metadata.uid !== uid) return false;
    objects.delete(k);
    applied.delete(k);
    return true;
  };
  const on = <Req, Res>(subject: string, fn: (req: Req) => Promise<Res>): Served =>
    serve<Req, Res>(bus, subject, async (req) => {
      calls.push({ subject, req });
      return fn(req);
    });
  const kindOf = (name: string) => {
    const k = resolveKind(name);
    if (!k) throw new NotFoundError(`the server doesn't have a resource type "${name}"`);
    return k;
  };

  // apply, create and update: create and update are apply with the existence checks of the real api.
  const write = async (req: ApplyRequest, verb: 'apply' | 'create' | 'update') => {
    const v = validateManifest(req.object, req.validate ?? 'strict');
    const ns = v.kind.namespaced ? v.object.metadata.namespace ?? req.namespace ?? 'default' : undefined;
    const k = key(v.kind.plural, ns, v.object.metadata.name);
    const prev = objects.get(k);
    if (verb === 'create' && prev) throw new AlreadyExistsError(`${v.kind.plural} "${v.object.metadata.name}" already exists`);
    if (verb === 'update' && !prev) throw new NotFoundError(`${v.kind.plural} "${v.object.metadata.name}" not found`);
    const submitted = JSON.stringify([v.object.spec, v.object.metadata.labels]);
    const unchanged = verb === 'apply' ? prev && applied.get(k) === submitted
      : prev && jsonEqual([prev.spec, prev.metadata.labels, prev.metadata.annotations], [{ ...(v.object.spec as object), ...(v.kind.kind === 'Pod' ? { nodeName: node } : {}) }, v.object.metadata.labels, v.object.metadata.annotations]);
    if (prev && unchanged) return { object: prev, result: 'unchanged', warnings: v.warnings };
    const object: KubeObject = {
      ...v.object,
      metadata: { ...v.object.metadata, ...(ns ? { namespace: ns } : {}), uid: `uid-${++rv}`, resourceVersion: String(rv), creationTimestamp: prev?.metadata.creationTimestamp ?? new Date().toISOString() },
    };
    if (v.kind.kind === 'Pod') {
      object.spec = { ...(object.spec as object), nodeName: node };
      object.status = {
        phase: 'Running', podIP: '10.244.0.9', podIPs: [{ ip: '10.244.0.9' }], hostIP: '127.0.0.1',
        containerStatuses: ((object.spec as { containers: { name: string; image: string }[] }).containers).map((c) => ({
          name: c.name, image: c.image, ready: true, restartCount: 0, state: { running: { startedAt: new Date().toISOString() } }, lastState: {},
        })),
      };
    }
    if (!req.dryRun) {
      objects.set(k, object);
      applied.set(k, submitted);
    }
    if (verb === 'create') return { object, warnings: v.warnings };
    return { object, result: verb === 'update' ? 'replaced' : prev ? 'configured' : 'created', warnings: v.warnings };
  };

  const served = [
    on<ApplyRequest, unknown>(API.apply, async (req) => write(req, 'apply')),
    on<ApplyRequest, unknown>(API.create, async (req) => write(req, 'create')),
    on<ApplyRequest, unknown>(API.update, async (req) => write(req, 'update')),
    on<GetRequest, unknown>(API.get, async (req) => {
      if (resolveKind(req.kind)?.readOnly) return eventSource(bus).get(req);
      const kind = kindOf(req.kind);
      const o = objects.get(key(kind.plural, kind.namespaced ? req.namespace ?? 'default' : undefined, req.name));
      if (!o) throw new NotFoundError(`${kind.plural} "${req.name}" not found`);
      return { object: o };
    }),
    on<ListRequest, unknown>(API.list, async (req) => {
      if (resolveKind(req.kind)?.readOnly) return eventSource(bus).list(req);
      const kind = kindOf(req.kind);
      const [lk, lv] = (req.labelSelector ?? '').split('=');
      const items = [...objects.entries()]
        .filter(([k]) => k.startsWith(`${kind.plural}/${req.namespace && kind.namespaced ? `${req.namespace}/` : ''}`))
        .map(([, o]) => o)
        .filter((o) => !req.labelSelector || o.metadata.labels?.[lk] === lv);
      return { items, resourceVersion: String(rv) };
    }),
    on<DeleteRequest, unknown>(API.delete, async (req) => {
      const kind = kindOf(req.kind);
      const k = key(kind.plural, kind.namespaced ? req.namespace ?? 'default' : undefined, req.name);
      const o = objects.get(k);
      if (!o) throw new NotFoundError(`${kind.plural} "${req.name}" not found`);
      const onNode = kind.kind === 'Pod' && Boolean((o.spec as { nodeName?: string } | undefined)?.nodeName);
      if (!onNode || req.gracePeriodSeconds === 0) {
        objects.delete(k);
        applied.delete(k);
        return { object: o, result: 'deleted' };
      }
      // A later request may shorten the grace period, never lengthen it.
      const grace = req.gracePeriodSeconds ?? (o.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds ?? 30;
      if (o.metadata.deletionTimestamp && (o.metadata.deletionGracePeriodSeconds ?? 0) <= grace) return { object: o, result: 'terminating' };
      const marked: KubeObject = {
        ...o,
        metadata: { ...o.metadata, deletionTimestamp: o.metadata.deletionTimestamp ?? new Date().toISOString(), deletionGracePeriodSeconds: grace, resourceVersion: String(++rv) },
      };
      objects.set(k, marked);
      if (fake.terminationMs !== undefined) {
        const t = setTimeout(() => { timers.delete(t); finish(k, marked.metadata.uid); }, fake.terminationMs);
        timers.add(t);
      }
      return { object: marked, result: 'terminating' };
    }),
    on(API.ping, async () => ({ time: new Date().toISOString() })),
    serve<LogsRequest, unknown>(bus, nodeSubject(node, 'logs'), async (req) => {
      calls.push({ subject: nodeSubject(node, 'logs'), req });
      if (req.follow) {
        // Like the node agent: an empty reply, then chunks on the stream's subject, then eof.
        const stream = logsStreamSubject(node, req.follow.streamId);
        setImmediate(() => {
          for (const line of ['first\n', 'second\n']) bus.nc.publish(stream, encode({ data: Buffer.from(line).toString('base64') }));
          bus.nc.publish(stream, encode({ data: '', eof: true }));
        });
        return { data: '' };
      }
      return { data: Buffer.from(`log of ${req.pod}/${req.container}\nline 2\n`).toString('base64') };
    }),
    on<ExecRequest, unknown>(nodeSubject(node, 'exec'), async (req) => ({
      exitCode: req.command[0] === 'false' ? 3 : 0,
      stdout: Buffer.from(`ran ${req.command.join(' ')} in ${req.container}\n`).toString('base64'),
      stderr: Buffer.from(req.command[0] === 'false' ? 'it failed\n' : '').toString('base64'),
    })),
  ];
  const fake: FakeApi = {
    objects,
    calls,
    terminationMs: DEFAULT_TERMINATION_MS,
    finishTerminating: () => [...objects.entries()].filter(([k, o]) => finish(k, o.metadata.uid)).map(([k]) => k),
    stop: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.all(served.map((s) => s.stop()));
    },
  };
  return fake;
}
