/**
 * `mk port-forward`'s parts below the command: reading `[LOCAL:]REMOTE` port specs, finding the
 * pod a TYPE/NAME stands for and the pod port a remote port means (as kubectl does,
 * https://kubernetes.io/docs/reference/kubectl/generated/kubectl_port-forward/), and relaying one
 * accepted connection through the pod's node agent (messages/port-forward.ts).
 */
import type { Socket } from 'node:net';
import type { CoreBus } from '../bus/core-client';
import { request } from '../bus/core-client';
import { RelayStream } from '../bus/relay-stream';
import type { GetResult, Pod } from '../messages';
import type { Service } from '../messages/service';
import { selectorMatches } from '../messages/label-selector';
import { isPortForwardStreamId, portForwardStreamSubject, portForwardSubject, type PortForwardOpened, type PortForwardRequest } from '../messages/port-forward';
import type { LabelSelector } from '../messages/scheduling';
import { API } from '../messages/subjects';
import type { Api } from './client';
import { CliError } from './errors';

/** One `[LOCAL:]REMOTE` argument: local 0 picks a free port; undefined means "the remote port". */
export interface PortSpec {
  local: number | undefined;
  remote: number | string;
  /** As the user wrote it, for messages. */
  text: string;
}

/** A port name as Kubernetes allows one (IANA_SVC_NAME): 1-15 of a-z, 0-9, '-', with a letter. */
export function isPortName(s: string): boolean {
  return s.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(s) && /[a-z]/.test(s) && !s.includes('--');
}

function portNumber(s: string, what: string, text: string, allowZero: boolean): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n > 65535 || (n === 0 && !allowZero)) {
    throw new CliError(`invalid port "${text}": the ${what} port must be a number from ${allowZero ? 0 : 1} to 65535`);
  }
  return n;
}

/**
 * Reads `8080`, `8080:80`, `:80` (a random local port), `0:80` and remote port names
 * (`:http`, `8080:http`). Throws CliError naming the argument otherwise.
 */
export function parsePortSpec(text: string): PortSpec {
  const parts = text.split(':');
  if (parts.length > 2) throw new CliError(`invalid port "${text}": use [LOCAL_PORT:]REMOTE_PORT`);
  const [localText, remoteText] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (!remoteText) throw new CliError(`invalid port "${text}": the remote port is missing`);
  const remote = /^\d+$/.test(remoteText) ? portNumber(remoteText, 'remote', text, false)
    : isPortName(remoteText) ? remoteText
      : (() => { throw new CliError(`invalid port "${text}": the remote port must be a number from 1 to 65535 or a port name`); })();
  const local = localText === undefined ? (typeof remote === 'number' ? remote : undefined)
    : localText === '' ? 0 : portNumber(localText, 'local', text, true);
  return { local, remote, text };
}

/** What a TYPE/NAME resolved to: the pod, and for a service the service itself. */
export interface ForwardTarget {
  pod: Pod;
  /** Set for `svc/NAME`. */
  service?: Service;
}


const TYPES: Record<string, 'pods' | 'deployments' | 'replicasets' | 'services'> = {
  pod: 'pods', pods: 'pods', po: 'pods',
  deployment: 'deployments', deployments: 'deployments', deploy: 'deployments',
  replicaset: 'replicasets', replicasets: 'replicasets', rs: 'replicasets',
  service: 'services', services: 'services', svc: 'services',
};

