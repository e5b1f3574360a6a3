/**
 * Views fed by a stream of their own rather than a shared table: a container's log (the node
 * agent's logs subjects, as `mk logs -f` reads them), a usage series (mk.api.metrics' history,
 * then the node's live reports), and a raw NATS subject subscribed as the session's identity.
 */
import { randomUUID } from 'node:crypto';
import type { Subscription } from '@nats-io/transport-node';
import type { Bus } from '../../bus';
import { decode, encode, request } from '../../bus/core-client';
import { permissionViolation } from '../../bus/core-errors';
import {
  logsCancelSubject, logsStreamSubject, nodeSubject, PodKind, type KubeObject, type LogsChunk, type LogsRequest,
} from '../../messages';
import {
  METRICS_SUBJECT, statsSubject, type MetricsRequest, type MetricsResult, type NodeMetrics, type NodeUsageReport, type UsageSample,
} from '../../messages/usage';
import type { DeltaFrame, ParamsOf, ServerMessage, SnapshotFrame, SubjectMessage } from '../protocol';
import { FeedError } from './feed-error';
import type { Sources, View } from './views';

/** What a stream view needs of its session. */
export interface StreamContext {
  /** The session's identity's connection: the bus decides what it may read. */
  bus: Bus;
  /** Its NATS user. */
  user: string;
  send(frame: ServerMessage): void;
  sources: Sources;
}

const b64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

async function podOf(s: Sources, namespace: string, name: string): Promise<KubeObject> {
  const pods = s.feed(PodKind);
  await pods.whenReady();
  const pod = pods.find(namespace, name);
  if (!pod) throw new FeedError('NotFound', `pods "${name}" not found in namespace "${namespace}"`);
  return pod;
}

/** `logs`. Throws NotFound for a missing pod, BadRequest for one not on a node yet. */
export function logsView(sub: number, p: ParamsOf<'logs'>, ctx: StreamContext): View {
  let stream: Subscription | undefined;
  let cancel: string | undefined;
  return {
    async start(): Promise<SnapshotFrame> {
      const pod = await podOf(ctx.sources, p.namespace, p.pod);
      const node = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
      if (!node) throw new FeedError('BadRequest', `pod "${p.pod}" is not on a node yet: it has no log`);
      const req: LogsRequest = {
        namespace: p.namespace, pod: p.pod, ...(p.container ? { container: p.container } : {}),
        ...(p.tailLines !== undefined ? { tailLines: p.tailLines } : {}), ...(p.previous ? { previous: true } : {}),
      };
      if (p.follow) {
        const streamId = randomUUID().replace(/-/g, '');
        cancel = logsCancelSubject(node, streamId);
        stream = ctx.bus.nc.subscribe(logsStreamSubject(node, streamId), {
          callback: (err, msg) => {
            if (err) return;
            const chunk = decode<LogsChunk>(msg.data);
            ctx.send({ type: 'delta', sub, topic: 'logs', append: b64(chunk.data ?? ''), ...(chunk.eof ? { eof: true } : {}) });
          },
        });
        await ctx.bus.nc.flush();
        req.follow = { streamId };
      }
      const first = await request<LogsChunk>(ctx.bus, nodeSubject(node, 'logs'), req, { timeoutMs: 15_000 });
      return {
        type: 'snapshot', sub, topic: 'logs', data: b64(first.data ?? ''),
        ...(first.truncated ? { truncated: true } : {}), ...(first.eof || !p.follow ? { eof: true } : {}),
      };
    },
    stop(): void {
      stream?.unsubscribe();
      if (cancel) {
        try { ctx.bus.nc.publish(cancel, encode({})); } catch { /* closed */ }
      }
    },
  };
}

