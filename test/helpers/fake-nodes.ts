/**
 * Nodes for control-plane tests that run no node agent: Node objects written into the store (Ready,
 * with a heartbeat an hour ahead so the node lifecycle leaves them Ready), and a loop that does for
 * the pods bound to them what their agents would: starts them (Running, then Ready after a delay)
 * and finishes their graceful deletion by removing them from the store.
 */
import type { ObjectStore } from '../../bus';
import { objectKey, type Node, type Pod, type Taint } from '../../messages';

/** A Ready node named `name` with `labels` and `taints`. */
export function fakeNode(name: string, labels: Record<string, string> = {}, taints?: Taint[]): Node {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec: taints ? { taints } : {},
    status: {
      allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date(Date.now() + 3600_000).toISOString() }],
    },
  } as Node;
}

/** Writes the node into the store: created, or its labels and taints replaced (what the server set stays). */
export async function putNode(store: ObjectStore, node: Node): Promise<void> {
  const key = objectKey('nodes', undefined, node.metadata.name);
  const cur = await store.get<Node>(key);
  if (!cur) await store.create(key, node);
  else await store.update(key, { ...cur.object, metadata: { ...cur.object.metadata, labels: node.metadata.labels }, spec: { ...cur.object.spec, taints: node.spec?.taints } }, cur.revision);
}

/** A running loop; stop() ends it and waits for its last pass. */
export interface NodeLoop { stop(): Promise<void> }

/**
 * Plays the agents of every node: each pass, pods being deleted go from the store, pods bound to a
 * node turn Running and, once `readyAfterMs` old, Ready. Pods labelled `ready: never` stay unready;
 * a Failed or Succeeded pod is left as it is.
 */
export function playNodes(store: ObjectStore, namespace = 'default', readyAfterMs = 0, everyMs = 50): NodeLoop {
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const { items } = await store.list<Pod>(`pods.${namespace}.>`).catch(() => ({ items: [] as { key: string; object: Pod }[] }));
      for (const { key, object: p } of items) {
        if (!p.spec.nodeName) continue;
        if (p.metadata.deletionTimestamp) {
          await store.delete(key).catch(() => undefined);
          continue;
        }
        // A finished pod stays finished, as on a real node: it is never made Running again.
        if (p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded') continue;
        const isReady = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        if (isReady || p.metadata.labels?.ready === 'never') {
          if (p.status?.phase !== 'Running') await setStatus(store, key, false);
          continue;
        }
        const due = Date.now() - Date.parse(p.metadata.creationTimestamp ?? '') >= readyAfterMs;
        if (due || p.status?.phase !== 'Running') await setStatus(store, key, due);
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return { async stop() { stopped = true; await done; } };
}

async function setStatus(store: ObjectStore, key: string, ready: boolean): Promise<void> {
  const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await store.mutate<Pod>(key, (cur) => {
    if (cur.metadata.deletionTimestamp) return null;
    return {
      ...cur,
      status: { ...cur.status, phase: 'Running', conditions: ready ? [{ type: 'Ready', status: 'True', lastTransitionTime: at }] : [] },
    };
  }).catch(() => undefined);
}
