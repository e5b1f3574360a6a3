/** A websocket client of the dashboard's feed for tests: collects frames and awaits answers. */
import WebSocket from 'ws';
import type { ServerMessage } from '../../../dashboard/protocol';

export class FeedClient {
  readonly frames: ServerMessage[] = [];
  private waiters: (() => void)[] = [];
  private nextId = 1000;
  closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as ServerMessage);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Connects to `<url>feed` with the given headers (a cookie, an Origin). */
  static open(url: string, headers: Record<string, string> = {}): Promise<FeedClient> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}feed`, { headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new FeedClient(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    });
  }

  /** Resolves with the first frame (from `from` on) that `pred` accepts; fails after `ms`. */
  async next<T extends ServerMessage>(pred: (f: ServerMessage) => boolean, what: string, ms = 10_000, from = 0): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const f = this.frames.slice(from).find(pred);
      if (f) return f as T;
      if (this.closed) throw new Error(`connection closed waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}; frames: ${JSON.stringify(this.frames.slice(-5)).slice(0, 2000)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  /** Sends a raw frame. */
  raw(text: string): void { this.ws.send(text); }

  /** Sends a message with a fresh id; resolves with its `result` or `error` frame. */
  async ask(msg: Record<string, unknown>, ms = 15_000): Promise<ServerMessage & { type: 'result' | 'error' }> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ ...msg, id }));
    return this.next((f) => (f.type === 'result' || f.type === 'error') && f.id === id, `the answer to ${String(msg.type)} ${id}`, ms);
  }

  close(): void { this.ws.terminate(); }
}
