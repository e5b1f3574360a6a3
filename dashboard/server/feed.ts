/**
 * One page's websocket: reads its frames (validated by the protocol's schemas; garbage gets an
 * `error` frame and the connection stays), answers requests, runs its subscriptions, and sends
 * their deltas on every tick. A page that reads slower than its feed is dropped (its send queue
 * is bounded), not buffered in the server's memory; one that stops answering pings is dropped
 * too; requests beyond the session's rate are refused.
 */
import type { WebSocket } from 'ws';
import { isForbidden, MkError } from '../../messages/errors';
import { KINDS } from '../../messages/registry';
import {
  parseClientMessage, PROTOCOL_VERSION,
  type ClientMessage, type ErrorFrame, type FeedErrorCode, type ServerMessage, type TopicParams,
} from '../protocol';
import { FeedError } from './feed-error';
import { log } from './log';
import { objectView } from './object-view';
import { apply, at, remove, scale, type RequestContext } from './requests';
import { logsView, subjectView, usageView, type StreamContext } from './stream-views';
import { hotView, lagView, nodesView, objectsView, treeView, type Sources, type View } from './views';

/** Limits of one connection. */
export interface FeedLimits {
  /** Bytes waiting to be sent beyond which the page is dropped (default 8 MiB). */
  maxQueuedBytes?: number;
  /** Requests per second, sustained (default 20), and the burst allowed (default 100). */
  ratePerSecond?: number;
  burst?: number;
  /** Subscriptions one page may hold (default 64). */
  maxSubscriptions?: number;
}

/** The session a connection belongs to. */
export interface FeedSession extends RequestContext, Omit<StreamContext, 'send'> {
  server: string;
}

/** One page's connection. `tick()` sends pending deltas; `close()` ends its subscriptions. */
export class FeedConnection {
  private readonly views = new Map<number, { view: View; topic: TopicParams['topic'] }>();
  private nextSub = 1;
  private tokens: number;
  private lastRefill = Date.now();
  private closed = false;
  private readonly limits: Required<FeedLimits>;

  constructor(private readonly ws: WebSocket, private readonly session: FeedSession, limits: FeedLimits = {}) {
    this.limits = { maxQueuedBytes: 8 * 2 ** 20, ratePerSecond: 20, burst: 100, maxSubscriptions: 64, ...limits };
    this.tokens = this.limits.burst;
    ws.on('message', (data, isBinary) => {
      const frame = isBinary ? new Uint8Array(data as Buffer) : (data as Buffer).toString('utf8');
      void this.onFrame(frame);
    });
    ws.on('close', () => this.close());
    this.send({
      type: 'hello', protocol: PROTOCOL_VERSION, writable: session.writable, identity: session.user, server: session.server,
      kinds: KINDS.map((k) => ({
        plural: k.plural, kind: k.kind, apiVersion: k.apiVersion, namespaced: k.namespaced, shortNames: [...k.shortNames], storage: k.storage,
      })),
    });
  }

