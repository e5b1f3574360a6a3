/**
 * What `mk get` loads. Most of a short command's time is node loading modules, so the fast path
 * (cli/fast-path.ts) must not bring back what it left out: oclif, zod (the schemas), js-yaml, the
 * JetStream client, the logger, the actors. The built CLI runs in a child process with a preload
 * that writes `require.cache` at exit, against a fake NATS server (below) that answers
 * the api, so the whole path runs: context, connect, request, sort, print. No timing is
 * asserted; docs/benchmarks.md has the figures.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCommand } from '../../helpers/run';
import { ensureBuilt, ROOT } from '../../integration/cli/run-cli';

/** What the fast path of `mk get` must never load (paths as they appear in require.cache). */
const HEAVY = [
  '/node_modules/@oclif/', '/node_modules/zod/', '/node_modules/js-yaml/', '/node_modules/@nats-io/jetstream/',
  '/node_modules/@nats-io/kv/', '/node_modules/@nats-io/obj/', '/node_modules/pino/', '/node_modules/nact/',
  '/dist/actors/', '/dist/node-agent/', '/dist/common/',
];

const POD = (name: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', creationTimestamp: new Date().toISOString(), resourceVersion: '7' },
  spec: { containers: [{ name: 'main', image: 'busybox' }] }, status: { phase: 'Pending' },
});

/**
 * A fake NATS server, enough of the client protocol for one nats.js client to connect, subscribe
 * its reply inbox, send requests and drain: it answers each request with what `answer` returns
 * for its subject and payload (nothing for undefined), and records the subjects it was sent.
 */
