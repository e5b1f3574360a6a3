/**
 * The live feed: one websocket to the control plane's `/feed`. Requests carry ids and resolve
 * with their `result` (or reject with their `error`); subscriptions are remembered with their
 * params, so when the socket drops the feed reconnects with backoff and subscribes them all
 * again (each then gets a fresh snapshot). The server's sub ids change across connections; the
 * page keeps its own Subscription objects.
 */
import type {
  ClientMessage, DeltaFrame, ErrorFrame, FeedError, HelloFrame, ResultFrame, ServerMessage,
  SnapshotFrame, TopicParams,
} from '../../protocol';
import { reconnectDelay } from './backoff';

/** The feed's path on the server (protocol.ts FEED_PATH; only types are imported from there). */
export const FEED_PATH = '/feed';

/** What a subscription may ask for: its params as the page writes them (defaults may be left out). */
export type SubscribeParams = Partial<TopicParams> & Pick<TopicParams, 'topic'>;
/** A client message as the page sends it, before the feed adds its id. */
export type Outgoing = DistributiveOmit<ClientMessage, 'id'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** How long a request made while the feed is down waits for it to come back. */
export const QUEUE_MS = 15_000;

/** The connection's state, for the indicator. */
export type FeedState = 'connecting' | 'open' | 'closed';

/** A refused request or subscription: the server's error, code and all. */
export class FeedRequestError extends Error {
  override name = 'FeedRequestError';
  constructor(readonly error: FeedError) {
    super(error.message);
  }
}

/** The connection dropped before the request's answer came. */
export class ConnectionLostError extends FeedRequestError {
  override name = 'ConnectionLostError';
  constructor() {
    super({ code: 'Unavailable', message: 'the connection to the dashboard server was lost' });
  }
}

/** Called with each snapshot and delta of a subscription. */
export type FrameHandler = (frame: SnapshotFrame | DeltaFrame) => void;

/** A live subscription: survives reconnects; `update` changes its params, `close` ends it. */
export class Subscription {
  /** The server's id for it on the current connection. */
  sub?: number;
  closed = false;
  /** A subscribe of it is on its way. */
  inflight = false;

  constructor(
    private readonly feed: Feed,
    public params: SubscribeParams,
    readonly onFrame: FrameHandler,
    readonly onError: (e: FeedError) => void,
  ) {}

  /** New filters or page of the same topic; a snapshot follows. */
  update(params: SubscribeParams): void {
    this.params = params;
    this.feed.sendUpdate(this);
  }

  /** Ends the subscription. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.feed.drop(this);
  }
}

/** The websocket client of the feed. */
export class Feed {
  state: FeedState = 'connecting';
  hello?: HelloFrame;
  private ws?: WebSocket;
  private nextId = 1;
  private attempt = 0;
  private readonly pending = new Map<number, { resolve(r: ResultFrame): void; reject(e: Error): void }>();
  private readonly subs = new Set<Subscription>();
  private readonly queued = new Set<{ send(): void }>();
  private readonly bySub = new Map<number, Subscription>();
  private readonly stateListeners = new Set<(s: FeedState, hello?: HelloFrame) => void>();
  private timer?: ReturnType<typeof setTimeout>;
  private stopped = false;

  constructor(private readonly url: string) {}

  /** Opens the socket (and keeps reopening it until stop). */
  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Closes for good. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close();
  }

  /** Listens to state changes (called at once with the current state). */
  onState(fn: (s: FeedState, hello?: HelloFrame) => void): () => void {
    this.stateListeners.add(fn);
    fn(this.state, this.hello);
    return () => this.stateListeners.delete(fn);
  }

  /**
   * Sends a request; resolves with its result, rejects with FeedRequestError or a lost
   * connection. While the feed is (re)connecting the request waits, up to QUEUE_MS, and is sent
   * as soon as the server greets the page (a link to the past opened in a new tab asks at once).
   */
  request(msg: Outgoing): Promise<ResultFrame> {
    return new Promise((resolve, reject) => {
      if (this.state === 'open' && this.ws) { this.send(msg, resolve, reject); return; }
      const waiting = { send: () => { clearTimeout(timer); this.send(msg, resolve, reject); } };
      const timer = setTimeout(() => {
        this.queued.delete(waiting);
        reject(new FeedRequestError({ code: 'Unavailable', message: 'not connected to the dashboard server' }));
      }, QUEUE_MS);
      this.queued.add(waiting);
    });
  }

  private send(msg: Outgoing, resolve: (r: ResultFrame) => void, reject: (e: Error) => void): void {
    const id = this.nextId++;
    this.pending.set(id, { resolve, reject });
    this.ws!.send(JSON.stringify({ ...msg, id }));
  }

