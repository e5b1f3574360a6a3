"""The python3 function loader of mk's runtime image (/mk/loader.py).

A small HTTP server (stdlib only) that loads a function's code from a directory and calls it.
The contract (docs/api.md, "Function runtimes") is the same as loader.js's:

  GET  /healthz  200 {"ready":true} once code is loaded, else 503 {"ready":false}
  POST /init     {"codeDir": "/code", "handler": "add.handler"} or {"codeDir": ..., "command": "python3 add.py"},
                 optionally with "env": {"NAME": "value"} set in os.environ before the code loads
                 (a generic container of a node's warm pool is given its function's environment so)
  POST /run      the event (JSON); answers the handler's result (or the command's stdout) as JSON

Listens on $MK_FUNCTION_HOST (default 0.0.0.0) : $MK_FUNCTION_PORT (default 8080; 0 picks a free one).

With $MK_FUNCTION_HANDLER or $MK_FUNCTION_COMMAND set (a Function's instance pod), the loader
loads that code from $MK_FUNCTION_CODE_DIR (default /code) as /init would, right after it starts
listening; /healthz turns ready once that load succeeds, /init answers 409, and a load that fails
is logged (the interpreter's own message) and ends the loader with exit code 1.
"""
import asyncio
import importlib
import importlib.util
import inspect
import json
import os
import re
import shlex
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 16 * 1024 * 1024
# Linux caps one argument at MAX_ARG_STRLEN (32 pages, 128 KiB with its NUL): a larger event goes on stdin only.
MAX_ARG = 128 * 1024
MAX_STDOUT = 16 * 1024 * 1024
MAX_STDERR = 64 * 1024
DEFAULT_TIMEOUT_SECONDS = 60
CHUNK_SIZE = re.compile(rb"^[0-9a-fA-F]+$")
CONTENT_LENGTH = re.compile(r"^[0-9]+$")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class BadBody(Exception):
    """A body that cannot be read: status is 400 (malformed or cut short) or 413 (over the limit)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def log(line):
    """One loader log line on stderr (the handler's own output goes to stdout/stderr as it is)."""
    sys.stderr.write("mk-loader: %s\n" % line)
    sys.stderr.flush()


def describe(e):
    """`<type>: <message>`, e.g. `SyntaxError: invalid syntax (add.py, line 3)`."""
    message = str(e)
    return "%s: %s" % (type(e).__name__, message) if message else type(e).__name__


def to_json(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def as_argument(event):
    """The event as the command's last argument: a string as itself, anything else as JSON text."""
    return event if isinstance(event, str) else to_json(event)


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.initializing = False
        self.ready = False
        self.code_dir = None
        self.handler = None
        self.argv = None
        self.from_env = False


state = State()


def env_init_body():
    """The /init body the environment gives, or None when it names no code; raises when it names two."""
    handler = os.environ.get("MK_FUNCTION_HANDLER") or None
    command = os.environ.get("MK_FUNCTION_COMMAND") or None
    if handler is None and command is None:
        return None
    if handler is not None and command is not None:
        raise ValueError("set one of MK_FUNCTION_HANDLER and MK_FUNCTION_COMMAND, not both")
    body = {"codeDir": os.environ.get("MK_FUNCTION_CODE_DIR") or "/code"}
    body["handler" if handler is not None else "command"] = handler if handler is not None else command
    return body


def command_timeout():
    """Seconds a command may run per call: $MK_FUNCTION_TIMEOUT_SECONDS, default 60."""
    raw = os.environ.get("MK_FUNCTION_TIMEOUT_SECONDS") or ""
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_TIMEOUT_SECONDS
    return value if value > 0 else DEFAULT_TIMEOUT_SECONDS


def handler_problem(handler):
    """Why a handler cannot name a module under codeDir, or None: no absolute path, no `..`."""
    module_path = handler.rpartition(".")[0]
    if module_path.startswith("/") or ".." in module_path.split("/"):
        return 'handler "%s" must name a module inside codeDir (no absolute path, no "..")' % handler
    if not all(IDENTIFIER.match(p) for p in re.split(r"[/.]", module_path)):
        return 'handler "%s" must be <module>.<function> where both are identifiers and the module may name a subdirectory ("lib/add.handler")' % handler
    return None


def what_of(body):
    return "command %s" % body["command"] if body.get("command") is not None else "handler %s" % body["handler"]


def init_from_env(body):
    """Loads the code the environment names, as /init would; a failure ends the loader (exit 1)."""
    started = time.monotonic()
    what = what_of(body)
    try:
        code_dir, fn, argv = load(body)
    except BaseException as e:  # noqa: B036 - a SystemExit in module code is a load failure too
        log("init of %s from %s failed: %s" % (what, body["codeDir"], describe(e)))
        sys.stderr.write(traceback.format_exc())
        sys.stderr.flush()
        os._exit(1)
    with state.lock:
        state.code_dir, state.handler, state.argv = code_dir, fn, argv
        state.ready, state.initializing = True, False
    log("init from the environment: %s from %s loaded in %d ms" % (what, code_dir, (time.monotonic() - started) * 1000))


def load(body):
    """Loads the code an /init body names; raises what the import (or the lookup) raised."""
    code_dir = os.path.abspath(body.get("codeDir") or "/code")
    if not os.path.isdir(code_dir):
        raise FileNotFoundError("code directory %s does not exist" % code_dir)
    if body.get("command") is not None:
        argv = shlex.split(body["command"])
        if not argv:
            raise ValueError("command is empty")
        exe = argv[0]
        found = os.path.join(code_dir, exe) if "/" in exe else shutil.which(exe)
        if not found or not os.access(found, os.X_OK):
            raise FileNotFoundError("command not found: %s" % exe)
        return code_dir, None, argv
    module_name, _, attr = body["handler"].rpartition(".")
    if not module_name or not attr:
        raise ValueError('handler "%s" must be <module>.<function>, e.g. add.handler' % body["handler"])
    problem = handler_problem(body["handler"])
    if problem:
        raise ValueError(problem)
    module = load_module(code_dir, module_name)
    fn = getattr(module, attr)
    if not callable(fn):
        raise TypeError("%s.%s is not a function" % (module_name, attr))
    return code_dir, fn, None


def load_module(code_dir, module_path):
    """Loads codeDir/<module_path>.py (or the package codeDir/<module_path>/__init__.py) from its file.

    `lib/add` is lib/add.py; its directory goes first on sys.path so that its sibling imports work,
    and it is registered under its file's name (`add`), as an import from that directory would.
    codeDir itself follows it on sys.path: packages vendored or installed at the code's root
    (`pip install --target`, what `mk function deploy` does with a requirements.txt) import from
    a handler in a subdirectory too.
    """
    parts = re.split(r"[/.]", module_path)  # a dotted module path names subdirectories too, as in loader.js
    if not all(IDENTIFIER.match(p) for p in parts):
        raise ValueError('module "%s" must be identifiers separated by "/"' % module_path)
    name = parts[-1]
    base = os.path.join(code_dir, *parts)
    if os.path.isfile(base + ".py"):
        spec = importlib.util.spec_from_file_location(name, base + ".py")
        directory = os.path.dirname(base)
    elif os.path.isfile(os.path.join(base, "__init__.py")):
        spec = importlib.util.spec_from_file_location(name, os.path.join(base, "__init__.py"), submodule_search_locations=[base])
        directory = os.path.dirname(base)
    else:
        raise ModuleNotFoundError("No module named '%s' (no %s.py in %s)" % (module_path, module_path, code_dir), name=name)
    for entry in (code_dir, directory):
        if entry in sys.path:
            sys.path.remove(entry)
        sys.path.insert(0, entry)
    importlib.invalidate_caches()
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def run_handler(event):
    result = state.handler(event)
    if inspect.isawaitable(result):
        async def wait():
            return await result
        result = asyncio.run(wait())
    return 200, result


def kill_group(proc):
    """SIGKILL to the command's process group (it is a session leader: its children go with it)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_command(event):
    """Runs the command once: the event on stdin, and as its last argument when under MAX_ARG bytes."""
    arg = as_argument(event)
    argv = list(state.argv)
    if len(arg.encode("utf-8", "surrogatepass")) < MAX_ARG:
        argv.append(arg)
    timeout = command_timeout()
    deadline = time.monotonic() + timeout
    proc = subprocess.Popen(argv, cwd=state.code_dir, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    out, err, too_much = bytearray(), bytearray(), []

    def read_stdout():
        while True:
            data = proc.stdout.read1(65536)
            if not data:
                return
            if too_much:
                continue
            if len(out) + len(data) > MAX_STDOUT:
                too_much.append(True)
                kill_group(proc)
                continue
            out.extend(data)

    def read_stderr():
        while True:
            data = proc.stderr.read1(65536)
            if not data:
                return
            err.extend(data)
            if len(err) > MAX_STDERR:
                del err[:len(err) - MAX_STDERR]

    def write_stdin():
        try:
            proc.stdin.write(to_json(event).encode())
        except OSError:
            pass  # a command that does not read its stdin
        try:
            proc.stdin.close()
        except OSError:
            pass

    threads = [threading.Thread(target=t, daemon=True) for t in (read_stdout, read_stderr, write_stdin)]
    for t in threads:
        t.start()
    timed_out = False
    try:
        proc.wait(timeout=max(0, deadline - time.monotonic()))
        for t in threads[:2]:
            t.join(max(0, deadline - time.monotonic()))
        timed_out = any(t.is_alive() for t in threads[:2])
    except subprocess.TimeoutExpired:
        timed_out = True
    if timed_out:
        kill_group(proc)
        proc.wait()
        for t in threads[:2]:
            t.join(5)
    out_text = bytes(out).decode("utf-8", "replace")
    err = bytes(err).decode("utf-8", "replace")
    if err:
        sys.stderr.write(err if err.endswith("\n") else err + "\n")
        sys.stderr.flush()
    if timed_out:
        return 504, {"error": "%s timed out after %s s" % (state.argv[0], "%g" % timeout), "stderr": err}
    if too_much:
        return 500, {"error": "%s wrote more than the limit of %d bytes on stdout" % (state.argv[0], MAX_STDOUT), "stderr": err}
    if proc.returncode != 0:
        code = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
        last = err.strip().splitlines()[-1] if err.strip() else "no output on stderr"
        return 500, {"error": "%s exited with code %d: %s" % (state.argv[0], code, last), "stderr": err}
    text = out_text.strip()
    try:
        return 200, json.loads(text)
    except ValueError:
        return 200, text


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The headers and the body go out as two writes: with Nagle's algorithm on, the body waits for
    # the client's delayed ACK of the headers (40 ms on Linux), on every call of a kept-alive connection.
    disable_nagle_algorithm = True
    server_version = "mk-loader"
    sys_version = ""

    def log_message(self, format, *args):
        pass  # one line per init, not per request

    def reply(self, status, value):
        data = to_json(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def linger(self):
        """Half-closes after an answer given before the body was read, then discards what the client
        still sends for up to a second: closing with unread data would reset the connection, and a
        reset can destroy the answer before the client reads it (Apache's lingering close)."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(0.2)
            deadline = time.monotonic() + 1
            while time.monotonic() < deadline and self.connection.recv(65536):
                pass
        except OSError:
            pass

    def read_body(self):
        """The raw body (Content-Length or chunked); raises BadBody when it cannot be read."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self.read_chunked()
        raw_length = (self.headers.get("Content-Length") or "0").strip()
        if not CONTENT_LENGTH.match(raw_length):
            raise BadBody(400, "Content-Length %r is not a number of bytes" % raw_length)
        length = int(raw_length)
        if length > MAX_BODY:
            raise BadBody(413, "body of %d bytes is over the limit of %d" % (length, MAX_BODY))
        raw = self.rfile.read(length) if length > 0 else b""
        if len(raw) < length:
            raise BadBody(400, "the body ended after %d of %d bytes" % (len(raw), length))
        return raw

    def read_chunked(self):
        """A chunked body (what a streaming client sends); raises BadBody on a bad size line, a cut or 16 MiB."""
        parts, size = [], 0
        while True:
            line = self.rfile.readline(65537)
            if not line.endswith(b"\n"):
                raise BadBody(400, "the chunked body ended before its last chunk")
            digits = line.split(b";")[0].strip()
            if not CHUNK_SIZE.match(digits):
                raise BadBody(400, "chunk size %r is not hexadecimal" % digits.decode("latin-1")[:32])
            chunk = int(digits, 16)
            if chunk == 0:
                while True:
                    trailer = self.rfile.readline(65537)
                    if trailer in (b"\r\n", b"\n"):
                        return b"".join(parts)
                    if not trailer.endswith(b"\n"):
                        raise BadBody(400, "the chunked body ended in its trailers")
            size += chunk
            if size > MAX_BODY:
                raise BadBody(413, "body is over the limit of %d bytes" % MAX_BODY)
            data = self.rfile.read(chunk)
            if len(data) < chunk:
                raise BadBody(400, "the chunked body ended inside a chunk")
            parts.append(data)
            if self.rfile.readline(65537) not in (b"\r\n", b"\n"):
                raise BadBody(400, "a chunk does not end with CRLF")

    def read_json(self):
        """The body as JSON: (True, value), or (False, None) after answering 400/413."""
        try:
            raw = self.read_body()
        except BadBody as e:
            self.close_connection = True
            self.reply(e.status, {"error": str(e)})
            self.linger()
            return False, None
        if raw.strip() == b"":
            return True, None
        try:
            return True, json.loads(raw.decode("utf-8"))
        except ValueError as e:
            self.reply(400, {"error": "the body is not valid JSON: %s" % e})
            return False, None

    def do_GET(self):
        if self.path.split("?")[0] == "/healthz":
            self.reply(200 if state.ready else 503, {"ready": state.ready})
        else:
            self.reply(404, {"error": "no route GET %s" % self.path})

    def do_POST(self):
        route = self.path.split("?")[0]
        if route == "/init":
            self.init()
        elif route == "/run":
            self.run()
        else:
            # Routed before the body is looked at: one answer, 404; a body that cannot be read
            # (or is too large to drain) closes the connection.
            try:
                self.read_body()
            except BadBody:
                self.close_connection = True
            self.reply(404, {"error": "no route POST %s" % self.path})
            if self.close_connection:
                self.linger()

    def init(self):
        ok, body = self.read_json()
        if not ok:
            return
        if state.from_env:
            self.reply(409, {"error": "the code is loaded from the environment (MK_FUNCTION_HANDLER or MK_FUNCTION_COMMAND): /init is not used"})
            return
        if not isinstance(body, dict) or (body.get("handler") is None) == (body.get("command") is None):
            self.reply(400, {"error": 'init needs a JSON object with one of "handler" (e.g. "add.handler") or "command" (e.g. "python3 add.py")'})
            return
        for key in ("codeDir", "handler", "command"):
            if body.get(key) is not None and not isinstance(body[key], str):
                self.reply(400, {"error": '"%s" must be a string' % key})
                return
        env = body.get("env")
        if env is not None and (not isinstance(env, dict) or not all(isinstance(k, str) and k and "=" not in k and "\0" not in k and isinstance(v, str) and "\0" not in v for k, v in env.items())):
            self.reply(400, {"error": '"env" must be an object of names (no "=") to string values'})
            return
        if body.get("handler") is not None and handler_problem(body["handler"]):
            self.reply(400, {"error": handler_problem(body["handler"])})
            return
        with state.lock:
            if state.ready or state.initializing:
                self.reply(409, {"error": "already initialised" if state.ready else "an init is in progress"})
                return
            state.initializing = True
        started = time.monotonic()
        what = what_of(body)
        # Before the code loads: module-level code may read its environment.
        os.environ.update(env or {})
        try:
            code_dir, fn, argv = load(body)
        except BaseException as e:  # noqa: B036 - a SystemExit in module code is a load failure too
            with state.lock:
                state.initializing = False
            log("init of %s from %s failed: %s" % (what, body.get("codeDir") or "/code", describe(e)))
            self.reply(500, {"error": describe(e), "trace": traceback.format_exc()})
            return
        with state.lock:
            state.code_dir, state.handler, state.argv = code_dir, fn, argv
            state.ready, state.initializing = True, False
        log("init: %s from %s loaded in %d ms" % (what, code_dir, (time.monotonic() - started) * 1000))
        self.reply(200, {"ready": True})

    def run(self):
        ok, event = self.read_json()
        if not ok:
            return
        if not state.ready:
            self.reply(503, {"error": "not initialised: POST /init first"})
            return
        try:
            status, value = run_command(event) if state.argv is not None else run_handler(event)
            data = to_json(value)
        except BaseException as e:  # noqa: B036 - the loader outlives whatever the handler raises
            trace = traceback.format_exc()
            sys.stderr.write(trace)
            sys.stderr.flush()
            self.reply(500, {"error": describe(e), "trace": trace})
            return
        self.send_response(status)
        body = data.encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        # HTTPServer's own server_bind asks socket.getfqdn(): a reverse DNS lookup that, in a pod
        # without a resolver, stalls the start for seconds. The name is never used here.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def main():
    host = os.environ.get("MK_FUNCTION_HOST") or "0.0.0.0"
    port = int(os.environ.get("MK_FUNCTION_PORT") or "8080")
    try:
        body = env_init_body()
    except ValueError as e:
        log(str(e))
        sys.exit(1)
    if body is not None:
        state.from_env, state.initializing = True, True
    server = Server((host, port), Handler)
    # As PID 1 in a container a signal without a handler is ignored: stop at once on SIGTERM.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: os._exit(0))
    log("python %s listening on %s:%d" % (sys.version.split()[0], host, server.server_address[1]))
    if body is not None:
        # Beside the server: /healthz answers "not ready" while the code loads.
        threading.Thread(target=init_from_env, args=(body,), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