/** Ready and running first, then running, then the rest; newest first within each (kubectl's choice). */
function rank(p: Pod): number {
  const running = p.status?.phase === 'Running';
  const ready = (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  return (running ? 0 : 2) + (ready ? 0 : 1);
}

/** Picks the pod of a workload or service among the namespace's pods matching `selector`. */
async function podFor(api: Api, namespace: string, what: string, selector: LabelSelector): Promise<Pod> {
  const pods = (await api.list('pods', namespace) as Pod[])
    .filter((p) => !p.metadata.deletionTimestamp && selectorMatches(selector, p.metadata.labels))
    .sort((a, b) => rank(a) - rank(b) || String(b.metadata.creationTimestamp ?? '').localeCompare(String(a.metadata.creationTimestamp ?? '')));
  if (pods.length === 0) throw new CliError(`no pods found for ${what}`);
  return pods[0];
}

/**
 * Resolves `pod/NAME`, `NAME`, `deployment/NAME`, `rs/NAME` or `svc/NAME` to a pod. Throws the
 * server's NotFoundError for a missing object and CliError for an unknown type or a service
 * without a selector.
 */
export async function resolveTarget(api: Api, bus: CoreBus, namespace: string, arg: string): Promise<ForwardTarget> {
  const slash = arg.indexOf('/');
  const typeText = slash < 0 ? 'pod' : arg.slice(0, slash).toLowerCase();
  const name = slash < 0 ? arg : arg.slice(slash + 1);
  const plural = TYPES[typeText];
  if (!plural) throw new CliError(`cannot port-forward to "${typeText}": use pod/NAME, deployment/NAME, rs/NAME or svc/NAME`);
  if (!name) throw new CliError(`"${arg}" names no object: use TYPE/NAME`);
  // Read by plural, so kinds this CLI build has no schema for (services) still resolve.
  const obj = (await request<GetResult>(bus, API.get, { kind: plural, namespace, name }, { timeoutMs: 15_000 })).object;
  if (plural === 'pods') return { pod: obj as Pod };
  if (plural === 'services') {
    const svc = obj as Service;
    const selector = svc.spec?.selector ?? {};
    if (Object.keys(selector).length === 0) throw new CliError(`invalid service '${name}': the service has no selector, so no pod to forward to`);
    return { pod: await podFor(api, namespace, `service ${name}`, { matchLabels: selector }), service: svc };
  }
  const selector = (obj as { spec?: { selector?: LabelSelector } }).spec?.selector;
  if (!selector) throw new CliError(`${typeText}/${name} has no selector`);
  return { pod: await podFor(api, namespace, `${typeText}/${name}`, selector) };
}

/** The pod's container port named `name`, or undefined. */
function namedPort(pod: Pod, name: string): number | undefined {
  for (const c of pod.spec.containers) for (const p of c.ports ?? []) if (p.name === name) return p.containerPort;
  return undefined;
}

/**
 * The pod port a spec's remote port means, and the local port to listen on (0: any free one).
 * For a service, the remote port is its service port (by number or name) mapped to the
 * targetPort, a number or the pod's container port of that name.
 */
export function resolvePorts(target: ForwardTarget, spec: PortSpec): { local: number; remote: number } {
  const podName = target.pod.metadata.name;
  const byName = (n: string): number => {
    const p = namedPort(target.pod, n);
    if (p === undefined) throw new CliError(`pod '${podName}' does not have a named port '${n}'`);
    return p;
  };
  let remote: number;
  if (target.service) {
    const ports = target.service.spec?.ports ?? [];
    const sp = ports.find((p) => (typeof spec.remote === 'number' ? p.port === spec.remote : p.name === spec.remote));
    if (!sp) throw new CliError(`service ${target.service.metadata.name} does not have a service port ${spec.remote}`);
    const tp = sp.targetPort ?? sp.port;
    remote = typeof tp === 'number' ? tp : /^\d+$/.test(tp) ? Number(tp) : byName(tp);
    return { local: spec.local ?? sp.port, remote };
  }
  remote = typeof spec.remote === 'number' ? spec.remote : byName(spec.remote);
  return { local: spec.local ?? remote, remote };
}

/** Throws kubectl's error when the pod is not running. */
export function assertRunning(pod: Pod): void {
  const phase = pod.status?.phase ?? 'Pending';
  if (phase !== 'Running') throw new CliError(`unable to forward port because pod is not running. Current status=${phase}`);
  if (!pod.spec.nodeName) throw new CliError(`pod "${pod.metadata.name}" is not on a node yet`);
}

/**
 * Opens a stream to `req` on `node` and relays `socket` over it. Throws the agent's error (the
 * pod is not there, the port refused) after destroying the socket, and throws when the local
 * client reset or closed its connection while the stream was being opened (the node's stream is
 * closed then). The socket is paused and has an 'error' listener from the start: a reset during
 * the request would otherwise be an unhandled 'error' event, fatal to the process.
 */
export async function forwardConnection(bus: CoreBus, node: string, req: PortForwardRequest, socket: Socket, opts: { pingMs?: number; deadAfterMs?: number } = {}): Promise<RelayStream> {
  socket.pause();
  let early: Error | undefined;
  const onEarlyError = (e: Error): void => { early ??= e; };
  socket.on('error', onEarlyError);
  let opened: PortForwardOpened;
  try {
    opened = await request<PortForwardOpened>(bus, portForwardSubject(node), req, { timeoutMs: 15_000 });
  } catch (err) {
    socket.off('error', onEarlyError);
    socket.on('error', () => undefined);
    socket.destroy();
    throw err;
  }
  if (!isPortForwardStreamId(opened.streamId)) {
    socket.off('error', onEarlyError);
    socket.on('error', () => undefined);
    socket.destroy();
    throw new Error(`node ${node} answered with a malformed stream id ${JSON.stringify(opened.streamId)}`);
  }
  socket.setNoDelay(true);
  const relay = new RelayStream({
    nc: bus.nc,
    socket,
    sendSubject: portForwardStreamSubject(node, opened.streamId, 'up'),
    recvSubject: portForwardStreamSubject(node, opened.streamId, 'down'),
    window: opened.window,
    ...opts,
  });
  socket.off('error', onEarlyError);
  if (early || socket.destroyed) {
    // The node opened its side already: tell it the client is gone, so it frees the stream.
    const reason = `the local connection failed while the stream opened: ${early?.message ?? 'closed'}`;
    relay.close(reason);
    throw new Error(reason);
  }
  socket.resume();
  return relay;
}
