/**
 * The node agent's own subjects: logs (one reply, or a stream for `-f`), exec (ExecSync) and
 * teardown. Requests name a pod; the agent serves only pods bound to it.
 */
import { serve, encode, type Bus, type ObjectStore } from '../bus';
import {
  dns1123LabelError, dns1123SubdomainError, logsCancelSubject, MAX_LOGS_REPLY_BYTES, NotFoundError, nodeSubject, objectKey, ValidationError,
  type ExecRequest, type ExecResult, type LogsChunk, type LogsRequest, type Pod,
} from '../messages';
import { log } from './log';
import type { CriClient } from './cri';
import { execInPod, followContainerLogs, LABEL_CONTAINER_NAME, LABEL_POD_UID, readContainerLogs, resolveLogPath } from './pods';
import type { PodSync } from './pod-sync';

export interface NodeApiDeps {
  nodeName: string;
  store: ObjectStore;
  cri: CriClient;
  sync: PodSync;
  teardown(): Promise<void>;
}

/** The longest a `logs -f` stream may run without the client cancelling (a day). */
const MAX_FOLLOW_MS = 24 * 3600_000;

async function podOf(deps: NodeApiDeps, namespace: string, name: string): Promise<Pod> {
  if (typeof namespace !== 'string' || typeof name !== 'string') throw new ValidationError('namespace and pod are required');
  const bad = dns1123LabelError(namespace) ?? dns1123SubdomainError(name);
  if (bad) throw new ValidationError(`invalid pod ${namespace}/${name}: ${bad}`);
  const got = await deps.store.get<Pod>(objectKey('pods', namespace, name));
  if (!got) throw new NotFoundError(`pods "${name}" not found`);
  if (got.object.spec.nodeName !== deps.nodeName) {
    throw new NotFoundError(`pod "${name}" is not on node ${deps.nodeName} (it is on ${got.object.spec.nodeName ?? 'no node yet'})`);
  }
  return got.object;
}

/** Serves logs, exec and teardown for this node. */
export function serveNodeApi(bus: Bus, deps: NodeApiDeps): { ready: Promise<void>; stop(): Promise<void> } {
  const follows = new Set<AbortController>();
  const subs = [
    serve<LogsRequest, LogsChunk>(bus, nodeSubject(deps.nodeName, 'logs'), async (req, msg) => {
      const pod = await podOf(deps, req.namespace, req.pod);
      const logPath = await resolveLogPath(deps.cri, pod, req.container, !!req.previous);
      if (!req.follow) {
        const data = await readContainerLogs({ logPath, tailLines: req.tailLines });
        if (data.length <= MAX_LOGS_REPLY_BYTES) return { data: data.toString('base64') };
        // Keep the newest lines, starting at a line boundary.
        let tail = data.subarray(data.length - MAX_LOGS_REPLY_BYTES);
        const nl = tail.indexOf(0x0a);
        if (nl >= 0) tail = tail.subarray(nl + 1);
        return { data: tail.toString('base64'), truncated: true };
      }
      if (!msg.reply) throw new ValidationError('a follow request needs a reply subject');
      const reply = msg.reply;
      const ac = new AbortController();
      const cancel = bus.nc.subscribe(logsCancelSubject(deps.nodeName, req.follow.streamId), { max: 1, callback: () => ac.abort() });
      const timer = setTimeout(() => ac.abort(), MAX_FOLLOW_MS).unref();
      follows.add(ac);
      const containerName = req.container ?? pod.spec.containers[0].name;
      // The stream runs after this handler returns its first (empty) chunk.
      setImmediate(() => {
        followContainerLogs({
          logPath,
          tailLines: req.tailLines,
          signal: ac.signal,
          onData: (chunk) => { bus.nc.publish(reply, encode({ ok: true, data: chunk.toString('base64') })); },
          isRunning: async () => {
            const list = await deps.cri.listContainers({ filter: { labelSelector: { [LABEL_POD_UID]: pod.metadata.uid!, [LABEL_CONTAINER_NAME]: containerName } } });
            return (list.containers ?? []).some((c) => c.state === 'CONTAINER_RUNNING');
          },
        })
          .catch((err) => log.warn({ pod: req.pod, err: String(err) }, 'log follow failed'))
          .finally(() => {
            clearTimeout(timer);
            follows.delete(ac);
            try {
              cancel.unsubscribe();
              bus.nc.publish(reply, encode({ ok: true, data: '', eof: true }));
            } catch { /* the connection closed under a stopping agent: nobody is left to tell */ }
          });
      });
      return { data: '' };
    }),
    serve<ExecRequest, ExecResult>(bus, nodeSubject(deps.nodeName, 'exec'), async (req) => {
      if (!Array.isArray(req.command) || req.command.length === 0 || !req.command.every((a) => typeof a === 'string')) {
        throw new ValidationError('command must be a non-empty list of strings');
      }
      const pod = await podOf(deps, req.namespace, req.pod);
      const out = await execInPod(deps.cri, pod, req.container, req.command, req.timeoutSeconds ?? 0);
      return { exitCode: out.exitCode, stdout: out.stdout.toString('base64'), stderr: out.stderr.toString('base64') };
    }),
    serve(bus, nodeSubject(deps.nodeName, 'teardown'), async () => {
      await deps.teardown();
      return {};
    }),
  ];
  return {
    ready: Promise.all(subs.map((s) => s.ready)).then(() => undefined),
    stop: async () => {
      for (const ac of follows) ac.abort();
      await Promise.all(subs.map((s) => s.stop()));
    },
  };
}
