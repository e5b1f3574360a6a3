/**
 * The function loaders (loader.py, loader.js) against this machine's python3 and node: each
 * test starts a loader on a free loopback port with a temp code dir and drives its HTTP contract.
 * Both loaders run the same cases: the contract is one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

jest.setTimeout(30_000);

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

interface Runtime {
  name: 'python3' | 'node';
  argv: string[];
  ext: string;
  /** Source files by name, for each case. */
  code: {
    add: string;
    asyncAdd: string;
    throws: string;
    syntax: string;
    barrier: string;
    command: string;
    /** lib/add: a handler in a subdirectory that imports its sibling lib/helper. */
    subAdd: string;
    subHelper: string;
    /** Prints {"argc", "len"}: how many arguments and how many bytes of stdin it got. */
    sizes: string;
    /** "sleep": starts a grandchild that sleeps (its pid in grandchild.pid) and sleeps itself; "flood": 17 MiB on stdout; "noisy": 100 KiB on stderr ending in END, exit 1. */
    misbehave: string;
  };
  commandLine: string;
  errorType: RegExp;
  syntaxMessage: RegExp;
  missing: RegExp;
}

const runtimes: Runtime[] = [
  {
    name: 'python3',
    argv: [PYTHON, path.join(__dirname, 'loader.py')],
    ext: 'py',
    code: {
      add: 'def handler(event):\n    print("adding", event["a"], event["b"])\n    return {"sum": event["a"] + event["b"]}\n',
      asyncAdd: 'import asyncio\n\nasync def handler(event):\n    await asyncio.sleep(0)\n    return {"sum": event["a"] + event["b"]}\n',
      throws: 'def handler(event):\n    if event.get("fail"):\n        raise ValueError("boom")\n    return "fine"\n',
      syntax: 'def handler(event):\n    return (\n\nx = = 1\n',
      barrier: 'import threading\n\nbarrier = threading.Barrier(4, timeout=10)\n\ndef handler(event):\n    barrier.wait()\n    return event["i"]\n',
      command: [
        'import json, sys',
        'event = json.loads(sys.stdin.read())',
        'if event == "fail":',
        '    print("it failed", file=sys.stderr)',
        '    sys.exit(3)',
        'if event == "text":',
        '    print("plain words")',
        '    sys.exit(0)',
        'print(json.dumps({"arg": sys.argv[-1], "stdin": event}))',
        '',
      ].join('\n'),
      subAdd: 'from helper import plus\n\ndef handler(event):\n    return {"sum": plus(event["a"], event["b"])}\n',
      subHelper: 'def plus(a, b):\n    return a + b\n',
      sizes: 'import json, sys\ndata = sys.stdin.buffer.read()\nprint(json.dumps({"argc": len(sys.argv), "len": len(data)}))\n',
      misbehave: [
        'import json, os, subprocess, sys, time',
        'event = json.loads(sys.stdin.read())',
        'if event == "sleep":',
        '    p = subprocess.Popen(["sleep", "60"])',
        '    open("grandchild.pid", "w").write(str(p.pid))',
        '    time.sleep(60)',
        'if event == "flood":',
        '    sys.stdout.write("x" * (17 * 1024 * 1024))',
        'if event == "noisy":',
        '    sys.stderr.write("e" * (100 * 1024) + "END")',
        '    sys.exit(1)',
        '',
      ].join('\n'),
    },
    commandLine: `${PYTHON} add_cmd.py`,
    errorType: /^ValueError: boom$/,
    syntaxMessage: /^SyntaxError: .*\(bad\.py, line \d+\)$/,
    missing: /^AttributeError: module 'add' has no attribute 'nope'$/,
  },
  {
    name: 'node',
    argv: [process.execPath, path.join(__dirname, 'loader.js')],
    ext: 'js',
    code: {
      add: 'exports.handler = (event) => {\n  console.log("adding", event.a, event.b);\n  return { sum: event.a + event.b };\n};\n',
      asyncAdd: 'module.exports.handler = async (event) => {\n  await new Promise((r) => setImmediate(r));\n  return { sum: event.a + event.b };\n};\n',
      throws: 'exports.handler = (event) => {\n  if (event.fail) throw new RangeError("boom");\n  return "fine";\n};\n',
      syntax: 'exports.handler = (event) => {\n  return (;\n};\n',
      barrier: [
        'let waiting = [];',
        'exports.handler = (event) => new Promise((resolve, reject) => {',
        '  const timer = setTimeout(() => reject(new Error("only " + waiting.length + " requests at once")), 10000);',
        '  waiting.push(() => { clearTimeout(timer); resolve(event.i); });',
        '  if (waiting.length === 4) { waiting.forEach((w) => w()); waiting = []; }',
        '});',
        '',
      ].join('\n'),
      command: [
        'const chunks = [];',
        'process.stdin.on("data", (d) => chunks.push(d));',
        'process.stdin.on("end", () => {',
        '  const event = JSON.parse(Buffer.concat(chunks).toString());',
        '  if (event === "fail") { console.error("it failed"); process.exit(3); }',
        '  if (event === "text") { console.log("plain words"); return; }',
        '  console.log(JSON.stringify({ arg: process.argv[process.argv.length - 1], stdin: event }));',
        '});',
        '',
      ].join('\n'),
      subAdd: 'const { plus } = require("./helper");\nexports.handler = (event) => ({ sum: plus(event.a, event.b) });\n',
      subHelper: 'exports.plus = (a, b) => a + b;\n',
      sizes: [
        'const chunks = [];',
        'process.stdin.on("data", (d) => chunks.push(d));',
        'process.stdin.on("end", () => console.log(JSON.stringify({ argc: process.argv.length - 1, len: Buffer.concat(chunks).length })));',
        '',
      ].join('\n'),
      misbehave: [
        'const { spawn } = require("node:child_process");',
        'const fs = require("node:fs");',
        'const event = JSON.parse(fs.readFileSync(0, "utf8"));',
        'if (event === "sleep") {',
        '  const p = spawn("sleep", ["60"], { stdio: "inherit" });',
        '  fs.writeFileSync("grandchild.pid", String(p.pid));',
        '  setTimeout(() => undefined, 60000);',
        '}',
        'if (event === "flood") process.stdout.write("x".repeat(17 * 1024 * 1024));',
        'if (event === "noisy") { process.stderr.write("e".repeat(100 * 1024) + "END", () => process.exit(1)); }',
        '',
      ].join('\n'),
    },
    commandLine: `${process.execPath} add_cmd.js`,
    errorType: /^RangeError: boom$/,
    syntaxMessage: /^SyntaxError: /,
    missing: /^TypeError: add\.nope is not a function$/,
  },
];

