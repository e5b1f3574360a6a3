/*
 * The node function loader of mk's runtime image (/mk/loader.js).
 *
 * A small HTTP server (node:http only) that loads a function's code from a directory and calls it.
 * The contract (docs/api.md, "Function runtimes") is the same as loader.py's:
 *
 *   GET  /healthz  200 {"ready":true} once code is loaded, else 503 {"ready":false}
 *   POST /init     {"codeDir": "/code", "handler": "add.handler"} or {"codeDir": ..., "command": "node add.js"},
 *                  optionally with "env": {"NAME": "value"} set in process.env before the code loads
 *                  (a generic container of a node's warm pool is given its function's environment so)
 *   POST /run      the event (JSON); answers the handler's result (or the command's stdout) as JSON
 *
 * Listens on $MK_FUNCTION_HOST (default 0.0.0.0) : $MK_FUNCTION_PORT (default 8080; 0 picks a free one).
 *
 * With $MK_FUNCTION_HANDLER or $MK_FUNCTION_COMMAND set (a Function's instance pod), the loader
 * loads that code from $MK_FUNCTION_CODE_DIR (default /code) as /init would, right after it starts
 * listening; /healthz turns ready once that load succeeds, /init answers 409, and a load that fails
 * is logged (the interpreter's own message) and ends the loader with exit code 1.
 */
/* global require, process, Buffer, setImmediate, setTimeout, clearTimeout */
/* eslint-disable @typescript-eslint/no-require-imports */
'use strict';

const http = require('node:http');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const MAX_BODY = 16 * 1024 * 1024;
// Linux caps one argument at MAX_ARG_STRLEN (32 pages, 128 KiB with its NUL): a larger event goes on stdin only.
const MAX_ARG = 128 * 1024;
const MAX_STDOUT = 16 * 1024 * 1024;
const MAX_STDERR = 64 * 1024;
const DEFAULT_TIMEOUT_SECONDS = 60;

/** Seconds a command may run per call: $MK_FUNCTION_TIMEOUT_SECONDS, default 60. */
function commandTimeout() {
  const value = Number(process.env.MK_FUNCTION_TIMEOUT_SECONDS || '');
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_TIMEOUT_SECONDS;
}

/** Why a handler cannot name a module under codeDir, or undefined: no absolute path, no `..`. */
function handlerProblem(handler) {
  const modulePath = handler.slice(0, Math.max(0, handler.lastIndexOf('.')));
  if (modulePath.startsWith('/') || modulePath.split('/').includes('..')) {
    return `handler "${handler}" must name a module inside codeDir (no absolute path, no "..")`;
  }
  if (!modulePath.split(/[/.]/).every((p) => /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(p))) {
    return `handler "${handler}" must be <module>.<function> where both are identifiers and the module may name a subdirectory ("lib/add.handler")`;
  }
  return undefined;
}

/** One loader log line on stderr (the handler's own output goes to stdout/stderr as it is). */
function log(line) {
  process.stderr.write(`mk-loader: ${line}\n`);
}

/** `<type>: <message>`, e.g. `SyntaxError: Unexpected identifier`. */
function describe(e) {
  if (e instanceof Error) return e.message ? `${e.name}: ${e.message}` : e.name;
  return `Error: ${String(e)}`;
}

function traceOf(e) {
  return e instanceof Error && e.stack ? e.stack : describe(e);
}

/** The event as the command's last argument: a string as itself, anything else as JSON text. */
function asArgument(event) {
  return typeof event === 'string' ? event : JSON.stringify(event);
}

