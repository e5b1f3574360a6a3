/**
 * The dashboard's HTTP side: the page's static files (the bundle in dist/dashboard/web; a path
 * that escapes it is refused), `/healthz`, and `/session`, where the page trades a single-use
 * token for an HttpOnly, SameSite=Strict session cookie. Sessions live in this process's memory.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { SESSION_COOKIE, SESSION_PATH, SessionRequest, type SessionResponse } from '../protocol';
import { log } from './log';

/** How long a write session lasts. */
export const SESSION_TTL_MS = 12 * 3_600_000;
const MAX_BODY = 4096;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.ico': 'image/x-icon', '.map': 'application/json', '.woff2': 'font/woff2', '.txt': 'text/plain; charset=utf-8',
};

/** The write sessions of this server (cookie value -> expiry). */
export class Sessions {
  private readonly sessions = new Map<string, number>();
  constructor(private readonly now: () => number = Date.now) {}

  /** A new write session's cookie value. */
  open(): string {
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, this.now() + SESSION_TTL_MS);
    for (const [k, exp] of this.sessions) if (exp < this.now()) this.sessions.delete(k);
    return id;
  }

  /** Whether the request carries a live write session's cookie. */
  writable(req: IncomingMessage): boolean {
    const id = cookie(req, SESSION_COOKIE);
    const exp = id ? this.sessions.get(id) : undefined;
    return exp !== undefined && exp >= this.now();
  }
}

/** A cookie's value from a request. */
export function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/** Where the page's bundle is: beside the compiled server (dist/dashboard/web), else the repo's dist. */
export function defaultWebRoot(): string {
  const beside = path.resolve(__dirname, '..', 'web');
  if (__dirname.split(path.sep).includes('dist')) return beside;
  return path.resolve(__dirname, '..', '..', 'dist', 'dashboard', 'web');
}

/** The file under `root` that `urlPath` names, or undefined when it escapes root. */
export function resolveStatic(root: string, urlPath: string): string | undefined {
  let p: string;
  try {
    p = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return undefined;
  }
  if (p.includes('\0')) return undefined;
  if (p.endsWith('/')) p += 'index.html';
  const file = path.resolve(root, `.${path.posix.normalize(`/${p}`)}`);
  return file === root || file.startsWith(root + path.sep) ? file : undefined;
}

/** What the HTTP handler needs. */
export interface HttpDeps {
  webRoot: string;
  sessions: Sessions;
  redeem(token: string): Promise<boolean>;
  /** Whether the bus connections are up, for /healthz. */
  healthy(): boolean;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
};

/** The request handler. */
export function httpHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const root = path.resolve(deps.webRoot);
  return (req, res) => {
    const url = req.url ?? '/';
    const pathname = url.split('?')[0];
    if (pathname === '/healthz') {
      const ok = deps.healthy();
      json(res, ok ? 200 : 503, { ok });
      return;
    }
    if (pathname === SESSION_PATH) {
      if (req.method !== 'POST') {
        json(res, 405, { ok: false, writable: false, error: 'POST a JSON body { "token": ... }' } satisfies SessionResponse, { allow: 'POST' });
        return;
      }
      void session(req, res, deps);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      res.end();
      return;
    }
    const file = resolveStatic(root, pathname);
    if (!file) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('bad path\n');
      return;
    }
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) {
        if (pathname === '/') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end('<!doctype html><title>mk</title><p>The dashboard page is not built: run <code>npm run build</code>.</p>\n');
          return;
        }
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found\n');
        return;
      }
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-length': st.size,
        'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer',
        ...(path.extname(file) === '.html' ? { 'cache-control': 'no-cache' } : {}),
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      fs.createReadStream(file).pipe(res);
    });
  };
}

async function session(req: IncomingMessage, res: ServerResponse, deps: HttpDeps): Promise<void> {
  let body = '';
  let tooLarge = false;
  req.setEncoding('utf8');
  for await (const chunk of req) {
    body += chunk as string;
    if (body.length > MAX_BODY) {
      tooLarge = true;
      break;
    }
  }
  if (tooLarge) {
    json(res, 413, { ok: false, writable: false, error: `body over ${MAX_BODY} bytes` } satisfies SessionResponse);
    return;
  }
  let token: string;
  try {
    token = SessionRequest.parse(JSON.parse(body)).token;
  } catch {
    json(res, 400, { ok: false, writable: false, error: 'expected a JSON body { "token": "..." }' } satisfies SessionResponse);
    return;
  }
  let ok: boolean;
  try {
    ok = await deps.redeem(token);
  } catch (err) {
    log.warn({ err }, 'could not redeem a dashboard token');
    json(res, 503, { ok: false, writable: false, error: 'the token store cannot be reached; try again' } satisfies SessionResponse);
    return;
  }
  if (!ok) {
    json(res, 403, { ok: false, writable: false, error: 'the token is unknown, used or expired: run `mk dashboard` for a new one' } satisfies SessionResponse);
    return;
  }
  const id = deps.sessions.open();
  json(res, 200, { ok: true, writable: true } satisfies SessionResponse, {
    'set-cookie': `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_MS / 1000}`,
  });
}