async function startFakeNats(answer: (subject: string, req: unknown) => unknown): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    const subs = new Map<string, string>();
    const info = { server_id: 'FAKE', server_name: 'fake', version: '2.10.0', proto: 1, headers: true, max_payload: 1048576, auth_required: true };
    sock.write(`INFO ${JSON.stringify(info)}\r\n`);
    let buf = Buffer.alloc(0);
    const deliver = (subject: string, payload: Buffer) => {
      const sid = [...subs].find(([pattern]) => matchSubject(pattern, subject))?.[1];
      if (sid) sock.write(Buffer.concat([Buffer.from(`MSG ${subject} ${sid} ${payload.length}\r\n`), payload, Buffer.from('\r\n')]));
    };
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        const [op, ...f] = buf.subarray(0, eol).toString().split(' ');
        let rest = buf.subarray(eol + 2);
        if (op === 'PUB' || op === 'HPUB') {
          const total = Number(f[f.length - 1]);
          if (rest.length < total + 2) return;
          const subject = f[0];
          const replyTo = f.length === (op === 'PUB' ? 3 : 4) ? f[1] : undefined;
          const body = rest.subarray(op === 'PUB' ? 0 : Number(f[f.length - 2]), total).toString();
          rest = rest.subarray(total + 2);
          requests.push(subject);
          const reply = answer(subject, body ? JSON.parse(body) : undefined);
          if (reply !== undefined && replyTo) deliver(replyTo, Buffer.from(JSON.stringify(reply)));
        } else if (op === 'PING') {
          sock.write('PONG\r\n');
        } else if (op === 'SUB') {
          subs.set(f[0], f[f.length - 1]);
        } else if (op === 'UNSUB') {
          for (const [k, v] of subs) if (v === f[0]) subs.delete(k);
        }
        buf = rest;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `nats://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** NATS subject matching with `*` (one token) and `>` (the rest). */
function matchSubject(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

describe('mk get start-up', () => {
  let dir: string;
  let nats: Awaited<ReturnType<typeof startFakeNats>>;

  beforeAll(async () => {
    ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-startup-'));
    nats = await startFakeNats((subject, req) => {
      const { kind, name } = req as { kind: string; name?: string };
      if (subject === 'mk.api.list' && kind === 'nodes') return { ok: false, error: { code: 'Internal', message: 'the store is down' } };
      if (subject === 'mk.api.list') return { ok: true, items: kind === 'pods' ? [POD('web-2'), POD('web-1')] : [], resourceVersion: '7' };
      if (subject === 'mk.api.get') return { ok: true, object: POD(name ?? '') };
      return undefined;
    });
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ servers: [nats.url], user: 'admin', pass: 'x', nodeName: 'n1' }));
    // Written at exit by the child: every module it loaded.
    fs.writeFileSync(path.join(dir, 'dump-modules.js'),
      "process.on('exit', () => require('fs').writeFileSync(process.env.MK_TEST_MODULES, JSON.stringify(Object.keys(require.cache))));\n");
  }, 300_000);

  afterAll(async () => {
    await nats?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the built `mk ARGS` against the fake server; returns its result and the modules it loaded. */
  async function mk(args: string[]) {
    const out = path.join(dir, `modules-${args.join('_').replace(/[^a-z0-9_-]/gi, '')}.json`);
    const r = await runCommand([process.execPath, '-r', path.join(dir, 'dump-modules.js'), path.join(ROOT, 'bin', 'run.js'), ...args], {
      cwd: ROOT, env: { ...process.env, MK_HOME: dir, MK_TEST_MODULES: out, MK_LOG_LEVEL: 'debug' },
    });
    // Modules loaded at run time, and those the fast path's bundle (when built) holds inside it.
    const bundle = path.join(ROOT, 'dist', 'cli', 'fast-path.bundle.json');
    const bundled = fs.existsSync(bundle) ? (JSON.parse(fs.readFileSync(bundle, 'utf8')) as { inputs: string[] }).inputs.map((f) => `/${f}`) : [];
    const modules = [...JSON.parse(fs.readFileSync(out, 'utf8')) as string[], ...bundled];
    return { ...r, modules, heavy: modules.filter((m) => HEAVY.some((h) => m.includes(h))) };
  }

  it('mk get pods lists through the core client without loading oclif, zod, js-yaml, JetStream or the logger', async () => {
    const r = await mk(['get', 'pods']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME +READY +STATUS +RESTARTS +AGE\nweb-1 +0\/1 +Pending +0 +\d+s\nweb-2 /);
    expect(nats.requests).toContain('mk.api.list');
    expect(r.heavy).toEqual([]);
    expect(r.modules.some((m) => m.includes('/node_modules/@nats-io/transport-node/'))).toBe(true);
  });

  it('runs the bundle through a code cache it keeps beside it, named by the bundle\'s hash', async () => {
    const cliDir = path.join(ROOT, 'dist', 'cli');
    const meta = path.join(cliDir, 'fast-path.bundle.json');
    if (!fs.existsSync(meta)) throw new Error('the build made no bundle of the fast path');
    const { hash } = JSON.parse(fs.readFileSync(meta, 'utf8')) as { hash: string };
    const cache = path.join(cliDir, `fast-path.${hash}.cache`);
    fs.rmSync(cache, { force: true });
    expect((await mk(['get', 'pods'])).code).toBe(0);
    expect(fs.statSync(cache).size).toBeGreaterThan(0);
    const before = fs.statSync(cache).mtimeMs;
    // A cache V8 accepts is read, not written again.
    expect((await mk(['get', 'pods'])).code).toBe(0);
    expect(fs.statSync(cache).mtimeMs).toBe(before);
  });

  it('-o json, -o name and -A -o wide load no more', async () => {
    for (const args of [['get', 'pods', '-o', 'json'], ['get', 'po', '-oname'], ['get', 'pods', '-A', '--output=wide']]) {
      const r = await mk(args);
      expect({ args, code: r.code, heavy: r.heavy }).toEqual({ args, code: 0, heavy: [] });
    }
  });

  it('mk describe pod loads no more', async () => {
    const r = await mk(['describe', 'pod', 'web-1', '-n', 'default']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Name: +web-1\nNamespace: +default\n/);
    expect(r.heavy).toEqual([]);
  });

  it('-o yaml loads js-yaml and nothing else heavy (the check sees what is loaded)', async () => {
    const r = await mk(['get', 'pods', '-o', 'yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^apiVersion: v1\nitems:\n- apiVersion: v1\n {2}kind: Pod\n/);
    expect(r.heavy.every((m) => m.includes('/node_modules/js-yaml/'))).toBe(true);
    expect(r.heavy.length).toBeGreaterThan(0);
  });

  it('a reader that goes away is no error, as with oclif', async () => {
    // The read end of mk's stdout is closed before mk writes: its write fails with EPIPE.
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'get', 'pods', '-o', 'json'], {
      cwd: ROOT, env: { ...process.env, MK_HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('a failure exits at once with 1, as with oclif, even with a watch open', async () => {
    const r = await runCommand([process.execPath, path.join(ROOT, 'bin', 'run.js'), 'get', 'nodes', '-w'], {
      cwd: ROOT, env: { ...process.env, MK_HOME: dir }, timeoutMs: 10_000,
    });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: 'Error from server (InternalError): the store is down\n' });
  }, 20_000);

  it('help, other commands and lines the fast path declines still go to oclif', async () => {
    const help = await mk(['get', 'pods', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Display one or many objects\n/);
    expect(help.modules.some((m) => m.includes('/node_modules/@oclif/core/'))).toBe(true);
    const bad = await mk(['get', 'pods', '-x']);
    expect({ code: bad.code, stderr: bad.stderr }).toEqual({ code: 1, stderr: 'error: Nonexistent flag: -x\n' });
    expect(bad.modules.some((m) => m.includes('/node_modules/@oclif/core/'))).toBe(true);
  });
});