interface Loader { url: string; child: ChildProcess; stdout: () => string; stderr: () => string }

const children: ChildProcess[] = [];
const dirs: string[] = [];

/** Starts a loader on a free loopback port; resolves once it printed the port it listens on. */
function startLoader(rt: Runtime, codeDir: string, env: Record<string, string> = {}): Promise<Loader> {
  const child = spawn(rt.argv[0], rt.argv.slice(1), {
    cwd: codeDir,
    env: { PATH: process.env.PATH, MK_FUNCTION_PORT: '0', MK_FUNCTION_HOST: '127.0.0.1', PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${rt.name} loader did not print its port in 10 s: ${err}`)), 10_000);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the ${rt.name} loader exited with ${code}: ${err}`)); });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${m[1]}`, child, stdout: () => out, stderr: () => err });
      }
    });
  });
}

async function codeDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mk-loader-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

interface Answer { status: number; body: unknown }

async function post(l: Loader, route: string, body: unknown, raw = false): Promise<Answer> {
  const r = await fetch(`${l.url}${route}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: raw ? (body as string) : JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

async function get(l: Loader, route: string): Promise<Answer> {
  const r = await fetch(`${l.url}${route}`);
  return { status: r.status, body: await r.json() };
}

/** Runs a loader that is to fail on its own; resolves with its exit code and stderr. */
function loaderExit(rt: Runtime, cwd: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(rt.argv[0], rt.argv.slice(1), {
    cwd,
    env: { PATH: process.env.PATH, MK_FUNCTION_PORT: '0', MK_FUNCTION_HOST: '127.0.0.1', PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${rt.name} loader did not exit in 10 s: ${err}`)), 10_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stderr: err }); });
  });
}

/** Resolves once the loader's /healthz says ready (it loads its code from the environment). */
async function ready(l: Loader): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const h = await get(l, '/healthz');
    if (h.status === 200) return;
    expect(h).toEqual({ status: 503, body: { ready: false } });
    if (Date.now() > deadline) throw new Error(`never ready: ${l.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves once `text()` matches: output reaches the pipe a moment after the answer. */
async function output(text: () => string, re: RegExp): Promise<string> {
  const deadline = Date.now() + 5_000;
  while (!re.test(text())) {
    if (Date.now() > deadline) throw new Error(`output never matched ${re}: ${text()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return text();
}

interface RawAnswer { status: number; body: string; closed: boolean }

/**
 * Writes `head` and then `body` (in pieces, never ending the request) on a raw connection, and
 * resolves with the first answer once it is complete and the loader has closed the connection,
 * or what came by the deadline. Shows a loader that answers before it read (or could read) all.
 */
function raw(l: Loader, head: string, body: Buffer[]): Promise<RawAnswer> {
  const u = new URL(l.url);
  return new Promise((resolve) => {
    const socket = connect(Number(u.port), u.hostname);
    let got = Buffer.alloc(0);
    let closed = false;
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const text = got.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d+)/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, body: text.slice(text.indexOf('\r\n\r\n') + 4), closed });
    };
    const timer = setTimeout(done, 10_000);
    socket.on('data', (d: Buffer) => { got = Buffer.concat([got, d]); });
    socket.on('error', () => undefined); // the loader may close while we still write
    socket.on('close', () => { closed = true; done(); });
    socket.on('end', () => { closed = true; done(); });
    socket.write(head);
    const more = (i: number): void => {
      if (i >= body.length || socket.destroyed) return;
      if (socket.write(body[i])) setImmediate(() => more(i + 1));
      else socket.once('drain', () => more(i + 1));
    };
    more(0);
  });
}

/** Whether process `pid` still exists (a zombie still does). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await gone;
    }
  }
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe.each(runtimes)('the $name loader', (rt) => {
  it('is not ready before /init, refuses /run with 503, then serves the handler once loaded', async () => {
    const l = await startLoader(rt, await codeDir({ [`add.${rt.ext}`]: rt.code.add }));
    expect(await get(l, '/healthz')).toEqual({ status: 503, body: { ready: false } });
    const early = await post(l, '/run', { a: 1, b: 2 });
    expect(early.status).toBe(503);
    expect(early.body).toEqual({ error: expect.stringMatching(/not initialised/) });

    const dir = dirs[dirs.length - 1];
    expect(await post(l, '/init', { codeDir: dir, handler: 'add.handler' })).toEqual({ status: 200, body: { ready: true } });
    expect(await get(l, '/healthz')).toEqual({ status: 200, body: { ready: true } });
    expect(await post(l, '/run', { a: 1, b: 2 })).toEqual({ status: 200, body: { sum: 3 } });
    expect(await post(l, '/run', { a: 40, b: 2 })).toEqual({ status: 200, body: { sum: 42 } });
    // The handler's own output goes to the process's stdout; the loader logs its start and the init.
    await output(l.stdout, /adding 40 2/);
    await output(l.stderr, /init: handler add\.handler from .* loaded in \d+ ms/);

    const again = await post(l, '/init', { codeDir: dir, handler: 'add.handler' });
    expect(again.status).toBe(409);
  });

  it('awaits an async handler', async () => {
    const dir = await codeDir({ [`add.${rt.ext}`]: rt.code.asyncAdd });
    const l = await startLoader(rt, dir);
    expect((await post(l, '/init', { codeDir: dir, handler: 'add.handler' })).status).toBe(200);
    expect(await post(l, '/run', { a: 1, b: 2 })).toEqual({ status: 200, body: { sum: 3 } });
  });

  it('answers 500 with the error and its trace when the handler throws, and keeps serving', async () => {
    const dir = await codeDir({ [`fn.${rt.ext}`]: rt.code.throws });
    const l = await startLoader(rt, dir);
    expect((await post(l, '/init', { codeDir: dir, handler: 'fn.handler' })).status).toBe(200);
    const failed = await post(l, '/run', { fail: true });
    expect(failed.status).toBe(500);
    const body = failed.body as { error: string; trace: string };
    expect(body.error).toMatch(rt.errorType);
    expect(body.trace).toContain(`fn.${rt.ext}`);
    expect(body.trace).toContain('boom');
    expect(await post(l, '/run', {})).toEqual({ status: 200, body: 'fine' });
    expect(await get(l, '/healthz')).toEqual({ status: 200, body: { ready: true } });
  });

  it('reports a syntax error at /init with the interpreter\'s message, stays not ready, and accepts a second /init', async () => {
    const dir = await codeDir({ [`bad.${rt.ext}`]: rt.code.syntax, [`add.${rt.ext}`]: rt.code.add });
    const l = await startLoader(rt, dir);
    const bad = await post(l, '/init', { codeDir: dir, handler: 'bad.handler' });
    expect(bad.status).toBe(500);
    const body = bad.body as { error: string; trace: string };
    expect(body.error).toMatch(rt.syntaxMessage);
    expect(body.trace).toContain(`bad.${rt.ext}`);
    expect(await get(l, '/healthz')).toEqual({ status: 503, body: { ready: false } });
    await output(l.stderr, /init of handler bad\.handler from .* failed: SyntaxError/);

    const missing = await post(l, '/init', { codeDir: dir, handler: 'add.nope' });
    expect(missing.status).toBe(500);
    expect((missing.body as { error: string }).error).toMatch(rt.missing);

    expect((await post(l, '/init', { codeDir: dir, handler: 'add.handler' })).status).toBe(200);
    expect(await post(l, '/run', { a: 2, b: 2 })).toEqual({ status: 200, body: { sum: 4 } });
  });

  it('answers 400 to a body that is not JSON, and to an /init that names neither handler nor command', async () => {
    const dir = await codeDir({ [`add.${rt.ext}`]: rt.code.add });
    const l = await startLoader(rt, dir);
    const badInit = await post(l, '/init', '{"codeDir": ', true);
    expect(badInit.status).toBe(400);
    expect((badInit.body as { error: string }).error).toMatch(/not valid JSON/);
    const neither = await post(l, '/init', { codeDir: dir });
    expect(neither.status).toBe(400);
    expect((neither.body as { error: string }).error).toMatch(/"handler".*"command"/);
    expect((await post(l, '/init', { codeDir: dir, handler: 'add.handler' })).status).toBe(200);
    const badRun = await post(l, '/run', '{"a": 1,', true);
    expect(badRun.status).toBe(400);
    expect((badRun.body as { error: string }).error).toMatch(/not valid JSON/);
    expect(await post(l, '/run', { a: 1, b: 2 })).toEqual({ status: 200, body: { sum: 3 } });
  });

  it('reads a chunked body (a streaming client\'s) like one with a length', async () => {
    const dir = await codeDir({ [`add.${rt.ext}`]: rt.code.add });
    const l = await startLoader(rt, dir);
    expect((await post(l, '/init', { codeDir: dir, handler: 'add.handler' })).status).toBe(200);
    const parts = ['{"a": 2', '0, "b": 2', '2}'];
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(new TextEncoder().encode(p));
        c.close();
      },
    });
    const init: RequestInit & { duplex: 'half' } = { method: 'POST', body: stream, duplex: 'half' };
    const r = await fetch(`${l.url}/run`, init);
    expect({ status: r.status, body: await r.json() }).toEqual({ status: 200, body: { sum: 42 } });
    // The connection stays usable after it.
    expect(await post(l, '/run', { a: 1, b: 2 })).toEqual({ status: 200, body: { sum: 3 } });
  });

  it('runs a command: the event on stdin and as the last argument, stdout as the result, a failure as 500', async () => {
    const dir = await codeDir({ [`add_cmd.${rt.ext}`]: rt.code.command });
    const l = await startLoader(rt, dir);
    expect(await post(l, '/init', { codeDir: dir, command: rt.commandLine })).toEqual({ status: 200, body: { ready: true } });
    expect(await post(l, '/run', { a: 1, b: 2 })).toEqual({ status: 200, body: { arg: '{"a":1,"b":2}', stdin: { a: 1, b: 2 } } });
    expect(await post(l, '/run', 42)).toEqual({ status: 200, body: { arg: '42', stdin: 42 } });
    expect(await post(l, '/run', 'hello world')).toEqual({ status: 200, body: { arg: 'hello world', stdin: 'hello world' } });
    expect(await post(l, '/run', 'text')).toEqual({ status: 200, body: 'plain words' });
    const failed = await post(l, '/run', 'fail');
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ error: expect.stringMatching(/exited with code 3: it failed$/), stderr: 'it failed\n' });
    expect(await post(l, '/run', 7)).toEqual({ status: 200, body: { arg: '7', stdin: 7 } });
  });

  it('refuses a command that is not on this machine at /init', async () => {
    const dir = await codeDir({});
    const l = await startLoader(rt, dir);
    const r = await post(l, '/init', { codeDir: dir, command: 'no-such-interpreter add.py' });
    expect(r.status).toBe(500);
    expect((r.body as { error: string }).error).toMatch(/command not found: no-such-interpreter/);
    expect(await get(l, '/healthz')).toEqual({ status: 503, body: { ready: false } });
  });

  it('serves requests concurrently: four calls that each wait for the others all return', async () => {
    const dir = await codeDir({ [`wait.${rt.ext}`]: rt.code.barrier });
    const l = await startLoader(rt, dir);
    expect((await post(l, '/init', { codeDir: dir, handler: 'wait.handler' })).status).toBe(200);
    const answers = await Promise.all([0, 1, 2, 3].map((i) => post(l, '/run', { i })));
    expect(answers).toEqual([0, 1, 2, 3].map((i) => ({ status: 200, body: i })));
  });

  it('loads the handler named by MK_FUNCTION_HANDLER from MK_FUNCTION_CODE_DIR on its own, then refuses /init with 409', async () => {
    const dir = await codeDir({ [`add.${rt.ext}`]: rt.code.add });
    const l = await startLoader(rt, await codeDir({}), { MK_FUNCTION_HANDLER: 'add.handler', MK_FUNCTION_CODE_DIR: dir });
    await ready(l);
    expect(await post(l, '/run', { a: 1, b: 2 })).toEqual({ status: 200, body: { sum: 3 } });
    const init = await post(l, '/init', { codeDir: dir, handler: 'add.handler' });
    expect(init.status).toBe(409);
    expect((init.body as { error: string }).error).toMatch(/loaded from the environment/);
    await output(l.stderr, new RegExp(`init from the environment: handler add\\.handler from ${dir.replace(/[.]/g, '\\.')} loaded in \\d+ ms`));
  });

  it('runs the command named by MK_FUNCTION_COMMAND', async () => {
    const dir = await codeDir({ [`add_cmd.${rt.ext}`]: rt.code.command });
    const l = await startLoader(rt, dir, { MK_FUNCTION_COMMAND: rt.commandLine, MK_FUNCTION_CODE_DIR: dir });
    await ready(l);
    expect(await post(l, '/run', { a: 1, b: 2 })).toEqual({ status: 200, body: { arg: '{"a":1,"b":2}', stdin: { a: 1, b: 2 } } });
    expect((await post(l, '/init', { codeDir: dir, command: rt.commandLine })).status).toBe(409);
  });

  it('exits 1 with the interpreter\'s message when the code named by the environment does not load', async () => {
    const dir = await codeDir({ [`bad.${rt.ext}`]: rt.code.syntax });
    const bad = await loaderExit(rt, dir, { MK_FUNCTION_HANDLER: 'bad.handler', MK_FUNCTION_CODE_DIR: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/listening on 127\.0\.0\.1:\d+/);
    expect(bad.stderr).toMatch(/init of handler bad\.handler from .* failed: SyntaxError/);
    expect(bad.stderr).toContain(`bad.${rt.ext}`);

    const missing = await loaderExit(rt, dir, { MK_FUNCTION_HANDLER: 'add.handler', MK_FUNCTION_CODE_DIR: path.join(dir, 'nowhere') });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/code directory .*nowhere does not exist/);

    const both = await loaderExit(rt, dir, { MK_FUNCTION_HANDLER: 'add.handler', MK_FUNCTION_COMMAND: 'python3 add.py' });
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/set one of MK_FUNCTION_HANDLER and MK_FUNCTION_COMMAND, not both/);
  });
  it('refuses a bad chunk size or Content-Length with 400 and closes, and answers 413 as soon as a body passes 16 MiB', async () => {
    const dir = await codeDir({ [`add.${rt.ext}`]: rt.code.add });
    const l = await startLoader(rt, dir);
    expect((await post(l, '/init', { codeDir: dir, handler: 'add.handler' })).status).toBe(200);
    const mib = Buffer.alloc(1024 * 1024, 0x20);
    const chunked = 'POST /run HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';
    // A -1 chunk size must not mean "read to the end of the connection" (which never comes here).
    const negative = await raw(l, `${chunked}-1\r\n`, Array.from({ length: 20 }, () => mib));
    expect(negative).toMatchObject({ status: 400, closed: true });
    const notHex = await raw(l, `${chunked}zz\r\n{}\r\n0\r\n\r\n`, []);
    expect(notHex).toMatchObject({ status: 400, closed: true });
    for (const length of ['-1', 'abc']) {
      const bad = await raw(l, `POST /run HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n\r\n`, [Buffer.from('{}')]);
      expect(bad).toMatchObject({ status: 400, closed: true });
    }
    // Chunks of 1 MiB, 17 of them sent, never ended: 413 without waiting for the rest.
    const pieces = Array.from({ length: 17 }, () => Buffer.concat([Buffer.from('100000\r\n'), mib, Buffer.from('\r\n')]));
    const over = await raw(l, chunked, pieces);
    expect(over).toMatchObject({ status: 413, closed: true });
    expect(over.body).toMatch(/limit/);
    // A body that ends before its Content-Length is not a complete body.
    const cut = await new Promise<RawAnswer>((resolve) => {
      const u = new URL(l.url);
      const socket = connect(Number(u.port), u.hostname);
      let got = '';
      socket.on('data', (d: Buffer) => { got += d.toString(); });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.[01] (\d+)/.exec(got)?.[1] ?? 0), body: got, closed: true }));
      socket.end('POST /run HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{"a":');
    });
    expect(cut.status).toBe(400);
    // The loader still serves.
    expect(await post(l, '/run', { a: 1, b: 2 })).toEqual({ status: 200, body: { sum: 3 } });
  });

  it('answers an unknown route with one 404, whatever its body', async () => {
    const dir = await codeDir({});
    const l = await startLoader(rt, dir);
    const body = '{"a": 1,';
    const both = await raw(l, `POST /unknown HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`, []);
    const statuses = [...both.body.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => Number(m[1]));
    // The first answer is 404 and the only other one is the second request's 404.
    expect(both.status).toBe(404);
    expect(statuses).toEqual([404]);
    expect(await post(l, '/unknown', body, true)).toEqual({ status: 404, body: { error: 'no route POST /unknown' } });
  });

  it('loads a handler from a subdirectory (lib/add.handler) whose module imports its sibling, and refuses .. or an absolute path with 400', async () => {
    const dir = await codeDir({});
    await mkdir(path.join(dir, 'lib'));
    await writeFile(path.join(dir, 'lib', `add.${rt.ext}`), rt.code.subAdd);
    await writeFile(path.join(dir, 'lib', `helper.${rt.ext}`), rt.code.subHelper);
    const l = await startLoader(rt, dir);
    for (const handler of ['../lib/add.handler', 'lib/../lib/add.handler', `${dir}/lib/add.handler`]) {
      const r = await post(l, '/init', { codeDir: dir, handler });
      expect(r.status).toBe(400);
      expect((r.body as { error: string }).error).toMatch(/inside codeDir/);
    }
    for (const handler of ['lib//add.handler', 'add', 'lib/my-add.handler']) {
      const r = await post(l, '/init', { codeDir: dir, handler });
      expect(r.status).toBe(400);
      expect((r.body as { error: string }).error).toMatch(/must be <module>\.<function>/);
    }
    expect(await post(l, '/init', { codeDir: dir, handler: 'lib/add.handler' })).toEqual({ status: 200, body: { ready: true } });
    expect(await post(l, '/run', { a: 40, b: 2 })).toEqual({ status: 200, body: { sum: 42 } });
  });

  it('imports packages vendored in the code directory, from a handler beside them and from one in a subdirectory', async () => {
    // python: a package at the code's root (where pip --target installs); node: node_modules/.
    const files: Record<string, string> = rt.name === 'python3'
      ? {
        'vendpkg/__init__.py': 'def triple(x):\n    return 3 * x\n',
        'main.py': 'import vendpkg\n\ndef handler(event):\n    return {"v": vendpkg.triple(event["x"])}\n',
        'lib/sub.py': 'import vendpkg\n\ndef handler(event):\n    return {"v": vendpkg.triple(event["x"]) + 1}\n',
      }
      : {
        'node_modules/vendpkg/package.json': '{"name":"vendpkg","version":"1.0.0","main":"lib/index.js"}\n',
        'node_modules/vendpkg/lib/index.js': 'exports.triple = (x) => 3 * x;\n',
        'main.js': 'const { triple } = require("vendpkg");\nexports.handler = (event) => ({ v: triple(event.x) });\n',
        'lib/sub.js': 'const { triple } = require("vendpkg");\nexports.handler = (event) => ({ v: triple(event.x) + 1 });\n',
      };
    const dir = await codeDir({});
    for (const [name, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), text);
    }
    const beside = await startLoader(rt, dir, { MK_FUNCTION_HANDLER: 'main.handler', MK_FUNCTION_CODE_DIR: dir });
    await ready(beside);
    expect(await post(beside, '/run', { x: 5 })).toEqual({ status: 200, body: { v: 15 } });
    const below = await startLoader(rt, dir, { MK_FUNCTION_HANDLER: 'lib/sub.handler', MK_FUNCTION_CODE_DIR: dir });
    await ready(below);
    expect(await post(below, '/run', { x: 5 })).toEqual({ status: 200, body: { v: 16 } });
  });

  it('passes an event of 128 KiB or more on stdin only (Linux caps one argument), a smaller one also as the last argument', async () => {
    const dir = await codeDir({ [`sizes.${rt.ext}`]: rt.code.sizes });
    const l = await startLoader(rt, dir);
    expect((await post(l, '/init', { codeDir: dir, command: `${rt.argv[0]} sizes.${rt.ext}` })).status).toBe(200);
    const small = 'y'.repeat(1000);
    expect(await post(l, '/run', small)).toEqual({ status: 200, body: { argc: 2, len: small.length + 2 } });
    const big = 'y'.repeat(200 * 1024);
    expect(await post(l, '/run', big)).toEqual({ status: 200, body: { argc: 1, len: big.length + 2 } });
  });

  it('applies the env of /init before the code loads (a warm container given its function), to handlers, commands and the timeout', async () => {
    const handler = rt.ext === 'py'
      ? 'import os\n\nAT_LOAD = os.environ.get("GREETING")\n\ndef handler(event):\n    return {"load": AT_LOAD, "call": os.environ.get("GREETING"), "t": os.environ.get("MK_FUNCTION_TIMEOUT_SECONDS")}\n'
      : 'const atLoad = process.env.GREETING;\nexports.handler = () => ({ load: atLoad, call: process.env.GREETING, t: process.env.MK_FUNCTION_TIMEOUT_SECONDS });\n';
    const command = rt.ext === 'py'
      ? 'import json, os\nprint(json.dumps({"env": os.environ.get("GREETING")}))\n'
      : 'console.log(JSON.stringify({ env: process.env.GREETING }));\n';
    const dir = await codeDir({ [`greet.${rt.ext}`]: handler, [`greet_cmd.${rt.ext}`]: command });
    const l = await startLoader(rt, dir);
    const bad = await post(l, '/init', { codeDir: dir, handler: 'greet.handler', env: { 'A=B': 'x' } });
    expect(bad).toEqual({ status: 400, body: { error: expect.stringMatching(/"env" must be an object/) } });
    expect((await post(l, '/init', { codeDir: dir, handler: 'greet.handler', env: ['x'] })).status).toBe(400);
    expect((await post(l, '/init', { codeDir: dir, handler: 'greet.handler', env: { GREETING: 7 } })).status).toBe(400);
    expect(await get(l, '/healthz')).toEqual({ status: 503, body: { ready: false } });
    const env = { GREETING: 'hello', MK_FUNCTION_TIMEOUT_SECONDS: '5' };
    expect(await post(l, '/init', { codeDir: dir, handler: 'greet.handler', env })).toEqual({ status: 200, body: { ready: true } });
    expect(await post(l, '/run', {})).toEqual({ status: 200, body: { load: 'hello', call: 'hello', t: '5' } });

    const c = await startLoader(rt, dir);
    expect((await post(c, '/init', { codeDir: dir, command: `${rt.argv[0]} greet_cmd.${rt.ext}`, env: { GREETING: 'hi' } })).status).toBe(200);
    expect(await post(c, '/run', {})).toEqual({ status: 200, body: { env: 'hi' } });
  });

  it('kills a command that runs past MK_FUNCTION_TIMEOUT_SECONDS with its process group (504), caps stdout (500) and keeps the last 64 KiB of stderr', async () => {
    const dir = await codeDir({ [`bad_cmd.${rt.ext}`]: rt.code.misbehave });
    const l = await startLoader(rt, dir, { MK_FUNCTION_TIMEOUT_SECONDS: '1' });
    expect((await post(l, '/init', { codeDir: dir, command: `${rt.argv[0]} bad_cmd.${rt.ext}` })).status).toBe(200);
    const slow = await post(l, '/run', 'sleep');
    expect(slow.status).toBe(504);
    expect((slow.body as { error: string }).error).toMatch(/timed out after 1 s$/);
    const pid = Number(await readFile(path.join(dir, 'grandchild.pid'), 'utf8'));
    const deadline = Date.now() + 5_000;
    while (alive(pid)) {
      if (Date.now() > deadline) throw new Error(`the command's child ${pid} outlived the timeout`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const flood = await post(l, '/run', 'flood');
    expect(flood.status).toBe(500);
    expect((flood.body as { error: string }).error).toMatch(/more than the limit of 16777216 bytes on stdout/);
    const noisy = await post(l, '/run', 'noisy');
    expect(noisy.status).toBe(500);
    const stderr = (noisy.body as { stderr: string }).stderr;
    expect(stderr.length).toBe(64 * 1024);
    expect(stderr.endsWith('END')).toBe(true);
  });
});