/** `usage`: the history first (when mk.api.metrics answers), then each report of the node. */
export function usageView(sub: number, p: ParamsOf<'usage'>, ctx: StreamContext): View {
  let live: Subscription | undefined;
  const namespace = p.namespace ?? 'default';
  return {
    async start(): Promise<SnapshotFrame> {
      const node = p.kind === 'nodes' ? p.name : (await podOf(ctx.sources, namespace, p.name)).spec as { nodeName?: string } | undefined;
      const nodeName = typeof node === 'string' ? node : node?.nodeName;
      let samples: UsageSample[] = [];
      let capacity: NodeMetrics['capacity'] | undefined;
      const req: MetricsRequest = { kind: p.kind, name: p.name, historySeconds: p.historySeconds, ...(p.kind === 'pods' ? { namespace } : {}) };
      try {
        const r = await request<MetricsResult>(ctx.bus, METRICS_SUBJECT, req, { timeoutMs: 5_000 });
        samples = r.history?.[p.kind === 'pods' ? `${namespace}/${p.name}` : p.name] ?? [];
        const item = r.items[0];
        if (item?.kind === 'NodeMetrics') capacity = item.capacity;
      } catch (err) {
        // No history (the metrics api is not served, or forgot it): the live reports still come.
        if (err instanceof FeedError) throw err;
      }
      if (nodeName) {
        live = ctx.bus.nc.subscribe(statsSubject(nodeName), {
          callback: (err, msg) => {
            if (err) return;
            const r = decode<NodeUsageReport>(msg.data);
            const u = p.kind === 'nodes' ? r.usage : r.pods.find((x) => x.namespace === namespace && x.name === p.name);
            if (!u) return;
            ctx.send({ type: 'delta', sub, topic: 'usage', append: [{ t: r.timestamp, cpuNanoCores: u.cpuNanoCores, memoryBytes: u.memoryBytes }] });
          },
        });
      }
      return { type: 'snapshot', sub, topic: 'usage', samples, ...(capacity ? { capacity } : {}) };
    },
    stop(): void { live?.unsubscribe(); },
  };
}

/** How many messages of a raw subject wait for the next tick; more are dropped (and counted). */
const MAX_QUEUED = 500;

/**
 * `subject`: subscribed as the session's identity; the server's refusal (a permission violation)
 * arrives before the flush returns and is the subscribe's error, naming the subject.
 */
export function subjectView(sub: number, p: ParamsOf<'subject'>, ctx: StreamContext): View {
  let s: Subscription | undefined;
  let refused: string | undefined;
  let queued: SubjectMessage[] = [];
  let dropped = 0;
  let started = false;
  return {
    async start(): Promise<SnapshotFrame> {
      s = ctx.bus.nc.subscribe(p.subject, {
        callback: (err, msg) => {
          if (err) {
            const v = permissionViolation(err);
            refused = v ? `the bus refused the ${ctx.user} identity a subscription to "${v.subject}": permissions violation` : String(err);
            if (started) ctx.send({ type: 'error', sub, error: { code: 'Forbidden', message: refused, subject: p.subject } });
            return;
          }
          if (queued.length >= MAX_QUEUED) {
            dropped++;
            return;
          }
          const text = Buffer.from(msg.data).toString('utf8');
          const binary = text.includes('\uFFFD');
          queued.push({
            subject: msg.subject, data: binary ? Buffer.from(msg.data).toString('base64') : text,
            ...(binary ? { binary: true } : {}), received: new Date().toISOString(),
          });
        },
      });
      await ctx.bus.nc.flush();
      if (refused) {
        s.unsubscribe();
        throw new FeedError('Forbidden', refused, { subject: p.subject });
      }
      started = true;
      return { type: 'snapshot', sub, topic: 'subject', subject: p.subject };
    },
    tick(): DeltaFrame | undefined {
      if (!queued.length && !dropped) return undefined;
      const messages = queued;
      queued = [];
      if (dropped) {
        messages.push({ subject: p.subject, data: `${dropped} messages dropped: the page could not keep up`, received: new Date().toISOString() });
        dropped = 0;
      }
      return { type: 'delta', sub, topic: 'subject', messages };
    },
    stop(): void { s?.unsubscribe(); },
  };
}