/** Splits a command line as a POSIX shell would (quotes and backslashes), without running one. */
function shellSplit(line) {
  const words = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error('No closing quotation');
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      inWord = true;
      for (i++; ; i++) {
        if (i >= line.length) throw new Error('No closing quotation');
        if (line[i] === '"') break;
        if (line[i] === '\\' && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1])) i++;
        word += line[i];
      }
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new Error('No escaped character');
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function which(exe) {
  for (const dir of (process.env.PATH || '').split(':')) {
    if (!dir) continue;
    const p = path.join(dir, exe);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

const state = { initializing: false, ready: false, codeDir: undefined, handler: undefined, argv: undefined, fromEnv: false };

/** The /init body the environment gives, or undefined when it names no code; throws when it names two. */
function envInitBody() {
  const handler = process.env.MK_FUNCTION_HANDLER || undefined;
  const command = process.env.MK_FUNCTION_COMMAND || undefined;
  if (handler === undefined && command === undefined) return undefined;
  if (handler !== undefined && command !== undefined) throw new Error('set one of MK_FUNCTION_HANDLER and MK_FUNCTION_COMMAND, not both');
  const body = { codeDir: process.env.MK_FUNCTION_CODE_DIR || '/code' };
  if (handler !== undefined) body.handler = handler;
  else body.command = command;
  return body;
}

function whatOf(body) {
  return body.command != null ? `command ${body.command}` : `handler ${body.handler}`;
}

/** Loads the code the environment names, as /init would; a failure ends the loader (exit 1). */
function initFromEnv(body) {
  const started = Date.now();
  const what = whatOf(body);
  let loaded;
  try {
    loaded = load(body);
  } catch (e) {
    log(`init of ${what} from ${body.codeDir} failed: ${describe(e)}`);
    process.stderr.write(`${traceOf(e)}\n`);
    process.exit(1);
  }
  Object.assign(state, { codeDir: loaded.codeDir, handler: loaded.handler, argv: loaded.argv, ready: true, initializing: false });
  log(`init from the environment: ${what} from ${loaded.codeDir} loaded in ${Date.now() - started} ms`);
}

/** Loads the code an /init body names; throws what require (or the lookup) threw. */
function load(body) {
  const codeDir = path.resolve(body.codeDir || '/code');
  if (!fs.existsSync(codeDir) || !fs.statSync(codeDir).isDirectory()) {
    throw Object.assign(new Error(`code directory ${codeDir} does not exist`), { name: 'FileNotFoundError' });
  }
  if (body.command != null) {
    const argv = shellSplit(body.command);
    if (argv.length === 0) throw new Error('command is empty');
    const exe = argv[0];
    let found = exe.includes('/') ? path.resolve(codeDir, exe) : which(exe);
    if (found) {
      try {
        fs.accessSync(found, fs.constants.X_OK);
      } catch {
        found = undefined;
      }
    }
    if (!found) throw Object.assign(new Error(`command not found: ${exe}`), { name: 'FileNotFoundError' });
    return { codeDir, argv };
  }
  const dot = body.handler.lastIndexOf('.');
  const moduleName = body.handler.slice(0, dot);
  const attr = body.handler.slice(dot + 1);
  if (dot <= 0 || !attr) throw new Error(`handler "${body.handler}" must be <module>.<function>, e.g. add.handler`);
  const problem = handlerProblem(body.handler);
  if (problem) throw new Error(problem);
  const mod = require(path.join(codeDir, ...moduleName.split('.')));
  const fn = mod == null ? undefined : mod[attr];
  if (typeof fn !== 'function') throw new TypeError(`${moduleName}.${attr} is not a function`);
  return { codeDir, handler: fn };
}

async function runHandler(event) {
  const result = await state.handler(event);
  return [200, result === undefined ? null : result];
}

/** SIGKILL to the command's process group (it leads its own: its children go with it). */
function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Runs the command once: the event on stdin, and as its last argument when under MAX_ARG bytes. */
function runCommand(event) {
  return new Promise((resolve, reject) => {
    const arg = asArgument(event);
    const args = state.argv.slice(1);
    if (Buffer.byteLength(arg) < MAX_ARG) args.push(arg);
    const timeout = commandTimeout();
    const child = spawn(state.argv[0], args, { cwd: state.codeDir, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const out = [];
    let outSize = 0;
    let tooMuch = false;
    let err = Buffer.alloc(0);
    let settled = false;
    const stderrText = () => err.toString('utf8');
    const echo = (stderr) => {
      if (stderr) process.stderr.write(stderr.endsWith('\n') ? stderr : `${stderr}\n`);
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      killGroup(child);
      child.stdout.destroy();
      child.stderr.destroy();
      const stderr = stderrText();
      echo(stderr);
      resolve([504, { error: `${state.argv[0]} timed out after ${timeout} s`, stderr }]);
    }, timeout * 1000);
    child.stdout.on('data', (d) => {
      if (tooMuch) return;
      if (outSize + d.length > MAX_STDOUT) {
        tooMuch = true;
        killGroup(child);
        return;
      }
      outSize += d.length;
      out.push(d);
    });
    child.stderr.on('data', (d) => {
      err = Buffer.concat([err, d]);
      if (err.length > MAX_STDERR) err = err.subarray(err.length - MAX_STDERR);
    });
    child.on('error', (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = stderrText();
      echo(stderr);
      if (tooMuch) {
        resolve([500, { error: `${state.argv[0]} wrote more than the limit of ${MAX_STDOUT} bytes on stdout`, stderr }]);
        return;
      }
      if (code !== 0) {
        const exit = code ?? 128 + (os.constants.signals[signal] || 0);
        const lines = stderr.trim().split('\n');
        const last = stderr.trim() ? lines[lines.length - 1] : 'no output on stderr';
        resolve([500, { error: `${state.argv[0]} exited with code ${exit}: ${last}`, stderr }]);
        return;
      }
      const text = stdout.trim();
      try {
        resolve([200, JSON.parse(text)]);
      } catch {
        resolve([200, text]);
      }
    });
    child.stdin.on('error', () => undefined); // a command that does not read its stdin
    child.stdin.end(JSON.stringify(event));
  });
}

/**
 * Ends a connection after an answer given before the body was read: half-close, then discard what
 * the client still sends for up to a second. Closing with unread data would reset the connection,
 * and a reset can destroy the answer before the client reads it (Apache's lingering close).
 */
function linger(socket) {
  const timer = setTimeout(() => socket.destroy(), 1000);
  socket.on('close', () => clearTimeout(timer));
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  socket.resume();
  socket.end();
}

function reply(res, status, value) {
  const data = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length });
  res.end(data);
}

/**
 * Reads the body as JSON: { ok: true, value } or { ok: false } after answering 400/413. Over the
 * limit it answers 413 at once and closes the connection; an aborted request resolves { ok: false }.
 */
function readJson(req, res) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('aborted', onGone);
      req.off('close', onClose);
      resolve(result);
    };
    function onData(d) {
      if (done) return;
      size += d.length;
      if (size <= MAX_BODY) {
        chunks.push(d);
        return;
      }
      req.pause();
      const data = Buffer.from(JSON.stringify({ error: `body is over the limit of ${MAX_BODY} bytes` }));
      res.writeHead(413, { 'Content-Type': 'application/json', 'Content-Length': data.length, Connection: 'close' });
      const socket = req.socket;
      res.end(data, () => linger(socket));
      finish({ ok: false });
    }
    function onEnd() {
      const raw = Buffer.concat(chunks).toString('utf8');
      if (raw.trim() === '') {
        finish({ ok: true, value: null });
        return;
      }
      try {
        finish({ ok: true, value: JSON.parse(raw) });
      } catch (e) {
        reply(res, 400, { error: `the body is not valid JSON: ${e instanceof Error ? e.message : String(e)}` });
        finish({ ok: false });
      }
    }
    function onGone() {
      finish({ ok: false });
    }
    function onClose() {
      if (!req.complete) finish({ ok: false });
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('aborted', onGone);
    req.on('close', onClose);
  });
}

