/**
 * The node's half of file triggers (actors/trigger/controller.ts): the node agent owns the node's
 * disk, so it watches the path of every file trigger that names this node (file-watch.ts) and
 * publishes each debounced change to the trigger events stream on
 * `mk.trigger.file.<node>.<ns>.<name>` with a JetStream publish: the server acks once the stream
 * holds it, so a change is kept while no control plane runs. A publish that fails is tried again
 * with backoff under the same Nats-Msg-Id (the stream drops a second copy), in the order the
 * changes fired.
 *
 * The control plane says which triggers are this node's (mk.api.node.<node>.file-triggers, only
 * this node's share); the agent asks at start, whenever the control plane nudges it
 * (mk.node.<node>.file-triggers), and every RESYNC_MS, one pass at a time. A pass starts watching
 * new triggers, stops those that went, and starts again those whose path, events or debounce
 * changed, or whose watch failed. A path that cannot be watched (a permission refused) gets a
 * Warning event `FailedWatch` on the trigger and is tried again on the next pass.
 */
import { createHash } from 'node:crypto';
import { request, type Bus, type RecordEvent } from '../../bus';
import { backoffDelay, sleep } from '../../common/backoff';
import type { Logger } from '../../common/log';
import {
  fileTriggersNudgeSubject, nodeApiSubject, triggerFileSubject,
  type FileTriggerEvent, type FileTriggersResult, type KubeObject, type NodeFileTrigger,
} from '../../messages';
import type { DebouncedChange } from './file-events';
import { startFileWatch, type FileWatch } from './file-watch';
import { startNudgedPass } from '../nudged-pass';

/** How often the agent looks at its file triggers without being nudged. */
const RESYNC_MS = 30_000;
/** How long one request to the control plane, or one publish's ack, may take. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Changes waiting to be published at most; past it the oldest are dropped (and logged). */
const MAX_QUEUED = 10_000;
/** How long stop() waits for the changes still queued to be published. */
const STOP_DRAIN_MS = 2_000;

/** What the node asks the control plane about its file triggers. */
export interface FileTriggersClient {
  list(): Promise<NodeFileTrigger[]>;
}

/** The client on the node api, for `node`. */
export function fileTriggersClient(bus: Bus, node: string): FileTriggersClient {
  return {
    async list() {
      return (await request<FileTriggersResult>(bus, nodeApiSubject(node, 'file-triggers'), {}, { timeoutMs: REQUEST_TIMEOUT_MS })).triggers;
    },
  };
}

/** The Nats-Msg-Id of a change: the same for every try to publish it, another for any other change. */
export function fileChangeMsgId(node: string, t: Pick<NodeFileTrigger, 'namespace' | 'name' | 'uid'>, body: Pick<FileTriggerEvent, 'path' | 'event' | 'time'>): string {
  return createHash('sha256').update(JSON.stringify([node, t.namespace, t.name, t.uid, body.path, body.event, body.time])).digest('hex').slice(0, 40);
}

/** What a watch is for: a change of any of these starts it again. */
const watchKey = (t: NodeFileTrigger): string => JSON.stringify([t.uid, t.path, t.events, t.debounceMs]);

/** The trigger as an event's involved object. */
const triggerObject = (t: NodeFileTrigger): KubeObject => ({
  apiVersion: 'mk.io/v1', kind: 'Trigger', metadata: { name: t.name, namespace: t.namespace, uid: t.uid },
} as KubeObject);

/** The node's running file triggers. */
export interface FileTriggers {
  /** Runs a pass now (after the one in progress, if any); resolves when it is done. */
  sync(): Promise<void>;
  /** `<ns>/<name>` of the triggers whose watch has scanned its path and reports changes. */
  watching(): string[];
  /** How many changes that fired wait to be published (the bus down, say). */
  unpublished(): number;
  /** Stops every watch (their open debounce windows fire) and waits a moment for the queued changes to be published. */
  stop(): Promise<void>;
}

