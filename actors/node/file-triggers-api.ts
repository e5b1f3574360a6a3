/**
 * What the control plane serves node agents about their file triggers (messages/trigger.ts,
 * spec.source.file), on `mk.api.node.<node>.file-triggers`. Like the local-path volumes
 * (local-volumes-api.ts) and Kubernetes' node authorizer, a node sees only the triggers whose
 * spec.source.file.node names it, and of them only what it needs to watch: never another node's
 * triggers, their targets or their inputs. A trigger being deleted is no longer watched.
 */
import type { Msg } from '@nats-io/transport-node';
import { serve, type Bus, type ObjectStore, type Served } from '../../bus';
import { keyFilter, nodeApiWildcard, TriggerKind, type FileTriggersResult, type NodeFileTrigger, type Trigger } from '../../messages';
import { DEFAULT_FILE_DEBOUNCE_MS, FILE_EVENTS } from '../../messages/trigger-names';
import { timed } from '../api/metrics';
import { nodeOf } from './node-api';

/** The trigger as its node watches it, or undefined when it is not a live file trigger of `node`. */
export function nodeFileTriggerOf(t: Trigger, node: string): NodeFileTrigger | undefined {
  const file = t.spec?.source?.file;
  if (!file || file.node !== node || t.metadata.deletionTimestamp) return undefined;
  return {
    namespace: t.metadata.namespace ?? 'default',
    name: t.metadata.name,
    uid: t.metadata.uid ?? '',
    path: file.path,
    events: [...(file.events ?? FILE_EVENTS)],
    debounceMs: file.debounceMs ?? DEFAULT_FILE_DEBOUNCE_MS,
  };
}

/** mk.api.node.<node>.file-triggers: the file triggers of `node`, ordered by namespace and name. */
export async function fileTriggers(store: ObjectStore, node: string): Promise<FileTriggersResult> {
  const { items } = await store.list<Trigger>(keyFilter(TriggerKind.plural));
  const triggers: NodeFileTrigger[] = [];
  for (const { object } of items) {
    const t = nodeFileTriggerOf(object, node);
    if (t) triggers.push(t);
  }
  triggers.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  return { triggers };
}

/** Serves the verb for every node; `stop()` unsubscribes and waits for the requests in flight. */
export function serveFileTriggersApi(bus: Bus, store: ObjectStore): { ready: Promise<void>; stop(): Promise<void> } {
  const sub: Served = serve<unknown, FileTriggersResult>(bus, nodeApiWildcard('file-triggers'),
    timed('file-triggers', (_req: unknown, msg: Msg) => fileTriggers(store, nodeOf(msg.subject)), () => TriggerKind.plural), { queue: 'mk-api' });
  return { ready: sub.ready, stop: () => sub.stop() };
}