async function init(req, res) {
  const body = await readJson(req, res);
  if (!body.ok) return;
  if (state.fromEnv) {
    reply(res, 409, { error: 'the code is loaded from the environment (MK_FUNCTION_HANDLER or MK_FUNCTION_COMMAND): /init is not used' });
    return;
  }
  const b = body.value;
  if (b === null || typeof b !== 'object' || Array.isArray(b) || (b.handler == null) === (b.command == null)) {
    reply(res, 400, { error: 'init needs a JSON object with one of "handler" (e.g. "add.handler") or "command" (e.g. "node add.js")' });
    return;
  }
  for (const key of ['codeDir', 'handler', 'command']) {
    if (b[key] != null && typeof b[key] !== 'string') {
      reply(res, 400, { error: `"${key}" must be a string` });
      return;
    }
  }
  if (b.handler != null && handlerProblem(b.handler)) {
    reply(res, 400, { error: handlerProblem(b.handler) });
    return;
  }
  const env = b.env;
  if (env != null && (typeof env !== 'object' || Array.isArray(env)
    || !Object.entries(env).every(([k, v]) => k !== '' && !k.includes('=') && !k.includes('\0') && typeof v === 'string' && !v.includes('\0')))) {
    reply(res, 400, { error: '"env" must be an object of names (no "=") to string values' });
    return;
  }
  if (state.ready || state.initializing) {
    reply(res, 409, { error: state.ready ? 'already initialised' : 'an init is in progress' });
    return;
  }
  state.initializing = true;
  const started = Date.now();
  const what = whatOf(b);
  // Before the code loads: module-level code may read its environment.
  if (env != null) Object.assign(process.env, env);
  let loaded;
  try {
    loaded = load(b);
  } catch (e) {
    state.initializing = false;
    log(`init of ${what} from ${b.codeDir || '/code'} failed: ${describe(e)}`);
    reply(res, 500, { error: describe(e), trace: traceOf(e) });
    return;
  }
  Object.assign(state, { codeDir: loaded.codeDir, handler: loaded.handler, argv: loaded.argv, ready: true, initializing: false });
  log(`init: ${what} from ${loaded.codeDir} loaded in ${Date.now() - started} ms`);
  reply(res, 200, { ready: true });
}