  /** Sends a frame, or drops the page when its queue is over the bound. */
  send(frame: ServerMessage): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > this.limits.maxQueuedBytes) {
      log.warn({ queued: this.ws.bufferedAmount }, 'dashboard page reads slower than its feed; dropping it');
      this.ws.terminate();
      this.close();
      return;
    }
    this.ws.send(JSON.stringify(frame));
  }

  private error(code: FeedErrorCode, message: string, where: { id?: number; sub?: number }, extra: Partial<ErrorFrame['error']> = {}): void {
    this.send({ type: 'error', ...where, error: { code, message, ...extra } });
  }

  private allow(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.limits.burst, this.tokens + ((now - this.lastRefill) / 1000) * this.limits.ratePerSecond);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private async onFrame(frame: string | Uint8Array): Promise<void> {
    const parsed = parseClientMessage(frame);
    if (!parsed.ok) {
      this.send(parsed.error);
      return;
    }
    const m = parsed.message;
    if (!this.allow()) {
      this.error('TooManyRequests', `more than ${this.limits.ratePerSecond} requests a second: slow down`, { id: m.id });
      return;
    }
    try {
      await this.handle(m);
    } catch (err) {
      this.error(...errorOf(err), { id: m.id }, extraOf(err));
    }
  }

  private async handle(m: ClientMessage): Promise<void> {
    switch (m.type) {
      case 'subscribe': {
        if (this.views.size >= this.limits.maxSubscriptions) {
          throw new FeedError('TooManyRequests', `at most ${this.limits.maxSubscriptions} subscriptions per page`);
        }
        const sub = this.nextSub++;
        const view = this.viewOf(sub, m.params);
        const snapshot = await view.start();
        if (this.closed) {
          view.stop();
          return;
        }
        this.views.set(sub, { view, topic: m.params.topic });
        this.send({ type: 'result', id: m.id, sub });
        this.send(snapshot);
        return;
      }
      case 'update': {
        const old = this.views.get(m.sub);
        if (!old) throw new FeedError('UnknownSubscription', `no subscription ${m.sub}`);
        if (old.topic !== m.params.topic) {
          throw new FeedError('BadRequest', `subscription ${m.sub} is of topic "${old.topic}", not "${m.params.topic}"`);
        }
        const view = this.viewOf(m.sub, m.params);
        const snapshot = await view.start();
        old.view.stop();
        this.views.set(m.sub, { view, topic: m.params.topic });
        this.send({ type: 'result', id: m.id, sub: m.sub });
        this.send(snapshot);
        return;
      }
      case 'unsubscribe': {
        const v = this.views.get(m.sub);
        if (!v) throw new FeedError('UnknownSubscription', `no subscription ${m.sub}`);
        v.view.stop();
        this.views.delete(m.sub);
        this.send({ type: 'result', id: m.id, sub: m.sub });
        return;
      }
      case 'at':
        this.send({ type: 'result', id: m.id, value: await at(m, this.session) });
        return;
      case 'apply':
      case 'delete':
      case 'scale': {
        const value = m.type === 'apply' ? await apply(m, this.session)
          : m.type === 'delete' ? await remove(m, this.session) : await scale(m, this.session);
        this.send({ type: 'result', id: m.id, value });
        return;
      }
      default: {
        const never: never = m;
        throw new FeedError('UnknownType', `unknown message type "${(never as { type: string }).type}"`);
      }
    }
  }

  private viewOf(sub: number, p: TopicParams): View {
    const stream: StreamContext = { ...this.session, send: (f) => this.send(f) };
    const s: Sources = this.session.sources;
    switch (p.topic) {
      case 'tree': return treeView(sub, p, s);
      case 'hot': return hotView(sub, p, s);
      case 'objects': return objectsView(sub, p, s);
      case 'object': return objectView(sub, p, s);
      case 'nodes': return nodesView(sub, p, s);
      case 'lag': return lagView(sub, p, s);
      case 'logs': return logsView(sub, p, stream);
      case 'usage': return usageView(sub, p, stream);
      case 'subject': return subjectView(sub, p, stream);
      default: throw new FeedError('UnknownTopic', `unknown topic "${(p as { topic: string }).topic}"`);
    }
  }

  /** Sends every view's pending delta. */
  tick(): void {
    for (const [sub, { view }] of this.views) {
      if (this.closed) return;
      try {
        const d = view.tick?.();
        if (d) this.send(d);
      } catch (err) {
        log.warn({ err, sub }, 'a dashboard view failed to compute its delta');
        this.error(...errorOf(err), { sub });
      }
    }
  }

  /** Ends every subscription (the socket closed or was dropped). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const { view } of this.views.values()) view.stop();
    this.views.clear();
  }
}

/** The code and message of a failure, for an error frame. */
function errorOf(err: unknown): [FeedErrorCode, string] {
  if (err instanceof FeedError) return [err.code, err.message];
  if (isForbidden(err)) return ['Forbidden', (err as Error).message];
  if (err instanceof MkError) return [err.code as FeedErrorCode, err.message];
  log.error({ err }, 'dashboard request failed unexpectedly');
  return ['Internal', (err as Error)?.message ?? String(err)];
}

function extraOf(err: unknown): Partial<ErrorFrame['error']> {
  if (err instanceof FeedError) return err.extra;
  const issues = (err as { issues?: string[] }).issues;
  return issues?.length ? { issues } : {};
}

