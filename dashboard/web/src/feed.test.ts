import type { ClientMessage, ServerMessage } from '../../protocol';
import { Feed, type FrameHandler } from './feed';

/** A fake browser WebSocket: records what the feed sends; the test plays the server. */
class FakeSocket {
  static all: FakeSocket[] = [];
  sent: ClientMessage[] = [];
  onmessage?: (ev: { data: string }) => void;
  onclose?: () => void;
  onerror?: () => void;
  constructor(readonly url: string) { FakeSocket.all.push(this); }
  send(data: string): void { this.sent.push(JSON.parse(data) as ClientMessage); }
  close(): void { this.onclose?.(); }
  deliver(m: ServerMessage): void { this.onmessage?.({ data: JSON.stringify(m) }); }
  hello(): void { this.deliver({ type: 'hello', protocol: 1, writable: false, identity: 'dashboard', server: 'cp-a' }); }
  /** Answers every request not yet answered: subscribes with a new sub id, the rest with a plain result. */
  answerAll(): void {
    for (const m of this.sent.splice(0)) {
      this.answered.push(m);
      this.deliver(m.type === 'subscribe' ? { type: 'result', id: m.id, sub: ++FakeSocket.nextSub } : { type: 'result', id: m.id });
    }
  }
  answered: ClientMessage[] = [];
  static nextSub = 0;
}

/** Lets the promise callbacks run (a few microtask turns). */
const flush = async (): Promise<void> => { for (let i = 0; i < 10; i++) await Promise.resolve(); };

describe('the feed client', () => {
  beforeAll(() => { (globalThis as unknown as { WebSocket: unknown }).WebSocket = FakeSocket; });
  afterAll(() => { delete (globalThis as unknown as { WebSocket?: unknown }).WebSocket; });
  beforeEach(() => { FakeSocket.all = []; jest.useFakeTimers(); });
  afterEach(() => jest.useRealTimers());

  it('subscribes once the server greets it, delivers its frames, and ends one changed while in flight', async () => {
    const feed = new Feed('ws://x/feed');
    feed.start();
    const frames: unknown[] = [];
    const errors: unknown[] = [];
    const sub = feed.subscribe({ topic: 'nodes' }, ((f) => frames.push(f)) as FrameHandler, (e) => errors.push(e));
    const ws = FakeSocket.all[0];
    expect(ws.sent).toEqual([]);
    ws.hello();
    expect(ws.sent).toMatchObject([{ type: 'subscribe', params: { topic: 'nodes' } }]);
    sub.update({ topic: 'lag' }); // while the first subscribe is on its way
    expect(ws.sent).toHaveLength(1);
    ws.answerAll();
    await flush();
    // The first answer is for params no longer wanted: it is ended and the new ones asked for.
    expect(ws.sent).toMatchObject([{ type: 'unsubscribe', sub: 1 }, { type: 'subscribe', params: { topic: 'lag' } }]);
    ws.answerAll();
    await flush();
    expect(sub.sub).toBe(2);
    ws.deliver({ type: 'snapshot', sub: 1, topic: 'nodes', total: 0, offset: 0, rows: [] });
    ws.deliver({ type: 'snapshot', sub: 2, topic: 'lag', total: 0, offset: 0, rows: [] });
    expect(frames).toMatchObject([{ sub: 2, topic: 'lag' }]);
    expect(errors).toEqual([]);
    feed.stop();
  });

  it('subscribes again after a drop without calling it an error, and sends requests made meanwhile once connected', async () => {
    const feed = new Feed('ws://x/feed');
    const states: string[] = [];
    feed.onState((s) => states.push(s));
    feed.start();
    const errors: unknown[] = [];
    const sub = feed.subscribe({ topic: 'nodes' }, () => undefined, (e) => errors.push(e));
    const first = FakeSocket.all[0];
    first.hello();
    first.close(); // dropped before the subscribe was answered
    await flush();
    expect(errors).toEqual([]);
    expect(sub.sub).toBeUndefined();
    const asked = feed.request({ type: 'at', time: '2026-01-01T00:00:00Z', offset: 0, limit: 10 });
    jest.advanceTimersByTime(400); // the first reconnect comes within 300 ms
    const second = FakeSocket.all[1];
    expect(second).toBeDefined();
    second.hello();
    expect(second.sent.map((m) => m.type).sort()).toEqual(['at', 'subscribe']);
    second.answerAll();
    await expect(asked).resolves.toMatchObject({ type: 'result' });
    await flush();
    expect(sub.sub).toBeDefined();
    expect(states).toEqual(['connecting', 'open', 'closed', 'connecting', 'open']);
    feed.stop();
  });

  it('rejects a request with the server\'s error, and one that waited too long for a connection', async () => {
    const feed = new Feed('ws://x/feed');
    feed.start();
    const ws = FakeSocket.all[0];
    const late = feed.request({ type: 'delete', kind: 'pods', name: 'x' });
    jest.advanceTimersByTime(15_001);
    await expect(late).rejects.toMatchObject({ error: { code: 'Unavailable' } });
    ws.hello();
    const refused = feed.request({ type: 'delete', kind: 'pods', name: 'x' });
    const m = ws.sent.pop()!;
    ws.deliver({ type: 'error', id: m.id, error: { code: 'Forbidden', message: 'read-only' } });
    await expect(refused).rejects.toMatchObject({ error: { code: 'Forbidden', message: 'read-only' } });
    feed.stop();
  });
});
