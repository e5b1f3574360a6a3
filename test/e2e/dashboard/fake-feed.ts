/**
 * A fake of the dashboard's server for the page's own browser tests: it serves the built page
 * and speaks the feed protocol from a script the test controls (it records what the page sends,
 * answers with canned results, pushes snapshots and deltas, drops connections). It checks
 * nothing about the cluster: the real server's tests and the cluster tests do that.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ClientMessage, ServerMessage } from '../../../dashboard/protocol';

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.json': 'application/json' };

/** A message the page sent, with the connection it came on. */
export interface Received { conn: number; msg: ClientMessage }

export class FakeFeedServer {
  readonly received: Received[] = [];
  readonly sessions: string[] = [];
  /** Answers a request: a frame to send back (result or error), or undefined for the default. */
  answer: (msg: ClientMessage, conn: number) => ServerMessage | ServerMessage[] | undefined = () => undefined;
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private readonly sockets = new Map<number, WebSocket>();
  private conns = 0;
  private nextSub = 1;
  /** The sub ids given on each connection, by topic. */
  readonly subs: { conn: number; sub: number; msg: ClientMessage }[] = [];
  port = 0;

  constructor(private readonly root: string, private readonly writeToken = 'good-token') {
    this.http = http.createServer((req, res) => this.serve(req, res));
    this.wss = new WebSocketServer({ server: this.http, path: '/feed' });
    this.wss.on('connection', (ws, req) => {
      const conn = ++this.conns;
      this.sockets.set(conn, ws);
      const writable = /mk_session=fake-write/.test(req.headers.cookie ?? '');
      this.send(conn, { type: 'hello', protocol: 1, writable, identity: writable ? 'dashboard-write' : 'dashboard', server: 'cp-fake' });
      ws.on('message', (data) => this.onMessage(conn, JSON.parse(String(data)) as ClientMessage));
      ws.on('close', () => this.sockets.delete(conn));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.http.listen(0, '127.0.0.1', r));
    this.port = (this.http.address() as AddressInfo).port;
    return `http://127.0.0.1:${this.port}/`;
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets.values()) ws.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    await new Promise<void>((r) => this.http.close(() => r()));
  }

  /** Sends a frame on a connection (the latest when not given). */
  send(conn: number | undefined, frame: ServerMessage): void {
    const c = conn ?? Math.max(0, ...this.sockets.keys());
    this.sockets.get(c)?.send(JSON.stringify(frame));
  }

  /** Drops every connection, as a control plane that died would. */
  dropAll(): void {
    for (const ws of this.sockets.values()) ws.terminate();
  }

  /** The latest live subscription of a topic: its connection and sub id. */
  latestSub(topic: string): { conn: number; sub: number; msg: ClientMessage } | undefined {
    return [...this.subs].reverse().find((s) => s.msg.type === 'subscribe' && s.msg.params.topic === topic && this.sockets.has(s.conn));
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  private onMessage(conn: number, msg: ClientMessage): void {
    this.received.push({ conn, msg });
    const custom = this.answer(msg, conn);
    if (custom) {
      for (const f of Array.isArray(custom) ? custom : [custom]) this.send(conn, f);
      return;
    }
    if (msg.type === 'subscribe') {
      const sub = this.nextSub++;
      this.subs.push({ conn, sub, msg });
      this.send(conn, { type: 'result', id: msg.id, sub });
      return;
    }
    this.send(conn, { type: 'result', id: msg.id });
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/session' && req.method === 'POST') {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => {
        const token = (JSON.parse(body) as { token: string }).token;
        this.sessions.push(token);
        const ok = token === this.writeToken;
        res.writeHead(ok ? 200 : 403, { 'content-type': 'application/json', ...(ok ? { 'set-cookie': 'mk_session=fake-write; HttpOnly; SameSite=Strict; Path=/' } : {}) });
        res.end(JSON.stringify({ ok, writable: ok, ...(ok ? {} : { error: 'token unknown, expired or used' }) }));
      });
      return;
    }
    const file = path.join(this.root, url.pathname === '/' ? 'index.html' : path.normalize(url.pathname));
    if (!file.startsWith(this.root) || !fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(fs.readFileSync(file));
  }
}