/** Starts the node's file triggers: a pass now, on every nudge and every `resyncMs`. */
export function startFileTriggers(opts: {
  bus: Bus; nodeName: string; log: Logger; recordEvent?: RecordEvent; client?: FileTriggersClient; resyncMs?: number;
}): FileTriggers {
  const { bus, nodeName: node, log } = opts;
  const client = opts.client ?? fileTriggersClient(bus, node);
  const watches = new Map<string, { key: string; trigger: NodeFileTrigger; watch: FileWatch; ready: boolean }>();
  let stopped = false;

  // Publishing, one change at a time in the order they fired.
  const queue: { subject: string; body: FileTriggerEvent; msgID: string; key: string }[] = [];
  let draining: Promise<void> | undefined;
  const drain = (): Promise<void> => (draining ??= (async () => {
    while (queue.length > 0) {
      const next = queue[0];
      for (let attempt = 0; ; attempt++) {
        try {
          await bus.js.publish(next.subject, new TextEncoder().encode(JSON.stringify(next.body)), { msgID: next.msgID, timeout: REQUEST_TIMEOUT_MS });
          log.debug({ trigger: next.key, path: next.body.path, event: next.body.event }, 'file change published');
          break;
        } catch (err) {
          if (stopped && attempt > 0) return;
          if (attempt % 10 === 0) log.warn({ trigger: next.key, path: next.body.path, err: String(err), attempt }, 'could not publish a file change; trying again');
          await sleep(backoffDelay({ initialMs: 200, maxMs: 5_000 }, attempt));
        }
      }
      queue.shift();
    }
  })().finally(() => { draining = undefined; }));

  const fired = (t: NodeFileTrigger, c: DebouncedChange): void => {
    const body: FileTriggerEvent = { node, path: c.path, event: c.event, time: new Date(c.at).toISOString() };
    if (queue.length >= MAX_QUEUED) {
      const dropped = queue.splice(1, 1)[0];
      log.error({ trigger: dropped.key, path: dropped.body.path, event: dropped.body.event }, 'too many file changes wait to be published; the oldest is dropped');
    }
    queue.push({ subject: triggerFileSubject(node, t.namespace, t.name), body, msgID: fileChangeMsgId(node, t, body), key: `${t.namespace}/${t.name}` });
    void drain();
  };

  const warn = (t: NodeFileTrigger, err: Error): void => {
    const message = `cannot watch ${t.path} on node ${node}: ${err.message}; trying again on the next resync`;
    log.warn({ trigger: `${t.namespace}/${t.name}`, path: t.path, err: err.message }, 'a file trigger\'s path cannot be watched');
    opts.recordEvent?.(triggerObject(t), 'Warning', 'FailedWatch', message);
  };

  const start = (t: NodeFileTrigger): void => {
    const id = `${t.namespace}/${t.name}`;
    const entry = { key: watchKey(t), trigger: t, ready: false, watch: startFileWatch(t, (c) => fired(t, c), (err) => warn(t, err), () => { void passes.sync(); }) };
    watches.set(id, entry);
    entry.watch.ready.then(() => {
      entry.ready = true;
      log.info({ trigger: id, path: t.path, events: t.events, debounceMs: t.debounceMs }, 'file trigger watching');
    }, (err: unknown) => {
      warn(t, err instanceof Error ? err : new Error(String(err)));
      // Started again by the next pass.
      void entry.watch.close();
      if (watches.get(id) === entry) watches.delete(id);
    });
  };

  /** One pass: the watches made to match `triggers`. */
  const apply = async (triggers: readonly NodeFileTrigger[]): Promise<void> => {
    const wanted = new Map(triggers.map((t) => [`${t.namespace}/${t.name}`, t]));
    for (const [id, w] of [...watches]) {
      const t = wanted.get(id);
      if (t && watchKey(t) === w.key && !w.watch.failure()) continue;
      watches.delete(id);
      await w.watch.close();
      log.info({ trigger: id, path: w.trigger.path, why: t ? (w.watch.failure() ? 'its watch failed' : 'it changed') : 'it is gone' }, 'file trigger watch stopped');
    }
    for (const [id, t] of wanted) if (!watches.has(id)) start(t);
  };

  const passes = startNudgedPass({
    bus, nudgeSubject: fileTriggersNudgeSubject(node), everyMs: opts.resyncMs ?? RESYNC_MS,
    pass: async () => {
      try {
        await apply(await client.list());
      } catch (err) {
        log.warn({ node, err: String(err) }, 'could not list the file triggers of the node; retrying later');
      }
    },
  });
  return {
    sync: () => passes.sync(),
    watching: () => [...watches].filter(([, w]) => w.ready && !w.watch.failure()).map(([id]) => id).sort(),
    unpublished: () => queue.length,
    async stop() {
      stopped = true;
      await passes.stop();
      await Promise.all([...watches.values()].map((w) => w.watch.close(true)));
      watches.clear();
      if (queue.length > 0) {
        const drained = drain();
        const left = await Promise.race([drained.then(() => 0), sleep(STOP_DRAIN_MS).then(() => queue.length)]);
        if (left > 0) log.warn({ node, left }, 'file changes not published before the agent stopped');
      }
    },
  };
}