  /** Subscribes a topic; `onFrame` gets the snapshot and every delta, again after each reconnect. */
  subscribe(params: SubscribeParams, onFrame: FrameHandler, onError: (e: FeedError) => void = () => undefined): Subscription {
    const s = new Subscription(this, params, onFrame, onError);
    this.subs.add(s);
    if (this.state === 'open') this.sendSubscribe(s);
    return s;
  }

  /** @internal */
  sendUpdate(s: Subscription): void {
    if (this.state !== 'open' || s.closed) return;
    if (s.sub === undefined) { this.sendSubscribe(s); return; }
    this.request({ type: 'update', sub: s.sub, params: s.params } as Outgoing)
      .catch((e: unknown) => { if (!(e instanceof ConnectionLostError)) s.onError(errorOf(e)); });
  }

  /** @internal */
  drop(s: Subscription): void {
    this.subs.delete(s);
    if (s.sub !== undefined) {
      this.bySub.delete(s.sub);
      if (this.state === 'open') this.request({ type: 'unsubscribe', sub: s.sub }).catch(() => undefined);
    }
  }

  /**
   * Subscribes `s` with its current params; one subscribe at a time per subscription. When the
   * answer comes for a subscription that was closed, changed or belongs to a dropped connection,
   * that server subscription is ended and (if still wanted) a fresh one asked for.
   */
  private sendSubscribe(s: Subscription): void {
    if (s.inflight || s.closed || this.state !== 'open') return;
    s.inflight = true;
    const params = s.params;
    const ws = this.ws;
    this.request({ type: 'subscribe', params } as Outgoing).then((r) => {
      s.inflight = false;
      if (r.sub === undefined) return;
      if (s.closed || params !== s.params || this.ws !== ws) {
        if (this.ws === ws) this.request({ type: 'unsubscribe', sub: r.sub }).catch(() => undefined);
        this.sendSubscribe(s);
        return;
      }
      s.sub = r.sub;
      this.bySub.set(r.sub, s);
    }, (e: unknown) => {
      s.inflight = false;
      // A lost connection is no error of the subscription: it is asked for again on reconnect.
      if (e instanceof ConnectionLostError) return;
      s.onError(errorOf(e));
      if (params !== s.params) this.sendSubscribe(s);
    });
  }

  private setState(state: FeedState): void {
    // 'open' is told every time (each hello may say something new); the others once.
    if (state === this.state && state !== 'open') return;
    this.state = state;
    for (const fn of this.stateListeners) fn(state, this.hello);
  }

  private connect(): void {
    this.setState('connecting');
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onclose = () => this.onClose(ws);
    ws.onerror = () => ws.close();
  }

  private onClose(ws: WebSocket): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    this.hello = undefined;
    for (const p of this.pending.values()) p.reject(new ConnectionLostError());
    this.pending.clear();
    this.bySub.clear();
    for (const s of this.subs) s.sub = undefined;
    this.setState('closed');
    if (this.stopped) return;
    this.timer = setTimeout(() => this.connect(), reconnectDelay(this.attempt++));
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let msg: ServerMessage;
    try {
      msg = JSON.parse(data) as ServerMessage;
    } catch {
      return;
    }
    switch (msg.type) {
      case 'hello':
        this.hello = msg;
        this.attempt = 0;
        this.setState('open');
        for (const q of this.queued) q.send();
        this.queued.clear();
        for (const s of this.subs) this.sendSubscribe(s);
        return;
      case 'result': {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        p?.resolve(msg);
        return;
      }
      case 'error':
        this.onError(msg);
        return;
      case 'closed': {
        const s = this.bySub.get(msg.sub);
        if (!s) return;
        this.bySub.delete(msg.sub);
        s.sub = undefined;
        if (!s.closed) this.sendSubscribe(s);
        return;
      }
      case 'snapshot': case 'delta':
        this.bySub.get(msg.sub)?.onFrame(msg);
        return;
    }
  }

  private onError(msg: ErrorFrame): void {
    if (msg.id !== undefined && this.pending.has(msg.id)) {
      const p = this.pending.get(msg.id)!;
      this.pending.delete(msg.id);
      p.reject(new FeedRequestError(msg.error));
      return;
    }
    if (msg.sub !== undefined) this.bySub.get(msg.sub)?.onError(msg.error);
  }
}

/** The FeedError of anything thrown by a request. */
export function errorOf(e: unknown): FeedError {
  if (e instanceof FeedRequestError) return e.error;
  return { code: 'Internal', message: e instanceof Error ? e.message : String(e) };
}

/** The feed's URL on the server that served the page. */
export function feedUrl(loc: Location): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}${FEED_PATH}`;
}
