/**
 * The node agent's own subjects, `mk.node.<node>.*`: logs (one reply, or a stream for `-f` on
 * `mk.node.<node>.logs.stream.<id>`), exec (ExecSync), ping and teardown. Requests name a pod; the
 * agent serves only pods bound to it (those in its view).
 */
import { serve, encode, type Bus } from '../bus';
import {
  dns1123LabelError, dns1123SubdomainError, logsCancelSubject, logsStreamSubject, MAX_LOGS_REPLY_BYTES, NotFoundError, nodeSubject, ValidationError,
  type ExecRequest, type ExecResult, type LogsChunk, type LogsRequest, type Pod,
} from '../messages';
import { log } from './log';
import type { CriClient } from './cri';
import { execInPod, followContainerLogs, LABEL_CONTAINER_NAME, LABEL_POD_UID, readContainerLogs, resolveLogPath } from './pods';

/** What the node's subjects need. */
export interface NodeSubjectsDeps {
  nodeName: string;
  cri: CriClient;
  /** The pods bound here, `namespace/name` -> pod. */
  pods: ReadonlyMap<string, Pod>;
  teardown(): Promise<void>;
}

/** The longest a `logs -f` stream may run without the client cancelling (a day). */
const MAX_FOLLOW_MS = 24 * 3600_000;

function podOf(deps: NodeSubjectsDeps, namespace: string, name: string): Pod {
  if (typeof namespace !== 'string' || typeof name !== 'string') throw new ValidationError('namespace and pod are required');
  const bad = dns1123LabelError(namespace) ?? dns1123SubdomainError(name);
  if (bad) throw new ValidationError(`invalid pod ${namespace}/${name}: ${bad}`);
  const pod = deps.pods.get(`${namespace}/${name}`);
  if (!pod) throw new NotFoundError(`pods "${name}" not found on node ${deps.nodeName}`);
  return pod;
}

/** Serves logs, exec, ping and teardown for this node. */
export function serveNodeSubjects(bus: Bus, deps: NodeSubjectsDeps): { ready: Promise<void>; stop(): Promise<void> } {
  const follows = new Set<AbortController>();
  const subs = [
    serve<LogsRequest, LogsChunk>(bus, nodeSubject(deps.nodeName, 'logs'), async (req) => {
      const pod = podOf(deps, req.namespace, req.pod);
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
      if (typeof req.follow.streamId !== 'string' || !/^[-\w]{1,64}$/.test(req.follow.streamId)) {
        throw new ValidationError('follow.streamId must be 1 to 64 letters, digits, - or _');
      }
      const stream = logsStreamSubject(deps.nodeName, req.follow.streamId);
      const ac = new AbortController();
      const cancel = bus.nc.subscribe(logsCancelSubject(deps.nodeName, req.follow.streamId), { max: 1, callback: () => ac.abort() });
      const timer = setTimeout(() => ac.abort(), MAX_FOLLOW_MS).unref();
      follows.add(ac);
      const containerName = req.container ?? pod.spec.containers[0].name;
      // The stream runs after this handler answers (the client subscribed to the stream before asking).
      setImmediate(() => {
        followContainerLogs({
          logPath,
          tailLines: req.tailLines,
          signal: ac.signal,
          onData: (chunk) => { bus.nc.publish(stream, encode({ data: chunk.toString('base64') } satisfies LogsChunk)); },
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
              bus.nc.publish(stream, encode({ data: '', eof: true } satisfies LogsChunk));
            } catch { /* the connection closed under a stopping agent: nobody is left to tell */ }
          });
      });
      return { data: '' };
    }),
    serve<ExecRequest, ExecResult>(bus, nodeSubject(deps.nodeName, 'exec'), async (req) => {
      if (!Array.isArray(req.command) || req.command.length === 0 || !req.command.every((a) => typeof a === 'string')) {
        throw new ValidationError('command must be a non-empty list of strings');
      }
      const pod = podOf(deps, req.namespace, req.pod);
      const out = await execInPod(deps.cri, pod, req.container, req.command, req.timeoutSeconds ?? 0);
      return { exitCode: out.exitCode, stdout: out.stdout.toString('base64'), stderr: out.stderr.toString('base64') };
    }),
    serve(bus, nodeSubject(deps.nodeName, 'ping'), async () => ({ node: deps.nodeName, time: new Date().toISOString() })),
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