async function run(req, res) {
  const body = await readJson(req, res);
  if (!body.ok) return;
  if (!state.ready) {
    reply(res, 503, { error: 'not initialised: POST /init first' });
    return;
  }
  let status;
  let data;
  try {
    const [s, value] = state.argv ? await runCommand(body.value) : await runHandler(body.value);
    status = s;
    data = JSON.stringify(value);
    if (data === undefined) throw new TypeError(`the result (${typeof value}) is not JSON serializable`);
  } catch (e) {
    process.stderr.write(`${traceOf(e)}\n`);
    reply(res, 500, { error: describe(e), trace: traceOf(e) });
    return;
  }
  const buf = Buffer.from(data);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': buf.length });
  res.end(buf);
}

function route(req, res) {
  const p = (req.url || '/').split('?')[0];
  if (req.method === 'GET' && p === '/healthz') {
    reply(res, state.ready ? 200 : 503, { ready: state.ready });
  } else if (req.method === 'POST' && p === '/init') {
    return init(req, res);
  } else if (req.method === 'POST' && p === '/run') {
    return run(req, res);
  } else {
    // One answer, 404; the body is drained up to the limit, past it the connection is closed.
    let size = 0;
    req.on('data', (d) => {
      size += d.length;
      if (size > MAX_BODY) req.destroy();
    });
    req.on('error', () => undefined);
    reply(res, 404, { error: `no route ${req.method} ${req.url}` });
  }
  return undefined;
}

function main() {
  const host = process.env.MK_FUNCTION_HOST || '0.0.0.0';
  const port = Number(process.env.MK_FUNCTION_PORT || '8080');
  let envBody;
  try {
    envBody = envInitBody();
  } catch (e) {
    log(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
  if (envBody) Object.assign(state, { fromEnv: true, initializing: true });
  const server = http.createServer((req, res) => {
    Promise.resolve(route(req, res)).catch((e) => {
      log(`unexpected: ${traceOf(e)}`);
      if (!res.headersSent) reply(res, 500, { error: describe(e), trace: traceOf(e) });
    });
  });
  // A request node's parser refuses (a bad chunk size or Content-Length): 400, then a lingering close.
  server.on('clientError', (e, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const data = JSON.stringify({ error: `bad request: ${describe(e)}` });
    socket.write(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(data)}\r\nConnection: close\r\n\r\n${data}`);
    linger(socket);
  });
  // An async handler's stray rejection must not take the loader down with it.
  process.on('unhandledRejection', (e) => log(`unhandled rejection: ${traceOf(e)}`));
  // As PID 1 in a container a signal without a handler is ignored: stop at once on SIGTERM.
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
  server.listen(port, host, () => {
    log(`node ${process.versions.node} listening on ${host}:${server.address().port}`);
    // After the listen: /healthz answers "not ready" until the code is loaded.
    if (envBody) setImmediate(() => initFromEnv(envBody));
  });
}

main();
