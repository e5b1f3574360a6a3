import { EventEmitter } from 'node:events';
import { setLogLevel } from '../../common/log';
import type { WebSocket } from 'ws';
import { ActorTrees } from './actor-trees';
import { FeedConnection, type FeedSession } from './feed';

/** A websocket stand-in whose send queue the test controls. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent: unknown[] = [];
  terminated = false;
  send(text: string): void { this.sent.push(JSON.parse(text)); }
  terminate(): void { this.terminated = true; this.readyState = 3; }
  frame(v: unknown): void { this.emit('message', Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)), false); }
}

const session = (): FeedSession => ({
  bus: {} as FeedSession['bus'], user: 'dashboard', writable: false, server: 'test',
  objects: () => Promise.reject(new Error('no store')),
  sources: { trees: new ActorTrees(), feed: () => { throw new Error('no feeds'); }, usage: () => ({ nodes: new Map(), pods: new Map(), version: 0 }) },
});

const settle = () => new Promise((r) => setImmediate(r));

beforeAll(() => setLogLevel('silent'));
afterAll(() => setLogLevel('info'));

describe('FeedConnection', () => {
  it('says hello, answers garbage with an error and keeps going', async () => {
    const ws = new FakeSocket();
    new FeedConnection(ws as unknown as WebSocket, session());
    expect(ws.sent[0]).toMatchObject({ type: 'hello', writable: false, identity: 'dashboard' });
    ws.frame('}{');
    ws.frame({ type: 'subscribe', id: 7, params: { topic: 'tree' } });
    await settle();
    expect(ws.sent[1]).toMatchObject({ type: 'error', error: { code: 'BadRequest' } });
    expect(ws.sent[2]).toEqual({ type: 'result', id: 7, sub: 1 });
    expect(ws.sent[3]).toMatchObject({ type: 'snapshot', sub: 1, topic: 'tree', total: 0, rows: [] });
    ws.frame({ type: 'unsubscribe', id: 8, sub: 99 });
    await settle();
    expect(ws.sent[4]).toMatchObject({ type: 'error', id: 8, error: { code: 'UnknownSubscription' } });
  });

  it('changes a subscription\'s page with update (a new snapshot), and ends it', async () => {
    const ws = new FakeSocket();
    new FeedConnection(ws as unknown as WebSocket, session());
    ws.frame({ type: 'subscribe', id: 1, params: { topic: 'tree', limit: 10 } });
    await settle();
    ws.frame({ type: 'update', id: 2, sub: 1, params: { topic: 'tree', offset: 10, limit: 10 } });
    ws.frame({ type: 'update', id: 3, sub: 1, params: { topic: 'hot' } });
    await settle();
    expect(ws.sent.slice(3)).toEqual(expect.arrayContaining([
      { type: 'result', id: 2, sub: 1 },
      expect.objectContaining({ type: 'snapshot', sub: 1, topic: 'tree', offset: 10 }),
      expect.objectContaining({ type: 'error', id: 3, error: expect.objectContaining({ message: 'subscription 1 is of topic "tree", not "hot"' }) }),
    ]));
    ws.frame({ type: 'unsubscribe', id: 4, sub: 1 });
    await settle();
    expect(ws.sent[ws.sent.length - 1]).toEqual({ type: 'result', id: 4, sub: 1 });
  });

  it('refuses requests over the rate limit', async () => {
    const ws = new FakeSocket();
    new FeedConnection(ws as unknown as WebSocket, session(), { burst: 3, ratePerSecond: 0.001 });
    for (let i = 0; i < 5; i++) ws.frame({ type: 'unsubscribe', id: i, sub: 1 });
    await settle();
    const byId = Object.fromEntries(ws.sent.slice(1).map((f) => [(f as { id: number }).id, (f as { error: { code: string } }).error.code]));
    expect(byId).toEqual({ 0: 'UnknownSubscription', 1: 'UnknownSubscription', 2: 'UnknownSubscription', 3: 'TooManyRequests', 4: 'TooManyRequests' });
  });

  it('drops a page that reads slower than its feed', () => {
    const ws = new FakeSocket();
    const conn = new FeedConnection(ws as unknown as WebSocket, session(), { maxQueuedBytes: 1000 });
    ws.bufferedAmount = 5000;
    conn.send({ type: 'closed', sub: 1, reason: 'x' });
    expect(ws.terminated).toBe(true);
    expect(ws.sent).toHaveLength(1);
  });
});
